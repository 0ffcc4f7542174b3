/**
 * A chunk whose query starts with a filter the comparison kernels evaluate is materialised late
 * (src/version/query-chunk.ts): the filter's columns decoded, the mask computed, every other column
 * decoded compacted by it. Segments of 1,000+ rows put each codec on that path — decimal and
 * shuffle-LZ4 floats, raw (random) floats, int-packed integers and timestamps, dictionary and plain
 * strings, widened columns and dynamic-schema gaps — and the answer must be the query run on the whole
 * frame (`runQuery`).
 */
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, it } from "vitest";
import { Arctic, col, DataFrame, type Expr, lit, QueryBuilder, runQuery } from "../../runtimes/node.ts";
import { tempDir } from "../helpers.ts";
import { expectSameAnswer } from "../query/same-answer.ts";

const BASE = 1_704_067_200_000_000_000n;

/** A frame of `n` rows from `seed`: each column is stored with another codec. */
function frameOf(n: number, seed: number, narrow: boolean): DataFrame {
  let s = seed >>> 0 || 1;
  const rnd = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const dec = new Float64Array(n); // decimal
  const walk = new Float64Array(n); // shuffle-LZ4
  const noise = new Float64Array(n); // raw
  const i64 = new BigInt64Array(n); // int-pack
  const i32 = narrow ? new Int16Array(n) : new Int32Array(n); // int-pack; widened when narrow
  const flag = new Uint8Array(n);
  const sym: (string | null)[] = []; // dictionary
  const text: (string | null)[] = []; // plain strings
  const ts = new BigInt64Array(n);
  let p = 100;
  for (let r = 0; r < n; r++) {
    dec[r] = Math.round(rnd() * 20000) / 100;
    walk[r] = p += rnd() - 0.5;
    // Random bits (no NaN or infinity) do not compress: stored raw.
    const bits = new Float64Array(new Uint32Array([rnd() * 2 ** 32, rnd() * 2 ** 32]).buffer)[0];
    noise[r] = r % 97 === 0 ? Number.NaN : Number.isFinite(bits) ? bits : 0.5;
    i64[r] = BigInt(Math.floor(rnd() * 1000) - 500);
    i32[r] = Math.floor(rnd() * 200) - 100;
    flag[r] = rnd() < 0.5 ? 1 : 0;
    sym.push(r % 50 === 3 ? null : `S${Math.floor(rnd() * 8)}`);
    text.push(`t${r}-${Math.floor(rnd() * 1e9)}`);
    ts[r] = BASE + BigInt(r) * 60_000_000_000n + BigInt(Math.floor(rnd() * 1000));
  }
  return new DataFrame(
    { dec, walk, noise, i64, i32, flag: flag as unknown as Uint8Array, sym, text },
    { index: { name: "ts", values: ts } },
  );
}

const numericCols = ["dec", "walk", "noise", "i64", "i32"] as const;
const literalFor = (name: string, r: number): number | bigint =>
  name === "i64" ? BigInt(Math.floor(r * 1000) - 500) : name === "i32" ? Math.floor(r * 200) - 100 : r * 200;

/** A filter of comparisons with literals or of two columns, joined by and/or/not. */
const filterArb: fc.Arbitrary<Expr> = fc.letrec<{ e: Expr }>((tie) => ({
  e: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc
      .tuple(
        fc.constantFrom(...numericCols, "ts"),
        fc.constantFrom("gt", "ge", "lt", "le", "eq", "ne"),
        fc.double({ min: 0, max: 1, noNaN: true }),
      )
      .map(([name, op, r]) => {
        const c = col(name) as unknown as Record<string, (v: unknown) => Expr>;
        // A timestamp literal: a Date within the frame's span (milliseconds from 2024-01-01).
        const at = lit(new Date(Number(BASE / 1_000_000n) + Math.floor(r * 5000) * 60_000));
        return c[op](name === "ts" ? at : literalFor(name, r));
      }),
    // Two columns compared (`close > open`), int64 with int32 and floats included.
    fc
      .tuple(
        fc.constantFrom(...numericCols),
        fc.constantFrom("gt", "ge", "lt", "le", "eq", "ne"),
        fc.constantFrom(...numericCols),
      )
      .map(([a, op, b]) => (col(a) as unknown as Record<string, (v: unknown) => Expr>)[op](col(b))),
    fc.tuple(tie("e"), tie("e")).map(([a, b]) => a.and(b)),
    fc.tuple(tie("e"), tie("e")).map(([a, b]) => a.or(b)),
    tie("e").map((a) => a.not()),
  ),
})).e;

/** What may follow the filter: nothing, another filter, an apply, a groupby. */
const restArb = fc.constantFrom<((q: QueryBuilder) => QueryBuilder)[]>(
  (q) => q,
  (q) => q.filter(col("walk").gt(100)),
  (q) => q.apply("x", col("dec").add(col("walk"))),
  (q) => q.groupby("sym").agg({ dec: "sum", i64: "max", n: ["walk", "count"] }),
  (q) => q.head(7),
);

const dir = tempDir("floe-late-");
const stores = {
  "mem://": new Arctic("mem://", { workers: 0 }),
  "lmdb://": new Arctic(`lmdb://${join(dir, "q.lmdb")}`, { workers: 0 }),
};
afterAll(async () => {
  for (const ac of Object.values(stores)) await ac.close();
});

describe("a chunk whose query starts with a filter, materialised late", () => {
  for (const [uri, ac] of Object.entries(stores)) {
    it(`equals the query run on the whole frame, over every codec (${uri})`, async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1000, max: 4000 }),
          fc.integer(),
          fc.integer({ min: 1000, max: 2500 }),
          fc.constantFrom(2, 3, 9),
          fc.constantFrom("plain", "widened", "gaps"),
          filterArb,
          restArb,
          fc.option(fc.tuple(fc.nat(5000), fc.nat(5000))),
          async (rows, seed, rowsPerSegment, columnsPerSegment, schema, filter, rest, range) => {
            const lib = await ac.createLibrary(`late${n++}`, {
              rowsPerSegment,
              columnsPerSegment,
              dynamicSchema: schema !== "plain",
            });
            const df = frameOf(rows, seed, schema === "widened");
            await lib.write("s", df);
            if (schema !== "plain") {
              // Appended rows: i32 as int32 (the first rows widen), and under "gaps" without `text`.
              const more = frameOf(1500, seed + 1, false);
              const { text: _, ...cols } = Object.fromEntries(
                more.columnNames.map((c) => [c, more.column(c)]),
              );
              const base = (df.index as { values: BigInt64Array }).values[rows - 1];
              const ts = (more.index as { values: BigInt64Array }).values.map((t) => t - BASE + base + 1n);
              const frame = new DataFrame(schema === "gaps" ? cols : { ...cols, text: more.column("text") }, {
                index: { name: "ts", values: ts },
              });
              await lib.append("s", frame);
            }
            const q = rest(new QueryBuilder().filter(filter));
            const rowRange =
              range === null ? undefined : ([Math.min(...range), Math.max(...range)] as [number, number]);
            const whole = (await lib.read("s", { rowRange })).data;
            const expected = runQuery(whole, q);
            const actual = (await lib.read("s", { query: q, rowRange })).data;
            expectSameAnswer(
              actual,
              expected,
              `${q.toString()} rows=${rows} rps=${rowsPerSegment} ${schema}`,
            );
            await ac.deleteLibrary(lib.name);
          },
        ),
        { numRuns: Number(process.env.QUERY_RUNS ?? 40) },
      );
    }, 120_000);
  }
});
