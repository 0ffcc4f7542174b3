// Peak private memory of this process while a function runs: RssAnon + RssShmem of /proc/self/status
// (pages of LMDB's mapped file a read touches are the page cache, shared and reclaimable, not counted),
// sampled every 2 ms by a worker thread, so also while a synchronous call holds the main thread. Linux only.
import { Worker } from "node:worker_threads";

/** Runs `fn` and returns its ms, the peak private MB while it ran, the MB at the start, and what it returned. */
export async function measured(fn) {
  const buffer = new SharedArrayBuffer(8);
  const shared = new Int32Array(buffer);
  const worker = new Worker(
    `const { readFileSync } = require("node:fs");
     const { parentPort, workerData } = require("node:worker_threads");
     const shared = new Int32Array(workerData);
     const read = () => { const s = readFileSync("/proc/self/status", "utf8");
       const kb = (k) => Number((s.match(new RegExp(k + ":\\\\s+(\\\\d+)")) || [0, 0])[1]);
       return Math.round((kb("RssAnon") + kb("RssShmem")) / 1024); };
     const tick = () => { const mb = read(); if (mb > Atomics.load(shared, 0)) Atomics.store(shared, 0, mb);
       if (Atomics.load(shared, 1) === 0) setTimeout(tick, 2); else parentPort.postMessage("done"); };
     tick();`,
    { eval: true, workerData: buffer },
  );
  while (Atomics.load(shared, 0) === 0) await new Promise((r) => setTimeout(r, 10));
  const base = Atomics.load(shared, 0);
  const t = performance.now();
  const out = await fn();
  const ms = performance.now() - t;
  Atomics.store(shared, 1, 1);
  await new Promise((r) => worker.once("message", r));
  await worker.terminate();
  return { ms, peakMB: Atomics.load(shared, 0), baseMB: base, out };
}
