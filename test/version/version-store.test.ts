import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Arctic, DataError, DataFrame, type Library } from "../../runtimes/node.ts";
import { type Runtime, registerRuntime, runtime } from "../../src/api/runtime.ts";
import { packRecord, unpackRecord } from "../../src/codec/msgpack.ts";
import { LmdbStorage } from "../../src/storage/lmdb-storage.ts";
import type { Storage } from "../../src/storage/storage.ts";
import type { IndexRecord } from "../../src/version/records.ts";
import { failingTransactions, rejectsWith, tempDir } from "../helpers.ts";

// Issue 6: a small write commits its segments, index, version and reference in one LMDB transaction, and
// parsed index records (and date-range boundary columns) are cached per store. These tests run on real
// LMDB files through the public API; the only thing added is a tap on the store's write transactions that
// counts them, can fail one as a full disk would, or can commit another writer's version just before one.

const MINUTE = 60_000_000_000n;
const START = BigInt(Date.UTC(2024, 0, 1)) * 1_000_000n;

/** `n` minute bars from minute `from` on: a timestamp index and a price that encodes row numbers. */
function bars(from: number, n: number): DataFrame {
  const index = new BigInt64Array(n).map((_, i) => START + BigInt(from + i) * MINUTE);
  const price = new Float64Array(n).map((_, i) => (from + i) / 100);
  return new DataFrame({ price }, { index });
}

interface Tap {
  /** Write transactions begun since the test last zeroed this. */
  transactions: number;
  /** When set, the write transaction with this count fails after its work, as a failing disk would. */
  failAt?: number;
  /** Run once, on the raw store, just before the next write transaction begins (another writer's commit). */
  before?: (raw: Storage) => void;
}

let tap: Tap;
let saved: Runtime;

beforeEach(() => {
  tap = { transactions: 0 };
  saved = runtime();
  registerRuntime({ name: "tapped", openLmdb: (options) => tapped(new LmdbStorage(options)) });
});

afterEach(() => {
  registerRuntime(saved);
});

function tapped(inner: LmdbStorage): Storage {
  return failingTransactions(inner, () => {
    tap.transactions++;
    const before = tap.before;
    tap.before = undefined;
    before?.(inner);
    return tap.transactions === tap.failAt;
  });
}

async function open(): Promise<{ ac: Arctic; lib: Library; path: string }> {
  const path = join(tempDir(), "s.lmdb");
  const ac = new Arctic(`lmdb://${path}`);
  const lib = await ac.createLibrary("lib");
  return { ac, lib, path };
}

/** Every key and value of the library, read behind floe's back. */
function raw(path: string): Map<string, Uint8Array> {
  const store = new LmdbStorage({ path });
  const out = new Map<string, Uint8Array>();
  for (const prefix of ["R:lib/", "V:lib/", "I:lib/", "S:lib/", "T:lib/"]) {
    for (const key of store.keys(prefix)) out.set(key, store.get(key) as Uint8Array);
  }
  store.close();
  return out;
}

/** What `after` holds that `before` does not hold alike: a commit, to be replayed later. */
function changes(before: Map<string, Uint8Array>, after: Map<string, Uint8Array>): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [key, value] of after) {
    const old = before.get(key);
    if (!old || Buffer.compare(old, value) !== 0) out.set(key, value);
  }
  return out;
}

function replay(commit: Map<string, Uint8Array>): (raw: Storage) => void {
  return (store) =>
    store.writeTransaction((tx) => {
      for (const [key, value] of commit) tx.put(key, value);
    });
}

/** Asserts the library is sound and holds no segment or index that nothing references. */
async function expectClean(lib: Library): Promise<void> {
  const report = await lib.verify();
  expect(report.problems).toEqual([]);
  expect(report.orphans).toEqual([]);
}

describe("small writes commit in one transaction", () => {
  it("write, append, update, writeBatch and staged chunks each take one; a big write still batches, committing in its last", async () => {
    const { ac, lib } = await open();
    const count = async (fn: () => Promise<unknown>) => {
      tap.transactions = 0;
      await fn();
      return tap.transactions;
    };
    expect(await count(() => lib.write("s", bars(0, 1000)))).toBe(1);
    expect(await count(() => lib.append("s", bars(1000, 1000)))).toBe(1);
    expect(await count(() => lib.update("s", bars(500, 10)))).toBe(1);
    expect(
      await count(() =>
        lib.writeBatch([
          { symbol: "a", data: bars(0, 100) },
          { symbol: "b", data: bars(0, 200) },
          { symbol: "c", data: bars(0, 300) },
        ]),
      ),
    ).toBe(1);
    expect(await count(() => lib.write("t", bars(0, 50), { staged: true }))).toBe(1);
    expect(await count(() => lib.write("t", bars(50, 50), { staged: true }))).toBe(1);
    expect(await count(() => lib.sortAndFinalizeStagedData("t"))).toBe(1);
    // 4.8 MB of random floats: more than a small write, 6 segments of 800 kB (100,000 rows), stored in
    // one batch (a batch ends once it holds 4 MiB), whose transaction commits.
    const big = new Float64Array(600_000).map(() => Math.random());
    expect(await count(() => lib.write("big", { x: big }))).toBe(1);
    // 136 MB: 170 such segments in batches of 6, so 29 transactions, the last committing the version.
    const huge = new Float64Array(17_000_000).map(() => Math.random());
    expect(await count(() => lib.write("huge", { x: huge }))).toBe(29);
    // 8 MB segments (10 columns of 100,000 rows) are each committed alone: 5 segments, 5 transactions.
    const wide = Object.fromEntries(
      Array.from({ length: 10 }, (_, c) => [`c${c}`, new Float64Array(500_000).map(() => Math.random())]),
    );
    expect(await count(() => lib.write("wide", wide))).toBe(5);
    const back = (await lib.read("huge")).data!.column("x") as Float64Array;
    expect(Buffer.from(back.buffer, back.byteOffset, back.byteLength).equals(Buffer.from(huge.buffer))).toBe(
      true,
    );

    const s = (await lib.read("s")).data!;
    expect(s.numRows).toBe(2000);
    const price = s.column("price") as Float64Array;
    for (let i = 0; i < 2000; i++) expect(price[i]).toBe(i / 100);
    expect((await lib.read("a")).data!.equals(bars(0, 100))).toBe(true);
    expect((await lib.read("b")).data!.equals(bars(0, 200))).toBe(true);
    expect((await lib.read("c")).data!.equals(bars(0, 300))).toBe(true);
    expect((await lib.read("t")).data!.equals(bars(0, 100))).toBe(true);
    expect((await lib.read("big")).data!.column("x")).toEqual(big);
    expect((await lib.read("wide")).data!.column("c9")).toEqual(wide.c9);
    await expectClean(lib);
    await ac.close();
  });
});

describe("a small write whose one transaction fails", () => {
  it.each(["write", "append", "update", "writeBatch"])("%s leaves nothing behind", async (call) => {
    const { ac, lib, path } = await open();
    await lib.write("s", bars(0, 1000));
    const before = raw(path);
    tap.transactions = 0;
    tap.failAt = 1;
    const attempt =
      call === "write"
        ? lib.write("s", bars(0, 10))
        : call === "append"
          ? lib.append("s", bars(1000, 1000))
          : call === "update"
            ? lib.update("s", bars(100, 10))
            : lib.writeBatch([{ symbol: "s", data: bars(1000, 10) }]).then(([r]) => {
                if (r instanceof DataError) throw Object.assign(new Error(r.message), { code: r.errorCode });
              });
    const err = await rejectsWith(attempt, "StorageError");
    expect(err.message).toMatch(/simulated/);
    expect(tap.transactions).toBe(1); // no clean-up transaction was needed: there was nothing to clean
    expect(changes(before, raw(path)).size).toBe(0);
    expect((await lib.listVersions("s")).map((v) => v.version)).toEqual([0]);
    expect((await lib.read("s")).data!.equals(bars(0, 1000))).toBe(true);
    await expectClean(lib);
    tap.failAt = undefined;
    expect((await lib.append("s", bars(1000, 5))).version).toBe(1);
    await ac.close();
  });
});

describe("an append overtaken by another writer", () => {
  it("lands after the other writer's version, in commit order", async () => {
    const { ac, lib, path } = await open();
    await lib.write("s", bars(0, 1000));
    const v0 = raw(path);
    await lib.append("s", bars(1000, 1000));
    const theirs = changes(v0, raw(path));
    // Take their version back out, then commit it again just before our append's transaction: our
    // append has read version 0 and encoded its rows by then.
    await lib.delete("s", { versions: 1 });
    tap.before = replay(theirs);
    const ours = await lib.append("s", bars(2000, 1000));
    expect(ours.version).toBe(2);
    const all = (await lib.read("s")).data!;
    expect(all.equals(bars(0, 3000))).toBe(true);
    expect((await lib.read("s", { asOf: 1 })).data!.equals(bars(0, 2000))).toBe(true);
    await expectClean(lib);
    await ac.close();
  });

  it("is rejected whole when the other writer changed the schema, leaving no orphans", async () => {
    const { ac, lib, path } = await open();
    await lib.write("s", bars(0, 1000));
    const v0 = raw(path);
    const other = new DataFrame({ qty: new Int32Array(10).fill(7) });
    await lib.write("s", other);
    const theirs = changes(v0, raw(path));
    await lib.delete("s", { versions: 1 });
    const gone = raw(path);
    tap.before = replay(theirs);
    await rejectsWith(lib.append("s", bars(1000, 1000)), "SchemaMismatchError");
    // Exactly their commit was added; nothing of ours.
    expect(changes(new Map([...gone, ...theirs]), raw(path)).size).toBe(0);
    expect(raw(path).size).toBe(new Map([...gone, ...theirs]).size);
    expect((await lib.listVersions("s")).map((v) => v.version)).toEqual([1, 0]);
    expect((await lib.read("s")).data!.equals(other)).toBe(true);
    await expectClean(lib);
    await ac.close();
  });
});

describe("cached index records and boundary columns", () => {
  it("never answer for another version: appends, metadata, deletes, prunes and rewrites", async () => {
    const { ac, lib } = await open();
    await lib.write("s", bars(0, 1000));
    expect((await lib.read("s")).data!.equals(bars(0, 1000))).toBe(true);
    await lib.append("s", bars(1000, 500));
    expect((await lib.read("s")).data!.equals(bars(0, 1500))).toBe(true);
    expect((await lib.read("s", { asOf: 0 })).data!.equals(bars(0, 1000))).toBe(true);
    await lib.writeMetadata("s", { tag: 2 });
    expect((await lib.read("s")).data!.equals(bars(0, 1500))).toBe(true);
    await lib.delete("s", { versions: 1 });
    await rejectsWith(lib.read("s", { asOf: 1 }), "VersionNotFoundError");
    expect((await lib.read("s")).data!.equals(bars(0, 1500))).toBe(true); // version 2 shares the index
    await lib.write("s", bars(5, 20), { prunePreviousVersions: true });
    await rejectsWith(lib.read("s", { asOf: 0 }), "VersionNotFoundError");
    expect((await lib.read("s")).data!.equals(bars(5, 20))).toBe(true);
    await lib.delete("s");
    await rejectsWith(lib.read("s"), "SymbolNotFoundError");
    const again = await lib.write("s", bars(7, 3));
    expect(again.version).toBe(4);
    expect((await lib.read("s")).data!.equals(bars(7, 3))).toBe(true);
    expect((await lib.getDescription("s")).rowCount).toBe(3);
    await expectClean(lib);
    await ac.close();
  });

  it("never hide damage done after they were filled, and read right again once it is repaired", async () => {
    const path = join(tempDir(), "d.lmdb");
    const ac = new Arctic(`lmdb://${path}`);
    const lib = await ac.createLibrary("lib", { rowsPerSegment: 1000 });
    await lib.write("s", bars(0, 3000));
    const range: [bigint, bigint] = [START + 900n * MINUTE, START + 2100n * MINUTE];
    const read = () => lib.read("s", { dateRange: range, columns: [] });
    const want = bars(900, 1201).index;
    // Twice: the second read is served by the caches.
    for (let i = 0; i < 2; i++) expect((await read()).data!.index).toEqual(want);

    const store = new LmdbStorage({ path });
    const damage = (key: string, from: (bytes: Uint8Array) => number) => {
      const good = store.get(key) as Uint8Array;
      const bad = good.slice();
      for (let i = from(bad); i < bad.length; i++) bad[i] ^= 0x5a;
      store.writeTransaction((tx) => tx.put(key, bad));
      return () => store.writeTransaction((tx) => tx.put(key, good));
    };
    // The index record (past its checksum field).
    const [indexKey] = store.keys("I:lib/s/");
    const index = unpackRecord<IndexRecord>(store.get(indexKey) as Uint8Array, "index record");
    let repair = damage(indexKey, () => 5);
    await rejectsWith(read(), "CorruptSegmentError");
    repair();
    expect((await read()).data!.index).toEqual(want);
    // Every column block of the first boundary segment (rows 0..999), its header left intact, so only the
    // blocks' own checksums can tell; with columns: [] the read decodes just the index column.
    const first = index.segments.find((seg) => seg.rowStart === 0)?.key as string;
    repair = damage(first, (bytes) => 12 + new DataView(bytes.buffer).getUint32(4, true));
    await rejectsWith(read(), "CorruptSegmentError");
    repair();
    expect((await read()).data!.index).toEqual(want);
    store.close();
    await expectClean(lib);
    await ac.close();
  });
});

describe("a symbol reference behind the stored versions", () => {
  it("never makes a write replace a version or land before the latest", async () => {
    const { ac, lib, path } = await open();
    for (let v = 0; v < 3; v++) await lib.write("s", bars(v * 10, 5));
    const store = new LmdbStorage({ path });
    // As if the reference had been restored from an older copy, then lost altogether.
    store.writeTransaction((tx) => tx.put("R:lib/s", packRecord({ next: 1 })));
    expect((await lib.write("s", bars(100, 2))).version).toBe(3);
    store.writeTransaction((tx) => tx.remove("R:lib/s"));
    expect((await lib.append("s", bars(102, 2))).version).toBe(4);
    store.close();
    for (let v = 0; v < 3; v++) {
      expect((await lib.read("s", { asOf: v })).data!.equals(bars(v * 10, 5))).toBe(true);
    }
    expect((await lib.read("s")).data!.equals(bars(100, 4))).toBe(true);
    expect((await lib.listVersions("s")).map((e) => e.version)).toEqual([4, 3, 2, 1, 0]);
    await ac.close();
  });
});
