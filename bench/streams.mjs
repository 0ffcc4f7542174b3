// Streams and compaction (issue 24): iterate against a whole read, a stream write of 10 MB frames
// against a one-frame write, and reads of a symbol built by many small appends before and after
// compactData.
//
//   npm run bench:streams -- --mb 200 --appends 1000 [--cases write-one,write-stream,compaction,…]
//
// Each case runs in a process of its own (so each peak is its own), on lmdb:// under --dir. Memory is
// the process's private memory, RssAnon + RssShmem from /proc/self/status, sampled every 2 ms by a
// worker thread (it samples while the main thread is busy in a synchronous read); pages of LMDB's map
// that a read touches are page cache, not counted. The symbol: a timestamp index and 5 float64 columns
// (48 bytes a row); "MB" is raw bytes of the columns read (index included) / 1e6. Reads are timed warm
// (after one untimed run of the same read in that process: pool started, pages cached); writes cold.
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Arctic, DataFrame } from "floe";
import { measured as measuredOut } from "./lib/memory.mjs";

/** `measured` with the function's own result spread into the record, as the cases print it. */
async function measured(fn) {
  const { out, ...r } = await measuredOut(fn);
  return { ...r, ...out };
}

const { values: args } = parseArgs({
  options: {
    mb: { type: "string", default: "200" },
    appends: { type: "string", default: "1000" },
    dir: { type: "string", default: "bench/out" },
    case: { type: "string" },
    cases: { type: "string" },
  },
});
const ROW_BYTES = 48;
const COLUMNS = ["a", "b", "c", "d", "e"];
const rows = Math.floor((Number(args.mb) * 1e6) / ROW_BYTES);
const path = join(args.dir, "streams.lmdb");
const uri = `lmdb://${path}`;
const FRAME_ROWS = Math.floor(10e6 / ROW_BYTES); // 10 MB frames

const BASE = 1_700_000_000_000_000_000n; // 2023-11-14, in ns
/** Columns of `n` rows, filled by plain loops (building the data is not what is measured). */
function columnsOf(from, n) {
  const cols = {};
  for (const [j, name] of COLUMNS.entries()) {
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = (from + i) * (j + 1);
    cols[name] = values;
  }
  return cols;
}
/**
 * Rows [from, from + n) of the symbol, one per µs; `cols` reused when given. The timestamps are written
 * as 32-bit halves: `index[i] = BASE + BigInt(from + i) * 1000n` makes a BigInt a row, which took about a
 * third of a stream write's time (the generator runs inside the timed write, unlike the one frame's).
 */
function frame(from, n, cols = columnsOf(from, n)) {
  const index = new BigInt64Array(n);
  const words = new Int32Array(index.buffer);
  const start = BASE + BigInt(from) * 1000n;
  let lo = Number(start & 0xffffffffn);
  let hi = Number(start >> 32n);
  for (let i = 0; i < n; i++) {
    words[2 * i] = lo | 0;
    words[2 * i + 1] = hi;
    lo += 1000;
    if (lo >= 4294967296) {
      lo -= 4294967296;
      hi++;
    }
  }
  return new DataFrame(cols, { index });
}

async function runCase(name) {
  const ac = new Arctic(uri);
  const lib = await ac.getLibrary("bench", { createIfMissing: true });
  let result;
  if (name === "write-one") {
    const whole = frame(0, rows);
    result = await measured(async () => {
      await lib.write("one", whole);
      return { mb: (rows * ROW_BYTES) / 1e6 };
    });
  } else if (name === "write-stream" || name === "generate") {
    async function* frames() {
      for (let from = 0; from < rows; from += FRAME_ROWS)
        yield frame(from, Math.min(FRAME_ROWS, rows - from));
    }
    result = await measured(async () => {
      // "generate": the source alone, what a stream write's time holds besides writing.
      if (name === "generate") for await (const f of frames()) f.numRows;
      else await lib.write("s", frames());
      return { mb: (rows * ROW_BYTES) / 1e6 };
    });
  } else if (name.startsWith("read") || name.startsWith("iterate")) {
    const columns = name.endsWith("-2") ? ["a", "b"] : undefined;
    const rowBytes = columns ? 8 + 16 : ROW_BYTES;
    const chunkBytes = name.includes("32mb") ? 32e6 : undefined;
    const once = async () => {
      let n = 0;
      if (name.startsWith("read")) n = (await lib.read("one", { columns })).data.numRows;
      else for await (const chunk of lib.iterate("one", { columns, chunkBytes })) n += chunk.numRows;
      return { mb: (n * rowBytes) / 1e6 };
    };
    await once(); // warm: the worker pool started, the map's pages in the page cache
    result = await measured(once);
  } else if (name === "compaction") {
    const appends = Number(args.appends);
    await lib.write("frag", frame(0, 100));
    const t = performance.now();
    for (let i = 1; i < appends; i++) await lib.append("frag", frame(i * 100, 100));
    const appendMs = performance.now() - t;
    const readMs = async () => {
      const times = [];
      for (let r = 0; r < 5; r++) {
        const t0 = performance.now();
        await lib.read("frag");
        times.push(performance.now() - t0);
      }
      return times.sort((x, y) => x - y)[2];
    };
    const before = await lib.getDescription("frag");
    const readBefore = await readMs();
    const fragmented = await lib.isSymbolFragmented("frag");
    const t1 = performance.now();
    await lib.compactData("frag");
    const compactMs = performance.now() - t1;
    const after = await lib.getDescription("frag");
    const readAfter = await readMs();
    result = {
      appends,
      appendMs,
      segmentsBefore: before.segmentCount,
      segmentsAfter: after.segmentCount,
      fragmented,
      fragmentedAfter: await lib.isSymbolFragmented("frag"),
      readBeforeMs: readBefore,
      readAfterMs: readAfter,
      compactMs,
    };
  }
  await ac.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (args.case) {
  await runCase(args.case);
} else {
  rmSync(path, { recursive: true, force: true });
  const self = fileURLToPath(import.meta.url);
  const run = (name) =>
    JSON.parse(
      execFileSync(
        process.execPath,
        [self, "--case", name, "--mb", args.mb, "--appends", args.appends, "--dir", args.dir],
        {
          encoding: "utf8",
          maxBuffer: 1 << 20,
        },
      ).trim(),
    );
  const fmt = (r) =>
    `${r.ms.toFixed(0).padStart(7)} ms ${(r.mb / (r.ms / 1000)).toFixed(0).padStart(6)} MB/s  peak private ${String(r.peakMB).padStart(5)} MB (at start ${r.baseMB} MB)`;
  console.log(`symbol: ${rows.toLocaleString("en")} rows × (index + 5 float64) = ${args.mb} MB raw, lmdb://`);
  const all = ["write-one", "write-stream", "read-all", "iterate-all", "iterate-32mb-all", "read-2"];
  const chosen = args.cases ? args.cases.split(",") : [...all, "iterate-2", "iterate-32mb-2", "compaction"];
  // The read cases read the symbol write-one makes.
  if (chosen.some((c) => c.startsWith("read") || c.startsWith("iterate")) && !chosen.includes("write-one")) {
    chosen.unshift("write-one");
  }
  for (const name of chosen.filter((c) => c !== "compaction"))
    console.log(`${name.padEnd(18)} ${fmt(run(name))}`);
  if (chosen.includes("compaction")) {
    const c = run("compaction");
    console.log(
      `compaction: ${c.appends} appends of 100 rows (${(c.appendMs / 1000).toFixed(1)} s); segments ${c.segmentsBefore} → ${c.segmentsAfter}; ` +
        `fragmented ${c.fragmented} → ${c.fragmentedAfter}; read ${c.readBeforeMs.toFixed(1)} ms → ${c.readAfterMs.toFixed(1)} ms (median of 5); compactData ${c.compactMs.toFixed(0)} ms`,
    );
  }
  rmSync(path, { recursive: true, force: true });
}
