import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers.ts";
import { Arctic } from "./floe.ts";
import { ROWS_1MB } from "./frames.mjs";
import { runAll, script, startProcess, startThread } from "./spawn.ts";
import { describeTimings, expectFrame } from "./verify.ts";

// The seed's test: 50 writers, each with its own Arctic on one lmdb:// path, write one ~1 MB symbol each
// at the same time (a barrier releases them together, so the writes really contend for the lock).
// As processes, as the seed runs it; and as worker threads of one process, which ArcticDB cannot do:
// lmdb-js shares one LMDB environment per path within a process, so that also checks that opening and
// closing it from many threads at once is safe.
describe("50 writers, one symbol each, on the same lmdb:// path", () => {
  it.each([
    ["processes", startProcess],
    ["threads", startThread],
  ] as const)("as %s: lists all 50 symbols and reads every frame back exactly", async (kind, start) => {
    const path = join(tempDir(), "data.lmdb");
    const ac = new Arctic(`lmdb://${path}`);
    const lib = await ac.createLibrary("lib");
    const names = Array.from({ length: 50 }, (_, i) => `symbol_${i}`);
    const t0 = performance.now();
    const runners = names.map((symbol, i) =>
      start(script("write-symbol.mjs"), {
        path,
        lib: "lib",
        symbol,
        seed: i + 1,
        rows: ROWS_1MB,
        barrier: true,
      }),
    );
    const done = await runAll(runners, true);
    console.log(
      describeTimings(`50 ${kind}`, done),
      `; ${(performance.now() - t0).toFixed(0)} ms with start-up`,
    );

    expect(done.map((m) => m.version)).toEqual(names.map(() => 0));
    expect(await lib.listSymbols()).toEqual([...names].sort());
    for (const [i, symbol] of names.entries()) await expectFrame(lib, symbol, i + 1, ROWS_1MB);
    await ac.close();
  });
});
