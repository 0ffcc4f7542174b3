// Queries inside the store, against DuckDB on the same data (issue 23's Q1–Q5).
//
//   npm run bench:query -- --rows 2000000 --repeats 3
//   npm run bench:query -- --quick                     # 200,000 rows, 3 repeats (what `npm run bench` runs)
//
// --rows minute bars (default 10,000,000) for 100 symbols — ts (100 rows a minute, one per symbol), sym
// (string), open, high, low, close (float64), volume (int64) — written to floe (lmdb:// under --dir,
// default bench/out) and to a DuckDB file beside it (@duckdb/node-api), both from the same integer formulas
// of the row number, so both hold the same values. Each query's answer is materialised into JS arrays
// (floe: the DataFrame's typed arrays; DuckDB: `getColumnsJS()`), timed as the median of --repeats,
// interleaved. Printed: ms for each, floe ÷ DuckDB, and the decoded bytes and segments floe read
// (onProgress), and "its read": the time of a plain floe read of the same columns and dates, without the
// clauses, i.e. how much of floe's time is fetching and decoding. Q2's answers are compared, to show the
// two stores hold the same data.
//
//   Q1 filter(close > x), ~1 % of rows, all columns
//   Q2 groupby(sym).agg(close mean, volume sum)
//   Q3 resample("1h"): open first, high max, low min, close last, volume sum
//   Q4 filter(close > open) + apply(range = high - low) + groupby([sym, volume]).agg(range mean, count)
//   Q5 dateRange of one day + filter(close > 150), all columns
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Arctic, col, DataFrame, dateBounds, QueryBuilder, requiredColumns } from "floe";
import { median } from "./lib/stats.mjs";

const { values: args } = parseArgs({
  options: {
    rows: { type: "string" },
    repeats: { type: "string" },
    quick: { type: "boolean", default: false },
    dir: { type: "string", default: "bench/out" },
    keep: { type: "boolean", default: false },
  },
  strict: false, // `npm run bench` passes its extra arguments to every study
});
const rows = Number(args.rows ?? (args.quick ? 200_000 : 10_000_000));
const repeats = Number(args.repeats ?? 3);
const SYMS = 100;
const MINUTE = 60_000_000_000n;
const T0 = Date.UTC(2024, 0, 1);
const path = join(args.dir, "query.lmdb");
const duckPath = join(args.dir, "query.duckdb");
rmSync(path, { recursive: true, force: true });
rmSync(duckPath, { force: true });
mkdirSync(args.dir, { recursive: true });

// The data, as formulas of the row number i that JS doubles and DuckDB's DOUBLE compute alike.
const symName = (k) => `S${String(k).padStart(3, "0")}`;
function bars(from, to) {
  const n = to - from;
  const ts = new BigInt64Array(n);
  const sym = new Array(n);
  const [open, high, low, close] = [0, 0, 0, 0].map(() => new Float64Array(n));
  const volume = new BigInt64Array(n);
  const names = Array.from({ length: SYMS }, (_, k) => symName(k));
  for (let j = 0; j < n; j++) {
    const i = from + j;
    ts[j] = BigInt(T0) * 1_000_000n + BigInt(Math.floor(i / SYMS)) * MINUTE;
    sym[j] = names[i % SYMS];
    const c = 100 + ((i * 7919) % 10007) / 100;
    const o = c + (((i * 13) % 101) - 50) / 100;
    close[j] = c;
    open[j] = o;
    high[j] = Math.max(o, c) + ((i * 17) % 50) / 100;
    low[j] = Math.min(o, c) - ((i * 19) % 50) / 100;
    volume[j] = BigInt(100 * (1 + ((i * 37 + Math.floor(i / SYMS)) % 10)));
  }
  return new DataFrame({ sym, open, high, low, close, volume }, { index: { name: "ts", values: ts } });
}
const DUCK_TABLE = `CREATE TABLE t AS
  SELECT TIMESTAMP '2024-01-01 00:00:00' + to_minutes(i // ${SYMS}) AS ts,
         'S' || lpad(CAST(i % ${SYMS} AS VARCHAR), 3, '0') AS sym,
         o AS open,
         greatest(o, c) + ((i * 17) % 50) / 100 AS high,
         least(o, c) - ((i * 19) % 50) / 100 AS low,
         c AS close,
         CAST(100 * (1 + (i * 37 + i // ${SYMS}) % 10) AS BIGINT) AS volume
  FROM (SELECT i, c, c + (((i * 13) % 101) - 50) / 100 AS o
        FROM (SELECT i, 100 + ((i * 7919) % 10007) / 100 AS c FROM range(${rows}) r(i)))
  ORDER BY i`;

const t0 = performance.now();
const ac = new Arctic(`lmdb://${path}`);
const lib = await ac.getLibrary("bench", { createIfMissing: true });
const CHUNK = 1_000_000;
for (let at = 0; at < rows; at += CHUNK) {
  const part = bars(at, Math.min(rows, at + CHUNK));
  if (at === 0) await lib.write("bars", part);
  else await lib.append("bars", part);
}
const floeWrite = performance.now() - t0;

const duck = await import("@duckdb/node-api");
const t1 = performance.now();
const instance = await duck.DuckDBInstance.create(duckPath);
const conn = await instance.connect();
await conn.run(DUCK_TABLE);
await conn.run("CHECKPOINT");
const duckWrite = performance.now() - t1;

const minutes = Math.ceil(rows / SYMS);
const day = Math.floor(minutes / 2 / 1440); // the middle day (day 0 when there is less than a day)
const dayStart = new Date(T0 + day * 86_400_000).toISOString().slice(0, 10);
const X = 199.06; // close runs 100 .. 200.06 evenly: ~1 % above
const queries = {
  Q1: {
    floe: new QueryBuilder().filter(col("close").gt(X)),
    sql: `SELECT * FROM t WHERE close > ${X}`,
  },
  Q2: {
    floe: new QueryBuilder().groupby("sym").agg({ close: "mean", volume: "sum" }),
    sql: "SELECT sym, avg(close) AS close, sum(volume) AS volume FROM t GROUP BY sym ORDER BY sym",
  },
  Q3: {
    floe: new QueryBuilder().resample("1h").agg({
      open: "first",
      high: "max",
      low: "min",
      close: "last",
      volume: "sum",
    }),
    sql: `SELECT time_bucket(INTERVAL '1 hour', ts) AS ts, arg_min(open, ts) AS open, max(high) AS high,
            min(low) AS low, arg_max(close, ts) AS close, sum(volume) AS volume
          FROM t GROUP BY 1 ORDER BY 1`,
  },
  Q4: {
    floe: new QueryBuilder()
      .filter(col("close").gt(col("open")))
      .apply("range", col("high").sub(col("low")))
      .groupby(["sym", "volume"])
      .agg({ range: "mean", n: ["close", "count"] }),
    sql: `SELECT sym, volume, avg(high - low) AS range, count(close) AS n FROM t
          WHERE close > open GROUP BY sym, volume ORDER BY sym, volume`,
  },
  Q5: {
    floe: new QueryBuilder()
      .dateRange(`${dayStart}T00:00:00Z`, `${dayStart}T23:59:59.999999999Z`)
      .filter(col("close").gt(150)),
    sql: `SELECT * FROM t WHERE ts BETWEEN TIMESTAMP '${dayStart} 00:00:00'
            AND TIMESTAMP '${dayStart} 23:59:59.999999' AND close > 150`,
  },
};

const stats = {};
async function runFloe(q) {
  let progress;
  const { data } = await lib.read("bars", { query: q, onProgress: (p) => (progress = p) });
  // The answer's columns are typed arrays (strings: an array) already: touch each to be sure.
  for (const name of data.columnNames) data.column(name).length;
  return { rows: data.numRows, progress, data };
}
// The read alone: the columns and dates the query needs, without running its clauses.
const stored = ["sym", "open", "high", "low", "close", "volume"];
async function readOnly(q) {
  const { start, end } = dateBounds(q, "ts");
  const dateRange = start === null && end === null ? undefined : [start, end];
  const { data } = await lib.read("bars", { columns: requiredColumns(q, stored), dateRange });
  return data.numRows;
}
async function runDuck(sql) {
  const reader = await conn.runAndReadAll(sql);
  const columns = reader.getColumnsJS();
  return { rows: columns[0]?.length ?? 0, columns, names: reader.columnNames() };
}

const times = Object.fromEntries(Object.keys(queries).map((k) => [k, { floe: [], read: [], duck: [] }]));
for (let r = 0; r < repeats; r++) {
  // Interleaved, so a slow moment of the (shared) machine falls on both alike.
  for (const [name, q] of Object.entries(queries)) {
    let t = performance.now();
    const f = await runFloe(q.floe);
    times[name].floe.push(performance.now() - t);
    t = performance.now();
    await readOnly(q.floe);
    times[name].read.push(performance.now() - t);
    t = performance.now();
    const d = await runDuck(q.sql);
    times[name].duck.push(performance.now() - t);
    stats[name] = { floeRows: f.rows, duckRows: d.rows, progress: f.progress, f, d };
  }
}

// Q2's answers agree: the two stores hold the same data.
{
  const { f, d } = stats.Q2;
  const means = f.data.column("close");
  const sums = f.data.column("volume");
  const dMeans = d.columns[1];
  const dSums = d.columns[2];
  for (let k = 0; k < f.rows; k++) {
    if (Math.abs(means[k] - dMeans[k]) > 1e-9 * Math.abs(means[k]) || BigInt(sums[k]) !== BigInt(dSums[k])) {
      throw new Error(`Q2 differs at ${k}: floe ${means[k]}, ${sums[k]}; DuckDB ${dMeans[k]}, ${dSums[k]}`);
    }
  }
}

const mb = (b) => (b / 1e6).toFixed(1);
console.log(
  `queries on ${rows.toLocaleString("en")} minute bars of ${SYMS} symbols, median of ${repeats} ` +
    `(loading: floe lmdb:// ${(floeWrite / 1000).toFixed(1)} s, DuckDB file ${(duckWrite / 1000).toFixed(1)} s)`,
);
console.log(
  "query   rows out    floe ms  (its read)   DuckDB ms   floe÷DuckDB   floe decoded MB   segments read",
);
for (const name of Object.keys(queries)) {
  const f = median(times[name].floe);
  const d = median(times[name].duck);
  const s = stats[name];
  if (s.floeRows !== s.duckRows)
    console.warn(`${name}: floe returned ${s.floeRows} rows, DuckDB ${s.duckRows}`);
  console.log(
    `${name.padEnd(6)}${String(s.floeRows).padStart(10)}${f.toFixed(0).padStart(11)}` +
      `${median(times[name].read).toFixed(0).padStart(12)}${d.toFixed(0).padStart(12)}` +
      `${(f / d).toFixed(2).padStart(14)}${mb(s.progress?.bytesTotal ?? 0).padStart(18)}` +
      `${String(s.progress?.segmentsTotal ?? 0).padStart(16)}`,
  );
}
conn.closeSync();
instance.closeSync?.();
await ac.close();
if (!args.keep) {
  rmSync(path, { recursive: true, force: true });
  rmSync(duckPath, { force: true });
  rmSync(`${duckPath}.wal`, { force: true });
}
