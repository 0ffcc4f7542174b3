/**
 * The seed's test on `s3://`: 50 writer processes, each with its own Arctic on one library of the local
 * Ceph RGW, write one ~1 MB symbol each at the same moment (a barrier releases them together). All
 * must be listed (the symbol-list journal takes 50 first versions at once) and every frame read back
 * exactly (fifty-writers.test.ts does the same on lmdb://).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type RgwEnv, rgwAvailable, skipReason, startRgw } from "../storage/s3/rgw.ts";
import { ROWS_1MB } from "./frames.mjs";
import { onFreshLibrary } from "./s3-library.ts";
import { runAll, script, startProcess } from "./spawn.ts";
import { describeTimings, expectFrame } from "./verify.ts";

describe.skipIf(!rgwAvailable)(`50 writer processes on one s3:// library${skipReason}`, () => {
  let env: RgwEnv;
  beforeAll(async () => {
    env = await startRgw();
  }, 120_000);

  it("50 processes writing 50 symbols (~1 MB each) at once: all listed, every frame exact", async () => {
    await onFreshLibrary(env, "fifty", async (uri, lib) => {
      const names = Array.from({ length: 50 }, (_, i) => `symbol_${i}`);
      const t0 = performance.now();
      const runners = names.map((symbol, i) =>
        startProcess(script("write-symbol.mjs"), {
          uri,
          lib: "lib",
          symbol,
          seed: i + 1,
          rows: ROWS_1MB,
          barrier: true,
        }),
      );
      const done = await runAll(runners, true);
      console.log(
        describeTimings("50 processes on s3://", done),
        `; ${(performance.now() - t0).toFixed(0)} ms with start-up`,
      );
      expect(done.map((m) => m.version)).toEqual(names.map(() => 0));
      expect(await lib.listSymbols()).toEqual([...names].sort());
      for (const [i, symbol] of names.entries()) await expectFrame(lib, symbol, i + 1, ROWS_1MB);
    });
  }, 180_000);
});
