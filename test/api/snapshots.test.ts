import { join } from "node:path";
import { open } from "lmdb";
import { describe, expect, it } from "vitest";
import { Arctic, DataFrame, type Library } from "../../runtimes/node.ts";
import { rejectsWith, tempDir } from "../helpers.ts";

// Behaviours ported from ArcticDB's snapshot tests (python/tests/.../test_snapshot.py); each `it` names
// the ArcticDB test it follows.

async function lmdbLibrary(): Promise<{ ac: Arctic; lib: Library; path: string }> {
  const path = join(tempDir(), "snap.lmdb");
  const ac = new Arctic(`lmdb://${path}`);
  return { ac, lib: await ac.createLibrary("lib", { rowsPerSegment: 2 }), path };
}

const frame = (...values: number[]) => new DataFrame({ x: values });

async function readX(lib: Library, symbol: string, asOf?: number | string | Date): Promise<number[]> {
  const item = await lib.read(symbol, asOf === undefined ? {} : { asOf });
  return Array.from(item.data!.column("x") as Float64Array);
}

describe("snapshots", () => {
  it("basic flow: take, read through, list, delete (test_basic_snapshot_flow)", async () => {
    const { ac, lib } = await lmdbLibrary();
    await lib.write("a", frame(1, 2, 3));
    await lib.snapshot("snap_1");
    expect(await readX(lib, "a", "snap_1")).toEqual([1, 2, 3]);
    expect(Object.keys(await lib.listSnapshots())).toEqual(["snap_1"]);
    await lib.deleteSnapshot("snap_1");
    expect(await lib.listSnapshots()).toEqual({});
    await rejectsWith(lib.read("a", { asOf: "snap_1" }), "SnapshotNotFoundError");
    await ac.close();
  });

  it("refuses a second snapshot of the same name and keeps the first (test_re_snapshot_with_same_name)", async () => {
    const { ac, lib } = await lmdbLibrary();
    await lib.write("a", frame(1, 2, 3));
    await lib.snapshot("snap_1", { metadata: "first" });
    await lib.write("a", frame(4, 5, 6));
    await rejectsWith(lib.snapshot("snap_1"), "SnapshotExistsError");
    expect(await readX(lib, "a", "snap_1")).toEqual([1, 2, 3]);
    expect(await lib.listSnapshots()).toEqual({ snap_1: "first" });
    await ac.close();
  });

  it("keeps metadata of any msgpack-able shape (test_snapshot_metadata)", async () => {
    const { ac, lib } = await lmdbLibrary();
    await lib.write("s", frame(1));
    const metadata = { metadata: "Because why not?", n: [1, 2n ** 40n], at: null };
    await lib.snapshot("meta_snap", { metadata });
    await lib.snapshot("plain");
    expect(await lib.listSnapshots()).toEqual({ meta_snap: metadata, plain: undefined });
    await ac.close();
  });

  it("skipSymbols leaves symbols out (test_snapshots_skip_symbol)", async () => {
    const { ac, lib } = await lmdbLibrary();
    await lib.write("f", frame(1, 2, 3));
    await lib.write("g", frame(1, 2, 3));
    await lib.snapshot("snap_5", { skipSymbols: ["f"] });
    expect(await readX(lib, "g", "snap_5")).toEqual([1, 2, 3]);
    await rejectsWith(lib.read("f", { asOf: "snap_5" }), "SymbolNotFoundError");
    expect(await lib.listSymbols({ snapshot: "snap_5" })).toEqual(["g"]);
    await ac.close();
  });

  it("versions pins exactly the versions given (test_snapshot_explicit_versions, _with_versions_dict)", async () => {
    const { ac, lib } = await lmdbLibrary();
    await lib.write("i", frame(1, 2, 3));
    await lib.write("i", frame(1, 2, 3, 4));
    await lib.write("j", frame(1, 2, 3));
    await lib.write("j", frame(1, 2, 3, 4));
    await lib.write("k", frame(7));
    await lib.snapshot("snap_8", { versions: { i: 0, j: 1 } });
    expect(await readX(lib, "i", "snap_8")).toEqual([1, 2, 3]);
    expect(await readX(lib, "j", "snap_8")).toEqual([1, 2, 3, 4]);
    await rejectsWith(lib.read("k", { asOf: "snap_8" }), "SymbolNotFoundError");
    await rejectsWith(lib.snapshot("bad", { versions: { i: 7 } }), "VersionNotFoundError");
    expect(Object.keys(await lib.listSnapshots())).toEqual(["snap_8"]);
    await ac.close();
  });

  it("listSymbols({ snapshot }) lists what the snapshot holds (test_list_symbols_with_snaps)", async () => {
    const { ac, lib } = await lmdbLibrary();
    await lib.write("s1", frame(1));
    await lib.write("s2", frame(1));
    await lib.snapshot("snap_9");
    await lib.write("s3", frame(1));
    expect(await lib.listSymbols({ snapshot: "snap_9" })).toEqual(["s1", "s2"]);
    expect(await lib.listSymbols()).toEqual(["s1", "s2", "s3"]);
    await rejectsWith(lib.listSymbols({ snapshot: "nope" }), "SnapshotNotFoundError");
    await ac.close();
  });

  it("a deleted symbol stays readable through its snapshot only (test_snapshots_with_deletes)", async () => {
    const { ac, lib } = await lmdbLibrary();
    await lib.write("sym1", frame(1, 2, 3));
    await lib.write("sym1", frame(1, 2, 3, 4));
    await lib.write("sym2", frame(1, 2, 3));
    await lib.delete("sym1");
    expect(await lib.hasSymbol("sym1")).toBe(false);
    expect(await lib.listSymbols()).toEqual(["sym2"]);
    expect((await lib.listVersions()).filter((v) => v.symbol === "sym1")).toEqual([]);

    await lib.write("sym3", frame(1, 2, 3));
    await lib.snapshot("sym3_snap");
    await lib.write("sym3", frame(1, 2, 3, 4));
    await lib.delete("sym3");
    await rejectsWith(lib.read("sym3"), "SymbolNotFoundError");
    expect(await readX(lib, "sym3", "sym3_snap")).toEqual([1, 2, 3]);
    expect(await lib.hasSymbol("sym3")).toBe(false);
    expect(await lib.hasSymbol("sym3", { asOf: "sym3_snap" })).toBe(true);
    expect(await lib.listSymbols()).toEqual(["sym2"]);
    await ac.close();
  });

  it("a symbol written again after deletion reads new data, the snapshot the old (test_write_to_symbol_in_snapshot_only)", async () => {
    const { ac, lib } = await lmdbLibrary();
    await lib.write("weird", frame(1, 2, 3));
    await lib.snapshot("old");
    await lib.delete("weird");
    await lib.write("weird", frame(1, 2, 3, 4));
    expect(await readX(lib, "weird")).toEqual([1, 2, 3, 4]);
    expect(await readX(lib, "weird", "old")).toEqual([1, 2, 3]);
    await ac.close();
  });

  it("a pruned version pinned by a snapshot reads through the snapshot only, as ArcticDB's Library API (test_delete_version_with_snapshot)", async () => {
    const { ac, lib } = await lmdbLibrary();
    await lib.write("a", frame(0));
    await lib.write("a", frame(1));
    await lib.snapshot("snap");
    await new Promise((r) => setTimeout(r, 5));
    const afterV1 = new Date();
    await new Promise((r) => setTimeout(r, 5));
    await lib.write("a", frame(2), { prunePreviousVersions: true });
    expect(await readX(lib, "a")).toEqual([2]);
    const versions = await lib.listVersions("a");
    expect(versions.map((v) => [v.version, v.deleted, v.snapshots])).toEqual([
      [2, false, []],
      [1, true, ["snap"]],
    ]);
    // The Library API reads by number or date among live versions only (NativeVersionStore reads pinned
    // ones too: test_pruned_symbol_in_symbol_read_version); the snapshot's name reads it.
    const byNumber = await rejectsWith(lib.read("a", { asOf: 1 }), "VersionNotFoundError");
    expect(byNumber.message).toMatch(/held by snapshot 'snap'; read it with asOf: 'snap'/);
    await rejectsWith(lib.read("a", { asOf: afterV1 }), "VersionNotFoundError");
    expect(await readX(lib, "a", "snap")).toEqual([1]);
    expect(await lib.hasSymbol("a", { asOf: 1 })).toBe(true); // as ArcticDB's has_symbol
    await rejectsWith(lib.read("a", { asOf: 0 }), "VersionNotFoundError");
    await ac.close();
  });

  it("prunePreviousVersions keeps the latest and what snapshots hold (test_prune_previous)", async () => {
    const { ac, lib, path } = await lmdbLibrary();
    for (const v of [0, 1, 2, 3]) await lib.write("a", frame(v, v, v));
    await lib.snapshot("s1", { versions: { a: 1 } });
    await lib.prunePreviousVersions("a");
    expect((await lib.listVersions("a")).map((v) => [v.version, v.deleted])).toEqual([
      [3, false],
      [1, true],
    ]);
    expect(await readX(lib, "a")).toEqual([3, 3, 3]);
    expect(await readX(lib, "a", "s1")).toEqual([1, 1, 1]);
    await rejectsWith(lib.read("a", { asOf: 2 }), "VersionNotFoundError");
    const raw = open<Uint8Array, string>({ path, encoding: "binary", noSubdir: false });
    expect([...raw.getKeys({ start: "S:lib/a/", end: "S:lib/a/\u{10ffff}" })].length).toBe(4); // 2 versions × 2 tiles
    await raw.close();
    await rejectsWith(lib.prunePreviousVersions("nope"), "SymbolNotFoundError");
    await ac.close();
  });

  it("listVersions shows which snapshots hold each version (test_list_versions)", async () => {
    const { ac, lib } = await lmdbLibrary();
    await lib.write("t1", frame(1));
    await lib.write("t2", frame(1));
    await lib.snapshot("s_a");
    await lib.write("t1", frame(2));
    await lib.snapshot("s_b");
    const all = await lib.listVersions();
    expect(all.map((v) => [v.symbol, v.version, v.snapshots, v.deleted])).toEqual([
      ["t1", 1, ["s_b"], false],
      ["t1", 0, ["s_a"], false],
      ["t2", 0, ["s_a", "s_b"], false],
    ]);
    await ac.close();
  });

  it("deleting the last snapshot that holds a deleted version frees its storage", async () => {
    const { ac, lib, path } = await lmdbLibrary();
    await lib.write("a", frame(1, 2, 3, 4, 5)); // 3 segments of 2 rows
    await lib.snapshot("keep");
    await lib.snapshot("also");
    await lib.write("a", frame(9));
    await lib.delete("a", { versions: 0 });
    const raw = open<Uint8Array, string>({ path, encoding: "binary", noSubdir: false });
    const count = (prefix: string) => {
      raw.resetReadTxn(); // see the commits floe's own handle made since the last count
      return [...raw.getKeys({ start: prefix, end: `${prefix}\u{10ffff}` })].length;
    };
    expect(count("S:lib/a/")).toBe(4);
    await lib.deleteSnapshot("keep");
    expect(count("S:lib/a/")).toBe(4); // "also" still holds version 0
    expect(await readX(lib, "a", "also")).toEqual([1, 2, 3, 4, 5]);
    await lib.deleteSnapshot("also");
    expect(count("S:lib/a/")).toBe(1);
    expect(count("I:lib/a/")).toBe(1);
    expect(await readX(lib, "a")).toEqual([9]);
    await rejectsWith(lib.read("a", { asOf: 0 }), "VersionNotFoundError");
    await rejectsWith(lib.deleteSnapshot("also"), "SnapshotNotFoundError");
    await raw.close();
    await ac.close();
  });

  it("a snapshot survives closing and reopening the store", async () => {
    const { ac, lib, path } = await lmdbLibrary();
    await lib.write("a", frame(1, 2, 3));
    await lib.snapshot("s", { metadata: { why: "eod" } });
    await lib.delete("a");
    await ac.close();
    const again = new Arctic(`lmdb://${path}`);
    const lib2 = await again.getLibrary("lib");
    expect(await lib2.listSnapshots()).toEqual({ s: { why: "eod" } });
    expect(await readX(lib2, "a", "s")).toEqual([1, 2, 3]);
    await again.close();
  });

  it("rejects bad snapshot arguments with typed errors and takes no snapshot", async () => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib");
    await lib.write("a", frame(1));
    await rejectsWith(lib.snapshot(""), "InvalidArgumentError");
    await rejectsWith(lib.snapshot("a<b"), "InvalidArgumentError");
    await rejectsWith(lib.snapshot("s", { skipSymbols: "a" as never }), "InvalidArgumentError");
    await rejectsWith(lib.snapshot("s", { versions: { a: -1 } }), "InvalidArgumentError");
    await rejectsWith(lib.snapshot("s", { skipSymbols: ["a"], versions: { a: 0 } }), "InvalidArgumentError");
    await rejectsWith(lib.snapshot("s", { bogus: 1 } as never), "InvalidArgumentError");
    await rejectsWith(lib.read("a", { asOf: "nope" }), "SnapshotNotFoundError");
    expect(await lib.listSnapshots()).toEqual({});
    await ac.close();
  });

  it("deleteLibrary removes its snapshots", async () => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib");
    await lib.write("a", frame(1));
    await lib.snapshot("s");
    await ac.deleteLibrary("lib");
    const again = await ac.createLibrary("lib");
    expect(await again.listSnapshots()).toEqual({});
    await ac.close();
  });
});
