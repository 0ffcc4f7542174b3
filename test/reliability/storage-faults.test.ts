// Storage faults (issue 7, item 3) on real file systems: a disk that fills up, and a store that cannot be
// written. LMDB map growth (map full -> grow and carry on) is covered by test/api/arctic.test.ts
// ("grows the LMDB map when it fills").
import { appendFileSync, existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { open as lmdbOpen } from "lmdb";
import { afterEach, describe, expect, it } from "vitest";
import { Arctic, DataFrame, type Library, StorageError } from "../../runtimes/node.ts";
import { firstDifference, randomBytes } from "../codec/test-data.ts";
import { rejectsWith } from "../helpers.ts";
import { cannotMount, mount, mountTmpfs, unmount } from "./tmpfs.ts";

const why = cannotMount();
if (why) console.log(`storage-faults: skipping the tmpfs tests: ${why}`);

// Mounts and stores of the running test, undone even when it fails.
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const undo of cleanup.splice(0).reverse()) await undo();
});

function tmpfs(megabytes: number): string {
  const dir = mountTmpfs(megabytes);
  cleanup.push(() => unmount(dir));
  return dir;
}

function open(uri: string): Arctic {
  const ac = new Arctic(uri);
  cleanup.push(() => ac.close());
  return ac;
}

/** 1 MB of random doubles: incompressible, so each version takes its full size on disk. */
function megabyte(seed: number): DataFrame {
  const bytes = randomBytes(1 << 20, seed);
  return new DataFrame({ v: new Float64Array(bytes.buffer, 0, bytes.byteLength / 8) });
}

/** Appends to `file` until the file system has no byte left. */
function fillUp(file: string): void {
  const chunk = new Uint8Array(64 << 10).fill(1);
  for (let size = chunk.byteLength; size >= 1; size >>= 1) {
    try {
      for (;;) appendFileSync(file, chunk.subarray(0, size));
    } catch (err) {
      if ((err as { code?: string }).code !== "ENOSPC") throw err;
    }
  }
}

function bytesOf(frame: DataFrame): Uint8Array {
  const v = frame.column("v") as Float64Array;
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

describe.skipIf(why !== null)("a full disk (20 MB tmpfs)", () => {
  it("fails the write with StorageError, keeps earlier versions, and writes again once space is back", async () => {
    const dir = tmpfs(20);
    // Space to give back later: a filler file the "user" can delete.
    const filler = join(dir, "filler");
    writeFileSync(filler, randomBytes(6 << 20, 99));
    const ac = open(`lmdb://${join(dir, "store")}`);
    const lib = await ac.createLibrary("lib");

    const written: DataFrame[] = [];
    let failure: unknown;
    for (let i = 0; i < 40 && failure === undefined; i++) {
      const frame = megabyte(i + 1);
      try {
        await lib.write("sym", frame, { metadata: { i } });
        written.push(frame);
      } catch (err) {
        failure = err;
      }
    }
    expect(failure, "20 MB should fill up within 40 writes of 1 MB").toBeDefined();
    const err = failure as Error & { code?: string };
    expect(err.code, err.message).toBe("StorageError");
    expect(err.message).toMatch(/disk is full/);
    expect(err.message).toMatch(/Free space on the disk/);
    expect(written.length).toBeGreaterThan(3);
    console.log(`full disk after ${written.length} versions of 1 MB: ${err.message}`);

    // The failed write left no version, and every earlier one reads back exactly.
    expect((await lib.listVersions("sym")).length).toBe(written.length);
    for (let v = 0; v < written.length; v++) {
      const item = await lib.read("sym", { asOf: v });
      expect(item.metadata).toEqual({ i: v });
      expect(firstDifference(bytesOf(item.data!), bytesOf(written[v])), `version ${v}`).toBe(-1);
    }

    // Not one byte left (LMDB's write fails outright rather than short): the same answer, no version.
    const last = join(dir, "last");
    fillUp(last);
    const full = await rejectsWith(lib.write("sym", megabyte(500)), "StorageError");
    expect(full.message).toMatch(/disk is full/);
    console.log(`with no byte free: ${full.message}`);
    expect((await lib.listVersions("sym")).length).toBe(written.length);

    // Space back: the next write goes through and reads back.
    rmSync(filler);
    rmSync(last);
    const again = megabyte(1000);
    const item = await lib.write("sym", again);
    expect(item.version).toBe(written.length);
    expect(firstDifference(bytesOf((await lib.read("sym")).data!), bytesOf(again))).toBe(-1);
  });
});

describe.skipIf(why !== null)("a store that cannot be written", () => {
  async function storeWithOneVersion(dir: string): Promise<{ path: string; frame: DataFrame }> {
    const path = join(dir, "store");
    const ac = new Arctic(`lmdb://${path}`);
    const frame = new DataFrame({ x: [1.5, 2.5, 3.5], s: ["a", null, "c"] });
    await (await ac.createLibrary("lib")).write("sym", frame, { metadata: { kept: true } });
    await ac.close();
    return { path, frame };
  }

  async function readsButRefusesWrites(path: string, frame: DataFrame): Promise<void> {
    const ac = open(`lmdb://${path}`);
    expect(await ac.listLibraries()).toEqual(["lib"]);
    const lib = await ac.getLibrary("lib");
    const item = await lib.read("sym");
    expect(item.data!.equals(frame)).toBe(true);
    expect(item.metadata).toEqual({ kept: true });
    const err = await rejectsWith(lib.write("sym", { x: [9], s: ["z"] }), "StorageError");
    expect(err.message).toMatch(/opened read-only/);
    expect(err.message).toMatch(/Remount it read-write or fix its permissions/);
    await rejectsWith(ac.createLibrary("other"), "StorageError");
    // The refused write changed nothing.
    expect((await lib.listVersions("sym")).length).toBe(1);
  }

  it("on a read-only file system it opens read-only: reads work, writes fail clearly", async () => {
    const dir = tmpfs(4);
    const { path, frame } = await storeWithOneVersion(dir);
    mount("-o", "remount,ro", dir);
    await readsButRefusesWrites(path, frame);
  });

  it("with a read-only data file (lock file writable) it opens read-only as well", async () => {
    const dir = tmpfs(4);
    const { path, frame } = await storeWithOneVersion(dir);
    const data = join(path, "data.mdb");
    mount("--bind", data, data);
    cleanup.push(() => unmount(data, false));
    mount("-o", "remount,bind,ro", data);
    await readsButRefusesWrites(path, frame);
  });

  it("a new store on a read-only file system fails to open with a StorageError that says so", () => {
    const dir = tmpfs(1);
    mount("-o", "remount,ro", dir);
    expect(() => new Arctic(`lmdb://${join(dir, "new")}`)).toThrow(
      expect.objectContaining({
        code: "StorageError",
        message: expect.stringMatching(/could not be created or written.*not on a read-only file system/s),
      }),
    );
  });
});

describe.skipIf(why !== null)("a new store on a full disk", () => {
  it("is refused with StorageError instead of crashing in LMDB", () => {
    const dir = tmpfs(2);
    fillUp(join(dir, "filler"));
    expect(() => open(`lmdb://${join(dir, "new.lmdb")}`)).toThrow(/only \d+ bytes free/);
    rmSync(join(dir, "filler"));
    const ac = open(`lmdb://${join(dir, "new.lmdb")}`);
    expect(ac.uri).toContain("new.lmdb");
  });
});

// Issue 21: LMDB reuses the pages a transaction freed only after a later transaction commits, so on a
// full disk a delete's space stayed out of reach and every retry failed (new processes too) until
// something else committed. Each freeing operation now leaves its space usable at once.
describe.skipIf(why !== null)("space freed on a full disk (16 MB tmpfs)", () => {
  /** Writes 1 MB symbols until the disk is full; the frame that did not fit and the symbols written. */
  async function fill(lib: Library, symbol: (i: number) => string): Promise<{ frame: DataFrame; n: number }> {
    for (let i = 0; i < 40; i++) {
      const frame = megabyte(i + 1);
      try {
        await lib.write(symbol(i), frame);
      } catch (err) {
        const e = err as Error & { code?: string };
        expect(e.code, e.message).toBe("StorageError");
        expect(e.message).toMatch(/the disk is full \(ENOSPC: \d+ bytes free/);
        expect(i, "some writes fit first").toBeGreaterThan(3);
        return { frame, n: i };
      }
    }
    throw new Error("16 MB did not fill up within 40 writes of 1 MB");
  }

  async function writesAgain(lib: Library, symbol: string, frame: DataFrame): Promise<void> {
    await lib.write(symbol, frame); // before the fix: the disk-full StorageError, on every retry
    expect(firstDifference(bytesOf((await lib.read(symbol)).data!), bytesOf(frame))).toBe(-1);
  }

  for (const query of ["", "?map_size=1MB"]) {
    it(`after delete, the next write fits${query && ` (${query.slice(1)})`}`, async () => {
      const dir = tmpfs(16);
      const lib = await open(`lmdb://${join(dir, "store")}${query}`).createLibrary("lib");
      const { frame, n } = await fill(lib, (i) => `s${i}`);
      await lib.delete("s0");
      await writesAgain(lib, `s${n}`, frame);
      // A new process (a new Arctic) on the same store: the freed space was used, nothing is lost.
      const again = await open(`lmdb://${join(dir, "store")}${query}`).getLibrary("lib");
      expect((await again.listSymbols()).length).toBe(n);
    });
  }

  it("after prunePreviousVersions and deleteSnapshot, the next write fits", async () => {
    const dir = tmpfs(16);
    const lib = await open(`lmdb://${join(dir, "store")}`).createLibrary("lib");
    const { frame } = await fill(lib, () => "sym");
    await lib.prunePreviousVersions("sym");
    await writesAgain(lib, "sym", frame);

    const { frame: next } = await fill(lib, (i) => `t${i}`);
    await lib.snapshot("snap");
    for (const s of await lib.listSymbols()) if (s.startsWith("t")) await lib.delete(s);
    await rejectsWith(lib.write("u", next), "StorageError"); // the snapshot still holds the data
    await lib.deleteSnapshot("snap");
    await writesAgain(lib, "u", next);
  });

  it("after a delete by a process that did not commit again (another client), the write retries and fits", async () => {
    const dir = tmpfs(16);
    const path = join(dir, "store");
    const lib = await open(`lmdb://${path}`).createLibrary("lib");
    const { frame, n } = await fill(lib, (i) => `s${i}`);
    // Free s0's segments with a plain LMDB client, in one transaction and nothing after it.
    const raw = lmdbOpen<Uint8Array, string>({ path, encoding: "binary", noSubdir: false });
    const before = [...raw.getKeys()].length;
    const ofS0 = (key: string) => key === "R:lib/s0" || key.includes(":lib/s0/");
    await raw.transaction(() => {
      for (const key of raw.getKeys()) if (ofS0(String(key))) raw.removeSync(key);
    });
    expect([...raw.getKeys()].length).toBeLessThan(before);
    await raw.close();
    await writesAgain(lib, `s${n}`, frame);
  });
});

describe("a path that cannot hold a store (issue 22, item 8)", () => {
  it.skipIf(!existsSync("/sys/kernel"))(
    "/sys is refused for what it is, not for its '0 bytes free', and nothing is left behind",
    () => {
      let message = "";
      try {
        open("lmdb:///sys/kernel/floe");
      } catch (err) {
        expect(err).toBeInstanceOf(StorageError);
        message = (err as Error).message;
      }
      expect(message).not.toMatch(/bytes free/);
      expect(message).toMatch(
        /^Cannot open LMDB store at '\/sys\/kernel\/floe': (it cannot hold a store, this process cannot write there \(E[A-Z]+: .*\)|it is on a file system with no room at all .*)\. Choose a path/,
      );
      expect(existsSync("/sys/kernel/floe")).toBe(false);
    },
  );
});
