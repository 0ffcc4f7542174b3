// The seed's throughput study: write and read speed of floe against the limits, by data size, with 95 %
// confidence intervals, on disk LMDB, tmpfs LMDB (/dev/shm) and mem://, in Node, Bun and Deno.
//
//   npm run bench:throughput                       # 9 sizes 200..1000 MB, 5 repeats, Node
//   npm run bench:throughput -- --quick            # 2 small sizes (25, 100 MB), 3 repeats
//   npm run bench:throughput -- --runtimes node,bun,deno --sizes 200,600,1000 --repeats 3
//   options: --sizes MB,MB,.. | --size MB   --repeats N   --runtimes node,bun,deno   --no-pool
//            --disk DIR (bench/out/tp-disk)   --tmpfs DIR (/dev/shm/floe-bench)   --out DIR (bench/out)
//            --charts DIR (also write the SVG charts there, e.g. bench/charts)
//
// For a frame of 10 float64 columns of standard normals (the seed's data) it measures, per file system:
//   - the "hardware limit" of the seed: the same bytes as one plain file (writeFileSync / readFileSync);
//   - the engine's limit: the same bytes put and got as 8 MB values through `lmdb` directly, in one
//     transaction, flushed to disk on commit (the durability floe uses by default); the values got are kept,
//     as a read's result is;
//   - floe (dist/node.js, `npm run build` first): Library.write and Library.read on lmdb://;
//   - floe's first read of a new Arctic: write, close, open a new Arctic on the same store, read, all in
//     one process, against `lmdb` getting the same bytes in that process just before and after it;
//   - on mem://: floe, and the memory limit of any read returning new arrays (allocate and fill them);
//     also floe reading the frame again in the same process (reads 2-5), and (Node, Deno; glibc >= 2.35)
//     a first read in a process started with GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (huge pages).
// With the pool rows (not --no-pool; Node, at the first size) it also times 0, 1 and 2 pool workers on disk.
//
// Every measurement runs in a fresh process of the chosen runtime: in one long process, whether a big
// result lands on memory a previous step freed or on fresh pages (~12 µs per first-touched 4 KB page on
// the CI VM) decided the ratios more than the code did. The parent (always Node) collects the samples and
// writes <out>/throughput-<runtime>-raw.csv, -summary.csv and throughput-<runtime>.svg.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { throughputSpec, writeSvg } from "./lib/chart.mjs";
import { writeCsv } from "./lib/csv.mjs";
import {
  gc,
  minuteBars,
  normalColumns,
  runtime,
  runtimeCommand,
  runtimeVersion,
  THROUGHPUT_SERIES,
} from "./lib/data.mjs";
import { Progress } from "./lib/progress.mjs";
import { median, summarize } from "./lib/stats.mjs";

const here = import.meta.dirname ?? fileURLToPath(new URL(".", import.meta.url));
const { values: args } = parseArgs({
  options: {
    sizes: { type: "string" },
    size: { type: "string" },
    quick: { type: "boolean", default: false },
    repeats: { type: "string" },
    runtimes: { type: "string", default: "node" },
    disk: { type: "string", default: join(here, "out", "tp-disk") },
    tmpfs: { type: "string", default: "/dev/shm/floe-bench" },
    out: { type: "string", default: join(here, "out") },
    charts: { type: "string" },
    child: { type: "string" },
    "no-pool": { type: "boolean", default: false },
  },
});

const NCOLS = 10;
const SYSTEMS = [
  ["disk", args.disk],
  ["tmpfs", args.tmpfs],
];

// ---- child: one group of measurements at one size, in a fresh process ------------------------------------

async function child(group, sizeMB) {
  // Each runtime's own entry, as `import "floe"` resolves there (package.json exports conditions).
  const { Arctic, DataFrame } = await import(`../dist/${runtime}.js`);
  const { open } = await import("lmdb");
  const bytesWanted = sizeMB * 1e6;
  const needsData = group !== "mem fresh";
  const { nrows, columns, flatBytes } = needsData
    ? normalColumns(bytesWanted, NCOLS)
    : { nrows: Math.floor(bytesWanted / NCOLS / 8), columns: null, flatBytes: null };
  const bytes = nrows * NCOLS * 8;
  const samples = [];
  const record = (store, contender, op, secs) => samples.push({ store, contender, op, secs });
  const time = async (fn) => {
    gc();
    const t0 = performance.now();
    await fn();
    return (performance.now() - t0) / 1000;
  };

  const plainFile = async (store, dir) => {
    const file = join(dir, "plain.bin");
    record(store, "plain file", "write", await time(() => writeFileSync(file, flatBytes)));
    let back;
    record(
      store,
      "plain file",
      "read",
      await time(() => {
        back = readFileSync(file);
      }),
    );
    if (back.length !== bytes) throw new Error("plain file read short");
    rmSync(file);
  };

  const rawLmdb = async (store, dir) => {
    const path = join(dir, "raw.lmdb");
    rmSync(path, { recursive: true, force: true });
    const db = open({ path, encoding: "binary", noSubdir: false, overlappingSync: false });
    const chunk = 8 * 1024 * 1024;
    const n = Math.ceil(bytes / chunk);
    const key = (i) => `k${String(i).padStart(6, "0")}`;
    record(
      store,
      "raw lmdb",
      "write",
      await time(() =>
        db.transactionSync(() => {
          for (let i = 0; i < n; i++)
            db.putSync(key(i), flatBytes.subarray(i * chunk, Math.min(bytes, (i + 1) * chunk)));
        }),
      ),
    );
    let got = 0;
    record(
      store,
      "raw lmdb",
      "read",
      await time(() => {
        // Kept, as a read must hold what it returns: dropping each value would let the allocator hand
        // the same warm 8 MB back every time, a speed no reader of the whole can have.
        const values = [];
        for (let i = 0; i < n; i++) values.push(db.getBinary(key(i)));
        for (const v of values) got += v.length;
      }),
    );
    if (got !== bytes) throw new Error("raw lmdb read short");
    await db.close();
    rmSync(path, { recursive: true, force: true });
  };

  // rereads > 0: the first read is not recorded, the next `rereads` are, as `contender` (a long-lived
  // process reading again, whose allocator may hand back memory an earlier result freed).
  const floe = async (store, uri, cleanup, contender = "floe", rereads = 0) => {
    const ac = new Arctic(uri);
    const lib = await ac.getLibrary("lib", { createIfMissing: true });
    const frame = new DataFrame(columns);
    const written = await time(() => lib.write("symbol", frame));
    if (rereads === 0) record(store, contender, "write", written);
    for (let r = 0; r <= rereads; r++) {
      let back;
      const secs = await time(async () => {
        back = (await lib.read("symbol")).data;
      });
      if (rereads === 0 || r > 0) record(store, contender, "read", secs);
      if (back.numRows !== nrows || back.column("c9")[nrows - 1] !== columns.c9[nrows - 1])
        throw new Error(`${store} floe read back wrong data`);
    }
    await ac.close();
    cleanup?.();
  };

  const freshArrays = async () => {
    let kept = [];
    record(
      "mem",
      "fresh arrays",
      "read",
      await time(() => {
        for (let c = 0; c < NCOLS; c++) kept.push(new Float64Array(nrows).fill(c + 1));
      }),
    );
    kept = null;
  };

  // The first read of a new Arctic, in one process (issue 21): floe writes the frame, closes, opens a new
  // Arctic on the same store and reads it. Its baseline is measured in the same process, around that
  // read: `lmdb` getting the same bytes (8 MB values, kept) before and after it, both recorded.
  const reopen = async (store, dir) => {
    const path = join(dir, "reopen.lmdb");
    const rawPath = join(dir, "reopen-raw.lmdb");
    for (const p of [path, rawPath]) rmSync(p, { recursive: true, force: true });
    const writer = new Arctic(`lmdb://${path}`);
    await (await writer.getLibrary("lib", { createIfMissing: true })).write("symbol", new DataFrame(columns));
    await writer.close();
    const db = open({ path: rawPath, encoding: "binary", noSubdir: false, overlappingSync: false });
    const chunk = 8 * 1024 * 1024;
    const n = Math.ceil(bytes / chunk);
    const key = (i) => `k${String(i).padStart(6, "0")}`;
    db.transactionSync(() => {
      for (let i = 0; i < n; i++)
        db.putSync(key(i), flatBytes.subarray(i * chunk, Math.min(bytes, (i + 1) * chunk)));
    });
    const rawGet = async () => {
      let values = [];
      const secs = await time(() => {
        for (let i = 0; i < n; i++) values.push(db.getBinary(key(i)));
      });
      const got = values.reduce((a, v) => a + v.length, 0);
      values = null;
      if (got !== bytes) throw new Error("raw lmdb read short");
      record(store, "raw lmdb, beside reopened", "read", secs);
    };
    await rawGet();
    const reader = new Arctic(`lmdb://${path}`);
    const lib = await reader.getLibrary("lib");
    let back;
    record(
      store,
      "floe, reopened",
      "read",
      await time(async () => {
        back = (await lib.read("symbol")).data;
      }),
    );
    if (back.numRows !== nrows || back.column("c9")[nrows - 1] !== columns.c9[nrows - 1])
      throw new Error(`${store} reopened floe read back wrong data`);
    back = null;
    await rawGet();
    await reader.close();
    await db.close();
    for (const p of [path, rawPath]) rmSync(p, { recursive: true, force: true });
  };

  // The worker pool on disk: random data and a random walk in cents (compressible, as prices are).
  const pool = async (workers, dir) => {
    const path = join(dir, `pool${workers}.lmdb`);
    rmSync(path, { recursive: true, force: true });
    const ac = new Arctic(`lmdb://${path}`, { workers });
    const lib = await ac.getLibrary("lib", { createIfMissing: true });
    const walk = {};
    for (let c = 0; c < NCOLS; c++) {
      const bars = minuteBars(nrows, { symbol: false, seedPrice: 100 + c });
      walk[`c${c}`] = bars.columns.close;
    }
    for (const [data, cols] of [
      ["walk", walk],
      ["random", columns],
    ]) {
      const df = new DataFrame(cols);
      for (let r = 0; r < 3; r++) {
        record("disk", `pool ${data} w${workers}`, "write", await time(() => lib.write(data, df)));
        let back;
        record(
          "disk",
          `pool ${data} w${workers}`,
          "read",
          await time(async () => {
            back = (await lib.read(data)).data;
          }),
        );
        if (back.numRows !== nrows || back.column("c9")[nrows - 1] !== cols.c9[nrows - 1])
          throw new Error(`pool ${data} read back wrong data`);
        back = null;
      }
    }
    await ac.close();
    rmSync(path, { recursive: true, force: true });
  };

  for (const [, dir] of SYSTEMS) mkdirSync(dir, { recursive: true });
  const [store, what] = group.split(" ");
  const dir = SYSTEMS.find(([s]) => s === store)?.[1];
  if (what === "plain") await plainFile(store, dir);
  else if (what === "lmdb") await rawLmdb(store, dir);
  else if (what === "reopen") await reopen(store, dir);
  else if (group === "mem fresh") await freshArrays();
  else if (group === "mem floe") await floe("mem", "mem://");
  else if (group === "mem again") await floe("mem", "mem://", undefined, "floe, read again", 4);
  else if (group === "mem huge") await floe("mem", "mem://", undefined, "floe, huge pages");
  else if (what === "floe") {
    const path = join(dir, "floe.lmdb");
    rmSync(path, { recursive: true, force: true });
    await floe(store, `lmdb://${path}`, () => rmSync(path, { recursive: true, force: true }));
  } else if (store === "pool") await pool(Number(what.slice(1)), args.disk);
  else throw new Error(`unknown group '${group}'`);
  return { bytes, runtime: runtimeVersion(), samples };
}

if (args.child) {
  const out = await child(args.child, Number(args.size));
  process.stdout.write(`\n${JSON.stringify(out)}\n`);
  process.exit(0);
}

// ---- parent ---------------------------------------------------------------------------------------------

const sizes = args.sizes
  ? args.sizes.split(",").map(Number)
  : args.size
    ? [Number(args.size)]
    : args.quick
      ? [25, 100]
      : [200, 300, 400, 500, 600, 700, 800, 900, 1000];
const repeats = Number(args.repeats ?? (args.quick ? 3 : 5));
const runtimes = args.runtimes.split(",");
const withPool = !args["no-pool"] && !args.quick;
const groups = [
  ...SYSTEMS.flatMap(([s]) => [`${s} plain`, `${s} lmdb`, `${s} floe`, `${s} reopen`]),
  "mem fresh",
  "mem floe",
];
const binDir = join(here, "..", "node_modules", ".bin");
const self = fileURLToPath(import.meta.url);

// glibc >= 2.35 backs large mallocs with transparent huge pages when asked at process start (the VM's
// THP mode is `madvise`): a 200 MB result then takes 100 page faults instead of 51,200. Node and Deno
// allocate array buffers with glibc's malloc; Bun does not (its allocator ignores the setting).
const HUGE_PAGES_ENV = { GLIBC_TUNABLES: "glibc.malloc.hugetlb=1" };
const glibc = process.report?.getReport().header.glibcVersionRuntime;
const hugePages = (rt) =>
  rt !== "bun" && !!glibc && Number(glibc.split(".")[0]) * 1000 + Number(glibc.split(".")[1]) >= 2035;

function runChild(rt, group, sizeMB) {
  const childArgs = ["--child", group, "--size", String(sizeMB), "--disk", args.disk, "--tmpfs", args.tmpfs];
  const [cmd, argv] = runtimeCommand(rt, self, childArgs, binDir);
  const env = group === "mem huge" ? { ...process.env, ...HUGE_PAGES_ENV } : process.env;
  const run = spawnSync(cmd, argv, { encoding: "utf8", maxBuffer: 1 << 24, env });
  if (run.status !== 0) throw new Error(`${rt}: step '${group}' at ${sizeMB} MB failed:\n${run.stderr}`);
  const lines = run.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

const fmt0 = (v) => (Number.isFinite(v) ? v.toFixed(0) : "-");
const fmt2 = (v) => (Number.isFinite(v) ? v.toFixed(2) : "-");
const verdict = (ratio, bar) => (bar === null ? "" : ratio >= bar ? "met" : "NOT met");
// The issues set the throughput bars for frames of 200 MB to 1 GB; a smaller frame in a fresh process is
// dominated by start-up (loading the Wasm module, opening LMDB, starting workers), so it is not judged.
const BAR_MIN_MB = 200;

const UNJUDGED = `judged at ${BAR_MIN_MB} MB and up only`;
/** The values of `perSize` (one per entry of `sizes`) at the sizes the bars are judged at. */
const judgedValues = (perSize) => perSize.filter((v, i) => sizes[i] >= BAR_MIN_MB && Number.isFinite(v));

/** The verdict on one ratio row: every judged size at or over the bar, or how many are under. */
function rowVerdict(per, bar) {
  if (bar === null) return "";
  const judged = judgedValues(per);
  if (judged.length === 0) return `  (bar >= ${bar.toFixed(1)}: ${UNJUDGED})`;
  const under = judged.filter((v) => v < bar).length;
  const overall = median(judged);
  const what =
    under === 0
      ? "met at every size"
      : overall >= bar
        ? `met on the median; ${under} of ${judged.length} sizes under`
        : "NOT met";
  return `  (bar >= ${bar.toFixed(1)}: ${what})`;
}

mkdirSync(args.out, { recursive: true });
for (const rt of runtimes) {
  const raw = []; // { runtime, sizeMB, repeat, store, contender, op, seconds, MBps }
  let version = rt;
  const steps = [];
  for (let r = 0; r < repeats; r++) {
    for (const size of sizes) {
      for (const g of groups) steps.push([r, size, g]);
      steps.push([r, size, "mem again"]);
      if (hugePages(rt)) steps.push([r, size, "mem huge"]);
    }
    if (rt === "node" && withPool) for (const w of [0, 1, 2]) steps.push([r, sizes[0], `pool w${w}`]);
  }
  const progress = new Progress(`throughput ${rt}`, steps.length);
  for (const [r, size, g] of steps) {
    progress.update(`repeat ${r + 1}/${repeats}, ${size} MB, ${g}`);
    const res = runChild(rt, g, size);
    version = res.runtime;
    for (const s of res.samples) {
      raw.push({
        runtime: rt,
        sizeMB: size,
        repeat: r + 1,
        store: s.store,
        contender: s.contender,
        op: s.op,
        seconds: s.secs,
        MBps: res.bytes / 1e6 / s.secs,
      });
    }
    progress.step();
    // Kept up to date, so an interrupted run leaves its samples behind.
    writeCsv(join(args.out, `throughput-${rt}-raw.csv`), raw);
  }
  const elapsed = progress.end();
  for (const [, dir] of SYSTEMS) rmSync(dir, { recursive: true, force: true });

  // Summaries per (size, store, contender, op): MB/s samples -> mean, median, 95 % t-interval.
  const bySeries = new Map();
  for (const x of raw) {
    const key = `${x.sizeMB}|${x.store}|${x.contender}|${x.op}`;
    if (!bySeries.has(key)) bySeries.set(key, []);
    bySeries.get(key).push(x.MBps);
  }
  const summary = [...bySeries].map(([key, xs]) => {
    const [sizeMB, store, contender, op] = key.split("|");
    const s = summarize(xs);
    return { runtime: rt, sizeMB: Number(sizeMB), store, contender, op, ...s };
  });
  writeCsv(join(args.out, `throughput-${rt}-raw.csv`), raw);
  writeCsv(join(args.out, `throughput-${rt}-summary.csv`), summary);
  const chartRows = summary.filter((s) => !s.contender.startsWith("pool") && !s.contender.includes(","));
  const title = `floe throughput, ${version} (${repeats} repeats, mean and 95 % CI)`;
  const files = [join(args.out, `throughput-${rt}.svg`)];
  if (args.charts) files.push(join(args.charts, `throughput-${rt}.svg`));
  await writeSvg(throughputSpec(chartRows, title), ...files);

  // ---- printed report: medians by size, and the bars -----------------------------------------------------
  const med = (size, store, contender, op) =>
    summary.find((s) => s.sizeMB === size && s.store === store && s.contender === contender && s.op === op)
      ?.median;
  console.log(
    `\nfloe throughput, ${version}: ${NCOLS} float64 columns of normals, sizes ${sizes.join(", ")} MB, ` +
      `${repeats} repeats, ${(elapsed / 60).toFixed(1)} min`,
  );
  console.log(`median MB/s     ${sizes.map((s) => `${s} MB`.padStart(8)).join("")}`);
  const series = THROUGHPUT_SERIES;
  for (const op of ["write", "read"]) {
    for (const [store, contender] of series) {
      const cells = sizes.map((s) => fmt0(med(s, store, contender, op)).padStart(8));
      if (cells.every((c) => c.trim() === "-")) continue;
      console.log(`  ${`${store} ${contender} ${op}`.padEnd(38)}${cells.join("")}`);
    }
  }
  console.log(
    "\nratios of medians (floe / limit, same run, same file system); last column: median over sizes",
  );
  const ratioRows = [];
  for (const [store] of SYSTEMS) {
    ratioRows.push(
      [`${store} write / lmdb put`, store, ["floe", "write"], ["raw lmdb", "write"], 0.8],
      [`${store} read / lmdb get`, store, ["floe", "read"], ["raw lmdb", "read"], 0.8],
      [`${store} read / plain file read`, store, ["floe", "read"], ["plain file", "read"], 1.0],
      [`${store} write / plain file write`, store, ["floe", "write"], ["plain file", "write"], null],
      [
        `${store} reopened read / lmdb get`,
        store,
        ["floe, reopened", "read"],
        ["raw lmdb, beside reopened", "read"],
        0.8,
      ],
    );
  }
  ratioRows.push(["mem read / fresh arrays fill", "mem", ["floe", "read"], ["fresh arrays", "read"], null]);
  const ratios = [];
  for (const [label, store, [c1, o1], [c2, o2], bar] of ratioRows) {
    const per = sizes.map((s) => med(s, store, c1, o1) / med(s, store, c2, o2));
    const overall = median(per.filter(Number.isFinite));
    ratios.push({
      runtime: rt,
      ratio: label,
      ...Object.fromEntries(sizes.map((s, i) => [`${s}MB`, per[i]])),
      median: overall,
      bar,
    });
    console.log(
      `  ${label.padEnd(32)}${per.map((v) => fmt2(v).padStart(7)).join("")}  | ${fmt2(overall)}${rowVerdict(per, bar)}`,
    );
  }
  writeCsv(join(args.out, `throughput-${rt}-ratios.csv`), ratios);
  const memReads = sizes.map((s) => med(s, "mem", "floe", "read"));
  const memRead = median(memReads);
  const memJudged = judgedValues(memReads);
  const memVerdict = memJudged.length ? verdict(median(memJudged), 1000) : UNJUDGED;
  console.log(
    `  mem read, median over sizes: ${(memRead / 1000).toFixed(2)} GB/s (bar >= 1 GB/s: ${memVerdict})`,
  );
  const memAgain = median(sizes.map((s) => med(s, "mem", "floe, read again", "read")));
  console.log(`    reading again in the same process (reads 2-5): ${(memAgain / 1000).toFixed(2)} GB/s`);
  if (hugePages(rt)) {
    const memHuge = median(sizes.map((s) => med(s, "mem", "floe, huge pages", "read")));
    console.log(
      `    first read with ${Object.entries(HUGE_PAGES_ENV)
        .map(([k, v]) => `${k}=${v}`)
        .join(" ")}: ${(memHuge / 1000).toFixed(2)} GB/s`,
    );
  }

  if (rt === "node" && withPool) {
    const pmed = (data, op, w) =>
      median(raw.filter((x) => x.contender === `pool ${data} w${w}` && x.op === op).map((x) => x.MBps));
    console.log(`\nworker pool (disk, ${sizes[0]} MB, medians; speed-up against 0 workers)`);
    for (const data of ["walk", "random"]) {
      for (const op of ["write", "read"]) {
        const base = pmed(data, op, 0);
        const cells = [0, 1, 2].map((w) => {
          const v = pmed(data, op, w);
          return `w${w} ${fmt0(v).padStart(5)} MB/s (${fmt2(v / base)}x)`;
        });
        console.log(`  ${`${data} ${op}`.padEnd(13)} ${cells.join("   ")}`);
      }
    }
    const walk = pmed("walk", "write", 2) / pmed("walk", "write", 0);
    const rnd = pmed("random", "read", 2) / pmed("random", "read", 0);
    console.log(`  walk write w2/w0 ${fmt2(walk)} (bar >= 1.5: ${verdict(walk, 1.5)})`);
    console.log(`  random read w2/w0 ${fmt2(rnd)} (bar >= 1.0: ${verdict(rnd, 1.0)})`);
  }
  console.log(`wrote ${files.join(", ")} and ${join(args.out, `throughput-${rt}-*.csv`)}`);
}
