// Bundles floe/io (dist/io.js), floe/arrow (dist/arrow.js) and the floe CLI (dist/cli.js) with esbuild.
// They import floe's core as `floe` (dist/node.js, built by bundle.mjs, in Node) instead of bundling a
// second copy, so `instanceof DataFrame` and the error classes are the same objects a program gets from
// `floe`, and floe/arrow's methods land on the DataFrame class every frame has. The CLI bundles commander,
// csv-parse and cli-progress, so the package's runtime dependencies stay lmdb, comlink and msgpack;
// apache-arrow and parquet-wasm are optional peers, loaded when a command needs them.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { build } from "esbuild";

const root = resolve(import.meta.dirname, "..");
const at = (p) => resolve(root, p);

// Source module → the package entry that already holds it. Through the package's own name, so each
// runtime resolves `floe` to its own entry (node, bun, deno) and floe/arrow augments the very DataFrame
// class the program imported.
const CORE = {
  [at("runtimes/node.ts")]: "floe",
  [at("src/api/index.ts")]: "floe",
  [at("src/errors.ts")]: "floe",
  [at("src/frame/dataframe.ts")]: "floe",
};
const ARROW = { [at("src/arrow/index.ts")]: "floe/arrow" };
const IO = { [at("runtimes/node-io.ts")]: "floe/io" };

function shareModules(map) {
  return {
    name: "share-floe-modules",
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, (args) => {
        const target = map[resolve(args.resolveDir, args.path)];
        return target ? { path: target, external: true } : undefined;
      });
    },
  };
}

const common = {
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: true,
  outdir: "dist",
  logLevel: "warning",
  external: ["lmdb", "comlink", "@msgpack/msgpack", "apache-arrow", "parquet-wasm"],
};

await build({ ...common, entryPoints: { arrow: "src/arrow/index.ts" }, plugins: [shareModules(CORE)] });
await build({
  ...common,
  entryPoints: { io: "runtimes/node-io.ts" },
  plugins: [shareModules({ ...CORE, ...ARROW })],
});
await build({
  ...common,
  entryPoints: { cli: "runtimes/cli/main.ts" },
  plugins: [shareModules({ ...CORE, ...ARROW, ...IO })],
  // cli-progress is CommonJS and requires Node built-ins; an ESM bundle needs a real `require` for that.
  banner: {
    js: 'import { createRequire as __floeRequire } from "node:module"; const require = __floeRequire(import.meta.url);',
  },
});

// A second copy of the core would break instanceof and floe/arrow's methods silently: fail the build.
for (const file of ["dist/arrow.js", "dist/io.js", "dist/cli.js"]) {
  const text = readFileSync(at(file), "utf8");
  if (/class (DataFrame|FloeError|Library)\b/.test(text)) {
    throw new Error(`${file} bundles a copy of floe's core; import it through src/api/index.ts instead.`);
  }
}
