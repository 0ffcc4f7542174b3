import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Arctic, DataFrame, type Library } from "../../runtimes/node.ts";
import { LmdbStorage } from "../../src/storage/lmdb-storage.ts";
import { rejectsWith, tempDir } from "../helpers.ts";

async function lmdbLibrary(options = {}): Promise<{ ac: Arctic; lib: Library }> {
  const ac = new Arctic(`lmdb://${join(tempDir(), "lib.lmdb")}`);
  return { ac, lib: await ac.createLibrary("lib", options) };
}

describe("Library versions", () => {
  it("keeps every version immutable and readable", async () => {
    const { ac, lib } = await lmdbLibrary({ rowsPerSegment: 3 });
    const frames = Array.from(
      { length: 6 },
      (_, v) => new DataFrame({ v: Array.from({ length: v * 2 + 1 }, (_, i) => i * v) }),
    );
    for (const [v, df] of frames.entries()) {
      const item = await lib.write("sym", df, { metadata: { v } });
      expect(item).toMatchObject({ symbol: "sym", library: "lib", version: v, metadata: { v } });
      expect(item.timestamp).toBeInstanceOf(Date);
    }
    for (const [v, df] of frames.entries()) {
      const item = await lib.read("sym", { asOf: v });
      expect(item.version).toBe(v);
      expect(item.data!.equals(df)).toBe(true);
      expect(item.metadata).toEqual({ v });
    }
    expect((await lib.read("sym")).version).toBe(5);
    expect((await lib.read("sym", { asOf: -2 })).version).toBe(4);
    const versions = await lib.listVersions("sym");
    expect(versions.map((v) => v.version)).toEqual([5, 4, 3, 2, 1, 0]);
    expect(versions[0]).toMatchObject({ symbol: "sym", snapshots: [], deleted: false });
    await ac.close();
  });

  it("reads asOf a Date as the latest version written at or before it", async () => {
    const { ac, lib } = await lmdbLibrary();
    await lib.write("s", { a: [0] });
    await new Promise((r) => setTimeout(r, 5));
    const between = new Date();
    await new Promise((r) => setTimeout(r, 5));
    await lib.write("s", { a: [1] });
    expect((await lib.read("s", { asOf: between })).version).toBe(0);
    expect((await lib.read("s", { asOf: new Date() })).version).toBe(1);
    await rejectsWith(lib.read("s", { asOf: new Date(0) }), "VersionNotFoundError");
    await ac.close();
  });

  it("lists symbols and versions of all symbols", async () => {
    const { ac, lib } = await lmdbLibrary();
    await lib.write("b", { x: [1] });
    await lib.write("a", { x: [1] });
    await lib.write("a", { x: [2] });
    expect(await lib.listSymbols()).toEqual(["a", "b"]);
    expect(await lib.listSymbols({ regex: "^a" })).toEqual(["a"]);
    expect(await lib.hasSymbol("a")).toBe(true);
    expect(await lib.hasSymbol("zzz")).toBe(false);
    expect(await lib.hasSymbol("a", { asOf: 1 })).toBe(true);
    expect(await lib.hasSymbol("a", { asOf: 7 })).toBe(false);
    const all = await lib.listVersions();
    expect(all.map((v) => `${v.symbol}@${v.version}`).sort()).toEqual(["a@0", "a@1", "b@0"]);
    await ac.close();
  });

  it("deletes versions and whole symbols, never reusing version numbers", async () => {
    const { ac, lib } = await lmdbLibrary();
    for (let i = 0; i < 4; i++) await lib.write("s", { i: [i] });
    await lib.delete("s", { versions: [1, 2] });
    expect((await lib.listVersions("s")).map((v) => v.version)).toEqual([3, 0]);
    await rejectsWith(lib.read("s", { asOf: 1 }), "VersionNotFoundError");
    expect((await lib.read("s", { asOf: 0 })).data!.column("i")).toEqual(new Float64Array([0]));
    await rejectsWith(lib.delete("s", { versions: [9] }), "VersionNotFoundError");
    expect((await lib.listVersions("s")).length).toBe(2);
    await lib.delete("s");
    expect(await lib.listSymbols()).toEqual([]);
    await rejectsWith(lib.read("s"), "SymbolNotFoundError");
    await lib.delete("s"); // nothing left to delete: a no-op, as in ArcticDB
    await rejectsWith(lib.delete("s", { versions: [3] }), "VersionNotFoundError");
    expect((await lib.write("s", { i: [9] })).version).toBe(4);
    await ac.close();
  });

  it("prunes previous versions on write", async () => {
    const { ac, lib } = await lmdbLibrary();
    for (let i = 0; i < 3; i++) await lib.write("s", { i: [i] });
    const item = await lib.write("s", { i: [3] }, { prunePreviousVersions: true });
    expect(item.version).toBe(3);
    expect((await lib.listVersions("s")).map((v) => v.version)).toEqual([3]);
    await ac.close();
  });

  it("writeMetadata makes a new version sharing the latest data, copying no segment", async () => {
    const dir = join(tempDir(), "wm.lmdb");
    const ac = new Arctic(`lmdb://${dir}`);
    const lib = await ac.createLibrary("lib", { rowsPerSegment: 2 });
    const df = new DataFrame({ x: [1, 2, 3, 4, 5] });
    await lib.write("s", df, { metadata: "first" });
    const segmentCount = () => {
      const storage = new LmdbStorage({ path: dir });
      const n = storage.keys("S:").length;
      storage.close();
      return n;
    };
    const before = segmentCount();
    expect(before).toBe(3);
    const item = await lib.writeMetadata("s", { note: "second", n: 2n });
    expect(item.version).toBe(1);
    expect(segmentCount()).toBe(before);
    expect((await lib.readMetadata("s")).metadata).toEqual({ note: "second", n: 2n });
    expect((await lib.readMetadata("s", { asOf: 0 })).metadata).toBe("first");
    expect((await lib.read("s")).data!.equals(df)).toBe(true);
    // Deleting the version that first held the data must keep the shared segments.
    await lib.delete("s", { versions: [0] });
    expect((await lib.read("s")).data!.equals(df)).toBe(true);
    expect(segmentCount()).toBe(before);
    await lib.writeMetadata("s", null, { prunePreviousVersions: true });
    expect((await lib.listVersions("s")).map((v) => v.version)).toEqual([2]);
    expect((await lib.read("s")).data!.equals(df)).toBe(true);
    expect((await lib.writeMetadata("missing", 1)).version).toBe(0); // as ArcticDB: a version without data
    await rejectsWith(lib.writeMetadata("s", { f: () => 1 }), "InvalidArgumentError");
    await rejectsWith(lib.writeMetadata("s", 1, { prune: true } as never), "InvalidArgumentError");
    expect((await lib.listVersions("s")).length).toBe(1);
    await ac.close();
  });

  it("round-trips any msgpack-able metadata", async () => {
    const { ac, lib } = await lmdbLibrary();
    const values: unknown[] = [
      null,
      true,
      0,
      -1.5,
      2 ** 53 - 1,
      1_700_000_000_000,
      12345678901234567890n,
      -(2n ** 63n),
      "héllo ✓",
      "",
      [1, "two", [3]],
      { nested: { deep: [1, { x: null }] }, when: new Date(1_600_000_000_123) },
      new Uint8Array([1, 2, 255]),
    ];
    for (const metadata of values) {
      await lib.write("m", { a: [1] }, { metadata });
      expect((await lib.readMetadata("m")).metadata).toEqual(metadata);
    }
    expect((await lib.readMetadata("m", { asOf: 0 })).metadata).toBeNull();
    await rejectsWith(lib.write("m", { a: [1] }, { metadata: { f: () => 1 } }), "InvalidArgumentError");
    expect((await lib.listVersions("m")).length).toBe(values.length);
    await ac.close();
  });

  it("describes a version without reading its data", async () => {
    const { ac, lib } = await lmdbLibrary({ rowsPerSegment: 2 });
    const index = [
      new Date("2024-01-01T00:00:00Z"),
      new Date("2024-01-02T00:00:00Z"),
      new Date("2024-01-03T00:00:00Z"),
    ];
    await lib.write("ts", new DataFrame({ px: [1.5, 2.5, 3.5], n: new Int32Array([1, 2, 3]) }, { index }), {
      metadata: "m",
    });
    const d = await lib.getDescription("ts");
    expect(d).toMatchObject({
      symbol: "ts",
      version: 0,
      rowCount: 3,
      columns: [
        { name: "px", dtype: "float64" },
        { name: "n", dtype: "int32" },
      ],
      index: {
        kind: "timestamp",
        name: "index",
        first: 1704067200000000000n,
        last: 1704240000000000000n,
        sorted: true,
      },
      metadata: "m",
    });
    expect(d.storedBytes).toBeGreaterThan(0);
    await ac.close();
  });

  it("reads row ranges, columns, head and tail", async () => {
    const { ac, lib } = await lmdbLibrary({ rowsPerSegment: 7, columnsPerSegment: 2 });
    const n = 50;
    const cols = {
      a: new Float64Array(n).map((_, i) => i),
      b: new Int32Array(n).map((_, i) => -i),
      c: Array.from({ length: n }, (_, i) => `s${i}`),
    };
    await lib.write("s", cols);
    const part = (await lib.read("s", { rowRange: [10, 23], columns: ["c", "a"] })).data!;
    expect(part.columnNames).toEqual(["c", "a"]);
    expect(part.numRows).toBe(13);
    expect(part.column("a")).toEqual(cols.a.subarray(10, 23));
    expect(part.column("c")).toEqual(cols.c.slice(10, 23));
    expect(part.index).toMatchObject({ kind: "row", start: 10 });
    expect((await lib.head("s", 3)).data!.column("b")).toEqual(new Int32Array([0, -1, -2]));
    expect((await lib.tail("s", 2)).data!.column("a")).toEqual(new Float64Array([48, 49]));
    expect((await lib.head("s", -45)).data!.numRows).toBe(5);
    expect((await lib.tail("s", -45)).data!.column("a")).toEqual(new Float64Array([45, 46, 47, 48, 49]));
    await rejectsWith(lib.read("s", { columns: ["nope"] }), "InvalidArgumentError");
    await ac.close();
  });

  it("rejects bad arguments without storing anything", async () => {
    const { ac, lib } = await lmdbLibrary();
    await lib.write("s", { a: [1] });
    await rejectsWith(lib.write("", { a: [1] }), "InvalidArgumentError");
    await rejectsWith(lib.write("x*y", { a: [1] }), "InvalidArgumentError");
    await rejectsWith(lib.write("s", 42 as never), "InvalidArgumentError");
    await rejectsWith(lib.write("s", { a: [1], b: [1, 2] }), "InvalidArgumentError");
    await rejectsWith(lib.write("s", { a: [1] }, { metdata: 1 } as never), "InvalidArgumentError");
    await rejectsWith(lib.read("s", { asOf: 5 }), "VersionNotFoundError");
    await rejectsWith(lib.read("s", { asOf: "snap" }), "SnapshotNotFoundError");
    await rejectsWith(lib.read("s", { rowRange: [0.5, 1] }), "InvalidArgumentError");
    await rejectsWith(lib.read("missing"), "SymbolNotFoundError");
    expect((await lib.listVersions("s")).length).toBe(1);
    await ac.close();
  });
});
