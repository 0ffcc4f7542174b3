import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers.ts";
import { Arctic } from "./floe.ts";
import { ROWS_1MB } from "./frames.mjs";
import { runAll, script, startProcess } from "./spawn.ts";
import { describeTimings, expectFrame } from "./verify.ts";

const WRITERS = 20;

// 20 processes write the same symbol at the same moment. Moving the symbol's reference is a
// read-modify-write inside one LMDB write transaction, so each must get its own version number, and
// each version must hold exactly the frame of the writer that got it.
describe("20 processes writing the same symbol at once", () => {
  it("each get a distinct version that reads back as their own frame", async () => {
    const path = join(tempDir(), "data.lmdb");
    const ac = new Arctic(`lmdb://${path}`);
    const lib = await ac.createLibrary("lib");
    const runners = Array.from({ length: WRITERS }, (_, i) =>
      startProcess(script("write-symbol.mjs"), {
        path,
        lib: "lib",
        symbol: "shared",
        seed: 100 + i,
        rows: ROWS_1MB,
        barrier: true,
      }),
    );
    const done = await runAll(runners, true);
    console.log(describeTimings(`${WRITERS} processes, one symbol`, done));

    const versions = done.map((m) => m.version as number);
    expect([...versions].sort((a, b) => a - b)).toEqual(Array.from({ length: WRITERS }, (_, v) => v));
    const listed = await lib.listVersions("shared");
    expect(listed.map((v) => v.version)).toEqual(Array.from({ length: WRITERS }, (_, v) => WRITERS - 1 - v));
    expect(listed.every((v) => !v.deleted)).toBe(true);
    for (const m of done) await expectFrame(lib, "shared", m.seed as number, ROWS_1MB, m.version as number);
    // The latest version is whoever committed last.
    const last = done.find((m) => m.version === WRITERS - 1)!;
    await expectFrame(lib, "shared", last.seed as number, ROWS_1MB);
    await ac.close();
  });
});
