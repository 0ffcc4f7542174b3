import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers.ts";
import { Arctic } from "./floe.ts";
import { ROWS_1MB } from "./frames.mjs";
import { runAll, script, startThread } from "./spawn.ts";
import { describeTimings, expectFrame } from "./verify.ts";

// What ArcticDB cannot do: the seed's 50 writers as worker threads of one process, each opening its own
// Arctic on the same path. lmdb-js shares one LMDB environment per path within a process, so this also
// checks that opening and closing it from many threads at once is safe.
describe("50 worker threads writing one symbol each to the same lmdb:// path", () => {
  it("lists all 50 symbols and reads every frame back exactly", async () => {
    const path = join(tempDir(), "data.lmdb");
    const ac = new Arctic(`lmdb://${path}`);
    const lib = await ac.createLibrary("lib");
    const names = Array.from({ length: 50 }, (_, i) => `symbol_${i}`);
    const t0 = performance.now();
    const runners = names.map((symbol, i) =>
      startThread(script("write-symbol.mjs"), {
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
      describeTimings("50 threads", done),
      `; ${(performance.now() - t0).toFixed(0)} ms with start-up`,
    );

    expect(done.map((m) => m.version)).toEqual(names.map(() => 0));
    expect(await lib.listSymbols()).toEqual([...names].sort());
    for (const [i, symbol] of names.entries()) await expectFrame(lib, symbol, i + 1, ROWS_1MB);
    await ac.close();
  });
});
