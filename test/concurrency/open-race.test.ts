// Processes that open the store while others commit. The LMDB that lmdb-js bundles rolls back the shared
// "last committed transaction" counter when an open races a commit, and the next write transaction then
// replaces the newest commit (src/storage/lmdb-stale-base.ts). floe checks every write transaction's base
// and refuses a stale one; here writers must each see their versions numbered 0, 1, 2, ... with every one
// still there, while other processes keep opening the store. sync=false commits several times faster, so
// the race comes up within seconds (without the check, a lost commit or a corrupt page in most runs).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers.ts";
import { Arctic } from "./floe.ts";
import { runAll, script, startProcess } from "./spawn.ts";

const MS = Number(process.env.FLOE_OPEN_RACE_MS ?? 8000);

describe("processes opening the store while others commit", () => {
  it("lose no commit and give no version number twice", async () => {
    const path = `${join(tempDir("floe-open-race-"), "store")}?sync=false`;
    const ac = new Arctic(`lmdb://${path}`, { workers: 0 });
    const lib = await ac.createLibrary("lib");
    const writers = ["a", "b"].map((symbol) =>
      startProcess(script("open-race-writer.mjs"), { path, lib: "lib", symbol, ms: MS }),
    );
    const openers = [0, 1, 2].map(() => startProcess(script("open-race-opener.mjs"), { path, ms: MS }));
    const done = await runAll([...writers, ...openers], false);
    const opens = done.slice(2).reduce((n, m) => n + (m.opens as number), 0);
    const writes = done.slice(0, 2).map((m) => m.versions as number[]);
    for (const [w, symbol] of ["a", "b"].entries()) {
      const versions = writes[w];
      expect(versions.length).toBeGreaterThan(10);
      expect(versions).toEqual(versions.map((_, i) => i));
      const listed = (await lib.listVersions(symbol)).map((e) => e.version).reverse();
      expect(listed).toEqual(versions);
      const last = versions.length - 1;
      expect((await lib.read(symbol, { asOf: last })).data!.column("i")).toEqual(
        Float64Array.of(last, last, last),
      );
    }
    console.log(`open race: ${opens} opens while ${writes[0].length + writes[1].length} writes`);
    await ac.close();
  }, 120_000);
});
