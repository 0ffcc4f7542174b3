// The seed's concurrency example in TypeScript: 50 writers (processes, or with --threads worker threads
// of one process) each open their own Arctic on one lmdb:// path and write one symbol of ~1 MB of random
// floats at once. Afterwards every symbol must be listed. It writes the writers' lifetimes to
// <out>/timings.csv (writer, start, end: seconds since the first writer started) and draws them, as
// the seed's plot does, to <out>/timings.svg with Vega-Lite.
//
//   npm run example:concurrent -- [--writers 50] [--threads] [--kb 1000] [--out out]
//
// Node 20 cannot run .ts, so the npm script first compiles this file with esbuild to
// build/examples/concurrent-writers.mjs (floe and the other packages stay imports) and runs that; the
// writers are that same file started again, as a child process or a worker thread.
import { fork } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parentPort, Worker, workerData } from "node:worker_threads";
import { Arctic } from "floe";
import type { TopLevelSpec } from "vega-lite";

/** What a writer is told to do. */
interface Job {
  path: string;
  symbol: string;
  rows: number;
  cols: number;
}

/** What a writer reports: when it started and ended writing, in ms since the epoch. */
interface Timing {
  symbol: string;
  start: number;
  end: number;
}

const { values: opts } = parseArgs({
  options: {
    writers: { type: "string", default: "50" },
    threads: { type: "boolean", default: false },
    kb: { type: "string", default: "1000" },
    cols: { type: "string", default: "10" },
    out: { type: "string", default: "out" },
    child: { type: "string" },
  },
});

// Wall-clock ms with sub-ms precision, comparable across processes.
const now = () => performance.timeOrigin + performance.now();

/** One writer, as in the seed: connect, then time the write of a frame of standard normal floats. */
async function write(job: Job): Promise<Timing> {
  const ac = new Arctic(`lmdb://${job.path}`);
  const lib = await ac.getLibrary("lib");
  const columns: Record<string, Float64Array> = {};
  for (let c = 0; c < job.cols; c++) columns[`c${c}`] = normals(job.rows);
  const start = now();
  await lib.write(job.symbol, columns);
  const end = now();
  await ac.close();
  return { symbol: job.symbol, start, end };
}

/** Standard normal samples (Box–Muller), like numpy's randn. */
function normals(n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
  }
  return out;
}

/** Starts one writer and resolves with its timing. */
function startWriter(job: Job, threads: boolean): Promise<Timing> {
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = threads
      ? new Worker(self, { workerData: job })
      : fork(self, ["--child", JSON.stringify(job)], { stdio: "inherit" });
    let timing: Timing | undefined;
    child.on("message", (m: Timing) => {
      timing = m;
    });
    child.on("error", reject);
    child.on("exit", (code: number | null) =>
      timing && code === 0 ? resolve(timing) : reject(new Error(`writer ${job.symbol} exited with ${code}`)),
    );
  });
}

/** The writers' lifetimes as the seed plots them: one line per writer, a dot where it began and ended. */
async function chart(rows: { writer: string; start: number; end: number }[], title: string): Promise<string> {
  const y = { field: "writer", type: "ordinal", sort: { field: "start" }, axis: null } as const;
  const spec: TopLevelSpec = {
    title,
    width: 800,
    height: Math.max(200, rows.length * 12),
    data: { values: rows },
    layer: [
      {
        mark: { type: "rule", color: "black" },
        encoding: { y, x: { field: "start", type: "quantitative", title: "Time (s)" }, x2: { field: "end" } },
      },
      {
        transform: [
          { fold: ["start", "end"], as: ["event", "t"] },
          { calculate: "datum.event === 'start' ? 'Begin writing' : 'End writing'", as: "label" },
        ],
        mark: { type: "circle", size: 60, opacity: 1 },
        encoding: {
          y,
          x: { field: "t", type: "quantitative" },
          color: {
            field: "label",
            type: "nominal",
            title: null,
            // matplotlib's first and fifth colours, as in the seed's plot
            scale: { domain: ["Begin writing", "End writing"], range: ["#1f77b4", "#9467bd"] },
            legend: { orient: "top-right" },
          },
        },
      },
    ],
  };
  // Imported here, not at the top: every writer runs this file too, and need not load Vega.
  const vega = await import("vega");
  const { compile } = await import("vega-lite");
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  return view.toSVG();
}

async function main(): Promise<void> {
  const writers = Number(opts.writers);
  const threads = opts.threads;
  const cols = Number(opts.cols);
  // The seed's sizing: data_KB of float64 spread over ncols columns.
  const rows = Math.floor((Number(opts.kb) * 1000) / cols / 8);
  mkdirSync(opts.out, { recursive: true });
  const path = join(opts.out, "data.lmdb");
  rmSync(path, { recursive: true, force: true });

  const ac = new Arctic(`lmdb://${path}`);
  const lib = await ac.createLibrary("lib");
  const names = Array.from({ length: writers }, (_, i) => `symbol_${i}`);
  const t0 = now();
  const timings = await Promise.all(
    names.map((symbol) => startWriter({ path, symbol, rows, cols }, threads)),
  );
  const elapsed = now() - t0;

  const listed = await lib.listSymbols();
  await ac.close();
  const missing = names.filter((n) => !listed.includes(n));
  const kind = threads ? "worker threads" : "processes";
  console.log(
    `${writers} ${kind} wrote ${writers} symbols of ${rows} rows × ${cols} float64 columns in ${elapsed.toFixed(0)} ms ` +
      `(start-up included); listSymbols() has ${listed.length} of them`,
  );
  if (missing.length > 0) {
    console.error(`MISSING: ${missing.join(", ")}`);
    process.exitCode = 1;
  }

  const first = Math.min(...timings.map((t) => t.start));
  const rel = timings
    .map((t) => ({ writer: t.symbol, start: (t.start - first) / 1000, end: (t.end - first) / 1000 }))
    .sort((a, b) => a.start - b.start);
  const csv = [
    "writer,start,end",
    ...rel.map((r) => `${r.writer},${r.start.toFixed(6)},${r.end.toFixed(6)}`),
  ];
  writeFileSync(join(opts.out, "timings.csv"), `${csv.join("\n")}\n`);
  const last = Math.max(...rel.map((r) => r.end));
  console.log(`first write began to last write ended: ${(last * 1000).toFixed(0)} ms`);
  writeFileSync(
    join(opts.out, "timings.svg"),
    await chart(rel, `Concurrent LMDB writes (${writers} ${kind})`),
  );
  console.log(`wrote ${join(opts.out, "timings.csv")} and ${join(opts.out, "timings.svg")}`);
}

// The same file is the parent and, started again, each writer.
const job: Job | undefined = workerData ?? (opts.child ? JSON.parse(opts.child) : undefined);
if (!job) {
  await main();
} else {
  const timing = await write(job);
  if (parentPort) {
    parentPort.postMessage(timing);
  } else {
    await new Promise<void>((resolve) => process.send!(timing, () => resolve()));
    process.disconnect(); // the IPC channel would keep this process alive
  }
}
