import fc from "fast-check";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadKernels } from "../../src/codec/wasm.ts";
import type { DType } from "../../src/dtypes.ts";
import { DataFrame } from "../../src/frame/dataframe.ts";
import { NAT } from "../../src/frame/timestamps.ts";
import { type AggState, accumulate } from "../../src/query/aggregate.ts";
import { type Columns, evaluate } from "../../src/query/evaluate.ts";
import { runQuery } from "../../src/query/execute.ts";
import { type ArithOp, type CompareOp, col, type Expr, lit } from "../../src/query/expr.ts";
import { type QueryKernels, queryKernelsOf, useQueryKernels } from "../../src/query/kernels.ts";
import type { AggName } from "../../src/query/query-builder.ts";
import { QueryBuilder } from "../../src/query/query-builder.ts";

let q: QueryKernels;
beforeAll(async () => {
  q = queryKernelsOf(await loadKernels());
});
afterEach(() => {
  useQueryKernels(true);
});

const COMPARE_OPS: CompareOp[] = ["gt", "ge", "lt", "le", "eq", "ne"];
const ARITH_OPS: ArithOp[] = ["add", "sub", "mul", "div"];
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

// ---- inputs: the values where kernels and loops could part ------------------------------------------------

const special = [0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1, -1, 2 ** 53];
const double = fc.oneof(fc.double(), fc.constantFrom(...special), fc.integer({ min: -5, max: 5 }));
/** Lengths 0..70: empty, shorter than a SIMD step, and never aligned to 8 or 16 unless by chance. */
const f64s = fc.array(double, { maxLength: 70, size: "max" }).map((xs) => Float64Array.from(xs));
const int64 = fc.oneof(
  fc.bigInt({ min: I64_MIN, max: I64_MAX }),
  fc.constantFrom(I64_MIN, I64_MIN + 1n, I64_MAX, 0n, -1n, 1n),
  fc.bigInt({ min: -3n, max: 3n }),
);
const i64s = fc.array(int64, { maxLength: 70, size: "max" }).map((xs) => BigInt64Array.from(xs));
const i32s = fc
  .array(fc.oneof(fc.integer(), fc.constantFrom(-(2 ** 31), 2 ** 31 - 1, 0, -1)), {
    maxLength: 70,
    size: "max",
  })
  .map((xs) => Int32Array.from(xs));
const bytes = fc.array(fc.oneof(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 255 })), {
  maxLength: 70,
  size: "max",
});
const compareOp = fc.constantFrom(...COMPARE_OPS);

/** Element-by-element identity: NaN equals NaN, but -0 differs from +0 (unlike ===). */
function same(a: ArrayLike<unknown>, b: ArrayLike<unknown>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function refCompare<T>(x: ArrayLike<T>, op: CompareOp, s: T): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const r =
      op === "gt"
        ? v > s
        : op === "ge"
          ? v >= s
          : op === "lt"
            ? v < s
            : op === "le"
              ? v <= s
              : op === "eq"
                ? v === s
                : v !== s;
    out[i] = r ? 1 : 0;
  }
  return out;
}

/** Columns named x (and y) for evaluate. */
function columns(dtype: DType, x: ArrayLike<unknown>, y?: ArrayLike<unknown>): Columns {
  const map = new Map([
    ["x", { dtype, values: x as Float64Array }],
    ["y", { dtype, values: (y ?? x) as Float64Array }],
  ]);
  return { numRows: x.length, get: (n) => map.get(n), names: () => [...map.keys()] };
}

/** evaluate's answer with and without the kernels, as [wasm, typescript] values. */
function bothPaths(e: Expr, cols: Columns): [ArrayLike<unknown>, ArrayLike<unknown>] {
  const run = (on: boolean) => {
    useQueryKernels(on);
    const v = evaluate(e.node, cols);
    if (v.kind !== "column") throw new Error("expected a column");
    return v.values as ArrayLike<unknown>;
  };
  return [run(true), run(false)];
}

// ---- kernels against reference loops ----------------------------------------------------------------------

describe("comparison kernels", () => {
  it("float64 with a scalar equal the loop (NaN false, ne true, -0 == +0)", () => {
    fc.assert(
      fc.property(f64s, compareOp, double, (x, op, s) => same(q.compare(x, op, s), refCompare(x, op, s))),
      { numRuns: 500 },
    );
  });

  it("int64 with a scalar equal the bigint loop, extremes included", () => {
    fc.assert(
      fc.property(i64s, compareOp, int64, (x, op, s) => same(q.compare(x, op, s), refCompare(x, op, s))),
      { numRuns: 500 },
    );
  });

  it("timestamps: NaT compares false, ne true", () => {
    const ts = fc
      .array(fc.oneof(int64, fc.constant(NAT)), { maxLength: 70, size: "max" })
      .map((v) => BigInt64Array.from(v));
    fc.assert(
      fc.property(ts, compareOp, int64, (x, op, s) => {
        const want = refCompare(x, op, s);
        for (let i = 0; i < x.length; i++) if (x[i] === NAT) want[i] = op === "ne" ? 1 : 0;
        return same(q.compare(x, op, s, true), want);
      }),
      { numRuns: 500 },
    );
  });

  it("int32 with a double equal the loop over doubles", () => {
    fc.assert(
      fc.property(i32s, compareOp, double, (x, op, s) =>
        same(q.compare(x, op, s), refCompare(Float64Array.from(x), op, s)),
      ),
      { numRuns: 500 },
    );
  });

  it("evaluate gives the same masks with and without kernels, the literal on either side", () => {
    const cases = fc.oneof(
      fc.record({ dtype: fc.constant<DType>("float64"), x: f64s, s: double }),
      fc.record({ dtype: fc.constant<DType>("int32"), x: i32s, s: double }),
      fc.record({
        dtype: fc.constant<DType>("int64"),
        x: i64s,
        s: fc.oneof(int64, fc.integer({ min: -9, max: 9 })),
      }),
      fc.record({ dtype: fc.constant<DType>("timestamp"), x: i64s, s: fc.oneof(int64, fc.constant(NAT)) }),
    );
    fc.assert(
      fc.property(cases, compareOp, fc.boolean(), ({ dtype, x, s }, op, flip) => {
        const l = dtype === "timestamp" ? lit(s as bigint) : lit(s);
        const e = flip ? l[op](col("x")) : col("x")[op](l);
        const [wasm, ts] = bothPaths(e, columns(dtype, x));
        return same(wasm, ts);
      }),
      { numRuns: 500 },
    );
  });
});

describe("mask kernels", () => {
  it("and, or, xor and not equal the bytewise loops", () => {
    fc.assert(
      fc.property(bytes, fc.integer(), (a0, seed) => {
        const a = Uint8Array.from(a0);
        const b = Uint8Array.from(a0, (_, i) => (seed >>> (i % 31)) & 1);
        return (
          same(
            q.logic("and", a, b),
            a.map((v, i) => v & b[i]),
          ) &&
          same(
            q.logic("or", a, b),
            a.map((v, i) => v | b[i]),
          ) &&
          same(
            q.logic("xor", a, b),
            a.map((v, i) => v ^ b[i]),
          ) &&
          same(
            q.logic("not", a, null),
            a.map((v) => v ^ 1),
          )
        );
      }),
      { numRuns: 300 },
    );
  });

  it("evaluate's and/or/xor/not give the same masks with and without kernels", () => {
    fc.assert(
      fc.property(bytes, (a0) => {
        const a = Uint8Array.from(a0, (v) => v & 1);
        const b = Uint8Array.from(a, (v, i) => v ^ (i & 1));
        const cols = columns("bool", a, b);
        return [col("x").and(col("y")), col("x").or(col("y")), col("x").xor(col("y")), col("x").not()].every(
          (e) => {
            const [wasm, ts] = bothPaths(e, cols);
            return same(wasm, ts);
          },
        );
      }),
      { numRuns: 200 },
    );
  });

  it("maskSum adds the bytes, past the point where 32-bit lanes are flushed", () => {
    fc.assert(
      fc.property(bytes, (a0) => q.maskSum(Uint8Array.from(a0)) === a0.reduce((s, v) => s + v, 0)),
      { numRuns: 300 },
    );
    const big = new Uint8Array((1 << 24) + 37).fill(255);
    expect(q.maskSum(big)).toBe(255 * big.length);
  });
});

describe("compaction kernel", () => {
  it("keeps the rows of a sparse mask (blocks of 16 zero bytes skipped), 2s counting as 0s", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3000 }),
        fc.constantFrom(0, 0.002, 0.02, 0.2),
        fc.integer(),
        (n, density, seed) => {
          let s = seed >>> 0;
          const rnd = () => {
            s = (Math.imul(s, 1103515245) + 12345) >>> 0;
            return s / 2 ** 32;
          };
          const mask = Uint8Array.from({ length: n }, () => (rnd() < density ? (rnd() < 0.8 ? 1 : 2) : 0));
          const x = Float64Array.from({ length: n }, (_, i) => i + 0.5);
          const y = Int32Array.from({ length: n }, (_, i) => -i);
          const rows = [...mask.keys()].filter((i) => mask[i] === 1);
          const got = q.compact(mask, rows.length, [x, y]);
          return (
            got !== null &&
            same(
              got[0],
              rows.map((i) => x[i]),
            ) &&
            same(
              got[1],
              rows.map((i) => y[i]),
            )
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it("keeps the rows whose mask byte is 1, for every width, as execute.ts's gather", () => {
    fc.assert(
      fc.property(bytes, fc.integer(), (m0, seed) => {
        const mask = Uint8Array.from(m0, (v, i) => (v === 1 || (seed >>> (i % 29)) & 1 ? v & 1 : v));
        const n = mask.length;
        const columns = [
          Float64Array.from({ length: n }, (_, i) => (i % 3 === 0 ? Number.NaN : -i - 0.5)),
          BigInt64Array.from({ length: n }, (_, i) => (i % 2 ? I64_MIN + BigInt(i) : I64_MAX - BigInt(i))),
          Int32Array.from({ length: n }, (_, i) => i * 7919),
          Uint16Array.from({ length: n }, (_, i) => i * 31),
          Uint8Array.from({ length: n }, (_, i) => i),
        ];
        const rows = [...mask.keys()].filter((i) => mask[i] === 1);
        const got = q.compact(mask, rows.length, columns);
        if (got === null) return false;
        const sum = mask.reduce((t, v) => t + v, 0);
        if (sum !== rows.length && q.compact(mask, sum, columns) !== null) return false;
        return got.every(
          (c, j) =>
            c.constructor === columns[j].constructor &&
            same(
              c,
              rows.map((i) => columns[j][i]),
            ),
        );
      }),
      { numRuns: 300 },
    );
  });
});

describe("filters", () => {
  /** runQuery's answer with and without the kernels, column by column (index included). */
  function filterAgrees(frame: DataFrame, query: QueryBuilder): boolean {
    useQueryKernels(true);
    const wasm = runQuery(frame, query);
    useQueryKernels(false);
    const ts = runQuery(frame, query);
    useQueryKernels(true);
    if (wasm.numRows !== ts.numRows || wasm.columnNames.join() !== ts.columnNames.join()) return false;
    const index = (f: DataFrame) => (f.index.kind === "timestamp" ? f.index.values : [f.index.start]);
    return same(index(wasm), index(ts)) && wasm.columnNames.every((n) => same(wasm.column(n), ts.column(n)));
  }

  it("keep the same rows of typed and string columns and the index", () => {
    fc.assert(
      fc.property(f64s, double, compareOp, (x, s, op) => {
        const n = x.length;
        const frame = DataFrame.fromColumns(
          [
            { name: "x", dtype: "float64", values: x },
            { name: "i", dtype: "int32", values: Int32Array.from(x, (_, i) => i * 3) },
            { name: "s", dtype: "string", values: Array.from(x, (_, i) => (i % 5 ? `s${i}` : null)) },
          ],
          { kind: "timestamp", name: "ts", values: BigInt64Array.from(x, (_, i) => BigInt(i) * 60n) },
          n,
        );
        return filterAgrees(frame, new QueryBuilder().filter(col("x")[op](s)));
      }),
      { numRuns: 200 },
    );
  });

  it("a bool column holding bytes other than 0 and 1 filters as it always has", () => {
    const b = Uint8Array.from([1, 2, 0, 1, 255, 1]);
    const frame = DataFrame.fromColumns(
      [
        { name: "b", dtype: "bool", values: b },
        { name: "x", dtype: "float64", values: Float64Array.from(b, (v, i) => v + i / 8) },
      ],
      { kind: "row", start: 0 },
      b.length,
    );
    expect(filterAgrees(frame, new QueryBuilder().filter(col("b")))).toBe(true);
  });
});

describe("long columns", () => {
  it("go through Wasm memory in windows with the same answers", () => {
    const n = 3 * 32768 + 101;
    const x = Float64Array.from({ length: n }, (_, i) => (i % 7 === 0 ? Number.NaN : Math.sin(i)));
    const big = BigInt64Array.from(x, (v, i) => (Number.isNaN(v) ? NAT : BigInt(i * 1000)));
    const mask = q.compare(x, "gt", 0.25);
    expect(same(mask, refCompare(x, "gt", 0.25))).toBe(true);
    const tsMask = q.compare(big, "lt", 50_000_000n, true);
    expect(
      same(
        tsMask,
        refCompare(big, "lt", 50_000_000n).map((m, i) => (big[i] === NAT ? 0 : m)),
      ),
    ).toBe(true);
    const other = Uint8Array.from(mask, (_, i) => i & 1);
    expect(
      same(
        q.logic("and", mask, other),
        mask.map((v, i) => v & other[i]),
      ),
    ).toBe(true);
    expect(
      same(
        q.logic("not", mask, null),
        mask.map((v) => v ^ 1),
      ),
    ).toBe(true);
    const kept = mask.reduce((s, v) => s + v, 0);
    expect(q.maskSum(mask)).toBe(kept);
    const rows = [...mask.keys()].filter((i) => mask[i] === 1);
    const [cx, cb] = q.compact(mask, kept, [x, big]) ?? [];
    expect(
      same(
        cx,
        rows.map((i) => x[i]),
      ) &&
        same(
          cb,
          rows.map((i) => big[i]),
        ),
    ).toBe(true);
    expect(
      same(
        q.arithScalar("mul", x, 3, false),
        x.map((v) => v * 3),
      ),
    ).toBe(true);
    expect(
      same(
        q.arithColumns("sub", x, x),
        x.map((v) => v - v),
      ),
    ).toBe(true);
  });
});

describe("arithmetic kernels", () => {
  it("float64 column op column and column op scalar equal the loops, bit for bit", () => {
    const apply = (op: ArithOp, a: number, b: number) =>
      op === "add" ? a + b : op === "sub" ? a - b : op === "mul" ? a * b : a / b;
    fc.assert(
      fc.property(f64s, fc.constantFrom(...ARITH_OPS), double, fc.integer(), (x, op, s, seed) => {
        const y = Float64Array.from(x, (_, i) => special[(seed + i) % special.length] + i);
        return (
          same(
            q.arithColumns(op, x, y),
            x.map((v, i) => apply(op, v, y[i])),
          ) &&
          same(
            q.arithScalar(op, x, s, false),
            x.map((v) => apply(op, v, s)),
          ) &&
          same(
            q.arithScalar(op, x, s, true),
            x.map((v) => apply(op, s, v)),
          )
        );
      }),
      { numRuns: 500 },
    );
  });
});

// ---- grouped partial aggregates -----------------------------------------------------------------------------

const AGGS: AggName[] = ["count", "sum", "mean", "min", "max", "first", "last"];

/** Rows with groups in [-1, groups): values and group numbers of one length. */
function grouped<T>(values: fc.Arbitrary<T>) {
  return fc.integer({ min: 0, max: 6 }).chain((groups) =>
    fc
      .array(fc.tuple(values, fc.integer({ min: -1, max: Math.max(-1, groups - 1) })), {
        maxLength: 70,
        size: "max",
      })
      .map((rows) => ({ groups, rows })),
  );
}

function sameState(a: AggState, b: AggState): boolean {
  const keys = ["count", "sum", "comp", "value", "pos"] as const;
  if (a.agg !== b.agg || a.dtype !== b.dtype) return false;
  for (const key of keys) {
    const x = a[key];
    const y = b[key];
    if ((x === undefined) !== (y === undefined)) return false;
    if (x === undefined || y === undefined) continue;
    if (x.constructor !== y.constructor || !same(x as ArrayLike<unknown>, y as ArrayLike<unknown>))
      return false;
  }
  return true;
}

/** accumulate over one column with every aggregation, with and without kernels: states must be identical. */
function accumulateAgrees(
  dtype: DType,
  values: ArrayLike<unknown>,
  gids: Int32Array,
  groups: number,
  offset: number,
) {
  const names = dtype === "timestamp" ? AGGS.filter((a) => a !== "sum" && a !== "mean") : AGGS;
  const aggs = names.map((agg) => ({ column: "x", agg, out: agg }));
  const inputs = aggs.map(() => ({ dtype, values: values as Float64Array }));
  useQueryKernels(true);
  const wasm = accumulate(aggs, inputs, gids, groups, offset);
  useQueryKernels(false);
  const ts = accumulate(aggs, inputs, gids, groups, offset);
  useQueryKernels(true);
  return wasm.every((s, j) => sameState(s, ts[j]));
}

describe("grouped aggregate kernels", () => {
  it("float64: count, Kahan sum and mean, min, max, first, last as aggregate.ts (NaN skipped, ±0 kept)", () => {
    fc.assert(
      fc.property(grouped(double), fc.integer({ min: 0, max: 1000 }), ({ groups, rows }, offset) => {
        const values = Float64Array.from(rows, (r) => r[0]);
        const gids = Int32Array.from(rows, (r) => r[1]);
        return accumulateAgrees("float64", values, gids, groups, offset);
      }),
      { numRuns: 500 },
    );
  });

  it("float64 sums with cancellation carry the same compensation as aggregate.ts", () => {
    const big = fc.constantFrom(1e16, -1e16, 1, 0.1, 3.3e-7, 1e300, -1e300, 2 ** 52);
    fc.assert(
      fc.property(grouped(big), ({ groups, rows }) => {
        const values = Float64Array.from(rows, (r) => r[0]);
        const gids = Int32Array.from(rows, (r) => r[1]);
        return accumulateAgrees("float64", values, gids, groups, 0);
      }),
      { numRuns: 300 },
    );
  });

  it("int64: wrapping sums, float mean, min, max, first, last at the extremes", () => {
    fc.assert(
      fc.property(grouped(int64), fc.integer({ min: 0, max: 1000 }), ({ groups, rows }, offset) => {
        const values = BigInt64Array.from(rows, (r) => r[0]);
        const gids = Int32Array.from(rows, (r) => r[1]);
        return accumulateAgrees("int64", values, gids, groups, offset);
      }),
      { numRuns: 500 },
    );
  });

  it("uint64 (count, sum, first, last by kernel; the rest in TypeScript) and timestamps with NaT", () => {
    fc.assert(
      fc.property(grouped(fc.oneof(int64, fc.constant(NAT))), ({ groups, rows }) => {
        const bits = BigInt64Array.from(rows, (r) => r[0]);
        const gids = Int32Array.from(rows, (r) => r[1]);
        return (
          accumulateAgrees("uint64", new BigUint64Array(bits.buffer), gids, groups, 0) &&
          accumulateAgrees("timestamp", bits, gids, groups, 0)
        );
      }),
      { numRuns: 300 },
    );
  });

  it("a large batch (SIMD-free loops over many rows and groups) agrees too", () => {
    const n = 100_003;
    const values = Float64Array.from({ length: n }, (_, i) =>
      i % 101 === 0 ? Number.NaN : Math.sin(i) * 1e6,
    );
    const gids = Int32Array.from({ length: n }, (_, i) => ((i * 7919) % 1009) - 1);
    expect(accumulateAgrees("float64", values, gids, 1008, 17)).toBe(true);
    const ints = BigInt64Array.from(values, (v, i) =>
      Number.isNaN(v) ? I64_MAX - BigInt(i) : BigInt(Math.round(v)),
    );
    expect(accumulateAgrees("int64", ints, gids, 1008, 17)).toBe(true);
  });
});
