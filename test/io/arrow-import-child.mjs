// Imports one Arrow IPC file or stream into an lmdb:// store in a process of its own, read as a Node
// stream (importArrow) or by path (importFile), and prints as JSON the rows imported, their checksum,
// the seconds taken and the process's private memory (RssAnon + RssShmem of /proc/self/status, where
// pages of LMDB's mapped file are not counted) before and at its peak, sampled every 5 ms, so a test
// (or a person, on a file of gigabytes) can see that memory does not grow with the file.
//
// usage: node test/io/arrow-import-child.mjs <store dir> <file> [stream|path]

import { createReadStream, readFileSync } from "node:fs";
import { importArrow, importFile } from "../../dist/io.js";
import { Arctic } from "../../dist/node.js";

const [store, file, how = "stream"] = process.argv.slice(2);

/** Private memory in bytes: anonymous and shared-memory pages (Linux); the RSS elsewhere. */
function privateBytes() {
  try {
    const status = readFileSync("/proc/self/status", "utf8");
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
    return (kb("RssAnon") + kb("RssShmem")) * 1024;
  } catch {
    return process.memoryUsage().rss;
  }
}

const ac = new Arctic(`lmdb://${store}`, process.env.WORKERS ? { workers: Number(process.env.WORKERS) } : {});
const lib = await ac.getLibrary("lib", { createIfMissing: true });
globalThis.gc?.();
const before = privateBytes();
let peak = before;
const sampler = setInterval(() => {
  peak = Math.max(peak, privateBytes());
}, 5);
const started = performance.now();
const item =
  how === "path"
    ? await importFile(lib, "big", file)
    : await importArrow(lib, "big", createReadStream(file, { highWaterMark: 1 << 20 }));
const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);
peak = Math.max(peak, privateBytes());
// Every row back, chunk by chunk: the count and the sum of one column.
let rows = 0;
let sum = 0n;
for await (const chunk of lib.iterate("big", { columns: ["qty"] })) {
  rows += chunk.numRows;
  for (const v of chunk.column("qty")) sum += v;
}
await ac.close();
console.log(
  JSON.stringify({
    rows: item.rows,
    readBack: rows,
    sum: String(sum),
    seconds,
    privateBefore: before,
    privatePeak: peak,
    maxRss: process.resourceUsage().maxRSS * 1024,
  }),
);
