/**
 * floe for Deno: the portable core plus LMDB storage (the `lmdb` package through Deno's npm support),
 * with a pool of workers driven through Comlink. `mem://` needs no permissions; `lmdb://` needs `-A` (or
 * at least `--allow-read --allow-write --allow-env --allow-ffi`): LMDB loads on import only when they are
 * granted (see lmdb-deno.ts).
 */
import { availableParallelism } from "node:os";
import process from "node:process";
import { Worker as ThreadWorker } from "node:worker_threads";
import { registerRuntime } from "../src/api/runtime.ts";
import type { WorkerHandle } from "../src/parallel/pool.ts";
import { threadEndpoint } from "./deno-views.ts";
import { openCheckedLmdb } from "./lmdb-checks.ts";
import { checkDenoLmdb, loadLmdbInDeno } from "./lmdb-deno.ts";
import { denoS3Fetch } from "./s3-fetch-deno.ts";
import { unrefTimer } from "./unref-timer.ts";

/** True when this module runs from source (a checkout, or JSR) rather than from dist/ (npm). */
const FROM_SOURCE = import.meta.url.endsWith(".ts");

/**
 * A `node:worker_threads` worker, where this module is a local file. Preferred: Deno's Web Workers keep
 * the process alive while they exist and cannot be unref'd, so an idle pool of them would stop a script
 * from exiting until close(); these can.
 */
function threadWorker(): WorkerHandle {
  const worker = new ThreadWorker(
    new URL(FROM_SOURCE ? "./node-worker.ts" : "./node-worker.js", import.meta.url),
  );
  return {
    // Typed arrays go as bare buffers: these workers clone typed arrays slowly (deno-views.ts).
    endpoint: threadEndpoint(worker),
    terminate: () => worker.terminate(),
    ref: () => worker.ref(),
    unref: () => worker.unref(),
  };
}

/**
 * A module Web Worker, where this module was loaded over https (JSR): Deno's worker_threads take file:
 * and data: URLs only. Such a pool keeps the process alive until `close()`.
 */
function webWorker(): WorkerHandle {
  const worker = new Worker(new URL("./deno-worker.ts", import.meta.url), { type: "module" });
  return { endpoint: worker, terminate: () => worker.terminate() };
}

await loadLmdbInDeno();

const threads = new URL(import.meta.url).protocol === "file:";

registerRuntime({
  name: "deno",
  cores: availableParallelism(),
  // Without --allow-env there is no environment to read: aws_auth then says credentials are missing.
  env: () => {
    try {
      return { ...process.env };
    } catch {
      return {};
    }
  },
  s3Fetch: denoS3Fetch,
  openLmdb: (options) => {
    checkDenoLmdb(options);
    return openCheckedLmdb(options);
  },
  unrefTimer,
  createWorker: threads ? threadWorker : webWorker,
  // A Deno worker's start beside a 200-400 MB write the calling thread does took 10-25 % off it.
  warmDuringWrites: false,
});

export * from "../src/api/index.ts";
