/**
 * The body of one floe pool worker in a browser (a module Web Worker, bundled to dist/browser-worker.js):
 * the portable segment worker, reachable through Comlink. Browsers have only `mem://`, whose workers
 * encode into a private memory store and hand the bytes back, so opening LMDB here is an error.
 */
import { expose, transfer } from "comlink";
import { StorageError } from "../src/errors.ts";
import { createSegmentWorker } from "../src/version/segment-worker.ts";

expose(
  createSegmentWorker(() => {
    throw new StorageError("lmdb:// needs Node, Bun or Deno; in a browser use 'mem://'.");
  }, transfer),
);
