/**
 * The body of one floe pool worker in Bun (a Web Worker, bundled to dist/bun-worker.js): the portable
 * segment worker, reachable through Comlink, with its own LMDB handles.
 */

import { expose, transfer } from "comlink";
import * as lmdb from "lmdb";
import { provideLmdb } from "../src/storage/lmdb-module.ts";
import { createSegmentWorker } from "../src/version/segment-worker.ts";
import { openWorkerLmdb } from "./lmdb-checks.ts";

provideLmdb(lmdb);
expose(createSegmentWorker(openWorkerLmdb, transfer));
