import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LmdbStorage } from "../../src/storage/lmdb-storage.ts";
import { MemoryStorage } from "../../src/storage/memory-storage.ts";
import type { Storage } from "../../src/storage/storage.ts";
import { tempDir } from "../helpers.ts";

const backends: [string, () => Storage][] = [
  ["MemoryStorage", () => new MemoryStorage()],
  ["LmdbStorage", () => new LmdbStorage({ path: join(tempDir(), "s.lmdb") })],
];

const bytes = (...v: number[]) => new Uint8Array(v);

describe.each(backends)("%s", (_name, make) => {
  it("puts, gets and removes inside transactions", () => {
    const s = make();
    s.writeTransaction((tx) => {
      tx.put("a:1", bytes(1));
      tx.put("a:2", bytes(2, 2));
      expect(tx.get("a:2")).toEqual(bytes(2, 2));
    });
    expect(s.get("a:1")).toEqual(bytes(1));
    expect(s.getView("a:2")).toEqual(bytes(2, 2));
    expect(s.get("missing")).toBeUndefined();
    s.writeTransaction((tx) => tx.remove("a:1"));
    expect(s.get("a:1")).toBeUndefined();
    s.close();
  });

  it("keeps nothing of a transaction that throws", () => {
    const s = make();
    s.writeTransaction((tx) => tx.put("k", bytes(1)));
    expect(() =>
      s.writeTransaction((tx) => {
        tx.put("k", bytes(9));
        tx.put("other", bytes(9));
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(s.get("k")).toEqual(bytes(1));
    expect(s.get("other")).toBeUndefined();
    s.close();
  });

  it("lists keys by prefix in byte order, reversed and limited", () => {
    const s = make();
    const names = [
      "V:l/s/0000000002",
      "V:l/s/0000000000",
      "V:l/s/0000000001",
      "V:l/t/0000000000",
      "R:l/s",
      "V:l/sé/1",
    ];
    s.writeTransaction((tx) => {
      for (const n of names) tx.put(n, bytes(0));
    });
    expect(s.keys("V:l/s/")).toEqual(["V:l/s/0000000000", "V:l/s/0000000001", "V:l/s/0000000002"]);
    expect(s.keys("V:l/s/", { reverse: true, limit: 1 })).toEqual(["V:l/s/0000000002"]);
    expect(s.keys("V:l/s/", { limit: 2 })).toEqual(["V:l/s/0000000000", "V:l/s/0000000001"]);
    expect(s.keys("V:l/")).toHaveLength(5);
    expect(s.keys("nothing")).toEqual([]);
    s.writeTransaction((tx) => {
      tx.remove("V:l/s/0000000001");
      expect(tx.keys("V:l/s/")).toEqual(["V:l/s/0000000000", "V:l/s/0000000002"]);
    });
    s.close();
  });

  it("returns owned copies from get", () => {
    const s = make();
    s.writeTransaction((tx) => tx.put("k", bytes(1, 2, 3)));
    const a = s.get("k")!;
    a[0] = 99;
    expect(s.get("k")).toEqual(bytes(1, 2, 3));
    s.close();
  });

  it("stores a copy on put, so the caller may reuse its buffer", () => {
    const s = make();
    const scratch = bytes(1, 2, 3);
    s.writeTransaction((tx) => {
      tx.put("x", scratch);
      scratch.fill(7);
      tx.put("y", scratch);
      scratch.fill(9);
    });
    expect(s.get("x")).toEqual(bytes(1, 2, 3));
    expect(s.get("y")).toEqual(bytes(7, 7, 7));
    s.close();
  });

  it("lets a broken invariant of floe's out of a read as it is, not as a storage failure", () => {
    const s = make();
    const bug = new Error("internal: a column kept other rows than the mask");
    expect(() =>
      s.readTransaction(() => {
        throw bug;
      }),
    ).toThrow(bug);
    s.close();
  });

  it("throws StorageError after close", () => {
    const s = make();
    s.close();
    expect(() => s.get("k")).toThrow(expect.objectContaining({ code: "StorageError" }));
  });
});

describe("LmdbStorage's commit stamp", () => {
  it("grows with each commit; a second handle that reads sees it, and one told to catch up reads no older state", () => {
    const path = join(tempDir(), "s.lmdb");
    const a = new LmdbStorage({ path });
    const b = new LmdbStorage({ path, sameProcess: true });
    expect(a.seen).toBe(0);
    a.writeTransaction((tx) => tx.put("k", bytes(1)));
    const first = a.seen;
    expect(first).toBeGreaterThan(0);
    a.writeTransaction((tx) => tx.put("k", bytes(2)));
    expect(a.seen).toBeGreaterThan(first);
    expect(b.get("k")).toEqual(bytes(2));
    expect(b.seen).toBe(a.seen);
    // A stamp no commit has made yet: the read takes new snapshots for a bounded time, then reads anyway.
    b.catchUp(a.seen + 1000);
    const start = performance.now();
    expect(b.get("k")).toEqual(bytes(2));
    const waited = performance.now() - start;
    expect(waited).toBeGreaterThan(50);
    expect(waited).toBeLessThan(5000);
    // Having read that state once, the handle takes it as it is: the next read does not wait again.
    expect(b.seen).toBe(a.seen);
    b.close();
    a.close();
  });

  it("is not one of the keys any floe prefix lists", () => {
    const s = new LmdbStorage({ path: join(tempDir(), "s.lmdb") });
    s.writeTransaction((tx) => tx.put("V:lib/x/0", bytes(1)));
    for (const prefix of ["L:", "R:", "V:", "I:", "S:", "N:", "T:"]) {
      expect(s.keys(prefix).every((k) => k.startsWith(prefix))).toBe(true);
    }
    expect(s.keys("V:")).toEqual(["V:lib/x/0"]);
    s.close();
  });
});
