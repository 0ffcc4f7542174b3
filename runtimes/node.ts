/**
 * floe for Node.js: the portable core plus LMDB storage. Import `floe` and this is what you get.
 */
import { registerRuntime } from "../src/api/runtime.ts";
import { LmdbStorage } from "../src/storage/lmdb-storage.ts";

registerRuntime({
  name: "node",
  openLmdb: (options) => new LmdbStorage(options),
});

export * from "../src/api/index.ts";
