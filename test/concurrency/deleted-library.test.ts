import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers.ts";
import { Arctic } from "./floe.ts";
import { type Runner, script, startProcess } from "./spawn.ts";

// One process deletes a library (and creates one of the same name again) while another keeps writing
// to it through the handle it opened before: every write the writer had acknowledged was made before
// the delete (its version numbers never restart), its first write after the delete is refused with
// LibraryNotFoundError, and the new library holds nothing of the writer's.

/** Resolves once `runner` has sent `n` messages of `type`. */
async function messages(runner: Runner, type: string, n: number): Promise<void> {
  while (runner.messages.filter((m) => m.type === type).length < n) {
    if (runner.messages.some((m) => m.type === "done" || m.type === "error")) {
      throw new Error(
        `writer ended before ${n} '${type}' messages: ${JSON.stringify(runner.messages.at(-1))}`,
      );
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("deleteLibrary while another process writes to it", () => {
  it.each([false, true])(
    "the writer is refused, never acknowledged twice for one version (recreated at once: %s)",
    async (recreate) => {
      const path = join(tempDir(), "data.lmdb");
      const ac = new Arctic(`lmdb://${path}`, { workers: 0 });
      await ac.createLibrary("lib");
      await ac.createLibrary("other");
      const writer = startProcess(script("deleted-library-writer.mjs"), {
        path,
        lib: "lib",
        symbol: "s0",
        limit: 3000,
        ms: 8000,
      });
      try {
        await messages(writer, "ack", 5);
        await ac.deleteLibrary("lib");
        const fresh = recreate ? await ac.createLibrary("lib") : undefined;
        if (fresh) await fresh.write("mine", { y: [1] });
        const done = await writer.next("done");
        expect((await writer.exited).code).toBe(0);

        expect(done.refused).toMatchObject({ code: "LibraryNotFoundError" });
        const acks = done.acks as number[];
        expect(acks.length).toBeGreaterThanOrEqual(5);
        expect(acks).toEqual(acks.map((_, i) => i)); // 0, 1, 2, ...: numbers never restart

        expect(await ac.listLibraries()).toEqual(recreate ? ["lib", "other"] : ["other"]);
        const lib = fresh ?? (await ac.createLibrary("lib"));
        expect(await lib.listSymbols()).toEqual(recreate ? ["mine"] : []);
        expect(await lib.hasSymbol("s0")).toBe(false);
        expect((await lib.verify()).ok).toBe(true);
      } finally {
        writer.kill("SIGKILL");
        await ac.close();
      }
    },
    30_000,
  );
});
