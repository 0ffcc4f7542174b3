import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { open } from "lmdb";
import { describe, expect, it } from "vitest";
import { Arctic, CorruptSegmentError, DataFrame, type Library } from "../../runtimes/node.ts";
import { type Runtime, registerRuntime, runtime } from "../../src/api/runtime.ts";
import { rejectsWith, tempDir } from "../helpers.ts";

// The worker pool (issue 4): large writes and reads go through real worker threads, each with its own
// Wasm instance and LMDB handle, and give exactly what the calling thread alone gives.

const run = promisify(execFile);
const MINUTE = 60_000_000_000n;

/** About 24 MB of mixed columns: compressible prices, integers, strings, bools and a timestamp index. */
function bigFrame(rows = 600_000): DataFrame {
  const index = new BigInt64Array(rows);
  const price = new Float64Array(rows);
  const volume = new BigInt64Array(rows);
  const side = new Array<string | null>(rows);
  const flag = new Uint8Array(rows);
  const noise = new Float32Array(rows);
  let p = 100;
  let seed = 7;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  for (let i = 0; i < rows; i++) {
    index[i] = 1_600_000_000_000_000_000n + BigInt(i) * MINUTE;
    p += rand() - 0.5;
    price[i] = Math.round(p * 100) / 100;
    volume[i] = BigInt(Math.floor(rand() * 10_000));
    side[i] = i % 97 === 0 ? null : rand() < 0.5 ? "buy" : "sell";
    flag[i] = rand() < 0.1 ? 1 : 0;
    noise[i] = rand();
  }
  return new DataFrame({ price, volume, side, flag, noise }, { index, dtypes: { flag: "bool" } });
}

describe("worker pool", () => {
  it("writes and reads a large frame on lmdb:// exactly as the calling thread does", async () => {
    const df = bigFrame();
    const dir = tempDir();
    const pooled = new Arctic(`lmdb://${join(dir, "p.lmdb")}`, { workers: 2 });
    const single = new Arctic(`lmdb://${join(dir, "s.lmdb")}`, { workers: 0 });
    expect(pooled.workers).toBe(2);
    const libP = await pooled.createLibrary("lib", { rowsPerSegment: 50_000 });
    const libS = await single.createLibrary("lib", { rowsPerSegment: 50_000 });
    await libP.write("bars", df, { metadata: { src: "pool" } });
    await libS.write("bars", df);
    const a = (await libP.read("bars")).data!;
    const b = (await libS.read("bars")).data!;
    expect(a.equals(df)).toBe(true);
    expect(b.equals(df)).toBe(true);
    expect((await libP.getDescription("bars")).storedBytes).toBe(
      (await libS.getDescription("bars")).storedBytes,
    );
    // Ranged and narrow reads through the pool.
    const from = 1_600_000_000_000_000_000n + 123_456n * MINUTE;
    const ranged = (await libP.read("bars", { dateRange: [from, null], columns: ["side", "price"] })).data!;
    expect(ranged.numRows).toBe(600_000 - 123_456);
    expect(ranged.columnNames).toEqual(["side", "price"]);
    const price = df.column("price") as Float64Array;
    const got = ranged.column("price") as Float64Array;
    for (let i = 0; i < got.length; i++) if (got[i] !== price[123_456 + i]) throw new Error(`price row ${i}`);
    expect(ranged.column("side")[0]).toBe(df.column("side")[123_456]);
    // The pool's version is an ordinary version: earlier ones stay, metadata is kept.
    await libP.write("bars", { x: [1] });
    expect((await libP.read("bars", { asOf: 0 })).metadata).toEqual({ src: "pool" });
    await pooled.close();
    await single.close();
  });

  it("encodes in workers for mem:// too, storing their bytes on the calling thread", async () => {
    const df = bigFrame(400_000);
    const ac = new Arctic("mem://", { workers: 2 });
    const lib = await ac.createLibrary("lib");
    await lib.write("s", df);
    expect((await lib.read("s")).data!.equals(df)).toBe(true);
    await ac.close();
  });

  for (const uri of ["lmdb", "mem://"]) {
    it(`splits a large read of ${uri} of raw data among the workers by columns`, async () => {
      // Random floats stay raw: the read is a checked copy into fresh memory, whose first touch (page
      // faults) the workers share out. Same frames as the calling thread alone must give.
      const rows = 300_000;
      let seed = 11;
      const rand = () => {
        seed = (seed * 1103515245 + 12345) >>> 0;
        return seed / 2 ** 32;
      };
      const cols: Record<string, Float64Array | string[]> = {};
      for (let c = 0; c < 6; c++) cols[`c${c}`] = Float64Array.from({ length: rows }, rand);
      cols.tag = Array.from({ length: rows }, (_, i) => `t${i % 13}`);
      const index = BigInt64Array.from(
        { length: rows },
        (_, i) => 1_700_000_000_000_000_000n + BigInt(i) * MINUTE,
      );
      const df = new DataFrame(cols, { index });
      const dir = tempDir();
      const at = (name: string) => (uri === "lmdb" ? `lmdb://${join(dir, name)}` : "mem://");
      const pooled = new Arctic(at("p.lmdb"), { workers: 2 });
      const single = new Arctic(at("s.lmdb"), { workers: 0 });
      const options = { rowsPerSegment: 40_000, dynamicSchema: true };
      const libP = await pooled.createLibrary("lib", options);
      const libS = await single.createLibrary("lib", options);
      // An append that adds a column leaves the first rows without it: the workers fill those gaps.
      const more = new DataFrame(
        { ...cols, extra: new Int32Array(rows).fill(7) },
        { index: index.map((t) => t + BigInt(rows) * MINUTE) },
      );
      for (const lib of [libP, libS]) {
        await lib.write("s", df);
        await lib.append("s", more);
      }
      // Progress comes once per worker job from the pool, once per segment from the calling thread.
      // A read this size does not wait for workers still loading, so read until they have loaded.
      const pooledCalls: number[] = [];
      const singleCalls: number[] = [];
      const whole = await readOncePooled(libP, "s", pooledCalls);
      const alone = (await libS.read("s", { onProgress: (p) => singleCalls.push(p.segmentsDone) })).data!;
      expect(whole.equals(alone)).toBe(true);
      expect(whole.numRows).toBe(2 * rows);
      expect(pooledCalls.length).toBeLessThanOrEqual(3);
      expect(singleCalls.length).toBeGreaterThan(10);
      // Plain memory, moved from the workers: not shared, so the garbage collector frees it as usual.
      expect((whole.column("c0") as Float64Array).buffer).toBeInstanceOf(ArrayBuffer);
      expect(whole.column("c5")[rows - 1]).toBe((cols.c5 as Float64Array)[rows - 1]);
      expect(whole.column("tag")[2 * rows - 1]).toBe(`t${(rows - 1) % 13}`);
      const extra = whole.column("extra") as Int32Array;
      expect(extra[rows - 1]).toBe(0);
      expect(extra[rows]).toBe(7);
      const from = index[123_457];
      for (const request of [
        { dateRange: [from, from + 400_000n * MINUTE] as [bigint, bigint] },
        { rowRange: [33_333, 512_345] as [number, number], columns: ["tag", "c3", "extra"] },
        { columns: ["c1"] },
      ]) {
        const a = (await libP.read("s", request)).data!;
        const b = (await libS.read("s", request)).data!;
        expect(a.equals(b)).toBe(true);
        expect(a.numRows).toBeGreaterThan(300_000);
      }
      await pooled.close();
      await single.close();
    });
  }

  for (const uri of ["lmdb", "mem://"]) {
    it(`sends string columns from the workers as a dictionary and codes, whatever their segments hold (${uri})`, async () => {
      // Segments of few distinct strings are stored as a dictionary, of distinct ones plainly; nulls,
      // unicode and the empty string in both. A pooled read must give the same strings either way.
      const rows = 400_000;
      const few = Array.from({ length: rows }, (_, i) =>
        i % 11 === 0 ? null : ["é", "", "buy", "sell"][i % 4],
      );
      const distinct = Array.from({ length: rows }, (_, i) =>
        i < rows / 2 ? (i % 7 === 0 ? null : `u${i}`) : ["x", "y"][i % 2],
      );
      const px = Float64Array.from({ length: rows }, (_, i) => i / 3);
      const df = new DataFrame({ few, distinct, px });
      const dir = tempDir();
      const pooled = new Arctic(uri === "lmdb" ? `lmdb://${join(dir, "p.lmdb")}` : "mem://", { workers: 2 });
      try {
        const lib = await pooled.createLibrary("lib", { rowsPerSegment: 50_000 });
        await lib.write("s", df);
        const calls: number[] = [];
        const whole = await readOncePooled(lib, "s", calls);
        expect(calls.length).toBeLessThanOrEqual(3); // read by the workers
        expect(whole.equals(df)).toBe(true);
        const part = (await lib.read("s", { columns: ["distinct"], rowRange: [190_000, 260_000] })).data!;
        expect(part.column("distinct")).toEqual(distinct.slice(190_000, 260_000));
      } finally {
        await pooled.close();
      }
    });
  }

  it("a worker's error reaches the caller with its floe class", async () => {
    const path = join(tempDir(), "c.lmdb");
    const ac = new Arctic(`lmdb://${path}`, { workers: 2 });
    const lib = await ac.createLibrary("lib", { rowsPerSegment: 100_000 });
    await lib.write("bars", bigFrame());
    const raw = open<Uint8Array, string>({ path, encoding: "binary", noSubdir: false });
    const [key] = [...raw.getKeys({ start: "S:lib/bars/", end: "S:lib/bars/\u{10ffff}", limit: 1 })];
    const bytes = raw.getBinary(key) as Uint8Array;
    const damaged = Uint8Array.from(bytes);
    damaged[damaged.length - 5] ^= 0xff;
    await raw.put(key, damaged);
    await raw.close();
    const err = await rejectsWith(lib.read("bars"), "CorruptSegmentError");
    expect(err).toBeInstanceOf(CorruptSegmentError);
    expect(err.message).toMatch(/checksum|damaged/);
    await ac.close();
  });

  it("close() while a pooled read runs waits for the workers instead of killing them mid-read", async () => {
    // Terminating a worker inside a native LMDB call aborts the whole process (seen in CI as a fatal
    // napi_throw); close() must let the workers' jobs settle first.
    const ac = new Arctic(`lmdb://${join(tempDir(), "r.lmdb")}`, { workers: 2 });
    const lib = await ac.createLibrary("lib", { rowsPerSegment: 100_000 });
    const df = bigFrame();
    await lib.write("bars", df);
    for (let i = 0; i < 5; i++) {
      const reading = lib.read("bars");
      await new Promise((r) => setTimeout(r, i * 3));
      if (i === 4) await ac.close();
      expect((await reading).data!.equals(df)).toBe(true);
    }
  });

  it("an idle pool does not keep the process alive, even without close()", async () => {
    const dir = tempDir();
    const script = join(dir, "no-close.mjs");
    const dist = new URL("../../dist/node.js", import.meta.url).href;
    writeFileSync(
      script,
      `import { Arctic, DataFrame } from ${JSON.stringify(dist)};
       const ac = new Arctic(${JSON.stringify(`lmdb://${join(dir, "n.lmdb")}`)}, { workers: 2 });
       const lib = await ac.createLibrary("lib");
       const x = new Float64Array(2_000_000).map((_, i) => Math.round(Math.sin(i) * 100) / 100);
       await lib.write("s", { x });
       const back = await lib.read("s");
       console.log(back.data.numRows);`,
    );
    const started = Date.now();
    const { stdout } = await run(process.execPath, [script], { timeout: 30_000 });
    expect(stdout.trim()).toBe("2000000");
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it("rejects a bad workers option", () => {
    expect(() => new Arctic("mem://", { workers: -1 })).toThrow(/workers/);
    expect(() => new Arctic("mem://", { workers: 1.5 })).toThrow(/workers/);
    expect(() => new Arctic("mem://", { threads: 2 } as never)).toThrow(/unknown option 'threads'/);
  });
});

/**
 * Reads `symbol` until the pool does it (progress reported per job, a few times, rather than per segment),
 * as a read under 96 MB runs on the calling thread while the workers load; `calls` gets that read's reports.
 */
async function readOncePooled(lib: Library, symbol: string, calls: number[]): Promise<DataFrame> {
  for (let attempt = 0; ; attempt++) {
    calls.length = 0;
    const data = (await lib.read(symbol, { onProgress: (p) => calls.push(p.segmentsDone) })).data!;
    if (calls.length <= 3 || attempt === 100) return data;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Registers `saved` with `changes`, counting the workers it starts (restore `saved` afterwards). */
function countingWorkers(saved: Runtime, changes: Partial<Runtime>): { started: number } {
  const counter = { started: 0 };
  registerRuntime({
    ...saved,
    ...changes,
    createWorker: () => {
      counter.started++;
      return saved.createWorker!();
    },
  });
  return counter;
}

/**
 * Writes 16 MB of random floats (they do not compress, so the calling thread writes them) with a pool of
 * 2 under `changes`, and returns how many workers had started at each progress report and once done.
 */
async function workersAroundCallerWrite(
  changes: Partial<Runtime>,
): Promise<{ during: number[]; after: number }> {
  const saved = runtime();
  const counter = countingWorkers(saved, changes);
  try {
    const ac = new Arctic(`lmdb://${join(tempDir(), "w.lmdb")}`, { workers: 2 });
    const lib = await ac.createLibrary("lib", { rowsPerSegment: 100_000 });
    const columns: Record<string, Float64Array> = {};
    for (const c of ["a", "b"]) columns[c] = Float64Array.from({ length: 1_000_000 }, () => Math.random());
    const df = new DataFrame(columns);
    const during: number[] = [];
    await lib.write("s", df, { onProgress: () => during.push(counter.started) });
    const after = counter.started;
    expect((await lib.read("s")).data!.equals(df)).toBe(true);
    await ac.close();
    return { during, after };
  } finally {
    registerRuntime(saved);
  }
}

describe("starting the pool around a write the calling thread does itself", () => {
  it("leaves the caller a core while it writes, and starts the rest once the write is done", async () => {
    const { during, after } = await workersAroundCallerWrite({});
    expect(during.length).toBeGreaterThan(0);
    expect(during.every((n) => n === 1)).toBe(true);
    expect(after).toBe(2);
  }, 60_000);

  it("starts none beside the caller's write where the runtime says so (Deno), and both once it is done", async () => {
    const { during, after } = await workersAroundCallerWrite({ warmDuringWrites: false });
    expect(during.length).toBeGreaterThan(0);
    expect(during.every((n) => n === 0)).toBe(true);
    expect(after).toBe(2);
  }, 60_000);

  it("a read does not wait for workers still loading: the calling thread reads, the pool starts", async () => {
    const saved = runtime();
    const counter = countingWorkers(saved, {});
    try {
      const path = join(tempDir(), "cold.lmdb");
      const writer = new Arctic(`lmdb://${path}`, { workers: 0 });
      const columns: Record<string, Float64Array> = {};
      for (const c of ["a", "b", "c"])
        columns[c] = Float64Array.from({ length: 1_000_000 }, () => Math.random());
      const df = new DataFrame(columns); // 24 MB of raw floats, 10 segments
      await (await writer.createLibrary("lib", { rowsPerSegment: 100_000 })).write("s", df);
      await writer.close();
      expect(counter.started).toBe(0);
      // A fresh instance: its first read finds no worker loaded, so reads per segment on this thread.
      const ac = new Arctic(`lmdb://${path}`, { workers: 2 });
      const lib = await ac.getLibrary("lib");
      const calls: number[] = [];
      const first = (await lib.read("s", { onProgress: (p) => calls.push(p.segmentsDone) })).data!;
      expect(first.equals(df)).toBe(true);
      expect(calls).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      // One worker started during the read, the other once it was done.
      expect(counter.started).toBe(2);
      const pooledCalls: number[] = [];
      expect((await readOncePooled(lib, "s", pooledCalls)).equals(df)).toBe(true);
      expect(pooledCalls.length).toBeLessThanOrEqual(3);
      expect(pooledCalls[pooledCalls.length - 1]).toBe(10);
      expect(counter.started).toBe(2);
      await ac.close();
    } finally {
      registerRuntime(saved);
    }
  }, 60_000);
});
