// A query's memory is the chunks in flight and its answer, not the symbol (issue 23): a symbol of --mb
// raw megabytes of minute bars (ts, sym string, open/high/low/close float64, volume int64: 56 bytes a
// row, 100 symbols) on lmdb:// under --dir, then, each in a fresh process after one warm-up run, a plain
// read of the columns a groupby needs, and queries that answer in few rows: groupby(sym), resample("1h")
// and a filter keeping ~1 %. Printed: ms, MB/s of raw columns read, and peak private memory
// (bench/lib/memory.mjs).
//
//   node bench/query-memory.mjs --mb 1000
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Arctic, col, DataFrame, QueryBuilder } from "floe";
import { measured } from "./lib/memory.mjs";

const { values: args } = parseArgs({
  options: {
    mb: { type: "string", default: "1000" },
    dir: { type: "string", default: "bench/out" },
    case: { type: "string" },
  },
});
const ROW_BYTES = 56;
const rows = Math.floor((Number(args.mb) * 1e6) / ROW_BYTES);
const uri = `lmdb://${join(args.dir, "query-memory.lmdb")}`;
const SYMS = 100;
const MINUTE = 60_000_000_000n;
const T0 = 1_704_067_200_000_000_000n;
const names = Array.from({ length: SYMS }, (_, k) => `S${String(k).padStart(3, "0")}`);

/** Rows [from, from + n) of the bars: formulas of the row number. */
function bars(from, n) {
  const ts = new BigInt64Array(n);
  const sym = new Array(n);
  const [open, high, low, close] = [0, 0, 0, 0].map(() => new Float64Array(n));
  const volume = new BigInt64Array(n);
  for (let j = 0; j < n; j++) {
    const i = from + j;
    ts[j] = T0 + BigInt(Math.floor(i / SYMS)) * MINUTE;
    sym[j] = names[i % SYMS];
    close[j] = 100 + ((i * 7919) % 10007) / 100;
    open[j] = close[j] + (((i * 13) % 101) - 50) / 100;
    high[j] = Math.max(open[j], close[j]) + 0.25;
    low[j] = Math.min(open[j], close[j]) - 0.25;
    volume[j] = BigInt(100 * (1 + (i % 10)));
  }
  return new DataFrame({ sym, open, high, low, close, volume }, { index: ts });
}

const CASES = {
  "read sym, close, volume": { columns: ["sym", "close", "volume"], bytes: 8 + 8 + 8 + 8 },
  "groupby(sym): close mean, volume sum": {
    query: new QueryBuilder().groupby("sym").agg({ close: "mean", volume: "sum" }),
    bytes: 32,
  },
  'resample("1h"): OHLC, volume sum': {
    query: new QueryBuilder().resample("1h").agg({
      open: ["open", "first"],
      high: ["high", "max"],
      low: ["low", "min"],
      close: ["close", "last"],
      volume: "sum",
    }),
    bytes: 48,
  },
  "filter(close > 199.9), all columns": {
    query: new QueryBuilder().filter(col("close").gt(199.9)),
    bytes: 56,
  },
};

async function runCase(name) {
  const { columns, query, bytes } = CASES[name];
  const ac = new Arctic(uri);
  const lib = await ac.getLibrary("bench");
  const once = async () => (await lib.read("bars", { columns, query })).data.numRows;
  await once(); // warm: the worker pool started, the map's pages in the page cache
  const r = await measured(once);
  await ac.close();
  process.stdout.write(`${JSON.stringify({ ...r, mb: (rows * bytes) / 1e6 })}\n`);
}

if (args.case) await runCase(args.case);
else {
  const dir = join(args.dir, "query-memory.lmdb");
  rmSync(dir, { recursive: true, force: true });
  const ac = new Arctic(uri);
  const lib = await ac.createLibrary("bench");
  async function* frames() {
    for (let from = 0; from < rows; from += 200_000) yield bars(from, Math.min(200_000, rows - from));
  }
  const t = performance.now();
  await lib.write("bars", frames());
  console.log(
    `symbol: ${rows.toLocaleString("en")} rows × 56 bytes = ${args.mb} MB raw, lmdb:// (written in ${((performance.now() - t) / 1000).toFixed(1)} s)`,
  );
  await ac.close();
  const self = fileURLToPath(import.meta.url);
  for (const name of Object.keys(CASES)) {
    const r = JSON.parse(
      execFileSync(process.execPath, [self, "--case", name, "--mb", args.mb, "--dir", args.dir], {
        encoding: "utf8",
      }).trim(),
    );
    console.log(
      `${name.padEnd(40)} ${String(r.out).padStart(9)} rows out ${r.ms.toFixed(0).padStart(6)} ms ${(r.mb / (r.ms / 1000)).toFixed(0).padStart(5)} MB/s  peak private ${String(r.peakMB).padStart(5)} MB (at start ${r.baseMB} MB)`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
}
