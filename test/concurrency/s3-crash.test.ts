/**
 * A writer process SIGKILLed in the middle of a large write to `s3://`, on the local Ceph RGW. Without
 * transactions, what it leaves is segments (and perhaps an index) that no version record references:
 * the store must read as if the write never began, `verify` must report those objects as orphans,
 * `cleanup` must delete exactly them, and later writers must carry on (crash.test.ts does the same on
 * lmdb://).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { freshS3Uri, type RgwEnv, rgwAvailable, skipReason, startRgw } from "../storage/s3/rgw.ts";
import { Arctic } from "./floe.ts";
import { makeColumns, ROWS_1MB } from "./frames.mjs";
import { runAll, script, startProcess } from "./spawn.ts";
import { expectFrame } from "./verify.ts";

/** Rows of a ~150 MB frame (76 bytes a row, random floats that do not compress). */
const BIG_ROWS = 2_000_000;
/** New bytes in the bucket that show the big write is under way (segments, not a few small objects). */
const UNDER_WAY_BYTES = 8_000_000;

describe.skipIf(!rgwAvailable)(`a writer killed in the middle of a large write to s3://${skipReason}`, () => {
  let env: RgwEnv;
  beforeAll(async () => {
    env = await startRgw();
  }, 120_000);

  it("leaves no partial version; verify reports its orphans, cleanup removes them, writers carry on", async () => {
    const store = await freshS3Uri(env, "crash");
    const { uri, s3 } = store;
    /** Every object in the bucket: key -> size. */
    const objects = async () => new Map((await s3.listAll("")).objects.map((o) => [o.key, o.size]));
    const ac = new Arctic(uri, { workers: 0 });
    try {
      const lib = await ac.createLibrary("lib");
      await lib.write("big", makeColumns(1, ROWS_1MB));

      const writer = startProcess(script("big-writer.mjs"), {
        uri,
        lib: "lib",
        symbol: "big",
        seed: 2,
        rows: BIG_ROWS,
      });
      await writer.next("writing");
      // What the bucket held before the big write's first request (the writer has opened the library).
      const before = await objects();
      const t0 = performance.now();
      let added = 0;
      let seen = before;
      while (added < UNDER_WAY_BYTES) {
        if (writer.messages.some((m) => m.type !== "writing")) {
          throw new Error(`the writer finished or failed first: ${JSON.stringify(writer.messages.at(-1))}`);
        }
        if (performance.now() - t0 > 60_000) throw new Error("the big write stored nothing within 60 s");
        await new Promise((r) => setTimeout(r, 10));
        seen = await objects();
        added = 0;
        for (const [key, size] of seen) if (!before.has(key)) added += size;
      }
      writer.kill("SIGKILL");
      const { signal } = await writer.exited;
      expect(signal).toBe("SIGKILL");
      // A PUT whose body had fully arrived may still be completing on the gateway: let it land.
      await new Promise((r) => setTimeout(r, 500));
      const after = await objects();
      const left = [...after.keys()].filter((k) => !before.has(k));
      console.log(
        `killed ${(performance.now() - t0).toFixed(0)} ms into the write, after ${(added / 1e6).toFixed(1)} MB ` +
          `had landed; the dead writer left ${left.length} objects (${left.slice(0, 3).join(", ")}…)`,
      );
      expect(left.length).toBeGreaterThan(0);

      // Nothing of the dead write is visible.
      expect((await lib.listVersions("big")).map((v) => v.version)).toEqual([0]);
      expect(await lib.listSymbols()).toEqual(["big"]);
      await expectFrame(lib, "big", 1, ROWS_1MB);
      const reopened = new Arctic(uri, { workers: 0 });
      const fresh = await reopened.getLibrary("lib");
      expect((await fresh.listVersions("big")).map((v) => v.version)).toEqual([0]);
      await expectFrame(fresh, "big", 1, ROWS_1MB);
      await reopened.close();

      // verify reports the dead writer's objects as orphans and no problem; cleanup deletes them, and
      // only them: the bucket is back to what it held before the write.
      const report = await lib.verify();
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.orphans.length).toBeGreaterThan(0);
      console.log(`verify: ${report.orphans.length} orphans, e.g. ${report.orphans.slice(0, 2).join(", ")}`);
      const { removed } = await lib.cleanup({ graceMs: 0 });
      expect([...removed].sort()).toEqual([...report.orphans].sort());
      const cleaned = await objects();
      expect([...cleaned.keys()].filter((k) => !before.has(k))).toEqual([]);
      expect([...before.keys()].filter((k) => !cleaned.has(k))).toEqual([]);
      expect(await lib.verify()).toMatchObject({ ok: true, problems: [], orphans: [] });
      await expectFrame(lib, "big", 1, ROWS_1MB);

      // A new writer in another process takes the next number; so does this process on a new symbol.
      const [next] = await runAll(
        [
          startProcess(script("write-symbol.mjs"), {
            uri,
            lib: "lib",
            symbol: "big",
            seed: 3,
            rows: ROWS_1MB,
          }),
        ],
        false,
      );
      expect(next.version).toBe(1);
      expect((await lib.write("other", { x: [1, 2, 3] })).version).toBe(0);
      expect((await lib.listVersions("big")).map((v) => v.version)).toEqual([1, 0]);
      expect(await lib.listSymbols()).toEqual(["big", "other"]);
      await expectFrame(lib, "big", 3, ROWS_1MB);
      await expectFrame(lib, "big", 1, ROWS_1MB, 0);
      expect(await lib.verify()).toMatchObject({ ok: true, problems: [], orphans: [] });
    } finally {
      await ac.close();
      await store.drop();
    }
  }, 120_000);
});
