// Bundles each runtime entry into dist/ with esbuild. Dependencies stay external: npm installs them.
import { build } from "esbuild";

const external = ["lmdb", "comlink", "@msgpack/msgpack"];
await build({
  entryPoints: { node: "runtimes/node.ts", "node-worker": "runtimes/node-worker.ts" },
  outdir: "dist",
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: true,
  external,
  logLevel: "warning",
});
