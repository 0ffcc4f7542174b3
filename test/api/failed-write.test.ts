import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Arctic, DataFrame } from "../../runtimes/node.ts";
import { registerRuntime } from "../../src/api/runtime.ts";
import { LmdbStorage } from "../../src/storage/lmdb-storage.ts";
import type { Storage } from "../../src/storage/storage.ts";
import { failingTransactions, rejectsWith, tempDir } from "../helpers.ts";

/**
 * Real LMDB storage whose Nth write transaction fails, as a full disk or an I/O error would make it.
 * Everything else goes to LMDB unchanged.
 */
function failingLmdb(path: string, failAt: { n: number }): Storage {
  let count = 0;
  return failingTransactions(new LmdbStorage({ path }), () => ++count === failAt.n);
}

describe("a failed write", () => {
  it("leaves earlier versions readable and lists no half-written version", async () => {
    const path = join(tempDir(), "f.lmdb");
    const failAt = { n: Number.POSITIVE_INFINITY };
    registerRuntime({ name: "faulty", openLmdb: () => failingLmdb(path, failAt) });
    try {
      const ac = new Arctic(`lmdb://${path}`);
      const lib = await ac.createLibrary("lib", { rowsPerSegment: 10 });
      const v0 = new DataFrame({ x: new Float64Array(100).map((_, i) => i) });
      await lib.write("sym", v0);
      // Transactions so far: the library (1) and v0, small, in one transaction (2). The next write's
      // one transaction (3) fails.
      failAt.n = 3;
      const err = await rejectsWith(lib.write("sym", { x: new Float64Array(100).fill(7) }), "StorageError");
      expect(err.message).toMatch(/simulated/);
      expect((await lib.listVersions("sym")).map((v) => v.version)).toEqual([0]);
      expect((await lib.read("sym")).data!.equals(v0)).toBe(true);
      failAt.n = Number.POSITIVE_INFINITY;
      const after = await lib.write("sym", { x: [1] });
      expect(after.version).toBe(1);
      await ac.close();
      // The failed write's segments were cleaned up: only the live versions' segments remain.
      const check = new LmdbStorage({ path });
      expect(check.keys("S:lib/sym/").length).toBe(10 + 1);
      check.close();
    } finally {
      const { LmdbStorage: L } = await import("../../src/storage/lmdb-storage.ts");
      registerRuntime({ name: "node", openLmdb: (o) => new L(o) });
    }
  });
});
