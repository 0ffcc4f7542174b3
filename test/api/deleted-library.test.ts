import { join } from "node:path";
import { open } from "lmdb";
import { describe, expect, it } from "vitest";
import { Arctic, DataFrame, type Library } from "../../runtimes/node.ts";
import { rejectsWith, tempDir } from "../helpers.ts";

// A Library handle whose library was deleted must refuse every write (LibraryNotFoundError), checked in
// the write's own commit, so nothing is acknowledged and then lost, and nothing comes back as a ghost
// when a library of that name is created again.

const DAY = 86_400_000_000_000n;
const days = (...d: number[]) => new BigInt64Array(d.map((x) => BigInt(x) * DAY));
const frame = (...values: number[]) =>
  new DataFrame({ x: values }, { index: days(...values.map((_, i) => i)) });

const stores: [string, () => string][] = [
  ["mem://", () => "mem://"],
  ["lmdb://", () => `lmdb://${join(tempDir(), "gone.lmdb")}`],
];

/** Every write the Library API has, each run through a handle of a deleted library. */
const writes: [string, (lib: Library) => Promise<unknown>][] = [
  ["write", (lib) => lib.write("a", frame(9, 9))],
  ["write of a new symbol", (lib) => lib.write("new", frame(1))],
  ["staged write", (lib) => lib.write("a", frame(7), { staged: true })],
  ["append", (lib) => lib.append("a", new DataFrame({ x: [5] }, { index: days(10) }))],
  ["update", (lib) => lib.update("a", new DataFrame({ x: [5] }, { index: days(0) }))],
  ["deleteDataInRange", (lib) => lib.deleteDataInRange("a", [null, null])],
  ["writeMetadata", (lib) => lib.writeMetadata("a", { m: 1 })],
  ["delete", (lib) => lib.delete("a")],
  ["delete versions", (lib) => lib.delete("a", { versions: [0] })],
  ["prunePreviousVersions", (lib) => lib.prunePreviousVersions("a")],
  ["snapshot", (lib) => lib.snapshot("s2")],
  ["deleteSnapshot", (lib) => lib.deleteSnapshot("s")],
  ["finalizeStagedData", (lib) => lib.finalizeStagedData("a")],
  ["sortAndFinalizeStagedData", (lib) => lib.sortAndFinalizeStagedData("a")],
  ["deleteStagedData", (lib) => lib.deleteStagedData("a")],
];

describe.each(stores)("a Library handle of a deleted library (%s)", (_, uri) => {
  it.each(writes)(
    "refuses %s with LibraryNotFoundError, and recreating brings nothing back",
    async (__, op) => {
      const ac = new Arctic(uri(), { workers: 0 });
      const lib = await ac.createLibrary("lib");
      await lib.write("a", frame(1, 2));
      await lib.write("a", frame(3, 4));
      await lib.write("a", frame(5), { staged: true });
      await lib.snapshot("s");
      await ac.deleteLibrary("lib");

      const err = await rejectsWith(op(lib), "LibraryNotFoundError");
      expect(err.message).toMatch(/deleted/);
      expect(await ac.listLibraries()).toEqual([]);

      const again = await ac.createLibrary("lib");
      expect(await again.listSymbols()).toEqual([]);
      expect(await again.listVersions()).toEqual([]);
      expect(await again.listSnapshots()).toEqual({});
      await rejectsWith(again.finalizeStagedData("a"), "InvalidArgumentError"); // no staged chunk survived
      // The old handle belongs to the deleted library, not to the new one of the same name.
      await rejectsWith(op(lib), "LibraryNotFoundError");
      expect(await again.listSymbols()).toEqual([]);
      expect((await again.write("a", frame(8))).version).toBe(0);
      await ac.close();
    },
  );

  it("reports batch writes through it as LibraryNotFoundError and keeps none", async () => {
    const ac = new Arctic(uri(), { workers: 0 });
    const lib = await ac.createLibrary("lib");
    await lib.write("a", frame(1));
    await ac.deleteLibrary("lib");
    const written = await lib.writeBatch([
      { symbol: "a", data: frame(2) },
      { symbol: "b", data: frame(3) },
    ]);
    const appended = await lib.appendBatch([{ symbol: "a", data: frame(2) }]);
    for (const r of [...written, ...appended]) expect(r).toMatchObject({ errorCode: "LibraryNotFoundError" });
    const again = await ac.createLibrary("lib");
    expect(await again.listSymbols()).toEqual([]);
    await ac.close();
  });

  it("says the library is gone when a read through it finds nothing", async () => {
    const ac = new Arctic(uri(), { workers: 0 });
    const lib = await ac.createLibrary("lib");
    await lib.write("a", frame(1));
    await ac.deleteLibrary("lib");
    await rejectsWith(lib.read("a"), "LibraryNotFoundError");
    await ac.close();
  });

  it("a second handle opened before the delete is refused as well; one opened after works", async () => {
    const ac = new Arctic(uri(), { workers: 0 });
    await ac.createLibrary("lib");
    const early = await ac.getLibrary("lib");
    await ac.deleteLibrary("lib");
    await ac.createLibrary("lib", { rowsPerSegment: 3 });
    await rejectsWith(early.write("a", frame(1)), "LibraryNotFoundError");
    const late = await ac.getLibrary("lib");
    expect((await late.write("a", frame(1))).version).toBe(0);
    await ac.close();
  });
});

describe("a pooled write through a handle of a deleted library (lmdb://)", () => {
  it("is refused at its commit and takes back the segments its workers stored", async () => {
    const path = join(tempDir(), "pooled.lmdb");
    const ac = new Arctic(`lmdb://${path}`, { workers: 2 });
    const lib = await ac.createLibrary("lib");
    await ac.deleteLibrary("lib");
    // 9.6 MB of a compressible column: above the pool's threshold, so workers encode and store it.
    const big = new DataFrame({ x: new Float64Array(1_200_000).map((_, i) => i % 7) });
    await rejectsWith(lib.write("big", big), "LibraryNotFoundError");
    await ac.close();
    const raw = open<Uint8Array, string>({ path, encoding: "binary", noSubdir: false });
    expect([...raw.getKeys({ start: "S:", end: "S:\u{10ffff}" })]).toEqual([]);
    expect([...raw.getKeys({ start: "I:", end: "I:\u{10ffff}" })]).toEqual([]);
    await raw.close();
  }, 30_000);
});
