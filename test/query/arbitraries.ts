/**
 * fast-check generators of frames and query chains, shared by the model-based query tests: small
 * timestamp-indexed frames with every dtype a query meets (NaN, null strings, bools, 64-bit ints) and
 * chains of row clauses with an optional groupby or resample.
 */
import fc from "fast-check";
import { col, DataFrame, type Expr, lit, QueryBuilder } from "../../src/api/index.ts";

export const BASE = 1_704_067_200_000_000_000n; // 2024-01-01
export const SEC = 1_000_000_000n;

// ---- generators -----------------------------------------------------------------------------------

export const frameArb = fc.integer({ min: 0, max: 24 }).chain((n) =>
  fc
    .record({
      offsets: fc.array(fc.integer({ min: 0, max: 3 * 3600 }), { minLength: n, maxLength: n }),
      i: fc.array(fc.integer({ min: -5, max: 5 }), { minLength: n, maxLength: n }),
      f: fc.array(fc.constantFrom(-2.5, -1, 0, 0.5, 1, 3, Number.NaN), { minLength: n, maxLength: n }),
      b: fc.array(fc.bigInt({ min: -5n, max: 5n }), { minLength: n, maxLength: n }),
      s: fc.array(fc.constantFrom("a", "b", "c", "ab", null), { minLength: n, maxLength: n }),
      flag: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
    })
    .map(
      (r) =>
        new DataFrame(
          { i: Int32Array.from(r.i), f: r.f, b: BigInt64Array.from(r.b), s: r.s, flag: r.flag },
          {
            dtypes: { s: "string", flag: "bool" },
            index: BigInt64Array.from(
              [...r.offsets].sort((x, y) => x - y),
              (o) => BASE + BigInt(o) * SEC,
            ),
          },
        ),
    ),
);

export const tsArb = fc.integer({ min: -600, max: 3 * 3600 + 600 }).map((o) => BASE + BigInt(o) * SEC);

export const { num: numArb, bool: boolArb } = fc.letrec<{ num: Expr; bool: Expr }>((tie) => ({
  num: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(col("i"), col("f"), col("b")),
    fc.integer({ min: -3, max: 3 }).map((x) => lit(x)),
    fc.constantFrom(lit(0.5), lit(-1.5)),
    fc
      .tuple(tie("num"), tie("num"), fc.constantFrom("add", "sub", "mul", "div") as fc.Arbitrary<"add">)
      .map(([a, b, op]) => (a as Expr)[op](b as Expr)),
    tie("num").map((a) => (a as Expr).abs()),
    tie("num").map((a) => (a as Expr).neg()),
  ),
  bool: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc
      .tuple(
        tie("num"),
        tie("num"),
        fc.constantFrom("gt", "ge", "lt", "le", "eq", "ne") as fc.Arbitrary<"gt">,
      )
      .map(([a, b, op]) => (a as Expr)[op](b as Expr)),
    fc
      .tuple(
        fc.constantFrom("a", "b", "ab", "zz"),
        fc.constantFrom("gt", "le", "eq", "ne") as fc.Arbitrary<"gt">,
      )
      .map(([s, op]) => col("s")[op](s)),
    fc.subarray(["a", "b", "c", null] as (string | null)[]).map((vs) => col("s").isin(vs)),
    fc.subarray([1, 2, -3, 0]).map((vs) => col("i").isnotin(vs)),
    fc.subarray([0.5, 3, Number.NaN]).map((vs) => col("f").isin(vs)),
    fc.constantFrom(col("f").isnull(), col("s").notnull(), col("flag"), col("s").regexMatch("^a")),
    tsArb.map((t) => col("index").ge(t)),
    fc
      .tuple(tie("bool"), tie("bool"), fc.constantFrom("and", "or", "xor") as fc.Arbitrary<"and">)
      .map(([a, b, op]) => (a as Expr)[op](b as Expr)),
    tie("bool").map((a) => (a as Expr).not()),
  ),
}));

export type Step = (q: QueryBuilder) => QueryBuilder;

export const rowStepArb: fc.Arbitrary<Step> = fc.oneof(
  boolArb.map((e) => (q: QueryBuilder) => q.filter(e)),
  fc.tuple(fc.constantFrom("x", "y"), fc.oneof(numArb, boolArb)).map(
    ([n, e]) =>
      (q: QueryBuilder) =>
        q.apply(n, e),
  ),
  fc.integer({ min: -4, max: 6 }).map((n) => (q: QueryBuilder) => q.head(n)),
  fc.integer({ min: -4, max: 6 }).map((n) => (q: QueryBuilder) => q.tail(n)),
  fc.tuple(fc.option(fc.integer({ min: -8, max: 8 })), fc.option(fc.integer({ min: -8, max: 8 }))).map(
    ([a, b]) =>
      (q: QueryBuilder) =>
        q.rowRange(a, b),
  ),
  fc.tuple(fc.option(tsArb), fc.option(tsArb)).map(
    ([a, b]) =>
      (q: QueryBuilder) =>
        q.dateRange(a, b),
  ),
);

export const aggsArb = fc
  .array(
    fc.oneof(
      fc.tuple(
        fc.constantFrom("i", "f", "b", "flag"),
        fc.constantFrom(...(["sum", "mean", "min", "max", "count", "first", "last"] as const)),
      ),
      fc.tuple(fc.constant("s"), fc.constantFrom(...(["min", "max", "count", "first", "last"] as const))),
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((list) => Object.fromEntries(list.map(([c, a], j) => [`o${j}`, [c, a] as const])));

export const groupStepArb: fc.Arbitrary<Step> = fc
  .tuple(fc.subarray(["s", "i", "flag", "b"], { minLength: 1 }), aggsArb)
  .map(
    ([keys, aggs]) =>
      (q: QueryBuilder) =>
        q.groupby(keys).agg(aggs),
  );

export const resampleStepArb: fc.Arbitrary<Step> = fc
  .tuple(
    fc.constantFrom("1s", "7s", "1min", "13min", "1h", "1h30min"),
    fc.record(
      {
        closed: fc.constantFrom("left", "right") as fc.Arbitrary<"left">,
        label: fc.constantFrom("left", "right") as fc.Arbitrary<"left">,
        origin: fc.constantFrom("epoch", "start", "start_day", "end", "end_day", "2023-12-31T23:59:59Z"),
        offset: fc.constantFrom("0s", "2min", "-30s"),
        emptyBuckets: fc.constantFrom("keep", "drop") as fc.Arbitrary<"keep">,
      },
      { requiredKeys: [] },
    ),
    aggsArb,
  )
  .map(
    ([rule, options, aggs]) =>
      (q: QueryBuilder) =>
        q.resample(rule, options).agg(aggs),
  );

export const queryArb = fc
  .tuple(
    fc.array(rowStepArb, { maxLength: 3 }),
    fc.option(fc.oneof(groupStepArb, resampleStepArb)),
    fc.option(fc.integer({ min: -3, max: 3 })),
  )
  .map(([steps, agg, after]) => {
    let q = new QueryBuilder();
    for (const s of steps) q = s(q);
    if (agg) q = agg(q);
    if (agg && after !== null) q = q.head(after);
    return q;
  });
