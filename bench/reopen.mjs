// The first read of a new Arctic (issue 21), on its own: in one process, floe writes a frame to lmdb://,
// closes, opens a new Arctic on the same store and reads it, against `lmdb` getting the same bytes (as
// 8 MB values, kept, as a read's result is) in that process just before and just after that read. Also
// floe's second read on the new Arctic, and the same read on the Arctic that wrote it (never closed).
// Then, in a second fresh process, the first read of a store by a process that has not used floe yet
// (its pool starts on that read), against `lmdb` get there too. Every repeat runs in fresh Node
// processes. Needs dist/ (`npm run build`) and node_modules only.
//
//   node bench/reopen.mjs                                  # 200 MB, 5 repeats, tmpfs (/dev/shm) and disk
//   node bench/reopen.mjs --sizes 200,1000 --repeats 7 --dirs /dev/shm/floe-reopen,/var/tmp/floe-reopen
//
// Prints, per file system and size, the medians (MB/s) and the median over repeats of the ratio floe /
// lmdb get (each repeat's floe read against the median of its two gets).
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    sizes: { type: "string", default: "200" },
    repeats: { type: "string", default: "5" },
    dirs: { type: "string", default: `/dev/shm/floe-reopen,${join(import.meta.dirname, "out", "reopen")}` },
    child: { type: "string" },
    fresh: { type: "string" },
    size: { type: "string" },
  },
});

/** 10 float64 columns of normals (as the throughput study), `mb` MB in all, as one flat buffer. */
function normals(mb) {
  const nrows = Math.floor((mb * 1e6) / 80);
  const flat = new Float64Array(nrows * 10);
  for (let i = 0; i < flat.length; i += 2) {
    let u;
    let v;
    let s;
    do {
      u = 2 * Math.random() - 1;
      v = 2 * Math.random() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    flat[i] = u * f;
    if (i + 1 < flat.length) flat[i + 1] = v * f;
  }
  const columns = {};
  for (let c = 0; c < 10; c++) columns[`c${c}`] = flat.subarray(c * nrows, (c + 1) * nrows);
  return { nrows, columns, flatBytes: new Uint8Array(flat.buffer) };
}

const KEY = (i) => `k${String(i).padStart(6, "0")}`;
const CHUNK = 8 * 1024 * 1024;

/** Times `fn`, as MB/s of `bytes`. */
async function timed(bytes, fn) {
  globalThis.gc?.();
  const t0 = performance.now();
  await fn();
  return bytes / 1e3 / (performance.now() - t0);
}

/** `lmdb` getting every 8 MB value of `db` (kept, as a read's result is), as MB/s. */
function lmdbGet(db, bytes) {
  const n = Math.ceil(bytes / CHUNK);
  return timed(bytes, () => {
    const kept = [];
    for (let i = 0; i < n; i++) kept.push(db.getBinary(KEY(i)));
    if (kept.reduce((a, v) => a + v.length, 0) !== bytes) throw new Error("lmdb get short");
  });
}

/** The second process: reads the store the first left, at once, in a process new to floe. */
async function fresh(dir, mb) {
  const t0 = performance.now();
  const { Arctic } = await import("../dist/node.js");
  const { open } = await import("lmdb");
  const importMs = performance.now() - t0;
  const bytes = Math.floor((mb * 1e6) / 80) * 80;
  const db = open({ path: join(dir, "raw.lmdb"), encoding: "binary", noSubdir: false, readOnly: true });
  const out = { importMs };
  out.getBefore = await lmdbGet(db, bytes);
  const ac = new Arctic(`lmdb://${join(dir, "floe.lmdb")}`);
  const lib = await ac.getLibrary("lib");
  out.first = await timed(bytes, () => lib.read("s"));
  out.getAfter = await lmdbGet(db, bytes);
  out.second = await timed(bytes, () => lib.read("s"));
  await ac.close();
  await db.close();
  return out;
}

async function child(dir, mb) {
  const { Arctic, DataFrame } = await import("../dist/node.js");
  const { open } = await import("lmdb");
  const { nrows, columns, flatBytes } = normals(mb);
  const bytes = nrows * 80;
  const path = join(dir, "floe.lmdb");
  const rawPath = join(dir, "raw.lmdb");
  for (const p of [path, rawPath]) rmSync(p, { recursive: true, force: true });
  const out = {};
  const writer = new Arctic(`lmdb://${path}`);
  const wlib = await writer.getLibrary("lib", { createIfMissing: true });
  out.write = await timed(bytes, () => wlib.write("s", new DataFrame(columns)));
  out.sameArctic = await timed(bytes, () => wlib.read("s"));
  await writer.close();
  const db = open({ path: rawPath, encoding: "binary", noSubdir: false, overlappingSync: false });
  const n = Math.ceil(bytes / CHUNK);
  db.transactionSync(() => {
    for (let i = 0; i < n; i++)
      db.putSync(KEY(i), flatBytes.subarray(i * CHUNK, Math.min(bytes, (i + 1) * CHUNK)));
  });
  out.getBefore = await lmdbGet(db, bytes);
  const reader = new Arctic(`lmdb://${path}`);
  const lib = await reader.getLibrary("lib");
  let back;
  out.reopened = await timed(bytes, async () => {
    back = (await lib.read("s")).data;
  });
  if (back.numRows !== nrows || back.column("c9")[nrows - 1] !== columns.c9[nrows - 1])
    throw new Error("reopened read gave wrong data");
  back = null;
  out.getAfter = await lmdbGet(db, bytes);
  out.reopenedAgain = await timed(bytes, () => lib.read("s"));
  out.workers = reader.workers;
  await reader.close();
  await db.close();
  return out;
}

if (args.child || args.fresh) {
  const out = args.child
    ? await child(args.child, Number(args.size))
    : await fresh(args.fresh, Number(args.size));
  process.stdout.write(`\n${JSON.stringify(out)}\n`);
  process.exit(0);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const self = fileURLToPath(import.meta.url);
const sizes = args.sizes.split(",").map(Number);
const repeats = Number(args.repeats);
const dirs = args.dirs.split(",");
console.log(
  `reopen then read: node ${process.version}, ${availableParallelism()} cores, load ${loadavg()
    .map((x) => x.toFixed(1))
    .join(" ")} at start`,
);
for (const dir of dirs) {
  for (const mb of sizes) {
    const runs = [];
    const firsts = [];
    const spawnChild = (kind, r) => {
      const argv = ["--expose-gc", self, `--${kind}`, dir, "--size", String(mb)];
      const run = spawnSync(process.execPath, argv, { encoding: "utf8", maxBuffer: 1 << 24 });
      if (run.status !== 0)
        throw new Error(`repeat ${r + 1} (${kind}) in ${dir} at ${mb} MB failed:\n${run.stderr}`);
      return JSON.parse(run.stdout.trim().split("\n").pop());
    };
    for (let r = 0; r < repeats; r++) {
      runs.push(spawnChild("child", r));
      firsts.push(spawnChild("fresh", r));
      rmSync(dir, { recursive: true, force: true });
    }
    const m = (k) => median(runs.map((x) => x[k])).toFixed(0);
    const ratios = runs.map((x) => x.reopened / median([x.getBefore, x.getAfter]));
    console.log(
      `${dir}, ${mb} MB, ${repeats} repeats, ${runs[0].workers} workers, median MB/s: ` +
        `floe reopened read ${m("reopened")}, lmdb get beside it ${median(runs.flatMap((x) => [x.getBefore, x.getAfter])).toFixed(0)}, ` +
        `floe reopened 2nd read ${m("reopenedAgain")}, floe read on the writing Arctic ${m("sameArctic")}, floe write ${m("write")}`,
    );
    console.log(
      `  floe reopened read / lmdb get: median ${median(ratios).toFixed(2)} (repeats: ${ratios.map((x) => x.toFixed(2)).join(" ")})`,
    );
    const f = (k) => median(firsts.map((x) => x[k])).toFixed(0);
    const fr = firsts.map((x) => x.first / median([x.getBefore, x.getAfter]));
    console.log(
      `  a process new to floe, median MB/s: first read ${f("first")} (pool starting), second ${f("second")}, ` +
        `lmdb get beside them ${median(firsts.flatMap((x) => [x.getBefore, x.getAfter])).toFixed(0)}; ` +
        `first / lmdb get: median ${median(fr).toFixed(2)} (repeats: ${fr.map((x) => x.toFixed(2)).join(" ")})`,
    );
  }
}
console.log(
  `load ${loadavg()
    .map((x) => x.toFixed(1))
    .join(" ")} at end`,
);
