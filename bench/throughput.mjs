// Write and read throughput of floe against the limits measured in the same run.
//
//   npm run bench -- --size 200 --repeats 5
//
// For a frame of 10 float64 columns of random data (--size MB, default 200) it measures, per file
// system (disk: bench/out under the working directory; tmpfs: /dev/shm):
//   - the "hardware limit" of the seed: the same bytes as one plain file (fs.writeFileSync / readFileSync);
//   - the engine's limit: the same bytes put and got as 8 MB values through `lmdb` directly, in one
//     transaction, flushed to disk on commit (the durability floe uses by default);
//   - floe: Library.write and Library.read on lmdb://, and on mem://.
// It prints the median MB/s of --repeats runs and floe's ratios to the limits.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Arctic, DataFrame } from "floe";
import { open } from "lmdb";

const { values: args } = parseArgs({
  options: {
    size: { type: "string", default: "200" },
    repeats: { type: "string", default: "5" },
    disk: { type: "string", default: "bench/out" },
    tmpfs: { type: "string", default: "/dev/shm/floe-bench" },
    child: { type: "string" },
    "no-pool": { type: "boolean", default: false },
  },
});
const sizeMB = Number(args.size);
const repeats = Number(args.repeats);
const ncols = 10;
const nrows = Math.floor((sizeMB * 1e6) / ncols / 8);
const bytes = nrows * ncols * 8;
const gc = globalThis.gc ?? (() => {});

const columns = {};
const flat = new Float64Array(args.child ? nrows * ncols : 0);
for (let c = 0; c < (args.child ? ncols : 0); c++) {
  const col = flat.subarray(c * nrows, (c + 1) * nrows);
  for (let i = 0; i < nrows; i++) col[i] = gaussian();
  columns[`c${c}`] = col;
}
const flatBytes = new Uint8Array(flat.buffer);
const frame = new DataFrame(columns);

function gaussian() {
  return Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
}

async function time(fn) {
  gc();
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const mbps = (secs) => bytes / 1e6 / secs;

const results = new Map(); // name -> seconds[]
function record(name, secs) {
  if (!results.has(name)) results.set(name, []);
  results.get(name).push(secs);
}

async function plainFile(fsName, dir) {
  const file = join(dir, "plain.bin");
  record(`${fsName} plain file write`, await time(() => writeFileSync(file, flatBytes)));
  let back;
  record(
    `${fsName} plain file read`,
    await time(() => {
      back = readFileSync(file);
    }),
  );
  if (back.length !== bytes) throw new Error("plain file read short");
  rmSync(file);
}

async function rawLmdb(fsName, dir) {
  const path = join(dir, "raw.lmdb");
  rmSync(path, { recursive: true, force: true });
  const db = open({ path, encoding: "binary", noSubdir: false, overlappingSync: false });
  const chunk = 8 * 1024 * 1024;
  const n = Math.ceil(bytes / chunk);
  record(
    `${fsName} lmdb put`,
    await time(() =>
      db.transactionSync(() => {
        for (let i = 0; i < n; i++)
          db.putSync(
            `k${String(i).padStart(6, "0")}`,
            flatBytes.subarray(i * chunk, Math.min(bytes, (i + 1) * chunk)),
          );
      }),
    ),
  );
  let got = 0;
  record(
    `${fsName} lmdb get`,
    await time(() => {
      // Kept, as a read must hold what it returns: dropping each value would let the allocator hand the
      // same warm 8 MB back every time, a speed no reader of 200 MB can have.
      const values = [];
      for (let i = 0; i < n; i++) values.push(db.getBinary(`k${String(i).padStart(6, "0")}`));
      for (const v of values) got += v.length;
    }),
  );
  if (got !== bytes) throw new Error("raw lmdb read short");
  await db.close();
  rmSync(path, { recursive: true, force: true });
}

async function floe(name, uri, cleanup) {
  const ac = new Arctic(uri);
  const lib = await ac.getLibrary("lib", { createIfMissing: true });
  record(`${name} floe write`, await time(() => lib.write("symbol", frame)));
  let back;
  record(
    `${name} floe read`,
    await time(async () => {
      back = (await lib.read("symbol")).data;
    }),
  );
  if (back.numRows !== nrows || back.column("c9")[nrows - 1] !== columns.c9[nrows - 1])
    throw new Error(`${name} read back wrong data`);
  back = null;
  await ac.close();
  cleanup?.();
}

/** The same shape of frame as a random walk of prices in cents: compressible, as market data is. */
function walkFrame() {
  const cols = {};
  for (let c = 0; c < ncols; c++) {
    const col = new Float64Array(nrows);
    let p = 100;
    for (let i = 0; i < nrows; i++) {
      p += (Math.random() - 0.5) * 0.1;
      col[i] = Math.round(p * 100) / 100;
    }
    cols[`c${c}`] = col;
  }
  return new DataFrame(cols);
}

/**
 * The worker pool: write and read with `workers` workers on disk, random and random-walk data. Three
 * writes and reads per process (the first also starts the workers); the median over all runs is kept.
 */
async function pool(workers, dir) {
  const path = join(dir, `pool${workers}.lmdb`);
  rmSync(path, { recursive: true, force: true });
  const ac = new Arctic(`lmdb://${path}`, { workers });
  const lib = await ac.getLibrary("lib", { createIfMissing: true });
  for (const [data, df] of [
    ["walk", walkFrame()],
    ["random", frame],
  ]) {
    for (let r = 0; r < 3; r++) {
      record(`pool ${data} write w${workers}`, await time(() => lib.write(data, df)));
      let back;
      record(
        `pool ${data} read w${workers}`,
        await time(async () => {
          back = (await lib.read(data)).data;
        }),
      );
      if (back.numRows !== nrows || back.column("c9")[nrows - 1] !== df.column("c9")[nrows - 1])
        throw new Error(`pool ${data} read back wrong data`);
      back = null;
    }
  }
  await ac.close();
  rmSync(path, { recursive: true, force: true });
}

/** The memory limit of any read that returns new arrays: allocate the result's columns and fill them. */
async function freshArrays() {
  let kept = [];
  record(
    "mem fresh arrays fill",
    await time(() => {
      for (let c = 0; c < ncols; c++) kept.push(new Float64Array(nrows).fill(c));
    }),
  );
  kept = null;
}

const systems = [
  ["disk", args.disk],
  ["tmpfs", args.tmpfs],
];
// Each measurement runs in a process of its own. In one long process, whether a 200 MB result lands on
// memory a previous step freed or on fresh pages (here ~12 µs per first-touched 4 KB page) decided the
// ratios more than the code did; a fresh process gives every contender the same start.
const groups = {};
for (const [fsName, dir] of systems) {
  groups[`${fsName} plain`] = () => plainFile(fsName, dir);
  groups[`${fsName} lmdb`] = () => rawLmdb(fsName, dir);
  groups[`${fsName} floe`] = () => {
    const path = join(dir, "floe.lmdb");
    rmSync(path, { recursive: true, force: true });
    return floe(fsName, `lmdb://${path}`, () => rmSync(path, { recursive: true, force: true }));
  };
}
groups["mem fresh"] = freshArrays;
groups["mem floe"] = () => floe("mem", "mem://");
if (!args["no-pool"]) for (const w of [0, 1, 2]) groups[`pool w${w}`] = () => pool(w, args.disk);

if (args.child) {
  for (const [, dir] of systems) mkdirSync(dir, { recursive: true });
  await groups[args.child]();
  process.stdout.write(`${JSON.stringify(Object.fromEntries(results))}\n`);
  process.exit(0);
}

console.log(
  `floe throughput: ${ncols} float64 columns x ${nrows.toLocaleString()} rows = ${(bytes / 1e6).toFixed(0)} MB, ${repeats} repeats, Node ${process.version}`,
);
for (let r = 0; r < repeats; r++) {
  for (const group of Object.keys(groups)) {
    const run = spawnSync(
      process.execPath,
      [
        "--expose-gc",
        fileURLToPath(import.meta.url),
        "--child",
        group,
        "--size",
        args.size,
        "--disk",
        args.disk,
        "--tmpfs",
        args.tmpfs,
      ],
      { encoding: "utf8", maxBuffer: 1 << 20 },
    );
    if (run.status !== 0) throw new Error(`bench step '${group}' failed:\n${run.stderr}`);
    const lines = run.stdout.trim().split("\n");
    for (const [name, secs] of Object.entries(JSON.parse(lines[lines.length - 1]))) {
      for (const t of secs) record(name, t);
    }
  }
  process.stdout.write(`  repeat ${r + 1}/${repeats} done\n`);
}
for (const [, dir] of systems) rmSync(dir, { recursive: true, force: true });

const med = (name) => mbps(median(results.get(name)));
console.log("\nmedian MB/s");
for (const name of results.keys()) console.log(`  ${name.padEnd(28)} ${med(name).toFixed(0).padStart(7)}`);
console.log("\nratios (floe / limit, same run, same file system)");
for (const [fsName] of systems) {
  const rows = [
    [`${fsName} write / lmdb put`, med(`${fsName} floe write`) / med(`${fsName} lmdb put`), 0.8],
    [`${fsName} read / lmdb get`, med(`${fsName} floe read`) / med(`${fsName} lmdb get`), 0.8],
    [`${fsName} read / plain file read`, med(`${fsName} floe read`) / med(`${fsName} plain file read`), 1.0],
    [
      `${fsName} write / plain file write`,
      med(`${fsName} floe write`) / med(`${fsName} plain file write`),
      null,
    ],
  ];
  for (const [label, ratio, bar] of rows) {
    console.log(
      `  ${label.padEnd(34)} ${ratio.toFixed(2).padStart(6)}${bar === null ? "" : `  (bar >= ${bar.toFixed(1)}: ${ratio >= bar ? "met" : "NOT met"})`}`,
    );
  }
}
if (results.has("pool walk write w0")) {
  console.log("\nworker pool (disk, medians; speed-up against 0 workers)");
  for (const data of ["walk", "random"]) {
    for (const op of ["write", "read"]) {
      const base = med(`pool ${data} ${op} w0`);
      const cells = [0, 1, 2].map((w) => {
        const v = med(`pool ${data} ${op} w${w}`);
        return `w${w} ${v.toFixed(0).padStart(5)} MB/s (${(v / base).toFixed(2)}x)`;
      });
      console.log(`  ${`${data} ${op}`.padEnd(13)} ${cells.join("   ")}`);
    }
  }
  const walk = med("pool walk write w2") / med("pool walk write w0");
  const rnd = med("pool random read w2") / med("pool random read w0");
  console.log(`  walk write w2/w0 ${walk.toFixed(2)} (bar >= 1.5: ${walk >= 1.5 ? "met" : "NOT met"})`);
  console.log(`  random read w2/w0 ${rnd.toFixed(2)} (bar >= 1.0: ${rnd >= 1.0 ? "met" : "NOT met"})`);
}
console.log(
  `  mem read / fresh arrays fill          ${(med("mem floe read") / med("mem fresh arrays fill")).toFixed(2)}`,
);
console.log(
  `  mem read ${(med("mem floe read") / 1000).toFixed(2)} GB/s (bar >= 1 GB/s: ${med("mem floe read") >= 1000 ? "met" : "NOT met"})`,
);
