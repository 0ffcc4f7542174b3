/**
 * floe for browsers: the portable core on `mem://`, with a pool of module Web Workers driven through
 * Comlink. There is no file system here, so `lmdb://` throws a `StorageError` saying it needs Node, Bun
 * or Deno. Bundled with its dependencies into dist/browser.js (worker: dist/browser-worker.js beside it).
 */
import { registerRuntime } from "../src/api/runtime.ts";

/**
 * The worker entry beside this module. `new URL(…, import.meta.url)` is the form bundlers (Vite, webpack,
 * esbuild) recognise and that works unbundled from dist/.
 */
const WORKER_URL = new URL(
  import.meta.url.endsWith(".ts") ? "./browser-worker.ts" : "./browser-worker.js",
  import.meta.url,
);

registerRuntime({
  name: "browser",
  cores: globalThis.navigator?.hardwareConcurrency ?? 1,
  createWorker: () => {
    const worker = new Worker(WORKER_URL, { type: "module", name: "floe" });
    // Browser workers never keep a page alive, so there is no ref/unref to offer.
    return { endpoint: worker, terminate: () => worker.terminate() };
  },
});

export * from "../src/api/index.ts";
