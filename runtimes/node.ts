/**
 * floe for Node.js: the portable core plus LMDB storage. Import `floe` and this is what you get.
 */

import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import * as lmdb from "lmdb";
import { registerRuntime } from "../src/api/runtime.ts";
import { provideLmdb } from "../src/storage/lmdb-module.ts";
import { threadEndpoint } from "./deno-views.ts";
import { openCheckedLmdb } from "./lmdb-checks.ts";
import { denoS3Fetch } from "./s3-fetch-deno.ts";
import { nodeS3Fetch } from "./s3-fetch-node.ts";
import { unrefTimer } from "./unref-timer.ts";

/** The built worker script: beside this file in dist/, or in dist/ when this file runs from source. */
function workerScript(): URL {
  const beside = new URL("./node-worker.js", import.meta.url);
  return existsSync(fileURLToPath(beside)) ? beside : new URL("../dist/node-worker.js", import.meta.url);
}

provideLmdb(lmdb);

registerRuntime({
  name: "node",
  cores: availableParallelism(),
  env: () => process.env,
  // Deno loading this entry: node:https there may not honour a custom CA context, so Deno's own way.
  s3Fetch: "Deno" in globalThis ? denoS3Fetch : nodeS3Fetch,
  openLmdb: openCheckedLmdb,
  unrefTimer,
  createWorker: () => {
    const worker = new Worker(workerScript());
    return {
      endpoint: threadEndpoint(worker),
      terminate: () => worker.terminate(),
      ref: () => worker.ref(),
      unref: () => worker.unref(),
    };
  },
  // Deno loading this entry: as runtimes/deno.ts says.
  warmDuringWrites: !("Deno" in globalThis),
});

export * from "../src/api/index.ts";
