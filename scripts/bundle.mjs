// Bundles each runtime entry into dist/ with esbuild.
// - node, bun, deno: dependencies stay external (npm installs them; Deno resolves them as npm packages).
// - browser: one self-contained ES module with everything inside (comlink, msgpack, the Wasm bytes), and
//   its pool worker emitted beside it as dist/browser-worker.js, so a page imports it with no bundler.
import { build } from "esbuild";

const external = ["lmdb", "comlink", "@msgpack/msgpack"];
const common = { outdir: "dist", bundle: true, format: "esm", sourcemap: true, logLevel: "warning" };

await Promise.all([
  build({
    ...common,
    entryPoints: {
      node: "runtimes/node.ts",
      "node-worker": "runtimes/node-worker.ts",
      bun: "runtimes/bun.ts",
      "bun-worker": "runtimes/bun-worker.ts",
      deno: "runtimes/deno.ts",
    },
    platform: "node",
    target: "node20",
    external,
  }),
  build({
    ...common,
    entryPoints: { browser: "runtimes/browser.ts", "browser-worker": "runtimes/browser-worker.ts" },
    platform: "browser",
    // ES2022 syntax as written: current Chrome, Edge, Safari and Firefox (module workers need Firefox 114+).
    target: ["es2022"],
  }),
]);
