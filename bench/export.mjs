// Exporting a symbol with string columns, against reading it.
//
//   npm run bench:export -- --rows 1000000 --repeats 5
//
// Writes --rows rows of three string columns (a 5-value ticker, a unique order id, a venue with nulls)
// and two numeric ones to lmdb:// (bench/out), then times, median of --repeats in one process: `read`
// of the whole symbol (the baseline), and `exportArrow`, `exportParquet` and `exportCsv` of it, each
// drained to the end. The ratio export / read says what the export adds to the read it includes.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Arctic, DataFrame } from "floe";
import { exportArrow, exportCsv, exportParquet } from "floe/io";
import { median } from "./lib/stats.mjs";

const { values: args } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    repeats: { type: "string", default: "5" },
    dir: { type: "string", default: "bench/out" },
  },
});
const rows = Number(args.rows);
const repeats = Number(args.repeats);
const path = join(args.dir, "export.lmdb");
rmSync(path, { recursive: true, force: true });

const tickers = ["AAPL", "MSFT", "GOOG", "AMZN", "TSLA"];
const frame = new DataFrame({
  ticker: Array.from({ length: rows }, (_, i) => tickers[i % 5]),
  order: Array.from({ length: rows }, (_, i) => `order-${i}`),
  venue: Array.from({ length: rows }, (_, i) => (i % 7 === 0 ? null : `venue${i % 13}`)),
  px: Float64Array.from({ length: rows }, () => 100 + Math.random()),
  qty: Int32Array.from({ length: rows }, (_, i) => i % 1000),
});
const ac = new Arctic(`lmdb://${path}`);
const lib = await ac.getLibrary("bench", { createIfMissing: true });
await lib.write("s", frame);

async function drain(chunks) {
  let bytes = 0;
  for await (const chunk of chunks) bytes += chunk.length;
  return bytes;
}

const cases = {
  read: async () => (await lib.read("s")).data.numRows,
  arrow: () => drain(exportArrow(lib, "s")),
  parquet: () => drain(exportParquet(lib, "s")),
  csv: () => drain(exportCsv(lib, "s")),
};
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let r = 0; r < repeats; r++) {
  // Interleaved, so a slow moment of the machine falls on every case alike.
  for (const [name, run] of Object.entries(cases)) {
    const t = performance.now();
    await run();
    times[name].push(performance.now() - t);
  }
}
const read = median(times.read);
console.log(
  `export of ${rows.toLocaleString("en")} rows (3 string columns, 2 numeric), median of ${repeats}`,
);
console.log("case      ms      / read");
for (const name of Object.keys(cases)) {
  const ms = median(times[name]);
  console.log(`${name.padEnd(8)}${ms.toFixed(0).padStart(6)}  ${(ms / read).toFixed(2).padStart(8)}`);
}
await ac.close();
rmSync(path, { recursive: true, force: true });
