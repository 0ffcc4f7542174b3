import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Arctic, DataError, DataFrame, type VersionedItem } from "../../runtimes/node.ts";
import { rejectsWith, tempDir } from "../helpers.ts";

// Batch behaviours follow ArcticDB's batch tests (test_basic_version_store batch cases,
// test_deletion_batch): results come back in item order, a failed item is a DataError in its slot.

function isItem(x: VersionedItem | DataError): x is VersionedItem {
  return !(x instanceof DataError);
}

const day = (d: number) => new Date(Date.UTC(2024, 0, 1 + d));

describe("batch calls", () => {
  it("writeBatch writes every good item, one DataError per bad one, in item order", async () => {
    const ac = new Arctic(`lmdb://${join(tempDir(), "b.lmdb")}`);
    const lib = await ac.createLibrary("lib", { rowsPerSegment: 2 });
    await lib.write("existing", { x: [0] });
    const results = await lib.writeBatch([
      { symbol: "a", data: new DataFrame({ x: [1, 2, 3] }), metadata: { n: 1 } },
      { symbol: "bad*name", data: { x: [1] } },
      { symbol: "b", data: { x: [4, 5] } },
      { symbol: "c", data: "not a frame" as never },
      { symbol: "existing", data: { x: [9, 9] } },
      { symbol: "d", data: { x: [1, 2] }, bogus: true } as never,
    ]);
    expect(
      results.map((r) => (isItem(r) ? `${r.symbol}@${r.version}` : `${r.symbol}:${r.errorCode}`)),
    ).toEqual([
      "a@0",
      "bad*name:InvalidArgumentError",
      "b@0",
      "c:InvalidArgumentError",
      "existing@1",
      "d:InvalidArgumentError",
    ]);
    const err = results[3] as DataError;
    expect(err.message).toMatch(/DataFrame or a record of columns/);
    expect((results[0] as VersionedItem).metadata).toEqual({ n: 1 });
    expect(await lib.listSymbols()).toEqual(["a", "b", "existing"]);
    expect(Array.from((await lib.read("a")).data!.column("x") as Float64Array)).toEqual([1, 2, 3]);
    expect(Array.from((await lib.read("existing")).data!.column("x") as Float64Array)).toEqual([9, 9]);
    expect(Array.from((await lib.read("existing", { asOf: 0 })).data!.column("x") as Float64Array)).toEqual([
      0,
    ]);
    await ac.close();
  });

  it("writeBatch refuses a symbol in two items and writes nothing, as ArcticDB does", async () => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib");
    const err = await rejectsWith(
      lib.writeBatch([
        { symbol: "s", data: { x: [1] } },
        { symbol: "t", data: { x: [1] } },
        { symbol: "s", data: { x: [2] } },
      ]),
      "InvalidArgumentError",
    );
    expect(err.message).toMatch(/'s' appears in more than one item/);
    expect(await lib.listSymbols()).toEqual([]);
    await ac.close();
  });

  it("appendBatch appends where it can and reports unsorted or mismatched items", async () => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib");
    await lib.write("ts", new DataFrame({ x: [1, 2] }, { index: [day(0), day(1)] }));
    await lib.write("ts2", new DataFrame({ x: [1, 2] }, { index: [day(0), day(1)] }));
    await lib.write("other", { x: [1] });
    const results = await lib.appendBatch([
      { symbol: "ts", data: new DataFrame({ x: [3] }, { index: [day(2)] }), metadata: "m" },
      { symbol: "ts2", data: new DataFrame({ x: [0] }, { index: [day(0)] }) },
      { symbol: "other", data: { y: [1] } },
      { symbol: "fresh", data: { z: [7] } },
    ]);
    expect(
      results.map((r) => (isItem(r) ? `${r.symbol}@${r.version}` : `${r.symbol}:${r.errorCode}`)),
    ).toEqual(["ts@1", "ts2:UnsortedIndexError", "other:SchemaMismatchError", "fresh@0"]);
    expect(Array.from((await lib.read("ts")).data!.column("x") as Float64Array)).toEqual([1, 2, 3]);
    expect((await lib.listVersions("other")).length).toBe(1);
    await ac.close();
  });

  it("readBatch reads names and requests, with a DataError for what is missing", async () => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib");
    await lib.write("a", new DataFrame({ x: [1, 2, 3], y: [4, 5, 6] }, { index: [day(0), day(1), day(2)] }));
    await lib.write("a", new DataFrame({ x: [7], y: [8] }, { index: [day(3)] }));
    await lib.write("b", { x: [1] });
    const results = await lib.readBatch([
      "b",
      { symbol: "a", asOf: 0, dateRange: [day(1), null], columns: ["y"] },
      "missing",
      { symbol: "a", asOf: 5 },
      { symbol: "a", rowRange: [0, 1] },
      42 as never,
    ]);
    const [b, a0, missing, noVersion, a1, junk] = results;
    expect(isItem(b) && Array.from(b.data!.column("x") as Float64Array)).toEqual([1]);
    expect(isItem(a0) && a0.data!.columnNames).toEqual(["y"]);
    expect(isItem(a0) && Array.from(a0.data!.column("y") as Float64Array)).toEqual([5, 6]);
    expect(missing).toBeInstanceOf(DataError);
    expect((missing as DataError).errorCode).toBe("SymbolNotFoundError");
    expect((noVersion as DataError).errorCode).toBe("VersionNotFoundError");
    expect(isItem(a1) && Array.from(a1.data!.column("x") as Float64Array)).toEqual([7]);
    expect((junk as DataError).errorCode).toBe("InvalidArgumentError");
    expect((junk as DataError).symbol).toBe("#5");
    await ac.close();
  });

  it("throws when the batch itself is not an array", async () => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib");
    await rejectsWith(lib.writeBatch({} as never), "InvalidArgumentError");
    await rejectsWith(lib.readBatch("a" as never), "InvalidArgumentError");
    await rejectsWith(lib.appendBatch(null as never), "InvalidArgumentError");
    expect(await lib.writeBatch([])).toEqual([]);
    await ac.close();
  });
});
