/**
 * The body of one floe pool worker in Node (a `worker_threads` worker, bundled to dist/node-worker.js):
 * the portable segment worker, reachable through Comlink, with LMDB opened the Node way.
 */
import { parentPort } from "node:worker_threads";
import { expose, transfer } from "comlink";
import { provideLmdb } from "../src/storage/lmdb-module.ts";
import { createSegmentWorker } from "../src/version/segment-worker.ts";
import { threadEndpoint } from "./deno-views.ts";
import { openWorkerLmdb } from "./lmdb-checks.ts";
import { loadLmdbInDeno } from "./lmdb-deno.ts";

if (!parentPort)
  throw new Error("dist/node-worker.js is floe's pool worker; it runs inside a worker thread.");
// Deno starts this worker too (runtimes/deno.ts): there LMDB loads only where permitted, as in its entry.
if ("Deno" in globalThis) await loadLmdbInDeno();
else provideLmdb(await import("lmdb"));
expose(createSegmentWorker(openWorkerLmdb, transfer), threadEndpoint(parentPort));
