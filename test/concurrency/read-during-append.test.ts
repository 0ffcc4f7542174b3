import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers.ts";
import { Arctic } from "./floe.ts";
import { chunksOf, makeChunk } from "./frames.mjs";
import { type Runner, script, startProcess, startThread } from "./spawn.ts";

const ROWS = 2_000;
const APPENDERS = 3;
const CHUNKS_EACH = 12;

// Readers loop over `read` while three processes append to the same symbol. Every frame a reader gets
// must be a complete version (whole, exact chunks) that extends the one before, and the readers must
// see the last version too: a reader stuck on an old snapshot fails at its deadline.
describe("readers while writers append", () => {
  it("always see a complete version, a prefix of the append sequence, up to the last", async () => {
    const path = join(tempDir(), "data.lmdb");
    const ac = new Arctic(`lmdb://${path}`);
    const lib = await ac.createLibrary("lib");
    await lib.write("ticks", makeChunk(0, ROWS));
    const ids = Array.from({ length: APPENDERS }, (_, w) =>
      Array.from({ length: CHUNKS_EACH }, (_, j) => (w + 1) * 1000 + j),
    );
    const total = 1 + APPENDERS * CHUNKS_EACH;
    const readerArgs = {
      path,
      lib: "lib",
      symbol: "ticks",
      rows: ROWS,
      finalChunks: total,
      deadlineMs: 30_000,
    };
    const readers = [
      startProcess(script("reader.mjs"), readerArgs),
      startThread(script("reader.mjs"), readerArgs),
    ];
    const appenders = ids.map((mine) =>
      startProcess(script("appender.mjs"), {
        path,
        lib: "lib",
        symbol: "ticks",
        ids: mine,
        rows: ROWS,
        barrier: true,
      }),
    );
    const all: Runner[] = [...readers, ...appenders];
    const [readDone, appendDone] = await (async () => {
      try {
        await Promise.all(all.map((r) => r.next("ready")));
        for (const a of appenders) a.send({ type: "go" });
        return await Promise.all([
          Promise.all(readers.map((r) => r.next("done"))),
          Promise.all(appenders.map((a) => a.next("done"))),
        ]);
      } catch (err) {
        for (const r of all) r.kill("SIGKILL");
        throw err;
      }
    })();
    expect((await Promise.all(all.map((r) => r.exited))).map((e) => e.code)).toEqual(all.map(() => 0));

    // The append sequence is the commit order, as the final version holds it.
    const final = await lib.read("ticks");
    const sequence = chunksOf(final.data!, ROWS);
    expect(sequence.error).toBeUndefined();
    expect(sequence.ids!.length).toBe(total);
    expect(sequence.ids![0]).toBe(0);
    // Each appender's chunks are all there, in the order it appended them.
    for (const mine of ids) expect(sequence.ids!.filter((id) => mine.includes(id))).toEqual(mine);
    // Every append got its own version, and every version holds exactly the first chunks of the sequence.
    const versions = appendDone.flatMap((m) => m.versions as number[]).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: total - 1 }, (_, i) => i + 1));
    expect((await lib.listVersions("ticks")).length).toBe(total);
    for (let v = 0; v < total; v++) {
      const at = chunksOf((await lib.read("ticks", { asOf: v })).data!, ROWS);
      expect(at.ids, `version ${v}`).toEqual(sequence.ids!.slice(0, v + 1));
    }
    for (const [i, r] of readDone.entries()) {
      expect(r.ids).toEqual(sequence.ids);
      console.log(
        `reader ${i === 0 ? "process" : "thread"}: ${r.reads} reads, ${r.versionsSeen} distinct versions, ` +
          `${((r.end as number) - (r.start as number)).toFixed(0)} ms`,
      );
    }
    const span =
      Math.max(...appendDone.map((m) => m.end as number)) -
      Math.min(...appendDone.map((m) => m.start as number));
    console.log(`${APPENDERS} appenders: ${total - 1} appends in ${span.toFixed(0)} ms`);
    await ac.close();
  });
});
