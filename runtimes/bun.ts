/**
 * floe for Bun: the portable core plus LMDB storage (the `lmdb` package loads in Bun as in Node), with a
 * pool of Bun's Web Workers driven through Comlink. `import { Arctic } from "floe"` in Bun resolves here.
 */

import { availableParallelism } from "node:os";
import * as lmdb from "lmdb";
import { registerRuntime } from "../src/api/runtime.ts";
import { provideLmdb } from "../src/storage/lmdb-module.ts";
import { openCheckedLmdb } from "./lmdb-checks.ts";
import { bunS3Fetch } from "./s3-fetch-bun.ts";
import { unrefTimer } from "./unref-timer.ts";

/** Bun's Worker also has Node's ref/unref, which the DOM typings do not know. */
interface BunWorker extends Worker {
  ref(): void;
  unref(): void;
}

/**
 * The worker entry beside this module: the .ts source when Bun runs floe from source, the bundled .js in
 * dist/ otherwise.
 */
const WORKER_URL = new URL(
  import.meta.url.endsWith(".ts") ? "./bun-worker.ts" : "./bun-worker.js",
  import.meta.url,
);

provideLmdb(lmdb);

registerRuntime({
  name: "bun",
  cores: availableParallelism(),
  env: () => process.env,
  s3Fetch: bunS3Fetch,
  openLmdb: openCheckedLmdb,
  unrefTimer,
  createWorker: () => {
    // A Web Worker rather than node:worker_threads: it is Bun's native kind, and has unref() too.
    const worker = new Worker(WORKER_URL, { type: "module" }) as BunWorker;
    return {
      endpoint: worker,
      terminate: () => worker.terminate(),
      ref: () => worker.ref(),
      unref: () => worker.unref(),
    };
  },
});

export * from "../src/api/index.ts";
