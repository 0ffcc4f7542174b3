// For studies of floe's internals (kernels, codecs) that the public API does not expose: bundles the
// modules named in `exports` from src/ on the fly (esbuild), so a study measures the code the library
// ships, and imports the bundle. Also the `--name value` argument reader those studies share.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

/** The value after `--name` on the command line, or `fallback`. */
export function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

/** `contents` (export lines of paths from the repository root) bundled into bench/out/`name`.mjs and imported. */
export async function importInternals(name, contents) {
  const root = join(import.meta.dirname, "..", "..");
  const out = join(root, "bench", "out");
  mkdirSync(out, { recursive: true });
  const outfile = join(out, `${name}.mjs`);
  await build({
    stdin: { contents, resolveDir: root, loader: "ts" },
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    logLevel: "warning",
  });
  return import(pathToFileURL(outfile).href);
}
