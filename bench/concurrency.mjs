// The seed's concurrency study: 50 writers each write one symbol of ~1 MB of random floats into one
// lmdb:// store at once, as processes and as worker threads; the writers' lifetimes drawn as the seed's
// chart, and the total time printed.
//
//   npm run bench:concurrency                  # 50 writers, 1000 KB each, 3 runs of each kind
//   npm run bench:concurrency -- --quick       # 1 run of each kind
//   options: --writers N   --kb KB   --runs N   --out DIR (bench/out)   --charts DIR (also write SVGs there)
//
// The writers are examples/concurrent-writers.ts (compiled with esbuild to <out>/concurrent-writers.mjs,
// floe imported from the built package), which times each write and checks that listSymbols() has every
// symbol. This script runs it --runs times per kind, keeps the run with the median total time for the
// chart, and writes <out>/concurrency-<kind>.csv (writer, start, end in s) and concurrency-<kind>.svg.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { timelineSpec, writeSvg } from "./lib/chart.mjs";
import { writeCsv } from "./lib/csv.mjs";
import { Progress } from "./lib/progress.mjs";
import { median } from "./lib/stats.mjs";

const here = import.meta.dirname ?? fileURLToPath(new URL(".", import.meta.url));
const { values: args } = parseArgs({
  options: {
    writers: { type: "string", default: "50" },
    kb: { type: "string", default: "1000" },
    runs: { type: "string" },
    quick: { type: "boolean", default: false },
    out: { type: "string", default: join(here, "out") },
    charts: { type: "string" },
  },
});
const runs = Number(args.runs ?? (args.quick ? 1 : 3));

// Compiled into bench/out (inside the package, so `import "floe"` resolves to this package's dist/).
const script = join(here, "out", "concurrent-writers.mjs");
await build({
  entryPoints: [join(here, "..", "examples", "concurrent-writers.ts")],
  outfile: script,
  bundle: true,
  platform: "node",
  format: "esm",
  packages: "external",
  logLevel: "warning",
});

const kinds = [
  ["processes", []],
  ["threads", ["--threads"]],
];
const progress = new Progress("concurrency", kinds.length * runs);
const summary = [];
for (const [kind, flags] of kinds) {
  const results = [];
  for (let r = 0; r < runs; r++) {
    progress.update(`${args.writers} ${kind}, run ${r + 1}/${runs}`);
    const dir = join(args.out, `concurrency-${kind}-run${r + 1}`);
    const run = spawnSync(
      process.execPath,
      [script, "--writers", args.writers, "--kb", args.kb, "--out", dir, ...flags],
      { encoding: "utf8", maxBuffer: 1 << 24 },
    );
    if (run.status !== 0)
      throw new Error(`concurrent writers (${kind}) failed:\n${run.stdout}\n${run.stderr}`);
    // "... in 1234 ms (start-up included); listSymbols() has 50 of them" and "... last write ended: 567 ms"
    const total = Number(/in (\d+) ms \(start-up included\)/.exec(run.stdout)?.[1]);
    const span = Number(/last write ended: (\d+) ms/.exec(run.stdout)?.[1]);
    const listed = Number(/listSymbols\(\) has (\d+)/.exec(run.stdout)?.[1]);
    const rows = readFileSync(join(dir, "timings.csv"), "utf8")
      .trim()
      .split("\n")
      .slice(1)
      .map((line) => {
        const [writer, start, end] = line.split(",");
        return { writer, start: Number(start), end: Number(end) };
      });
    rmSync(join(dir, "data.lmdb"), { recursive: true, force: true });
    results.push({ total, span, listed, rows });
    progress.step();
  }
  const mid = median(results.map((x) => x.total));
  const chosen = results.reduce((a, b) => (Math.abs(b.total - mid) < Math.abs(a.total - mid) ? b : a));
  const durations = chosen.rows.map((x) => x.end - x.start);
  summary.push({
    kind,
    writers: Number(args.writers),
    kb: Number(args.kb),
    runs,
    totalMs: results.map((x) => x.total).join(" "),
    medianTotalMs: mid,
    medianSpanMs: median(results.map((x) => x.span)),
    medianWriteMs: median(durations) * 1000,
    maxWriteMs: Math.max(...durations) * 1000,
    symbolsListed: Math.min(...results.map((x) => x.listed)),
  });
  writeCsv(join(args.out, `concurrency-${kind}.csv`), chosen.rows);
  const title = `Concurrent LMDB writes: ${args.writers} ${kind === "threads" ? "worker threads" : "processes"}, ${args.kb} KB each (floe)`;
  const files = [join(args.out, `concurrency-${kind}.svg`)];
  if (args.charts) files.push(join(args.charts, `concurrency-${kind}.svg`));
  await writeSvg(timelineSpec(chosen.rows, title), ...files);
}
progress.end();
writeCsv(join(args.out, "concurrency-summary.csv"), summary);

console.log(
  `\n${args.writers} concurrent writers of ${args.kb} KB into one lmdb:// store (${runs} runs each; median)`,
);
console.log(
  `${"".padEnd(11)}${"total ms".padStart(10)}${"first begin→last end ms".padStart(26)}${"one write ms (median, max)".padStart(30)}  listed`,
);
for (const s of summary) {
  console.log(
    `${s.kind.padEnd(11)}${s.medianTotalMs.toFixed(0).padStart(10)}${s.medianSpanMs.toFixed(0).padStart(26)}` +
      `${`${s.medianWriteMs.toFixed(0)}, ${s.maxWriteMs.toFixed(0)}`.padStart(30)}  ${s.symbolsListed}/${s.writers}`,
  );
}
console.log(
  "(total: from starting the writers to all exited, start-up included; all runs:",
  summary.map((s) => `${s.kind} ${s.totalMs}`).join("; "),
  ")",
);
