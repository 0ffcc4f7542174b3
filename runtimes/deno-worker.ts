/**
 * The body of one floe pool worker in Deno when floe was loaded over https (JSR), where Deno's
 * worker_threads cannot start it: a module Web Worker running the portable segment worker, reachable
 * through Comlink, with its own LMDB handles.
 */
import { expose, transfer } from "comlink";
import { createSegmentWorker } from "../src/version/segment-worker.ts";
import { openWorkerLmdb } from "./lmdb-checks.ts";
import { loadLmdbInDeno } from "./lmdb-deno.ts";

await loadLmdbInDeno();
expose(createSegmentWorker(openWorkerLmdb, transfer));
