import fc from "fast-check";
import { DataFrame } from "../../runtimes/node.ts";

// The plain model that update's tests (test/api/update.test.ts, stream-update.test.ts) check floe
// against: rows of (timestamp, x) in index order, and their frames.

/** Rows of (timestamp, x), in index order. */
export type Rows = [bigint, number][];

/** `rows` as a frame: x as float64 and `s` = "v" + x as strings, indexed by timestamp `t`. */
export function frameOf(rows: Rows): DataFrame {
  return new DataFrame(
    { x: new Float64Array(rows.map((r) => r[1])), s: rows.map((r) => `v${r[1]}`) },
    { index: { name: "t", values: new BigInt64Array(rows.map((r) => r[0])) }, dtypes: { s: "string" } },
  );
}

/** Up to `maxLen` rows at timestamps in [lo, hi] (repeats allowed), sorted by timestamp. */
export const sortedRows = (maxLen: number, lo: number, hi: number) =>
  fc
    .array(fc.tuple(fc.integer({ min: lo, max: hi }), fc.integer({ min: -1000, max: 1000 })), {
      maxLength: maxLen,
    })
    .map((rs) =>
      rs
        .map(([t, x]) => [BigInt(t), x] as [bigint, number])
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
    );
