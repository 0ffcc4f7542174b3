// A groupby by keys of growing cardinality, against DuckDB on the same data: where chunk-by-chunk
// partials stop reducing the data (each chunk holds about as many groups as rows) and their merge is the
// cost.
//
//   node bench/groupby-cardinality.mjs --rows 10000000 --repeats 3 --dir /tmp/gbc
//
// --rows rows of (k int64, v float64) with k = i * 7919 mod keys (every key equally often), written to
// floe (lmdb:// under --dir, one append a million rows) and to a DuckDB file beside it. For each number of
// keys: `groupby(k).agg(v sum, v count)` in floe (the default worker pool) and
// `SELECT k, sum(v), count(v) FROM t GROUP BY k ORDER BY k` in DuckDB, each answer materialised into JS
// arrays, timed as the median of --repeats, interleaved. Printed: ms for each and floe ÷ DuckDB.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Arctic, DataFrame, QueryBuilder } from "floe";
import { median } from "./lib/stats.mjs";

const { values: args } = parseArgs({
  options: {
    rows: { type: "string" },
    repeats: { type: "string" },
    quick: { type: "boolean", default: false },
    dir: { type: "string", default: "bench/out" },
  },
  strict: false, // `npm run bench` passes its extra arguments to every study
});
const rows = Number(args.rows ?? (args.quick ? 1_000_000 : 10_000_000));
const repeats = Number(args.repeats ?? 3);
const CARDINALITIES = [100, 10_000, 1_000_003].filter((c) => c <= rows);
const duck = await import("@duckdb/node-api");
mkdirSync(args.dir, { recursive: true });

console.log(`groupby(k): sum and count of v over ${rows.toLocaleString("en")} rows, median of ${repeats}`);
console.log("keys        floe ms   DuckDB ms   floe÷DuckDB");
for (const keys of CARDINALITIES) {
  const path = join(args.dir, `card-${keys}.lmdb`);
  const duckPath = join(args.dir, `card-${keys}.duckdb`);
  rmSync(path, { recursive: true, force: true });
  rmSync(duckPath, { force: true });
  const ac = new Arctic(`lmdb://${path}`);
  const lib = await ac.getLibrary("bench", { createIfMissing: true });
  const STEP = 1_000_000;
  for (let at = 0; at < rows; at += STEP) {
    const n = Math.min(STEP, rows - at);
    const k = new BigInt64Array(n);
    const v = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const i = at + j;
      k[j] = BigInt((i * 7919) % keys);
      v[j] = (i % 1000) / 10;
    }
    const frame = new DataFrame({ k, v });
    if (at === 0) await lib.write("t", frame);
    else await lib.append("t", frame);
  }
  const instance = await duck.DuckDBInstance.create(duckPath);
  const conn = await instance.connect();
  await conn.run(
    `CREATE TABLE t AS SELECT CAST((i * 7919) % ${keys} AS BIGINT) AS k, (i % 1000) / 10 AS v
     FROM range(${rows}) r(i) ORDER BY i`,
  );
  await conn.run("CHECKPOINT");
  const query = new QueryBuilder().groupby("k").agg({ v: "sum", n: ["v", "count"] });
  const sql = "SELECT k, sum(v) AS v, count(v) AS n FROM t GROUP BY k ORDER BY k";
  const floe = [];
  const ddb = [];
  for (let r = 0; r < repeats; r++) {
    let t = performance.now();
    const { data } = await lib.read("t", { query });
    floe.push(performance.now() - t);
    t = performance.now();
    const reader = await conn.runAndReadAll(sql);
    const columns = reader.getColumnsJS();
    ddb.push(performance.now() - t);
    if (data.numRows !== columns[0].length) {
      throw new Error(`${keys} keys: floe has ${data.numRows} groups, DuckDB ${columns[0].length}`);
    }
  }
  const f = median(floe);
  const d = median(ddb);
  console.log(
    `${String(keys).padEnd(10)}${f.toFixed(0).padStart(9)}${d.toFixed(0).padStart(12)}${(f / d).toFixed(2).padStart(14)}`,
  );
  conn.closeSync?.();
  await ac.close();
  rmSync(path, { recursive: true, force: true });
  rmSync(duckPath, { force: true });
}
