/**
 * Many writer processes on one `s3://` symbol at once, on the local Ceph RGW: there is no lock, so
 * every commit is a create-only PUT of the next version record that only one writer wins (the others
 * re-read and retry). The same checks as same-symbol.test.ts and read-during-append.test.ts on lmdb://:
 * 20 writers of one symbol, 20 appenders of one symbol (s3-fifty-writers.test.ts: 50 symbols at once).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type RgwEnv, rgwAvailable, skipReason, startRgw } from "../storage/s3/rgw.ts";
import { chunksOf, ROWS_1MB } from "./frames.mjs";
import { onFreshLibrary } from "./s3-library.ts";
import { runAll, script, startProcess } from "./spawn.ts";
import { describeTimings, expectFrame } from "./verify.ts";

describe.skipIf(!rgwAvailable)(`concurrent writer processes on one s3:// symbol${skipReason}`, () => {
  let env: RgwEnv;
  beforeAll(async () => {
    env = await startRgw();
  }, 120_000);

  it("20 processes writing the same symbol at once: versions 0-19, each its writer's frame", async () => {
    const WRITERS = 20;
    await onFreshLibrary(env, "same", async (uri, lib) => {
      const runners = Array.from({ length: WRITERS }, (_, i) =>
        startProcess(script("write-symbol.mjs"), {
          uri,
          lib: "lib",
          symbol: "shared",
          seed: 100 + i,
          rows: ROWS_1MB,
          barrier: true,
        }),
      );
      const done = await runAll(runners, true);
      console.log(describeTimings(`${WRITERS} processes, one symbol, s3://`, done));

      const versions = done.map((m) => m.version as number);
      expect([...versions].sort((a, b) => a - b)).toEqual(Array.from({ length: WRITERS }, (_, v) => v));
      const listed = await lib.listVersions("shared");
      expect(listed.map((v) => v.version)).toEqual(
        Array.from({ length: WRITERS }, (_, v) => WRITERS - 1 - v),
      );
      expect(listed.every((v) => !v.deleted)).toBe(true);
      expect(await lib.listSymbols()).toEqual(["shared"]);
      for (const m of done) await expectFrame(lib, "shared", m.seed as number, ROWS_1MB, m.version as number);
      // The latest version is whoever committed last.
      const last = done.find((m) => m.version === WRITERS - 1)!;
      await expectFrame(lib, "shared", last.seed as number, ROWS_1MB);
    });
  }, 180_000);

  it("20 processes appending to one symbol at once: every appended row present once", async () => {
    const APPENDERS = 20;
    const EACH = 2;
    const ROWS = 500;
    await onFreshLibrary(env, "append", async (uri, lib) => {
      // No version exists when they start: the first appends race to create the symbol, and all must
      // land. Appender a appends chunks a*EACH … a*EACH + EACH - 1, in that order.
      const ids = Array.from({ length: APPENDERS }, (_, a) =>
        Array.from({ length: EACH }, (_, k) => a * EACH + k),
      );
      const runners = ids.map((mine) =>
        startProcess(script("appender.mjs"), {
          uri,
          lib: "lib",
          symbol: "ticks",
          ids: mine,
          rows: ROWS,
          barrier: true,
        }),
      );
      const done = await runAll(runners, true);
      const total = APPENDERS * EACH;
      const span =
        Math.max(...done.map((m) => m.end as number)) - Math.min(...done.map((m) => m.start as number));
      console.log(`${APPENDERS} appender processes on s3://: ${total} appends in ${span.toFixed(0)} ms`);

      // The final version holds every chunk exactly once, whole, in commit order.
      const final = await lib.read("ticks");
      expect(final.version).toBe(total - 1);
      const sequence = chunksOf(final.data!, ROWS);
      expect(sequence.error).toBeUndefined();
      expect([...sequence.ids!].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
      // Each appender's chunks are there in the order it appended them.
      for (const mine of ids) expect(sequence.ids!.filter((id) => mine.includes(id))).toEqual(mine);
      // Every append got its own version, and version v holds exactly the first v + 1 chunks.
      const versions = done.flatMap((m) => m.versions as number[]).sort((a, b) => a - b);
      expect(versions).toEqual(Array.from({ length: total }, (_, i) => i));
      for (const m of done) {
        const mine = m.ids as number[];
        (m.versions as number[]).forEach((v, k) => {
          expect(sequence.ids![v], `chunk ${mine[k]} committed as version ${v}`).toBe(mine[k]);
        });
      }
      for (let v = 0; v < total; v++) {
        const at = chunksOf((await lib.read("ticks", { asOf: v })).data!, ROWS);
        expect(at.error, `version ${v}`).toBeUndefined();
        expect(at.ids, `version ${v}`).toEqual(sequence.ids!.slice(0, v + 1));
      }
      expect((await lib.listVersions("ticks")).length).toBe(total);
      expect(await lib.listSymbols()).toEqual(["ticks"]);
    });
  }, 180_000);
});
