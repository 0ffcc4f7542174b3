// rowRange follows pandas' iloc, as ArcticDB's row_range does (test_row_range.py: each case there reads
// [start, end) and [-end, -start) and compares with df.iloc). JavaScript's Array.prototype.slice has the
// very same rules (negative from the end, clamped, empty when end <= start), so it is the reference.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Arctic, type DataError, DataFrame, type Library, type VersionedItem } from "../../runtimes/node.ts";
import { tempDir } from "../helpers.ts";

const ROWS = 10;
const values = Array.from({ length: ROWS }, (_, i) => i * 10);
const xs = (item: VersionedItem | DataError) =>
  Array.from((item as VersionedItem).data!.column("x") as Float64Array);

async function library(): Promise<{ ac: Arctic; lib: Library }> {
  const ac = new Arctic("mem://");
  // Two rows per segment, like ArcticDB's lmdb_version_store_tiny_segment, so ranges cross segments.
  const lib = await ac.createLibrary("lib", { rowsPerSegment: 2, columnsPerSegment: 2 });
  await lib.write("s", { x: values, y: values.map((v) => -v), z: values.map(String) });
  const days = values.map((_, i) => new Date(Date.UTC(2024, 0, 1 + i)));
  await lib.write("ts", new DataFrame({ x: values }, { index: days }));
  return { ac, lib };
}

describe("rowRange as iloc", () => {
  // test_row_range.py's cases: start after end, zero rows, one row, a segment boundary, several
  // segments, all rows, past the end.
  const cases: [number, number][] = [
    [3, 2],
    [2, 2],
    [2, 3],
    [2, 4],
    [3, 7],
    [0, 10],
    [5, 15],
  ];

  it.each(cases)("reads [%i, %i) and its mirror [-end, -start) as slice() does", async (start, end) => {
    const { ac, lib } = await library();
    for (const [s, e] of [
      [start, end],
      [-end, -start],
    ]) {
      const item = await lib.read("s", { rowRange: [s, e] });
      expect(xs(item), `[${s}, ${e})`).toEqual(values.slice(s, e));
      const expectedStart = Math.min(Math.max(s < 0 ? ROWS + s : s, 0), ROWS);
      expect(item.data!.index).toEqual({ kind: "row", start: expectedStart });
      const ts = await lib.read("ts", { rowRange: [s, e], columns: ["x"] });
      expect(xs(ts), `ts [${s}, ${e})`).toEqual(values.slice(s, e));
    }
    await ac.close();
  });

  it("takes null or undefined as an open end", async () => {
    const { ac, lib } = await library();
    expect(xs(await lib.read("s", { rowRange: [null, 3] }))).toEqual(values.slice(0, 3));
    expect(xs(await lib.read("s", { rowRange: [7, null] }))).toEqual(values.slice(7));
    expect(xs(await lib.read("s", { rowRange: [-3, null] }))).toEqual(values.slice(-3));
    expect(xs(await lib.read("s", { rowRange: [null, -8] }))).toEqual(values.slice(0, -8));
    expect(xs(await lib.read("s", { rowRange: [null, null] }))).toEqual(values);
    expect(xs(await lib.read("s", { rowRange: [undefined, 2] as never }))).toEqual(values.slice(0, 2));
    await ac.close();
  });

  it("clamps bounds far outside the frame and keeps the columns of an empty answer", async () => {
    const { ac, lib } = await library();
    expect(xs(await lib.read("s", { rowRange: [-1000, 2] }))).toEqual(values.slice(-1000, 2));
    expect(xs(await lib.read("s", { rowRange: [8, 1000] }))).toEqual(values.slice(8, 1000));
    const empty = await lib.read("s", { rowRange: [1000, 2000], columns: ["z", "x"] });
    expect(empty.data!.numRows).toBe(0);
    expect(empty.data!.columnNames).toEqual(["z", "x"]);
    const backwards = await lib.read("ts", { rowRange: [6, 2] });
    expect(backwards.data!.numRows).toBe(0);
    expect(backwards.data!.index.kind).toBe("timestamp");
    await ac.close();
  });

  it("applies the same rules to readBatch items, and to a version read by asOf", async () => {
    const { ac, lib } = await library();
    await lib.write("s", { x: [1, 2, 3], y: [0, 0, 0], z: ["a", "b", "c"] });
    const results = await lib.readBatch([
      { symbol: "s", rowRange: [-2, null] },
      { symbol: "s", rowRange: [-4, -1], asOf: 0 },
      { symbol: "s", rowRange: [5, 1] },
      { symbol: "s", rowRange: [0, 1.5] },
    ]);
    expect(xs(results[0])).toEqual([2, 3]);
    expect(xs(results[1])).toEqual(values.slice(-4, -1));
    expect(xs(results[2])).toEqual([]);
    expect((results[3] as DataError).errorCode).toBe("InvalidArgumentError");
    await ac.close();
  });

  it("resolves negative and open bounds on a read the worker pool shares out", async () => {
    const ac = new Arctic(`lmdb://${join(tempDir(), "big.lmdb")}`, { workers: 2 });
    const lib = await ac.createLibrary("lib");
    const rows = 1_200_000; // 9.6 MB of float64: more than the 8 MB from which reads go to the pool
    const x = Float64Array.from({ length: rows }, (_, i) => i);
    await lib.write("big", { x, y: x });
    const tail = await lib.read("big", { rowRange: [-1500, null] });
    expect(tail.data!.numRows).toBe(1500);
    expect(tail.data!.index).toEqual({ kind: "row", start: rows - 1500 });
    expect((tail.data!.column("y") as Float64Array)[0]).toBe(rows - 1500);
    const middle = await lib.read("big", { rowRange: [-rows, -rows + 3] });
    expect(Array.from(middle.data!.column("x") as Float64Array)).toEqual([0, 1, 2]);
    await ac.close();
  });
});
