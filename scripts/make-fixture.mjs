// Regenerates test/fixtures/format-<N>.msgpack, the store the format test reads. Run it only when the
// storage format changes on purpose (and keep the old fixture: data written before must still read).
// Usage: node scripts/make-fixture.mjs [out-file]
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = join(import.meta.dirname, "..");
// Inside node_modules, so the bundle's external imports resolve to the repo's dependencies.
const out = join(root, "node_modules/.cache/floe/make-fixture.mjs");
await build({
  // With test/setup-lmdb.ts first, as vitest runs it: src/ gets the `lmdb` package from there.
  entryPoints: [join(root, "test/fixtures/make-fixture.ts")],
  inject: [join(root, "test/setup-lmdb.ts")],
  outfile: out,
  bundle: true,
  format: "esm",
  platform: "node",
  external: ["lmdb", "comlink", "@msgpack/msgpack"],
  logLevel: "warning",
});
const { makeFixture } = await import(pathToFileURL(out).href);
await makeFixture(process.argv[2] ?? join(root, "test/fixtures/format-2.msgpack"));
