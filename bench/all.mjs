// `npm run bench`: a quick run of every study (small sizes, few repeats; a few minutes in all). Each study
// prints its tables, writes CSV and SVG to bench/out, and reports progress on stderr. Extra arguments are
// passed to every study (e.g. --out DIR). The full-size studies: npm run bench:throughput, bench:peers,
// bench:compression, bench:concurrency, bench:query (see BENCHMARKS.md).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const here = import.meta.dirname ?? fileURLToPath(new URL(".", import.meta.url));
if (!existsSync(join(here, "..", "dist", "node.js"))) {
  console.error("bench: dist/node.js is missing; run `npm run build` first");
  process.exit(1);
}
const studies = ["throughput", "peers", "compression", "concurrency", "query"];
const t0 = performance.now();
for (const study of studies) {
  const run = spawnSync(process.execPath, [join(here, `${study}.mjs`), "--quick", ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  if (run.status !== 0) {
    console.error(`bench: ${study} failed (exit ${run.status})`);
    process.exit(1);
  }
}
console.log(
  `\nall studies (quick) in ${((performance.now() - t0) / 60000).toFixed(1)} min; CSV and SVG in bench/out`,
);
