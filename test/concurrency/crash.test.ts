import { join } from "node:path";
import { open, type RootDatabase } from "lmdb";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers.ts";
import { Arctic } from "./floe.ts";
import { makeColumns, ROWS_1MB } from "./frames.mjs";
import { runAll, script, startProcess } from "./spawn.ts";
import { expectFrame } from "./verify.ts";

/** Rows of a ~300 MB frame (76 bytes a row): 40 segments of 100,000 rows (7.6 MB), each committed alone. */
const BIG_ROWS = 3_950_000;

/** Keys under `prefix`, counted on the latest commit (the raw lmdb handle, not floe's API). */
function countKeys(db: RootDatabase, prefix: string): number {
  db.resetReadTxn();
  let n = 0;
  for (const _ of db.getKeys({ start: prefix, end: `${prefix}\u{10ffff}` })) n++;
  return n;
}

// A writer is SIGKILLed in the middle of a 300 MB write: after its first batch of segments is
// committed, most likely while it holds LMDB's write lock for the next batch. The store must stay as if
// the write never began, apart from unreferenced segments, and the next writer must get the lock.
describe("a writer killed in the middle of a large write", () => {
  it("leaves the previous version readable, lists no partial version, and lets a new writer in", async () => {
    const path = join(tempDir(), "data.lmdb");
    const ac = new Arctic(`lmdb://${path}`);
    const lib = await ac.createLibrary("lib");
    await lib.write("big", makeColumns(1, ROWS_1MB));
    // Opened as floe opens it: the path is a directory even though it ends in ".lmdb", and commits are
    // synced in place (lmdb-js's default overlappingSync would flag commits for a different recovery).
    const raw = open({ path, encoding: "binary", noSubdir: false, overlappingSync: false }) as RootDatabase;
    const live = countKeys(raw, "S:lib/big/");

    const writer = startProcess(script("big-writer.mjs"), {
      path,
      lib: "lib",
      symbol: "big",
      seed: 2,
      rows: BIG_ROWS,
    });
    await writer.next("writing");
    const t0 = performance.now();
    // Poll for the first committed batch of the new write's segments, then kill at once.
    let seen = live;
    while (seen === live) {
      if (writer.messages.some((m) => m.type !== "writing"))
        throw new Error("the writer finished or failed first");
      await new Promise((r) => setTimeout(r, 2));
      seen = countKeys(raw, "S:lib/big/");
    }
    writer.kill("SIGKILL");
    const { signal } = await writer.exited;
    const killedAfter = performance.now() - t0;
    expect(signal).toBe("SIGKILL");

    const orphans = countKeys(raw, "S:lib/big/") - live;
    console.log(
      `killed ${killedAfter.toFixed(0)} ms into the write, when ${seen - live} of its segments were seen; ` +
        `afterwards S:lib/big/ holds ${live + orphans} keys: ${live} live (version 0), ${orphans} orphaned; ` +
        `I:lib/big/ holds ${countKeys(raw, "I:lib/big/")}`,
    );
    // The kill landed mid-write: segments were committed, the version was not.
    expect(orphans).toBeGreaterThan(0);
    expect((await lib.listVersions("big")).map((v) => v.version)).toEqual([0]);
    expect(await lib.listSymbols()).toEqual(["big"]);
    await expectFrame(lib, "big", 1, ROWS_1MB);

    // A new writer in another process gets the lock the dead one may have held, and the next number.
    const [after] = await runAll(
      [
        startProcess(script("write-symbol.mjs"), {
          path,
          lib: "lib",
          symbol: "big",
          seed: 3,
          rows: ROWS_1MB,
        }),
      ],
      false,
    );
    expect(after.version).toBe(1);
    // And so does this process, which had the store open throughout.
    expect((await lib.write("other", { x: [1, 2, 3] })).version).toBe(0);
    expect((await lib.listVersions("big")).map((v) => v.version)).toEqual([1, 0]);
    await expectFrame(lib, "big", 3, ROWS_1MB);
    await expectFrame(lib, "big", 1, ROWS_1MB, 0);
    console.log(
      `after the new write: S:lib/big/ holds ${countKeys(raw, "S:lib/big/")} keys, S: ${countKeys(raw, "S:")}`,
    );
    // The dead writer's segments are orphans: verify reports exactly them, cleanup reclaims them, and
    // no live version loses a segment.
    const before = await lib.verify();
    expect(before.ok).toBe(true);
    expect(before.orphans.length).toBe(orphans);
    const removed = await lib.cleanup({ graceMs: 0 });
    expect(removed.removed.length).toBe(orphans);
    const after2 = await lib.verify();
    expect(after2).toMatchObject({ ok: true, orphans: [] });
    await expectFrame(lib, "big", 3, ROWS_1MB);
    await expectFrame(lib, "big", 1, ROWS_1MB, 0);
    raw.close();
    await ac.close();
  });
});
