// Processes that each open the store, write, read and close it, over and over, with nobody else holding
// it open. When the last process closes the store, the LMDB that lmdb-js bundles destroys the lock file's
// shared mutexes; a process opening at that moment then fails every transaction with "Invalid argument",
// and so does every process opening after it (src/storage/lmdb-open.ts). Without floe's guard most rounds
// after the first such meeting fail; with it, none may.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers.ts";
import { Arctic } from "./floe.ts";
import { runAll, script, startProcess } from "./spawn.ts";

const MS = Number(process.env.FLOE_OPEN_CLOSE_MS ?? 6000);
const SYMBOLS = ["a", "b", "c"];

describe("processes opening and closing the store by turns", () => {
  it("never find it unusable, and lose no write", async () => {
    const path = `${join(tempDir("floe-open-close-"), "store")}?sync=false`;
    const setup = new Arctic(`lmdb://${path}`, { workers: 0 });
    await setup.createLibrary("lib");
    await setup.close(); // this process must not hold the store while the children run
    const done = await runAll(
      SYMBOLS.map((symbol) =>
        startProcess(script("open-close-cycler.mjs"), { path, lib: "lib", symbol, ms: MS }),
      ),
      false,
    );
    const rounds = done.map((m) => m.rounds as number);
    const failures = done.flatMap((m) => m.failures as string[]);
    console.log(`open/close: ${rounds.join(" + ")} rounds, ${failures.length} failed`);
    const kinds = new Map<string, number>();
    for (const f of failures) kinds.set(f.slice(0, 60), (kinds.get(f.slice(0, 60)) ?? 0) + 1);
    expect([...kinds]).toEqual([]);
    const ac = new Arctic(`lmdb://${path}`, { workers: 0 });
    const lib = await ac.getLibrary("lib");
    for (const [k, symbol] of SYMBOLS.entries()) {
      const versions = done[k].versions as number[];
      expect(versions.length).toBeGreaterThan(20);
      expect(versions).toEqual(versions.map((_, i) => i));
      expect((await lib.listVersions(symbol)).length).toBe(versions.length);
    }
    await ac.close();
  }, 120_000);
});
