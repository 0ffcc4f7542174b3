// floe on s3:// against the local Ceph RGW (scripts/rgw.sh), issue 25's study: every floe figure beside
// a raw baseline measured in the same run with floe's own S3 client (src/storage/s3/client.ts).
//
//   npm run bench:s3                               # 200 MB and 1 GB, 3 repeats, 10,000 symbols, 50 writers
//   npm run bench:s3 -- --quick                    # 50 MB, 1,000 symbols: about a minute
//   options: --sizes MB,MB (200,1000)  --repeats N (3)  --inflight N (16)  --symbols N (10000)
//            --writers N (50)  --writer-kb KB (1000)  --lat-repeats N (20)  --lat-mb MB (first size)
//            --only big,latency,list,writers  --unsigned (raw client sends UNSIGNED-PAYLOAD)
//            --keep (leave the buckets)  --out DIR (bench/out)
//            --floe-store URI (floe's part on another store, e.g. lmdb:///tmp/s3dry: tests this script)
//
// Measured (medians of --repeats unless said):
//   - big:     floe Library.write / Library.read of a frame of 1 timestamp index + 6 float64 + 2 int64
//              columns (random, so nearly incompressible) of each size, against raw PUT / GET of the same
//              bytes as 8 MiB objects with --inflight requests in flight (16: floe's S3_IN_FLIGHT and
//              WRITE_IN_FLIGHT); floe reads on a new Arctic.
//   - latency: on a --lat-mb frame, a 1 % date-range read (a random window; on a new Arctic, "cold", and
//              on an open one, "warm") and a 1,000-row append, --lat-repeats each; beside them a raw 1 KB
//              GET and a raw PUT of the 1,000 rows' bytes (the gateway's round trip).
//   - list:    --symbols symbols written with writeBatch (500 a call), then listSymbols (cold: the first
//              call of a new Arctic; warm: again on it), against the raw LIST that floe's listSymbols
//              rests on: the library's version keys with delimiter "/", one name a symbol, 1,000 a page.
//   - writers: --writers Arctic handles in this process, each writing one symbol of --writer-kb KB at once,
//              against as many raw PUTs of the same bytes at once.
// Beside each figure: this process's CPU (process.cpuUsage, worker threads included; its main thread from
// /proc/self/task) and the gateway's
// (radosgw + ceph-osd, from /proc/<pid>/stat; their PID files are in FLOE_RGW_DIR, default /tmp/floe-rgw)
// as cores busy over the wall time, and the HTTP requests this thread sent. A one-connection loopback
// TCP transfer to a child process gives the loopback's ceiling. Buckets are removed at the end.
// Tables on stdout, progress on stderr, samples in <out>/s3-samples.csv.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { build } from "esbuild";
import { Arctic, DataFrame } from "floe";
import { writeCsv } from "./lib/csv.mjs";
import { fillNormal } from "./lib/data.mjs";
import { Progress } from "./lib/progress.mjs";
import { median } from "./lib/stats.mjs";

const here = import.meta.dirname ?? fileURLToPath(new URL(".", import.meta.url));
const root = join(here, "..");
const { values: args } = parseArgs({
  options: {
    sizes: { type: "string" },
    repeats: { type: "string" },
    quick: { type: "boolean", default: false },
    inflight: { type: "string", default: "16" },
    symbols: { type: "string" },
    writers: { type: "string", default: "50" },
    "writer-kb": { type: "string", default: "1000" },
    "lat-repeats": { type: "string" },
    "lat-mb": { type: "string" },
    only: { type: "string", default: "big,latency,list,writers" },
    unsigned: { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    out: { type: "string", default: join(here, "out") },
    "floe-store": { type: "string" },
  },
  strict: false, // `npm run bench` passes its extra arguments to every study
});
const sizes = (args.sizes ?? (args.quick ? "50" : "200,1000")).split(",").map(Number);
const repeats = Number(args.repeats ?? 3);
const inflight = Number(args.inflight);
const nSymbols = Number(args.symbols ?? (args.quick ? 1000 : 10000));
const nWriters = Number(args.writers);
const writerKb = Number(args["writer-kb"]);
const latRepeats = Number(args["lat-repeats"] ?? (args.quick ? 10 : 20));
const latMb = Number(args["lat-mb"] ?? sizes[0]);
const only = new Set(args.only.split(","));
const CHUNK = 8 * 1024 * 1024;
const NFLOAT = 6;
const NINT = 2;
const NCOLS = 1 + NFLOAT + NINT; // the index is stored as a column too: its bytes count
const SECOND = 1_000_000_000n;
const T0 = BigInt(Date.UTC(2024, 0, 1)) * 1_000_000n;
const BATCH = 500;

// A full collection between measurements, without asking for `node --expose-gc`.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc");

// ---- the cluster ------------------------------------------------------------------------------------------

execFileSync("bash", [join(root, "scripts/rgw.sh"), "start"], { stdio: ["ignore", "ignore", "inherit"] });
const env = Object.fromEntries(
  [
    ...execFileSync("bash", [join(root, "scripts/rgw.sh"), "env"], { encoding: "utf8" }).matchAll(
      /^export (\w+)=(.*)$/gm,
    ),
  ].map((m) => [m[1], m[2]]),
);
const endpoint = new URL(env.FLOE_S3_ENDPOINT);
const credentials = { accessKeyId: env.FLOE_S3_ACCESS_KEY, secretAccessKey: env.FLOE_S3_SECRET_KEY };
const rgwDir = process.env.FLOE_RGW_DIR ?? "/tmp/floe-rgw";
const clkTck = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
const CORES = cpus().length;

/** The PID in `<rgwDir>/<name>.pid` when that process is alive, else undefined. */
function daemonPid(name) {
  try {
    const pid = readFileSync(join(rgwDir, `${name}.pid`), "utf8").trim();
    return existsSync(`/proc/${pid}/stat`) ? pid : undefined;
  } catch {
    return undefined;
  }
}
const gatewayPids = { rgw: daemonPid("rgw"), osd: daemonPid("osd") };

/** CPU seconds (user + system) a process has used, or NaN when it cannot be read. */
function procCpu(pid, task) {
  if (!pid) return Number.NaN;
  try {
    const stat = readFileSync(task ? `/proc/${pid}/task/${task}/stat` : `/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields[0] is field 3, the state
    return (Number(fields[11]) + Number(fields[12])) / clkTck;
  } catch {
    return Number.NaN;
  }
}

// ---- floe's S3 client, bundled for this run (bench/out is ignored by git) ----------------------------------

mkdirSync(args.out, { recursive: true });
const bundled = join(args.out, "s3-bench-client.mjs");
await build({
  stdin: {
    contents:
      'export { S3Client } from "./src/storage/s3/client.ts";\n' +
      'export { signV4, EMPTY_SHA256 } from "./src/storage/s3/sigv4.ts";\n',
    resolveDir: root,
    loader: "ts",
  },
  outfile: bundled,
  bundle: true,
  format: "esm",
  platform: "neutral",
  logLevel: "warning",
});
const { S3Client, signV4, EMPTY_SHA256 } = await import(pathToFileURL(bundled).href);

// Every request this thread sends (floe's and the raw client's alike): S3Client binds globalThis.fetch
// when it is made, so wrapping it first counts both.
const traffic = { requests: 0, sent: 0 };
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  traffic.requests++;
  if (init?.body?.byteLength) traffic.sent += init.body.byteLength;
  return realFetch(input, init);
};

const runId = `floe-bench-${Date.now().toString(36)}`;
const buckets = new Map();
async function bucket(tag) {
  const name = `${runId}-${tag}`;
  const client = new S3Client({
    endpoint: endpoint.origin,
    region: env.FLOE_S3_REGION,
    bucket: name,
    credentials,
    signPayload: !args.unsigned,
  });
  await client.createBucket();
  buckets.set(name, client);
  return client;
}
async function emptyBucket(client, prefix = "") {
  const { objects } = await client.listAll(prefix);
  await client.deleteMany(objects.map((o) => o.key));
  return objects;
}
/**
 * Frees what the deletes freed now, not after RGW's garbage collector's wait (rgw.sh sets 30 s): 8 MiB
 * objects keep their tails until then, and a 1 GB repeat every ~30 s would pile them up in memstore.
 * Best effort: radosgw-admin with the cluster's ceph.conf, when both are here.
 */
function collectGarbage() {
  const conf = join(rgwDir, "ceph.conf");
  if (!existsSync(conf)) return;
  try {
    execFileSync("radosgw-admin", ["-c", conf, "gc", "process", "--include-all"], {
      stdio: "ignore",
      timeout: 60_000,
    });
  } catch {
    // not installed, or the gateway's own collector got there first: either way nothing to do
  }
}
async function removeBucket(name, client) {
  await emptyBucket(client);
  const path = `/${name}`;
  const headers = await signV4(
    {
      method: "DELETE",
      origin: endpoint.origin,
      path,
      headers: { "x-amz-content-sha256": EMPTY_SHA256 },
      payloadHash: EMPTY_SHA256,
      region: env.FLOE_S3_REGION,
      service: "s3",
    },
    credentials,
  );
  const res = await realFetch(`${endpoint.origin}${path}`, { method: "DELETE", headers });
  await res.arrayBuffer();
  if (res.status !== 204 && res.status !== 200) throw new Error(`DELETE bucket ${name}: HTTP ${res.status}`);
}
/** The URI floe opens for bucket `client.bucket` (or, with --floe-store, a store beside it). */
function floeUri(client) {
  if (args["floe-store"]) return `${args["floe-store"]}-${client.bucket}`;
  return (
    `s3://${endpoint.hostname}:${client.bucket}?port=${endpoint.port || 80}` +
    `&access=${encodeURIComponent(credentials.accessKeyId)}&secret=${encodeURIComponent(credentials.secretAccessKey)}`
  );
}

// ---- measuring ----------------------------------------------------------------------------------------------

const samples = [];
/** Starts a measurement; the function it returns ends it and records it under `phase`/`what`. */
function meter(phase, what, extra = {}) {
  // A collection before the big transfers only: one just before a small request made it ~1.5 ms slower.
  if (phase === "big" || phase === "writers") gc();
  const cpu0 = process.cpuUsage();
  const main0 = procCpu(process.pid, process.pid);
  const rgw0 = procCpu(gatewayPids.rgw);
  const osd0 = procCpu(gatewayPids.osd);
  const req0 = traffic.requests;
  const sent0 = traffic.sent;
  const t0 = performance.now();
  return (more = {}) => {
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const s = {
      phase,
      what,
      ...extra,
      ...more,
      secs,
      nodeCpu: (cpu.user + cpu.system) / 1e6,
      mainCpu: procCpu(process.pid, process.pid) - main0,
      rgwCpu: procCpu(gatewayPids.rgw) - rgw0,
      osdCpu: procCpu(gatewayPids.osd) - osd0,
      requests: traffic.requests - req0,
      sentMB: (traffic.sent - sent0) / 1e6,
    };
    samples.push(s);
    return s;
  };
}
const select = (phase, what, extra = {}) =>
  samples.filter(
    (s) => s.phase === phase && s.what === what && Object.entries(extra).every(([k, v]) => s[k] === v),
  );
/** The medians of a group of samples' fields. */
function med(group) {
  const m = {};
  for (const k of ["secs", "nodeCpu", "rgwCpu", "osdCpu", "requests", "sentMB"])
    m[k] = median(group.map((s) => s[k]));
  m.n = group.length;
  return m;
}
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.9))];
const cores = (cpu, secs) => (Number.isNaN(cpu) ? "n/a" : (cpu / secs).toFixed(2));
const sum = (g, f) => g.reduce((a, s) => a + f(s), 0);
/** "node / gw" cores busy over a group of samples: their CPU seconds summed over their wall seconds summed. */
const busy = (g) => {
  const secs = sum(g, (s) => s.secs);
  return (
    `${cores(
      sum(g, (s) => s.nodeCpu),
      secs,
    )} (${cores(
      sum(g, (s) => s.mainCpu),
      secs,
    )}) / ` +
    cores(
      sum(g, (s) => s.rgwCpu + s.osdCpu),
      secs,
    )
  );
};
/** Runs `count` tasks with at most `limit` in flight. */
async function pool(count, limit, task) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

/**
 * A frame of `mb` MB: a ns timestamp index (one row a second from 2024-01-01, from row `from` on), 6 float64
 * columns of standard normals and 2 int64 columns of random 40-bit integers, all views of one buffer, so
 * the same bytes can be PUT raw.
 */
function makeFrame(mb, { rows, from = 0 } = {}) {
  const nrows = rows ?? Math.floor((mb * 1e6) / NCOLS / 8);
  const buf = new ArrayBuffer(nrows * NCOLS * 8);
  const index = new BigInt64Array(buf, 0, nrows);
  const start = T0 + BigInt(from) * SECOND;
  for (let i = 0; i < nrows; i++) index[i] = start + BigInt(i) * SECOND;
  const columns = {};
  for (let c = 0; c < NFLOAT; c++)
    columns[`f${c}`] = fillNormal(new Float64Array(buf, (1 + c) * nrows * 8, nrows));
  for (let c = 0; c < NINT; c++) {
    const offset = (1 + NFLOAT + c) * nrows * 8;
    const words = new Uint32Array(buf, offset, nrows * 2);
    for (let i = 0; i < nrows; i++) {
      words[2 * i] = (Math.random() * 2 ** 32) >>> 0;
      words[2 * i + 1] = (Math.random() * 256) >>> 0;
    }
    columns[`i${c}`] = new BigInt64Array(buf, offset, nrows);
  }
  return {
    nrows,
    index,
    bytes: new Uint8Array(buf),
    frame: new DataFrame(columns, { index: { name: "ts", values: index } }),
  };
}
const at = (row) => T0 + BigInt(row) * SECOND;

const phases = [...only].filter((p) => ["big", "latency", "list", "writers"].includes(p));
const steps =
  (only.has("big") ? sizes.length * repeats : 0) +
  (only.has("latency") ? 1 : 0) +
  (only.has("list") ? 1 : 0) +
  (only.has("writers") ? repeats : 0) +
  1;
const progress = new Progress("s3", steps);
const t00 = performance.now();
const load0 = loadavg();

// ---- loopback ceiling -------------------------------------------------------------------------------------

/** MB/s of `mb` MB sent over one loopback TCP connection to a child Node process that discards them. */
async function loopback(mb) {
  const sink = spawn(
    process.execPath,
    [
      "-e",
      `const s=require("net").createServer(c=>{let n=0;c.on("data",d=>{n+=d.length;if(n>=${mb * 1e6}&&!c.writableEnded)c.end("k")})});` +
        `s.listen(0,"127.0.0.1",()=>console.log(s.address().port));`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const port = await new Promise((resolve) => sink.stdout.once("data", (d) => resolve(Number(String(d)))));
  const block = new Uint8Array(CHUNK).fill(7);
  const m = meter("loopback", "TCP send");
  await new Promise((resolve, reject) => {
    const sock = connect(port, "127.0.0.1");
    sock.on("error", reject);
    sock.on("data", () => {
      sock.destroy();
      resolve();
    });
    let sent = 0;
    const pump = () => {
      while (sent < mb * 1e6) {
        sent += block.length;
        if (!sock.write(block)) return sock.once("drain", pump);
      }
    };
    sock.once("connect", pump);
  });
  const s = m({ mb });
  sink.kill();
  return s;
}
progress.update("loopback ceiling");
const loop = await loopback(1000);

// ---- big: write and read against raw PUT and GET --------------------------------------------------------------

async function big() {
  const rawClient = await bucket("raw");
  const floeClient = await bucket("big");
  for (const mb of sizes) {
    const { frame, bytes, nrows } = makeFrame(mb);
    const nobj = Math.ceil(bytes.length / CHUNK);
    const piece = (i) => bytes.subarray(i * CHUNK, Math.min(bytes.length, (i + 1) * CHUNK));
    const tag = { mb, bytes: bytes.length };
    for (let r = 0; r < repeats; r++) {
      progress.update(`${mb} MB, repeat ${r + 1}/${repeats}`);
      const lib = `big${mb}r${r}`;
      const rawWrite = async () => {
        const m = meter("big", "raw PUT", tag);
        await pool(nobj, inflight, async (i) => {
          const put = await rawClient.put(`raw/${i}`, piece(i));
          if (!put.written) throw new Error("raw PUT not written");
        });
        m();
      };
      const floeWrite = async () => {
        const ac = new Arctic(floeUri(floeClient));
        const l = await ac.getLibrary(lib, { createIfMissing: true });
        const m = meter("big", "floe write", tag);
        await l.write("frame", frame);
        m();
        await ac.close();
      };
      // Alternate which goes first, so neither always meets a gateway the other just warmed or loaded.
      if (r % 2 === 0) {
        await rawWrite();
        await floeWrite();
      } else {
        await floeWrite();
        await rawWrite();
      }
      const rawRead = async () => {
        let got = 0;
        const values = []; // kept, as a read's result is
        const m = meter("big", "raw GET", tag);
        await pool(nobj, inflight, async (i) => {
          const { body } = await rawClient.get(`raw/${i}`);
          values.push(body);
          got += body.length;
        });
        m();
        if (got !== bytes.length) throw new Error(`raw GET read ${got} bytes, expected ${bytes.length}`);
      };
      const floeRead = async () => {
        const ac = new Arctic(floeUri(floeClient));
        const l = await ac.getLibrary(lib);
        const m = meter("big", "floe read", tag);
        const { data } = await l.read("frame");
        m();
        if (data.numRows !== nrows) throw new Error(`floe read ${data.numRows} rows, expected ${nrows}`);
        await ac.close();
      };
      if (r % 2 === 0) {
        await rawRead();
        await floeRead();
      } else {
        await floeRead();
        await rawRead();
      }
      if (!args["floe-store"]) {
        // What floe stored (its codecs may shrink the bytes), then free the memstore for the next repeat.
        const objects = await emptyBucket(floeClient, `${lib}/`);
        const stored = objects.reduce((a, o) => a + o.size, 0);
        if (stored === 0) await emptyBucket(floeClient); // another key layout: empty it all
        for (const s of samples.filter((s) => s.phase === "big" && s.mb === mb && s.stored === undefined))
          s.stored = stored || undefined;
      }
      collectGarbage();
      progress.step();
    }
    await emptyBucket(rawClient);
    collectGarbage();
  }
}

// ---- latency: a 1 % date-range read and a 1,000-row append ----------------------------------------------------

async function latency() {
  progress.update(`latency: writing ${latMb} MB`);
  const client = await bucket("lat");
  const uri = floeUri(client);
  const { frame, nrows } = makeFrame(latMb);
  const ac = new Arctic(uri);
  const lib = await ac.getLibrary("lat", { createIfMissing: true });
  await lib.write("frame", frame);
  const window = Math.floor(nrows / 100);
  const pick = () => Math.floor(Math.random() * (nrows - window));
  progress.update("latency: date-range reads");
  for (let r = 0; r < latRepeats; r++) {
    // Cold: a new Arctic, opened outside the timing, reading a window it has never read.
    const fresh = new Arctic(uri);
    const l = await fresh.getLibrary("lat");
    const a = pick();
    const m = meter("latency", "1 % date range, cold", { rows: window });
    const { data } = await l.read("frame", { dateRange: [at(a), at(a + window - 1)] });
    m();
    if (data.numRows !== window)
      throw new Error(`date-range read gave ${data.numRows} rows, expected ${window}`);
    await fresh.close();
  }
  await lib.read("frame", { dateRange: [at(0), at(window - 1)] }); // the open handle's first read, untimed
  for (let r = 0; r < latRepeats; r++) {
    const a = pick();
    const m = meter("latency", "1 % date range, warm", { rows: window });
    const { data } = await lib.read("frame", { dateRange: [at(a), at(a + window - 1)] });
    m();
    if (data.numRows !== window)
      throw new Error(`date-range read gave ${data.numRows} rows, expected ${window}`);
  }
  progress.update("latency: appends");
  const ROWS = 1000;
  const appends = Array.from({ length: latRepeats }, (_, r) =>
    makeFrame(0, { rows: ROWS, from: nrows + r * ROWS }),
  );
  for (const { frame: f } of appends) {
    const m = meter("latency", "append 1,000 rows", { rows: ROWS });
    await lib.append("frame", f);
    m();
  }
  const tail = await lib.read("frame", { dateRange: [at(nrows), null] });
  if (tail.data.numRows !== ROWS * latRepeats)
    throw new Error(
      `after the appends, ${tail.data.numRows} rows past the frame, expected ${ROWS * latRepeats}`,
    );
  await ac.close();
  // The gateway's round trip: a 1 KB GET and a PUT of the 1,000 rows' bytes, one at a time.
  const body = appends[0].bytes;
  await client.put("ref/1k", body.subarray(0, 1024));
  for (let r = 0; r < 5; r++) await client.get("ref/1k"); // warm the connection
  for (let r = 0; r < latRepeats; r++) {
    const m = meter("latency", "raw 1 KB GET");
    await client.get("ref/1k");
    m();
  }
  for (let r = 0; r < latRepeats; r++) {
    const m = meter("latency", `raw PUT ${(body.length / 1000).toFixed(0)} KB`);
    await client.put(`ref/rows${r}`, body);
    m();
  }
  progress.step();
}

// ---- list: listSymbols on many symbols --------------------------------------------------------------------------

async function list() {
  const client = await bucket("list");
  const uri = floeUri(client);
  const ac = new Arctic(uri);
  const lib = await ac.getLibrary("many", { createIfMissing: true });
  const small = makeFrame(0, { rows: 10 }).frame;
  const name = (i) => `sym${String(i).padStart(6, "0")}`;
  const m = meter("list", `writeBatch ${nSymbols} symbols`, { symbols: nSymbols });
  for (let i = 0; i < nSymbols; i += BATCH) {
    progress.update(`list: writeBatch ${i}/${nSymbols}`);
    const items = [];
    for (let j = i; j < Math.min(nSymbols, i + BATCH); j++) items.push({ symbol: name(j), data: small });
    await lib.writeBatch(items);
  }
  m();
  await ac.close();
  progress.update("list: listSymbols");
  for (let r = 0; r < repeats; r++) {
    const fresh = new Arctic(uri);
    const l = await fresh.getLibrary("many");
    let mm = meter("list", "listSymbols, cold", { symbols: nSymbols });
    let got = await l.listSymbols();
    mm();
    if (got.length !== nSymbols)
      throw new Error(`listSymbols gave ${got.length} symbols, expected ${nSymbols}`);
    mm = meter("list", "listSymbols, warm", { symbols: nSymbols });
    got = await l.listSymbols();
    mm();
    if (got.length !== nSymbols)
      throw new Error(`listSymbols gave ${got.length} symbols, expected ${nSymbols}`);
    await fresh.close();
  }
  if (!args["floe-store"]) {
    // The baseline: the listing listSymbols makes, `<lib>/<id>/V/` with delimiter "/" (object-keys.ts).
    const base = (await client.list("many/", { delimiter: "/" })).prefixes[0];
    if (!base) throw new Error("no many/<id>/ prefix in the list bucket: has floe's key layout changed?");
    for (let r = 0; r < repeats; r++) {
      const mm = meter("list", "raw LIST of the version keys, delimiter /", { symbols: nSymbols });
      const { prefixes } = await client.listAll(`${base}V/`, { delimiter: "/" });
      mm({ keys: prefixes.length });
    }
  }
  progress.step();
}

// ---- writers: many Arctic handles writing at once --------------------------------------------------------------

async function writers() {
  const client = await bucket("writers");
  const uri = floeUri(client);
  const frames = Array.from({ length: nWriters }, () => makeFrame(writerKb / 1000));
  for (let r = 0; r < repeats; r++) {
    progress.update(`${nWriters} writers, repeat ${r + 1}/${repeats}`);
    const libName = `w${r}`;
    const setup = new Arctic(uri);
    await setup.createLibrary(libName);
    const handles = await Promise.all(frames.map(() => new Arctic(uri)));
    const libs = await Promise.all(handles.map((h) => h.getLibrary(libName)));
    const each = [];
    const m = meter("writers", "floe, all at once", { writers: nWriters });
    const t0 = performance.now();
    await Promise.all(
      libs.map(async (l, i) => {
        const t = performance.now();
        await l.write(`w${i}`, frames[i].frame);
        each.push({ start: (t - t0) / 1000, end: (performance.now() - t0) / 1000 });
      }),
    );
    m({
      perWrite: median(each.map((e) => e.end - e.start)),
      p90Write: p90(each.map((e) => e.end - e.start)),
    });
    const names = await (await setup.getLibrary(libName)).listSymbols();
    if (names.length !== nWriters)
      throw new Error(`after ${nWriters} writers, listSymbols has ${names.length}`);
    await Promise.all(handles.map((h) => h.close()));
    await setup.close();

    const rawEach = [];
    const mm = meter("writers", "raw PUT, all at once", { writers: nWriters });
    await Promise.all(
      frames.map(async (f, i) => {
        const t = performance.now();
        await client.put(`raw${r}/${i}`, f.bytes);
        rawEach.push(performance.now() - t);
      }),
    );
    mm({ perWrite: median(rawEach) / 1000, p90Write: p90(rawEach) / 1000 });
    progress.step();
  }
}

// ---- run, report, clean up ----------------------------------------------------------------------------------------

let failure;
try {
  if (only.has("big")) await big();
  if (only.has("latency")) await latency();
  if (only.has("list")) await list();
  if (only.has("writers")) await writers();
} catch (err) {
  failure = err;
}
progress.update("removing the buckets");
if (!args.keep) {
  for (const [name, client] of buckets) {
    try {
      await removeBucket(name, client);
    } catch (err) {
      console.error(`s3 bench: could not remove bucket ${name}: ${err.message}`);
    }
  }
  if (args["floe-store"]?.startsWith("lmdb://")) {
    for (const name of buckets.keys())
      rmSync(`${args["floe-store"].slice(7)}-${name}`, { recursive: true, force: true });
  }
}
progress.step();
progress.end();
if (failure) throw failure;

const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");
console.log(
  `\nfloe on s3:// — RGW ${endpoint.origin} (one memstore OSD, loopback); ${CORES} cores; ` +
    `load average ${load0.map((x) => x.toFixed(2)).join(" ")} at the start, ` +
    `${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")} at the end; ${phases.join(", ")}; ` +
    `raw payload ${args.unsigned ? "UNSIGNED-PAYLOAD" : "signed"}, ${inflight} in flight` +
    (args["floe-store"] ? `; floe on ${args["floe-store"]}-* (not s3://)` : ""),
);
console.log(
  `loopback ceiling: one TCP connection to a child process ${fmt(loop.mb / loop.secs, 0)} MB/s ` +
    `(this process ${cores(loop.nodeCpu, loop.secs)} cores)`,
);
console.log(
  "cores: CPU seconds over wall seconds, summed over the repeats: node (its main thread) / gw, radosgw + ceph-osd; req: HTTP requests this thread sent\n",
);

if (only.has("big")) {
  console.log(
    "| size | op | raw MB/s | floe MB/s | floe ÷ raw | raw: node (main) / gw cores | floe: node (main) / gw cores | raw / floe req | floe stored MB |",
  );
  console.log(
    "| ---: | -- | -------: | --------: | ---------: | -------------------: | --------------------: | -------------: | -------------: |",
  );
  for (const mb of sizes) {
    for (const [op, rawWhat, floeWhat] of [
      ["write", "raw PUT", "floe write"],
      ["read", "raw GET", "floe read"],
    ]) {
      const raw = select("big", rawWhat, { mb });
      const fl = select("big", floeWhat, { mb });
      if (!raw.length || !fl.length) continue;
      const bytes = raw[0].bytes / 1e6;
      const rm = med(raw);
      const fm = med(fl);
      const rate = (g) => median(g.map((s) => bytes / s.secs));
      const rawRate = rate(raw);
      const floeRate = rate(fl);
      console.log(
        `| ${mb} MB | ${op} | ${fmt(rawRate)} | ${fmt(floeRate)} | ${fmt(floeRate / rawRate, 2)} | ` +
          `${busy(raw)} | ${busy(fl)} | ${rm.requests} / ${fm.requests} | ` +
          `${fl[0].stored ? fmt(fl[0].stored / 1e6, 0) : "n/a"} |`,
      );
    }
  }
  console.log();
}
if (only.has("latency")) {
  console.log("| latency | median ms | p90 ms | node (main) / gw cores | requests |");
  console.log("| ------- | --------: | -----: | --------------: | -------: |");
  for (const what of [...new Set(samples.filter((s) => s.phase === "latency").map((s) => s.what))]) {
    const g = select("latency", what);
    const m = med(g);
    console.log(
      `| ${what}${what.includes("date range") ? ` (${g[0].rows} rows)` : ""} | ${fmt(m.secs * 1000, 2)} | ` +
        `${fmt(p90(g.map((s) => s.secs)) * 1000, 2)} | ${busy(g)} | ${m.requests} |`,
    );
  }
  console.log();
}
if (only.has("list")) {
  console.log("| list | median ms | node (main) / gw cores | requests |");
  console.log("| ---- | --------: | --------------: | -------: |");
  for (const what of [...new Set(samples.filter((s) => s.phase === "list").map((s) => s.what))]) {
    const g = select("list", what);
    const m = med(g);
    const label = g[0].keys ? `${what} (${g[0].keys} names)` : what;
    console.log(`| ${label} | ${fmt(m.secs * 1000, 1)} | ${busy(g)} | ${m.requests} |`);
  }
  console.log();
}
if (only.has("writers")) {
  console.log(
    `| ${nWriters} writers, ${writerKb} KB each | total s | per write median s | p90 s | node (main) / gw cores | requests |`,
  );
  console.log("| -------- | ------: | -----------------: | ----: | --------------: | -------: |");
  for (const what of ["floe, all at once", "raw PUT, all at once"]) {
    const g = select("writers", what);
    if (!g.length) continue;
    const m = med(g);
    console.log(
      `| ${what} | ${fmt(m.secs, 2)} | ${fmt(median(g.map((s) => s.perWrite)), 3)} | ${fmt(median(g.map((s) => s.p90Write)), 3)} | ` +
        `${busy(g)} | ${m.requests} |`,
    );
  }
  console.log();
}
writeCsv(
  join(args.out, "s3-samples.csv"),
  samples.map((s) => ({
    phase: s.phase,
    what: s.what,
    mb: s.mb ?? "",
    secs: s.secs,
    nodeCpu: s.nodeCpu,
    mainCpu: s.mainCpu,
    rgwCpu: s.rgwCpu,
    osdCpu: s.osdCpu,
    requests: s.requests,
    sentMB: s.sentMB,
    stored: s.stored ?? "",
    perWrite: s.perWrite ?? "",
  })),
);
console.log(
  `s3 study in ${((performance.now() - t00) / 60000).toFixed(1)} min; samples in ${join(args.out, "s3-samples.csv")}`,
);
