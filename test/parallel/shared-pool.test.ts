import { spawn } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Arctic, DataFrame, type Library, StorageError } from "../../runtimes/node.ts";
import { type Runtime, registerRuntime, runtime } from "../../src/api/runtime.ts";
import { rejectsWith, tempDir } from "../helpers.ts";

// Issue 21: one worker pool per process, shared by every Arctic. A store closed and opened again reads
// through the workers already loaded; Arctics on different stores (and mem://) share the workers; close()
// waits for the calls in flight and refuses later ones with StorageError.

const MINUTE = 60_000_000_000n;

/** About 19 MB of compressible columns (a random walk in cents, counts) on a timestamp index. */
function frame(rows: number, seed: number): DataFrame {
  const index = new BigInt64Array(rows);
  const price = new Float64Array(rows);
  const qty = new Int32Array(rows);
  const bid = new Float64Array(rows);
  let p = 100 + seed;
  for (let i = 0; i < rows; i++) {
    index[i] = 1_600_000_000_000_000_000n + BigInt(i) * MINUTE;
    p += ((i * 7919 + seed) % 11) / 100 - 0.05;
    price[i] = Math.round(p * 100) / 100;
    bid[i] = price[i] - 0.01;
    qty[i] = (i * 31 + seed) % 500;
  }
  return new DataFrame({ price, bid, qty }, { index });
}

/** Runs `body` with the runtime's worker factory counting the workers it starts. */
async function countingWorkers(body: (started: () => number) => Promise<void>): Promise<void> {
  const saved: Runtime = runtime();
  let started = 0;
  // A factory of its own: the process's pool is per factory, so this test's workers are counted alone.
  registerRuntime({
    ...saved,
    createWorker: () => {
      started++;
      return saved.createWorker!();
    },
  });
  try {
    await body(() => started);
  } finally {
    registerRuntime(saved);
  }
}

/** Reads `symbol`, saying whether the workers did it (progress once per worker job, not per segment). */
async function readWithPool(lib: Library, symbol: string): Promise<{ data: DataFrame; pooled: boolean }> {
  const calls: number[] = [];
  const data = (await lib.read(symbol, { onProgress: (p) => calls.push(p.segmentsDone) })).data!;
  return { data, pooled: calls.length <= 3 };
}

/** Reads until the workers do it (a read under 96 MB does not wait for workers still loading). */
async function readOncePooled(lib: Library, symbol: string): Promise<DataFrame> {
  for (let attempt = 0; ; attempt++) {
    const { data, pooled } = await readWithPool(lib, symbol);
    if (pooled || attempt === 100) return data;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("one worker pool per process", () => {
  it("a store closed and opened again reads through the workers already loaded", async () => {
    await countingWorkers(async (started) => {
      const uri = `lmdb://${join(tempDir(), "re.lmdb")}`;
      const df = frame(800_000, 1);
      const first = new Arctic(uri, { workers: 2 });
      const lib = await first.createLibrary("lib", { rowsPerSegment: 50_000 });
      await lib.write("s", df);
      expect((await readOncePooled(lib, "s")).equals(df)).toBe(true);
      await first.close();
      expect(started()).toBe(2);
      const again = new Arctic(uri, { workers: 2 });
      // The first read of the new instance: no new worker, none loading, so the workers read it.
      const { data, pooled } = await readWithPool(await again.getLibrary("lib"), "s");
      expect(data.equals(df)).toBe(true);
      expect(pooled).toBe(true);
      expect(started()).toBe(2);
      await again.close();
    });
  }, 120_000);

  it("serves Arctics on different stores and mem:// at once, each closing without disturbing the others", async () => {
    await countingWorkers(async (started) => {
      const dir = tempDir();
      const arctics = [
        new Arctic(`lmdb://${join(dir, "a.lmdb")}`, { workers: 2 }),
        new Arctic(`lmdb://${join(dir, "b.lmdb")}`, { workers: 1 }),
        new Arctic("mem://", { workers: 2 }),
      ];
      const frames = arctics.map((_, k) => frame(600_000, k + 2));
      const libs: Library[] = [];
      for (const [k, ac] of arctics.entries()) {
        libs.push(await ac.createLibrary("lib", { rowsPerSegment: 50_000 }));
        await libs[k].write("s", frames[k]);
      }
      // b has one worker: a read is not split among workers, so the calling thread does it.
      for (const k of [0, 2]) expect((await readOncePooled(libs[k], "s")).equals(frames[k])).toBe(true);
      expect((await readWithPool(libs[1], "s")).data.equals(frames[1])).toBe(true);
      // The same workers for all three (each uses at most its own `workers`).
      expect(started()).toBe(2);
      // Closing b while a and mem:// read: their reads finish, and later ones still go through the pool.
      const reads = [readWithPool(libs[0], "s"), readWithPool(libs[2], "s")];
      await arctics[1].close();
      for (const [i, k] of [0, 2].entries()) expect((await reads[i]).data.equals(frames[k])).toBe(true);
      for (const k of [0, 2]) {
        const { data, pooled } = await readWithPool(libs[k], "s");
        expect(data.equals(frames[k])).toBe(true);
        expect(pooled).toBe(true);
      }
      await rejectsWith(libs[1].read("s"), "StorageError");
      await arctics[0].close();
      await arctics[2].close();
      expect(started()).toBe(2);
    });
  }, 120_000);

  it("closing the last Arctic on a store closes the workers' handles on it too", async () => {
    // A worker still holding the old store would write a new store at the same path into the deleted one.
    await countingWorkers(async () => {
      const path = join(tempDir(), "gone.lmdb");
      const old = new Arctic(`lmdb://${path}`, { workers: 2 });
      const oldLib = await old.createLibrary("lib", { rowsPerSegment: 50_000 });
      await oldLib.write("s", frame(600_000, 5));
      await readOncePooled(oldLib, "s");
      await old.close();
      rmSync(path, { recursive: true, force: true });
      const fresh = new Arctic(`lmdb://${path}`, { workers: 2 });
      const lib = await fresh.createLibrary("lib", { rowsPerSegment: 50_000 });
      const df = frame(600_000, 6);
      await lib.write("s", df);
      expect((await readOncePooled(lib, "s")).equals(df)).toBe(true);
      expect(await lib.verify({ data: true })).toMatchObject({ ok: true });
      await fresh.close();
    });
  }, 120_000);
});

describe("workers no Arctic uses", () => {
  /** Registers a runtime counting the workers started and ended, with the timer `unrefTimer` (or none). */
  function instrumented(saved: Runtime, timers: { fn: () => void; ms: number; live: boolean }[] | null) {
    const count = { started: 0, ended: 0 };
    registerRuntime({
      ...saved,
      createWorker: () => {
        count.started++;
        const handle = saved.createWorker!();
        return {
          ...handle,
          terminate: () => {
            count.ended++;
            return handle.terminate();
          },
        };
      },
      unrefTimer: timers
        ? (fn, ms) => {
            const t = { fn, ms, live: true };
            timers.push(t);
            return () => {
              t.live = false;
            };
          }
        : undefined,
    });
    return count;
  }

  async function useStore(uri: string, df: DataFrame): Promise<void> {
    const ac = new Arctic(uri, { workers: 2 });
    const lib = await ac.getLibrary("lib", {
      createIfMissing: true,
      libraryOptions: { rowsPerSegment: 50_000 },
    });
    await lib.write("s", df);
    expect((await readOncePooled(lib, "s")).equals(df)).toBe(true);
    await ac.close();
  }

  it("stay a while after the last close() for the next Arctic, then end", async () => {
    const saved = runtime();
    const timers: { fn: () => void; ms: number; live: boolean }[] = [];
    const count = instrumented(saved, timers);
    try {
      const uri = `lmdb://${join(tempDir(), "idle.lmdb")}`;
      const df = frame(600_000, 8);
      await useStore(uri, df);
      expect(count).toEqual({ started: 2, ended: 0 });
      expect(timers.map((t) => [t.ms, t.live])).toEqual([[10_000, true]]);
      // A new Arctic within the while: the same workers, and the end is called off.
      await useStore(uri, df);
      expect(count).toEqual({ started: 2, ended: 0 });
      expect(timers.map((t) => t.live)).toEqual([false, true]);
      timers[1].fn();
      for (let i = 0; i < 100 && count.ended < 2; i++) await new Promise((r) => setTimeout(r, 20));
      expect(count).toEqual({ started: 2, ended: 2 });
      // After that, the next Arctic starts workers of its own.
      await useStore(uri, df);
      expect(count.started).toBe(4);
      timers[2].fn();
    } finally {
      registerRuntime(saved);
    }
  }, 120_000);

  it("do not keep the process from exiting after close()", async () => {
    // The workers and the timer that ends them are unref'd: the process exits well before the 10 s.
    const dir = tempDir();
    const script = join(dir, "closes.mjs");
    const dist = new URL("../../dist/node.js", import.meta.url).href;
    writeFileSync(
      script,
      `import { Arctic } from ${JSON.stringify(dist)};
       const ac = new Arctic(${JSON.stringify(`lmdb://${join(dir, "x.lmdb")}`)}, { workers: 2 });
       const lib = await ac.createLibrary("lib");
       const x = new Float64Array(2_000_000).map((_, i) => Math.round(Math.sin(i) * 100) / 100);
       await lib.write("s", { x });
       for (let i = 0; i < 20 && (await lib.read("s")).data.numRows === 2_000_000; i++);
       await ac.close();
       console.log("closed");`,
    );
    const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
    let closedAt = 0;
    child.stdout.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("closed")) closedAt = Date.now();
    });
    const code = await new Promise((resolve) => child.on("exit", resolve));
    expect(code).toBe(0);
    expect(closedAt).toBeGreaterThan(0);
    expect(Date.now() - closedAt).toBeLessThan(5_000);
  }, 120_000);

  it("end with the last close() where the runtime has no timer that lets the process exit", async () => {
    const saved = runtime();
    const count = instrumented(saved, null);
    try {
      await useStore("mem://", frame(600_000, 9));
      expect(count).toEqual({ started: 2, ended: 2 });
    } finally {
      registerRuntime(saved);
    }
  }, 120_000);
});

describe("close() with calls in flight", () => {
  for (const [uri, workers] of [
    ["lmdb", 2],
    ["lmdb", 0],
    ["mem://", 2],
  ] as const) {
    it(`waits for a read and a write in flight on ${uri} (workers: ${workers}), and refuses calls made after it began`, async () => {
      const path = join(tempDir(), "c.lmdb");
      const at = uri === "lmdb" ? `lmdb://${path}` : "mem://";
      const ac = new Arctic(at, { workers });
      const lib = await ac.createLibrary("lib", { rowsPerSegment: 50_000 });
      const df = frame(600_000, 7);
      await lib.write("s", df);
      if (workers > 0) await readOncePooled(lib, "s");
      const reading = lib.read("s");
      const writing = lib.write("t", df);
      const closing = ac.close();
      expect(ac.close()).toBe(closing); // a second close() waits for the same
      // Settled at once (handled here, so none is an unhandled rejection meanwhile).
      const late = [lib.read("s"), lib.write("u", df), lib.listSymbols(), ac.listLibraries()].map((p) =>
        p.then(
          () => null,
          (err: unknown) => err,
        ),
      );
      expect((await reading).data!.equals(df)).toBe(true);
      expect((await writing).version).toBe(0);
      for (const err of await Promise.all(late)) {
        expect(err).toBeInstanceOf(StorageError);
        expect((err as Error).message).toMatch(/is closed; create a new Arctic/);
      }
      await closing;
      await rejectsWith(lib.read("s"), "StorageError");
      if (uri === "lmdb") {
        const again = new Arctic(at, { workers });
        const libAgain = await again.getLibrary("lib");
        expect(await libAgain.listSymbols()).toEqual(["s", "t"]);
        expect((await libAgain.read("t")).data!.equals(df)).toBe(true);
        await again.close();
      }
    }, 120_000);
  }
});
