// floe beside its peers, on the same frames in the same run: Apache Arrow IPC files, LanceDB and DuckDB.
//
//   npm run bench:peers                        # 200 MB wide frame, 10 M-row series, 5 repeats
//   npm run bench:peers -- --quick             # 20 MB, 1 M rows, 3 repeats
//   options: --size MB   --rows N   --repeats N   --reads N   --dir DIR (bench/out/peers, on disk)   --out DIR
//            --only floe,arrow,lance,duckdb   --charts DIR (also write the SVG chart there)
//
// Two studies, every contender on the same disk directory:
//   wide  the seed's frame (10 float64 columns of normals, --size MB): write it, then read it all back into
//         one typed array per column. Each repeat of each contender runs in a fresh process (see
//         throughput.mjs for why).
//   ts    a minute-bar series of --rows rows (ns timestamps, open/high/low/close float64, volume int64):
//         write it, then a first date-range read of 1 % of the rows (a random window) into typed arrays,
//         --reads more (default 25: a read takes milliseconds, and the median of five taken right after the
//         first still held the warm-up reads of the process), and --repeats appends of 1,000 rows. One
//         process per contender.
//
// Each peer's fast path, as its documentation suggests for bulk columnar data:
//   floe     Library.write / read / read({ dateRange }) / append on lmdb:// (flushed on commit, the default),
//            and again with ?sync=false (commits not flushed, like the file-based peers' writes).
//   arrow    apache-arrow: makeTable over the typed arrays (no copy), tableToIPC(..., "file") and one
//            writeFileSync; read with readFileSync + tableFromIPC, columns as toArray() (views, no copy).
//            The series is written in record batches of 100,000 rows with each batch's first timestamp in
//            the schema metadata, so a range read opens the file and reads only the batches it needs
//            (AsyncRecordBatchFileReader.readRecordBatch). An IPC file cannot grow in place: an append
//            rewrites the file (read, concatenate, write).
//   lance    @lancedb/lancedb: createTable from the Arrow table, query().toArrow() and toArray() per column;
//            the range read is query().where("ts >= a AND ts <= b") with a BTree index on ts (built after
//            the write, timed apart); append is table.add(1,000 rows).
//   duckdb   @duckdb/node-api: an appender fed whole data chunks whose vectors are filled by memcpy from the
//            typed arrays (copy_data_to_vector); reads stream the result and copy each chunk's vectors
//            (vector_get_data) into preallocated typed arrays; the range read is WHERE ts BETWEEN a AND b on
//            the sorted table (zone maps skip the rest); append is an appender of 1,000 rows.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { open as openFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { barsSpec, writeSvg } from "./lib/chart.mjs";
import { writeCsv } from "./lib/csv.mjs";
import { gc, MINUTE_NS, minuteBars, normalColumns, runtimeVersion, START_NS } from "./lib/data.mjs";
import { Progress } from "./lib/progress.mjs";
import { median, summarize } from "./lib/stats.mjs";

const here = import.meta.dirname ?? fileURLToPath(new URL(".", import.meta.url));
const { values: args } = parseArgs({
  options: {
    size: { type: "string" },
    rows: { type: "string" },
    repeats: { type: "string" },
    reads: { type: "string" },
    quick: { type: "boolean", default: false },
    dir: { type: "string", default: join(here, "out", "peers") },
    out: { type: "string", default: join(here, "out") },
    only: { type: "string" },
    charts: { type: "string" },
    child: { type: "string" },
  },
});
const sizeMB = Number(args.size ?? (args.quick ? 20 : 200));
const tsRows = Number(args.rows ?? (args.quick ? 1_000_000 : 10_000_000));
const repeats = Number(args.repeats ?? (args.quick ? 3 : 5));
const reads = Number(args.reads ?? (args.quick ? 10 : 25));
const NCOLS = 10;
const BATCH = 100_000;
const APPEND_ROWS = 1000;
const TS_COLS = ["open", "high", "low", "close", "volume"];

const CONTENDERS = {
  floe: "floe lmdb:// (flushed)",
  "floe-nosync": "floe lmdb://?sync=false",
  arrow: "Arrow IPC file",
  lance: "LanceDB",
  duckdb: "DuckDB",
};

/** Bytes a directory (or file) takes, summed over its files. */
function duBytes(path) {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((a, f) => a + duBytes(join(path, f)), 0);
}

async function time(fn) {
  gc();
  const t0 = performance.now();
  const r = await fn();
  return [(performance.now() - t0) / 1000, r];
}

// ---- the contenders: each gives write(table), readAll(), readRange(a, b), append(table), close() -----------
//
// A "table" here is { index?: BigInt64Array, columns: { name: typed array } } with the index (if any) as
// column "ts" for the peers.

async function floeStore(path, sync) {
  const { Arctic, DataFrame } = await import("../dist/node.js");
  const ac = new Arctic(`lmdb://${path}${sync ? "" : "?sync=false"}`);
  const lib = await ac.getLibrary("lib", { createIfMissing: true });
  const frame = (t) => new DataFrame(t.columns, t.index ? { index: t.index } : {});
  return {
    write: (t) => lib.write("t", frame(t)),
    readAll: async () => (await lib.read("t")).data,
    readRange: async (a, b) => (await lib.read("t", { dateRange: [a, b] })).data,
    append: (t) => lib.append("t", frame(t)),
    rows: (d) => d.numRows,
    close: () => ac.close(),
  };
}

async function arrowStore(path) {
  const arrow = await import("apache-arrow");
  const file = join(path, "t.arrow");
  mkdirSync(path, { recursive: true });
  const toTable = (t) => {
    const cols = t.index ? { ts: t.index, ...t.columns } : t.columns;
    const n = Object.values(cols)[0].length;
    if (!t.index || n <= BATCH) return arrow.makeTable(cols);
    // Record batches of BATCH rows, each batch's first timestamp in the schema metadata.
    const batches = [];
    const starts = [];
    for (let at = 0; at < n; at += BATCH) {
      const part = {};
      for (const [k, v] of Object.entries(cols)) part[k] = v.subarray(at, Math.min(n, at + BATCH));
      batches.push(arrow.makeTable(part).batches[0]);
      starts.push(String(t.index[at]));
    }
    const schema = new arrow.Schema(batches[0].schema.fields, new Map([["batch_starts", starts.join(",")]]));
    return new arrow.Table(
      schema,
      batches.map((b) => new arrow.RecordBatch(schema, b.data)),
    );
  };
  const columnsOf = (table) => {
    const out = {};
    for (const f of table.schema.fields) out[f.name] = table.getChild(f.name).toArray();
    return out;
  };
  let last = null; // the series as written, for appends (an IPC file is rewritten, not grown)
  return {
    write: (t) => {
      last = t;
      writeFileSync(file, arrow.tableToIPC(toTable(t), "file"));
    },
    readAll: () => columnsOf(arrow.tableFromIPC(readFileSync(file))),
    readRange: async (a, b) => {
      const fh = await openFile(file, "r");
      try {
        const reader = await arrow.RecordBatchReader.from(fh);
        await reader.open();
        const starts = reader.schema.metadata.get("batch_starts").split(",").map(BigInt);
        const parts = [];
        for (let i = 0; i < starts.length; i++) {
          const end = i + 1 < starts.length ? starts[i + 1] : null;
          if (starts[i] > b || (end !== null && end <= a)) continue;
          parts.push(await reader.readRecordBatch(i));
        }
        // Trim the first and last batch to the range (binary search on the sorted ts) and concatenate.
        const out = {};
        const names = reader.schema.fields.map((f) => f.name);
        const slices = parts.map((batch) => {
          const ts = batch.getChild("ts").toArray();
          return [batch, lowerBound(ts, a), lowerBound(ts, b + 1n)];
        });
        const total = slices.reduce((s, [, lo, hi]) => s + hi - lo, 0);
        for (const name of names) {
          const first = slices[0][0].getChild(name).toArray();
          const arr = new first.constructor(total);
          let at = 0;
          for (const [batch, lo, hi] of slices) {
            arr.set(batch.getChild(name).toArray().subarray(lo, hi), at);
            at += hi - lo;
          }
          out[name] = arr;
        }
        return out;
      } finally {
        await fh.close();
      }
    },
    append: (t) => {
      // Read what is stored, concatenate the new rows, write the file anew.
      const stored = columnsOf(arrow.tableFromIPC(readFileSync(file)));
      const cat = (x, y) => {
        const out = new x.constructor(x.length + y.length);
        out.set(x);
        out.set(y, x.length);
        return out;
      };
      const ts = cat(stored.ts, t.index);
      const columns = {};
      for (const k of Object.keys(t.columns)) columns[k] = cat(stored[k], t.columns[k]);
      last = { index: ts, columns };
      writeFileSync(file, arrow.tableToIPC(toTable(last), "file"));
    },
    rows: (d) => Object.values(d)[0].length,
    close: () => {},
  };
}

function lowerBound(arr, x) {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

async function lanceStore(path) {
  // LanceDB require()s apache-arrow; tables made by the ESM build are another module instance, which
  // its instanceof checks reject, so make them with the same CommonJS instance.
  const arrow = createRequire(import.meta.url)("apache-arrow");
  const lancedb = await import("@lancedb/lancedb");
  const db = await lancedb.connect(path);
  let table = null;
  const toArrow = (t) => arrow.makeTable(t.index ? { ts: t.index, ...t.columns } : t.columns);
  const columnsOf = (tbl) => {
    const out = {};
    for (const f of tbl.schema.fields) out[f.name] = tbl.getChild(f.name).toArray();
    return out;
  };
  return {
    write: async (t) => {
      table = await db.createTable("t", toArrow(t), { mode: "overwrite" });
    },
    index: async () => table.createIndex("ts", { config: lancedb.Index.btree() }),
    readAll: async () => columnsOf(await table.query().toArrow()),
    readRange: async (a, b) => columnsOf(await table.query().where(`ts >= ${a} AND ts <= ${b}`).toArrow()),
    append: (t) => table.add(toArrow(t)),
    rows: (d) => Object.values(d)[0].length,
    close: () => {
      table?.close();
      db.close();
    },
  };
}

async function duckdbStore(path) {
  const duck = await import("@duckdb/node-api");
  const bindings = (await import("@duckdb/node-bindings")).default;
  mkdirSync(path, { recursive: true });
  const instance = await duck.DuckDBInstance.create(join(path, "t.duckdb"));
  const conn = await instance.connect();
  const VSIZE = 2048;
  const typeOf = (arr) => (arr instanceof BigInt64Array ? duck.BIGINT : duck.DOUBLE);
  let names = [];
  let types = [];
  const appendAll = async (cols) => {
    const n = cols[0].length;
    const appender = await conn.createAppender("t");
    const chunk = duck.DuckDBDataChunk.create(types, VSIZE);
    const vectors = cols.map((_, i) => bindings.data_chunk_get_vector(chunk.chunk, i));
    for (let at = 0; at < n; at += VSIZE) {
      const len = Math.min(VSIZE, n - at);
      for (let i = 0; i < cols.length; i++) {
        const a = cols[i];
        bindings.copy_data_to_vector(vectors[i], 0, a.buffer, a.byteOffset + at * 8, len * 8);
      }
      bindings.data_chunk_set_size(chunk.chunk, len);
      appender.appendDataChunk(chunk);
    }
    appender.closeSync();
  };
  const readQuery = async (sql, params) => {
    const result = await conn.stream(sql, params);
    const parts = names.map(() => []);
    let total = 0;
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const n = chunk.rowCount;
      for (let i = 0; i < names.length; i++) {
        const v = bindings.data_chunk_get_vector(chunk.chunk, i);
        // A view of DuckDB's vector memory, valid while the chunk lives: copied out at once.
        parts[i].push(bindings.vector_get_data(v, n * 8).slice());
      }
      total += n;
    }
    const out = {};
    names.forEach((name, i) => {
      const bytes = new Uint8Array(total * 8);
      let at = 0;
      for (const p of parts[i]) {
        bytes.set(p, at);
        at += p.length;
      }
      out[name] = types[i] === duck.BIGINT ? new BigInt64Array(bytes.buffer) : new Float64Array(bytes.buffer);
    });
    return out;
  };
  return {
    write: async (t) => {
      const cols = t.index ? { ts: t.index, ...t.columns } : t.columns;
      names = Object.keys(cols);
      types = Object.values(cols).map(typeOf);
      await conn.run(`CREATE OR REPLACE TABLE t (${names.map((n, i) => `"${n}" ${types[i]}`).join(", ")})`);
      await appendAll(Object.values(cols));
    },
    readAll: () => readQuery("SELECT * FROM t"),
    readRange: (a, b) => readQuery("SELECT * FROM t WHERE ts BETWEEN $1 AND $2", [a, b]),
    append: (t) => appendAll([t.index, ...Object.values(t.columns)]),
    rows: (d) => Object.values(d)[0].length,
    close: () => {
      conn.closeSync();
      instance.closeSync?.();
    },
  };
}

async function openStore(who, path) {
  if (who === "floe") return floeStore(path, true);
  if (who === "floe-nosync") return floeStore(path, false);
  if (who === "arrow") return arrowStore(path);
  if (who === "lance") return lanceStore(path);
  if (who === "duckdb") return duckdbStore(path);
  throw new Error(`unknown contender '${who}'`);
}

// ---- child: one contender, one study ---------------------------------------------------------------------

async function child(spec) {
  const [who, study] = spec.split(":");
  const path = join(args.dir, who);
  rmSync(path, { recursive: true, force: true });
  mkdirSync(args.dir, { recursive: true });
  const samples = [];
  const store = await openStore(who, path);
  if (study === "wide") {
    const { nrows, columns } = normalColumns(sizeMB * 1e6, NCOLS);
    const bytes = nrows * NCOLS * 8;
    const [tw] = await time(() => store.write({ columns }));
    samples.push({ op: "write", secs: tw, bytes });
    samples.push({ op: "stored bytes", secs: Number.NaN, bytes: duBytes(path) });
    let back;
    const [tr] = await time(async () => {
      back = await store.readAll();
    });
    if (store.rows(back) !== nrows) throw new Error(`${who} read ${store.rows(back)} rows, not ${nrows}`);
    const c9 = back.c9 ?? back.column?.("c9");
    if (c9[nrows - 1] !== columns.c9[nrows - 1]) throw new Error(`${who} read back wrong data`);
    samples.push({ op: "read", secs: tr, bytes });
  } else {
    const { index, columns } = minuteBars(tsRows, { symbol: false });
    const rowBytes = 8 * (1 + TS_COLS.length);
    const [tw] = await time(() => store.write({ index, columns }));
    samples.push({ op: "write series", secs: tw, bytes: tsRows * rowBytes });
    samples.push({ op: "stored bytes", secs: Number.NaN, bytes: duBytes(path) });
    if (store.index) {
      const [ti] = await time(() => store.index());
      samples.push({ op: "build index", secs: ti, bytes: 0 });
    }
    const want = Math.floor(tsRows / 100);
    // A range read of a random window, checked against the rows written.
    const rangeRead = async (op) => {
      const from = Math.floor(Math.random() * (tsRows - want));
      const a = START_NS + BigInt(from) * MINUTE_NS;
      const b = a + BigInt(want - 1) * MINUTE_NS;
      let back;
      const [t] = await time(async () => {
        back = await store.readRange(a, b);
      });
      if (store.rows(back) !== want)
        throw new Error(`${who} range read ${store.rows(back)} rows, not ${want}`);
      const close = back.close ?? back.column?.("close");
      if (close[0] !== columns.close[from]) throw new Error(`${who} range read wrong data`);
      samples.push({ op, secs: t, bytes: want * rowBytes });
    };
    // The first range read of the process is reported apart: it compiles code (JIT, Wasm, query plans)
    // and warms the allocator, which a long-lived store has done already. One untimed append likewise.
    await rangeRead("first date range read 1 %");
    let next = tsRows;
    await store.append(minuteBars(APPEND_ROWS, { from: next, symbol: false }));
    next += APPEND_ROWS;
    for (let r = 0; r < reads; r++) await rangeRead("date range read 1 %");
    for (let r = 0; r < repeats; r++) {
      const more = minuteBars(APPEND_ROWS, { from: next, symbol: false });
      const [t] = await time(() => store.append(more));
      samples.push({ op: "append 1,000 rows", secs: t, bytes: APPEND_ROWS * rowBytes });
      next += APPEND_ROWS;
    }
  }
  await store.close();
  rmSync(path, { recursive: true, force: true });
  return { runtime: runtimeVersion(), samples };
}

if (args.child) {
  const out = await child(args.child);
  process.stdout.write(`\n${JSON.stringify(out)}\n`);
  process.exit(0);
}

// ---- parent ---------------------------------------------------------------------------------------------

const who = args.only ? args.only.split(",") : Object.keys(CONTENDERS);
const self = fileURLToPath(import.meta.url);
const steps = [];
for (let r = 0; r < repeats; r++) for (const w of who) steps.push([w, "wide", r]);
for (const w of who) steps.push([w, "ts", 0]);
const progress = new Progress("peers", steps.length);
const raw = [];
let version = "";
for (const [w, study, r] of steps) {
  progress.update(`${CONTENDERS[w]}, ${study}${study === "wide" ? ` repeat ${r + 1}/${repeats}` : ""}`);
  const run = spawnSync(
    process.execPath,
    [
      "--expose-gc",
      self,
      "--child",
      `${w}:${study}`,
      "--size",
      String(sizeMB),
      "--rows",
      String(tsRows),
      "--repeats",
      String(repeats),
      "--reads",
      String(reads),
      "--dir",
      args.dir,
    ],
    { encoding: "utf8", maxBuffer: 1 << 24 },
  );
  if (run.status !== 0) throw new Error(`peers: ${w} ${study} failed:\n${run.stderr}`);
  const lines = run.stdout.trim().split("\n");
  const res = JSON.parse(lines[lines.length - 1]);
  version = res.runtime;
  for (const s of res.samples) {
    raw.push({
      contender: w,
      name: CONTENDERS[w],
      study,
      op: s.op,
      repeat: r + 1,
      seconds: s.secs ?? Number.NaN,
      bytes: s.bytes,
      MBps: typeof s.secs === "number" && s.secs > 0 ? s.bytes / 1e6 / s.secs : Number.NaN,
    });
  }
  progress.step();
}
const elapsed = progress.end();
rmSync(args.dir, { recursive: true, force: true });

const ops = [
  ["wide", "write", `write ${sizeMB} MB (10 float64 cols)`],
  ["wide", "read", `read ${sizeMB} MB into typed arrays`],
  ["ts", "write series", `write ${(tsRows / 1e6).toLocaleString()} M-row series`],
  ["ts", "first date range read 1 %", "the process's first date-range read of 1 %"],
  ["ts", "date range read 1 %", `date-range read of 1 % (${(tsRows / 100).toLocaleString()} rows)`],
  ["ts", "append 1,000 rows", "append 1,000 rows"],
];
const summary = [];
for (const [study, op, label] of ops) {
  for (const w of who) {
    const xs = raw.filter((x) => x.contender === w && x.study === study && x.op === op);
    if (xs.length === 0) continue;
    const mbps = summarize(xs.map((x) => x.MBps));
    const ms = median(xs.map((x) => x.seconds * 1000));
    summary.push({
      study,
      op,
      label,
      contender: w,
      name: CONTENDERS[w],
      n: xs.length,
      medianMs: ms,
      ...mbps,
    });
  }
}
const stored = {};
for (const w of who) {
  for (const study of ["wide", "ts"]) {
    const xs = raw.filter((x) => x.contender === w && x.study === study && x.op === "stored bytes");
    if (xs.length) stored[`${w}|${study}`] = median(xs.map((x) => x.bytes));
  }
}
writeCsv(join(args.out, "peers-raw.csv"), raw);
writeCsv(join(args.out, "peers-summary.csv"), summary);

console.log(
  `\nfloe and peers, ${version}: wide = ${sizeMB} MB of 10 float64 columns (normals); ts = ${tsRows.toLocaleString()} ` +
    `minute bars (ts + OHLC float64 + volume int64, 48 B/row); ${repeats} repeats (${reads} range reads); medians; ${(elapsed / 60).toFixed(1)} min`,
);
const head = `${"".padEnd(44)}${who.map((w) => w.padStart(12)).join("")}`;
console.log(`\nMB/s (ms for the small operations)\n${head}`);
for (const [study, op, label] of ops) {
  const cells = who.map((w) => {
    const s = summary.find((x) => x.study === study && x.op === op && x.contender === w);
    if (!s) return "-".padStart(12);
    const small = op.startsWith("append") || op.includes("date");
    return (small ? `${s.median.toFixed(0)} (${s.medianMs.toFixed(1)}ms)` : s.median.toFixed(0)).padStart(12);
  });
  console.log(`${label.padEnd(44)}${cells.join("")}`);
}
const idx = raw.filter((x) => x.op === "build index");
if (idx.length)
  console.log(
    `${"build index on ts (LanceDB BTree), s".padEnd(44)}${idx.map((x) => `${x.name}: ${x.seconds.toFixed(2)}`).join(", ")}`,
  );
for (const study of ["wide", "ts"]) {
  console.log(
    `${`stored MB (${study})`.padEnd(44)}${who.map((w) => (stored[`${w}|${study}`] === undefined ? "-" : (stored[`${w}|${study}`] / 1e6).toFixed(0)).padStart(12)).join("")}`,
  );
}
if (who.includes("floe")) {
  console.log(`\nfloe (flushed) / peer, ratio of median MB/s (> 1: floe faster)\n${head}`);
  const ratioRows = [];
  for (const [study, op, label] of ops) {
    const f = summary.find((x) => x.study === study && x.op === op && x.contender === "floe");
    const cells = who.map((w) => {
      const s = summary.find((x) => x.study === study && x.op === op && x.contender === w);
      const v = f && s ? f.median / s.median : Number.NaN;
      ratioRows.push({ study, op, peer: w, ratio: v });
      return (Number.isFinite(v) ? v.toFixed(2) : "-").padStart(12);
    });
    console.log(`${label.padEnd(44)}${cells.join("")}`);
  }
  writeCsv(join(args.out, "peers-ratios.csv"), ratioRows);
}

// Chart: median MB/s per operation and contender (log scale: appends are KB, reads are hundreds of MB).
const chartRows = summary.map((s) => ({
  group: s.label,
  who: s.name,
  value: s.median,
  label:
    s.op.startsWith("append") || s.op.includes("date")
      ? `${s.medianMs.toFixed(1)} ms`
      : `${s.median.toFixed(0)} MB/s`,
}));
const files = [join(args.out, "peers.svg")];
if (args.charts) files.push(join(args.charts, "peers.svg"));
await writeSvg(
  barsSpec(chartRows, {
    title: `floe and peers, ${version}, median of ${repeats} (${reads} range reads; MB/s; ms for the small operations)`,
    xTitle: "MB/s",
  }),
  ...files,
);
console.log(`wrote ${files.join(", ")} and ${join(args.out, "peers-*.csv")}`);
