import { describe, expect, it } from "vitest";
import { Arctic, DataFrame, type Library } from "../../runtimes/node.ts";
import { rejectsWith } from "../helpers.ts";

// Where floe drifted from ArcticDB's Library API (issue 21), each `it` naming the ArcticDB test whose
// behaviour it follows.

const DAY = 86_400_000_000_000n;
const T0 = BigInt(Date.parse("2024-01-02T00:00:00Z")) * 1_000_000n;
/** ns timestamps, one per day number given (day 0 is 2024-01-02). */
const days = (...d: number[]) => BigInt64Array.from(d, (x) => T0 + BigInt(x) * DAY);
const series = (a: number[], at: number[]) =>
  new DataFrame({ a }, { index: { name: "date", values: days(...at) } });
const noRows = () => new DataFrame({ a: new Float64Array(0) }, { index: { name: "date", values: days() } });

async function library(options = {}): Promise<{ ac: Arctic; lib: Library }> {
  const ac = new Arctic("mem://", { workers: 0 });
  return { ac, lib: await ac.createLibrary("lib", options) };
}

describe("update with no rows", () => {
  it("makes a new version with the new metadata and keeps the data (test_update_empty_frame_metadata)", async () => {
    const { ac, lib } = await library();
    const stored = series([1, 2], [0, 1]);
    await lib.write("s", stored, { metadata: "v0" });
    for (const metadata of ["v1", undefined]) {
      const item = await lib.update("s", noRows(), metadata === undefined ? {} : { metadata });
      expect(item.metadata).toEqual(metadata);
      const read = await lib.read("s");
      expect(read.version).toBe(item.version);
      expect(read.metadata).toEqual(metadata);
      expect(read.data!.equals(stored)).toBe(true);
    }
    expect((await lib.listVersions("s")).map((v) => v.version)).toEqual([2, 1, 0]);
    await ac.close();
  });

  it("given a dateRange does not delete data (TestBatchUpdate::test_empty_dataframe_with_daterange_does_not_delete_data)", async () => {
    const { ac, lib } = await library();
    const stored = series([1, 2], [0, 1]);
    await lib.write("s", stored);
    const item = await lib.update("s", noRows(), { dateRange: [days(-1)[0], days(2)[0]] });
    expect(item.version).toBe(1);
    const read = await lib.read("s");
    expect(read.version).toBe(1);
    expect(read.data!.equals(stored)).toBe(true);
    await ac.close();
  });

  it("of a missing symbol is SymbolNotFoundError, and with upsert writes the empty frame (test_symbol_list_key_added_on_upsert)", async () => {
    const { ac, lib } = await library();
    await rejectsWith(lib.update("s", noRows()), "SymbolNotFoundError");
    expect((await lib.update("s", noRows(), { upsert: true })).version).toBe(0);
    expect(await lib.listSymbols()).toEqual(["s"]);
    expect((await lib.read("s")).data!.numRows).toBe(0);
    await ac.close();
  });
});

describe("update with upsert of a missing symbol", () => {
  it("writes the frame whole, dateRange or not (update_internal's upsert path writes the frame as given)", async () => {
    const { ac, lib } = await library();
    const rows = series([1, 2, 3], [0, 1, 2]);
    await lib.update("s", rows, { upsert: true, dateRange: [days(1)[0], days(1)[0]] });
    expect((await lib.read("s")).data!.equals(rows)).toBe(true);
    await ac.close();
  });
});

describe("writeMetadata of a symbol without a version", () => {
  it("creates version 0 without data, read as an empty frame (test_write_metadata_with_none)", async () => {
    const { ac, lib } = await library();
    const meta = { meta_symbol: 0 };
    const item = await lib.writeMetadata("symbol", meta);
    expect(item.version).toBe(0);
    const readMeta = await lib.readMetadata("symbol");
    expect(readMeta).toMatchObject({ version: 0, metadata: meta });
    expect(readMeta.data).toBeUndefined();
    const read = await lib.read("symbol");
    expect(read).toMatchObject({ version: 0, metadata: meta });
    expect(read.data!.numRows).toBe(0);
    expect(read.data!.columnNames).toEqual([]);
    expect(await lib.listSymbols()).toEqual(["symbol"]);
    expect((await lib.read("symbol", { dateRange: [null, null] })).data!.numRows).toBe(0);
    expect((await lib.getDescription("symbol")).rowCount).toBe(0);
    expect((await lib.head("symbol")).data!.numRows).toBe(0);
    await ac.close();
  });

  it("then takes an append or a write of any frame as its first data", async () => {
    const { ac, lib } = await library();
    await lib.writeMetadata("a", "m");
    const rows = series([1, 2], [0, 1]);
    expect((await lib.append("a", rows)).version).toBe(1);
    expect((await lib.read("a")).data!.equals(rows)).toBe(true);
    await rejectsWith(lib.append("a", series([5], [-3])), "UnsortedIndexError"); // before the last row
    await lib.writeMetadata("b", "m");
    await rejectsWith(lib.append("b", series([1, 2], [1, 0])), "UnsortedIndexError");
    expect((await lib.write("b", new DataFrame({ x: [1] }))).version).toBe(1);
    expect((await lib.read("b", { asOf: 0 })).data!.numRows).toBe(0);
    await ac.close();
  });
});

describe("a write of an unsorted timestamp index", () => {
  const unsorted = () => series([1, 2, 3], [2, 0, 1]);

  it("is refused with UnsortedIndexError and stores nothing (test_write.py::test_write_not_sorted_exception)", async () => {
    const { ac, lib } = await library();
    const err = await rejectsWith(lib.write("s", unsorted()), "UnsortedIndexError");
    expect(err.message).toMatch(/Sort the frame.*sortAndFinalizeStagedData/);
    await rejectsWith(lib.append("s", unsorted()), "UnsortedIndexError"); // append to a missing symbol writes
    await rejectsWith(lib.update("s", unsorted(), { upsert: true }), "UnsortedIndexError");
    const batch = await lib.writeBatch([
      { symbol: "s", data: unsorted() },
      { symbol: "ok", data: series([1, 2], [0, 0]) }, // equal timestamps are in order
    ]);
    expect(batch.map((r) => ("errorCode" in r ? r.errorCode : r.version))).toEqual(["UnsortedIndexError", 0]);
    expect(await lib.listSymbols()).toEqual(["ok"]);
    await ac.close();
  });

  it("is refused on the worker pool's path too", async () => {
    const ac = new Arctic("mem://", { workers: 2 });
    const lib = await ac.createLibrary("lib");
    const n = 1_200_000; // 19 MB with its index: a pooled write
    const index = BigInt64Array.from({ length: n }, (_, i) => BigInt(i));
    index[n - 1] = 0n;
    const big = new DataFrame({ x: new Float64Array(n).fill(1) }, { index: { name: "t", values: index } });
    await rejectsWith(lib.write("big", big), "UnsortedIndexError");
    expect(await lib.listSymbols()).toEqual([]);
    await ac.close();
  }, 30_000);

  it("may still be staged, for sortAndFinalizeStagedData to sort (test_stage.py)", async () => {
    const { ac, lib } = await library();
    await lib.write("s", unsorted(), { staged: true });
    await lib.write("s", series([4, 0], [3, -1]), { staged: true });
    const item = await lib.sortAndFinalizeStagedData("s");
    expect(item.version).toBe(0);
    const read = await lib.read("s", { dateRange: [days(0)[0], null] });
    expect(Array.from(read.data!.column("a") as Float64Array)).toEqual([2, 3, 1, 4]);
    await ac.close();
  });
});

describe("delete of what does not exist", () => {
  it("of a whole symbol never written, or already deleted, does nothing (test_deleting_unknown_symbol)", async () => {
    const { ac, lib } = await library();
    await lib.write("s", series([1], [0]));
    await lib.delete("does_not_exist");
    await lib.delete("s");
    await lib.delete("s");
    expect(await lib.listSymbols()).toEqual([]);
    expect((await lib.write("s", series([2], [0]))).version).toBe(1); // numbers still never reused
    await ac.close();
  });

  it("of versions not live is VersionNotFoundError and deletes nothing (test_delete_version_that_does_not_exist)", async () => {
    const { ac, lib } = await library();
    await rejectsWith(lib.delete("symbol", { versions: 0 }), "VersionNotFoundError");
    await rejectsWith(lib.delete("symbol", { versions: [1, 2] }), "VersionNotFoundError");
    await lib.write("symbol", series([1], [0]));
    await rejectsWith(lib.delete("symbol", { versions: 1 }), "VersionNotFoundError");
    await lib.write("symbol", series([2], [0]));
    await lib.delete("symbol", { versions: 0 });
    await rejectsWith(lib.delete("symbol", { versions: 0 }), "VersionNotFoundError");
    await rejectsWith(lib.delete("symbol", { versions: [0, 1] }), "VersionNotFoundError");
    expect((await lib.listVersions("symbol")).map((v) => v.version)).toEqual([1]);
    await lib.delete("symbol", { versions: [] }); // test_delete_version_empty
    expect((await lib.listVersions("symbol")).map((v) => v.version)).toEqual([1]);
    await ac.close();
  });
});

describe("snapshot of nothing", () => {
  it("of a library without symbols is VersionNotFoundError and takes no snapshot (NoSuchVersionException)", async () => {
    const { ac, lib } = await library();
    const err = await rejectsWith(lib.snapshot("empty"), "VersionNotFoundError");
    expect(err.message).toMatch(/no symbol with a live version/);
    await lib.write("a", series([1], [0]));
    await lib.delete("a");
    await rejectsWith(lib.snapshot("empty"), "VersionNotFoundError"); // only deleted symbols
    expect(await lib.listSnapshots()).toEqual({});
    await ac.close();
  });

  it("with every symbol skipped is VersionNotFoundError as well", async () => {
    const { ac, lib } = await library();
    await lib.write("a", series([1], [0]));
    await lib.write("b", series([1], [0]));
    const err = await rejectsWith(lib.snapshot("none", { skipSymbols: ["a", "b"] }), "VersionNotFoundError");
    expect(err.message).toMatch(/skipSymbols/);
    expect(await lib.listSnapshots()).toEqual({});
    await lib.snapshot("one", { skipSymbols: ["a"] });
    expect(await lib.listSymbols({ snapshot: "one" })).toEqual(["b"]);
    await ac.close();
  });

  it("takes an empty versions as none given, and skipSymbols [] beside versions (test_snapshot.py)", async () => {
    const { ac, lib } = await library();
    await lib.write("i", series([1], [0]));
    await lib.write("j", series([1], [0]));
    await lib.write("j", series([2], [0]));
    await lib.snapshot("all", { versions: {} });
    expect(await lib.listSymbols({ snapshot: "all" })).toEqual(["i", "j"]);
    await lib.snapshot("snap_8", { skipSymbols: [], versions: { i: 0, j: 0 } });
    expect((await lib.read("j", { asOf: "snap_8" })).version).toBe(0);
    await ac.close();
  });
});

describe("a version of a deleted symbol", () => {
  it("does not read by number or date, only by its snapshot's name (test_arctic.py::test_delete_version_with_snapshot)", async () => {
    const { ac, lib } = await library();
    const df = series([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await lib.write("sym", df);
    await lib.snapshot("snap");
    await lib.delete("sym");
    const reads: [string, (asOf: number | Date) => Promise<unknown>][] = [
      ["read", (asOf) => lib.read("sym", { asOf })],
      [
        "readBatch",
        async (asOf) => {
          const [r] = await lib.readBatch([{ symbol: "sym", asOf }]);
          if ("errorCode" in r) throw Object.assign(new Error(r.message), { code: r.errorCode });
          return r;
        },
      ],
      ["head", (asOf) => lib.head("sym", 5, { asOf })],
      ["tail", (asOf) => lib.tail("sym", 5, { asOf })],
      ["readMetadata", (asOf) => lib.readMetadata("sym", { asOf })],
      ["getDescription", (asOf) => lib.getDescription("sym", { asOf })],
    ];
    for (const [, call] of reads) {
      for (const asOf of [0, new Date("2200-01-01")]) {
        const err = await rejectsWith(call(asOf), "SymbolNotFoundError");
        expect(err.message).toMatch(/held by snapshot 'snap'/);
      }
    }
    expect((await lib.read("sym", { asOf: "snap" })).data!.equals(df)).toBe(true);
    expect((await lib.head("sym", 2, { asOf: "snap" })).data!.numRows).toBe(2);
    expect((await lib.getDescription("sym", { asOf: "snap" })).rowCount).toBe(10);
    await ac.close();
  });
});

describe("listVersions options (test_list_versions.py)", () => {
  type Row = { symbol: string; version: number; deleted: boolean; snapshots: string[] };
  // ArcticDB's populate_library: sym<i> has versions 0..i; snap<n> holds version min(n, i) of each; then
  // every even version is deleted.
  async function populate(): Promise<{
    ac: Arctic;
    lib: Library;
    all: Row[];
    snaps: Record<string, Record<string, number>>;
  }> {
    const { ac, lib } = await library();
    const all: Row[] = [];
    const snaps: Record<string, Record<string, number>> = {};
    for (let i = 0; i < 5; i++) {
      for (let v = 0; v <= i; v++) {
        await lib.write(`sym${i}`, series([10 * i + v], [0]));
        all.push({ symbol: `sym${i}`, version: v, deleted: v % 2 === 0, snapshots: [] });
      }
    }
    for (let n = 0; n < 5; n++) {
      const versions = Object.fromEntries([0, 1, 2, 3, 4].map((i) => [`sym${i}`, Math.min(n, i)]));
      snaps[`snap${n}`] = versions;
      await lib.snapshot(`snap${n}`, { versions });
      for (const r of all) if (versions[r.symbol] === r.version) r.snapshots.push(`snap${n}`);
    }
    for (let i = 0; i < 5; i++) {
      const even = Array.from({ length: i + 1 }, (_, v) => v).filter((v) => v % 2 === 0);
      await lib.delete(`sym${i}`, { versions: even });
    }
    // floe lists symbols in name order, newest version first within each.
    all.sort((a, b) => (a.symbol === b.symbol ? b.version - a.version : a.symbol < b.symbol ? -1 : 1));
    return { ac, lib, all, snaps };
  }
  const plain = (rows: Awaited<ReturnType<Library["listVersions"]>>): Row[] =>
    rows.map(({ symbol, version, deleted, snapshots }) => ({ symbol, version, deleted, snapshots }));
  const latestOnly = (rows: Row[]) =>
    rows.filter((r) => {
      const i = Number(r.symbol.slice(3));
      return !r.deleted && r.version === i - 1 + (i % 2);
    });
  const skipSnapshots = (rows: Row[]) => rows.filter((r) => !r.deleted).map((r) => ({ ...r, snapshots: [] }));
  const inSnapshot = (rows: Row[], versions: Record<string, number>) =>
    rows.filter((r) => versions[r.symbol] === r.version);
  const ofSymbol = (rows: Row[], symbol: string) => rows.filter((r) => r.symbol === symbol);

  it("lists by symbol, snapshot, latestOnly and skipSnapshots, alone and together", async () => {
    const { ac, lib, all, snaps } = await populate();
    expect(plain(await lib.listVersions())).toEqual(all);
    expect(plain(await lib.listVersions(undefined, { latestOnly: true }))).toEqual(latestOnly(all));
    expect(plain(await lib.listVersions(undefined, { skipSnapshots: true }))).toEqual(skipSnapshots(all));
    expect(plain(await lib.listVersions(undefined, { latestOnly: true, skipSnapshots: true }))).toEqual(
      skipSnapshots(latestOnly(all)),
    );
    for (const snapshot of ["snap0", "snap1", "snap2"]) {
      // Unlike ArcticDB (whose `deleted` is always false with a snapshot, "won't fix"), deleted is true here.
      const held = inSnapshot(all, snaps[snapshot]);
      expect(plain(await lib.listVersions(undefined, { snapshot }))).toEqual(held);
      expect(plain(await lib.listVersions(undefined, { snapshot, latestOnly: true }))).toEqual(held);
      expect(plain(await lib.listVersions(undefined, { snapshot, skipSnapshots: true }))).toEqual(
        held.map((r) => ({ ...r, snapshots: [] })),
      );
      for (const symbol of ["sym0", "sym3"]) {
        expect(plain(await lib.listVersions(symbol, { snapshot }))).toEqual(ofSymbol(held, symbol));
      }
    }
    for (const symbol of ["sym0", "sym1", "sym4"]) {
      expect(plain(await lib.listVersions(symbol))).toEqual(ofSymbol(all, symbol));
      expect(plain(await lib.listVersions(symbol, { latestOnly: true }))).toEqual(
        latestOnly(ofSymbol(all, symbol)),
      );
      expect(plain(await lib.listVersions(symbol, { skipSnapshots: true }))).toEqual(
        skipSnapshots(ofSymbol(all, symbol)),
      );
    }
    await ac.close();
  });

  it("latestOnly leaves out symbols without a live version (test_arctic.py::test_non_existent_list_versions_latest_only)", async () => {
    const { ac, lib } = await library();
    expect(await lib.listVersions("symbol", { latestOnly: true })).toEqual([]);
    await lib.write("symbol2", series([1], [0]));
    await lib.write("symbol2", series([1], [0]));
    await lib.write("symbol2", series([1], [0]));
    expect((await lib.listVersions("symbol2", { latestOnly: true })).map((v) => v.version)).toEqual([2]);
    await lib.delete("symbol2");
    expect(await lib.listVersions("symbol2", { latestOnly: true })).toEqual([]);
    await ac.close();
  });

  it("refuses a missing snapshot and bad options with typed errors", async () => {
    const { ac, lib } = await library();
    await rejectsWith(lib.listVersions(undefined, { snapshot: "nope" }), "SnapshotNotFoundError");
    await rejectsWith(lib.listVersions(undefined, { latestOnly: 1 as never }), "InvalidArgumentError");
    await rejectsWith(lib.listVersions(undefined, { bogus: true } as never), "InvalidArgumentError");
    await ac.close();
  });
});
