// The query engine's hot loops in TypeScript (evaluate.ts / aggregate.ts as they run without Wasm) against
// the Wasm kernels of assembly/query.ts, in one run: "wasm+copy" is the binding the engine calls (inputs
// copied into Wasm memory, result copied out), "kernel" the kernel alone on inputs already in Wasm memory
// (what a decode that stays in Wasm memory would pay), over the whole column in one call where the binding
// goes a window of 32K rows at a time. Milliseconds, medians of --repeats runs.
// Usage: node bench/query-kernels.mjs [--repeats 7] [--sizes 100000,1000000] [--groups 1000]
// The code is bundled from src/ on the fly (esbuild), so this measures the code the library ships.
import { arg, importInternals } from "./lib/internals.mjs";

const repeats = Number(arg("repeats", 7));
const sizes = arg("sizes", "100000,1000000").split(",").map(Number);
const numGroups = Number(arg("groups", 1000));

const lib = await importInternals(
  "query-kernels",
  `
      export { createKernels, loadKernels } from "./src/codec/wasm.ts";
      export { evaluate } from "./src/query/evaluate.ts";
      export { accumulate } from "./src/query/aggregate.ts";
      export { queryKernelsOf, useQueryKernels } from "./src/query/kernels.ts";
      export { col } from "./src/query/expr.ts";
      export { runQuery } from "./src/query/execute.ts";
      export { QueryBuilder } from "./src/query/query-builder.ts";
      export { DataFrame } from "./src/frame/dataframe.ts";`,
);
const k = await lib.loadKernels();
const q = lib.queryKernelsOf(k);
const x = k.exports;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function time(fn) {
  fn(); // warm-up: JIT and Wasm memory growth
  fn();
  const ms = [];
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    fn();
    ms.push(performance.now() - t);
  }
  return median(ms);
}
/** The engine's TypeScript path: the kernels switched off for the call. */
function jsPath(fn) {
  return () => {
    lib.useQueryKernels(false);
    try {
      fn();
    } finally {
      lib.useQueryKernels(true);
    }
  };
}

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const rows = [];
function row(name, n, js, wasm, kernel) {
  rows.push({ name, n, js, wasm, kernel });
}

for (const n of sizes) {
  const r = rng(n);
  const f64 = Float64Array.from({ length: n }, () => r() * 200 - 100);
  for (let i = 0; i < n; i += 97) f64[i] = Number.NaN;
  const f64b = Float64Array.from({ length: n }, () => r() * 200 - 100);
  const i64 = BigInt64Array.from({ length: n }, () => BigInt(Math.floor(r() * 2 ** 40)));
  const i32 = Int32Array.from({ length: n }, () => Math.floor(r() * 2 ** 20));
  const maskA = Uint8Array.from({ length: n }, () => (r() < 0.5 ? 1 : 0));
  const maskB = Uint8Array.from({ length: n }, () => (r() < 0.5 ? 1 : 0));
  const gids = Int32Array.from({ length: n }, () => (r() < 0.01 ? -1 : Math.floor(r() * numGroups)));
  const cols = {
    numRows: n,
    get: (name) =>
      ({
        f: { dtype: "float64", values: f64 },
        g: { dtype: "float64", values: f64b },
        i: { dtype: "int64", values: i64 },
        j: { dtype: "int32", values: i32 },
        m: { dtype: "bool", values: maskA },
        w: { dtype: "bool", values: maskB },
      })[name],
    names: () => ["f", "g", "i", "j", "m", "w"],
  };
  const ev = (expr) => () => lib.evaluate(expr.node, cols);
  // Arithmetic is not wired into evaluate.ts (see the report), so its Wasm column calls the binding.

  // Inputs staged once in Wasm memory for the kernel-alone timings (scratch stays put between calls
  // that ask for no more than this).
  const [pf, pg, pi, pj, pm, pw, pgid, pout, pc, pa, pb] = k.scratch(
    8 * n,
    8 * n,
    8 * n,
    4 * n,
    n,
    n,
    4 * n,
    8 * n,
    8 * numGroups,
    8 * numGroups,
    8 * numGroups,
  );
  const stage = () => {
    const mem = k.bytes();
    mem.set(new Uint8Array(f64.buffer), pf);
    mem.set(new Uint8Array(f64b.buffer), pg);
    mem.set(new Uint8Array(i64.buffer), pi);
    mem.set(new Uint8Array(i32.buffer), pj);
    mem.set(maskA, pm);
    mem.set(maskB, pw);
    mem.set(new Uint8Array(gids.buffer), pgid);
  };
  // Each "kernel" timing restages first (outside the timed call) since a binding call reuses the scratch.
  const kernel = (fn) => {
    stage();
    return time(fn);
  };

  const f = lib.col("f");
  row(
    "f64 > scalar",
    n,
    time(jsPath(ev(f.gt(0.5)))),
    time(ev(f.gt(0.5))),
    kernel(() => x.compareF64(pf, n, 0.5, 0, pout)),
  );
  row(
    "f64 == scalar",
    n,
    time(jsPath(ev(f.eq(0.5)))),
    time(ev(f.eq(0.5))),
    kernel(() => x.compareF64(pf, n, 0.5, 4, pout)),
  );
  const ic = lib.col("i").lt(2n ** 39n);
  row(
    "int64 < scalar",
    n,
    time(jsPath(ev(ic))),
    time(ev(ic)),
    kernel(() => x.compareI64(pi, n, 2n ** 39n, 2, 0, pout)),
  );
  const jc = lib.col("j").ge(1000);
  row(
    "int32 >= scalar",
    n,
    time(jsPath(ev(jc))),
    time(ev(jc)),
    kernel(() => x.compareI32(pj, n, 1000, 1, pout)),
  );
  const and = lib.col("m").and(lib.col("w"));
  row(
    "mask and mask",
    n,
    time(jsPath(ev(and))),
    time(ev(and)),
    kernel(() => x.maskLogic(pm, pw, n, 0, pout)),
  );
  const not = lib.col("m").not();
  row(
    "not mask",
    n,
    time(jsPath(ev(not))),
    time(ev(not)),
    kernel(() => x.maskLogic(pm, 0, n, 3, pout)),
  );
  row(
    "count of mask",
    n,
    time(() => {
      let c = 0;
      for (let i = 0; i < n; i++) c += maskA[i];
      return c;
    }),
    time(() => q.maskSum(maskA)),
    kernel(() => x.maskSum(pm, n)),
  );
  const add = f.add(lib.col("g"));
  row(
    "f64 + f64",
    n,
    time(jsPath(ev(add))),
    time(() => q.arithColumns("add", f64, f64b)),
    kernel(() => x.arithColumns(pf, pg, n, 0, pout)),
  );
  const mul = f.mul(1.5);
  row(
    "f64 * scalar",
    n,
    time(jsPath(ev(mul))),
    time(() => q.arithScalar("mul", f64, 1.5, false)),
    kernel(() => x.arithScalar(pf, 1.5, n, 2, 0, pout)),
  );
  const div = f.div(lib.col("g"));
  row(
    "f64 / f64",
    n,
    time(jsPath(ev(div))),
    time(() => q.arithColumns("div", f64, f64b)),
    kernel(() => x.arithColumns(pf, pg, n, 3, pout)),
  );

  // Keeping the rows of a mask: execute.ts's gather by row numbers vs the compaction kernel.
  const keep = q.compare(f64, "gt", 98); // about 1 % of the rows
  const kept = q.maskSum(keep);
  const gatherJs = () => {
    // execute.ts's takeMask without kernels: row numbers, then a generic gather per column.
    const rowsOf = new Int32Array(kept);
    for (let i = 0, j = 0; i < n; i++) if (keep[i] === 1) rowsOf[j++] = i;
    const o = new Float64Array(kept);
    const v = f64;
    for (let i = 0; i < kept; i++) o[i] = v[rowsOf[i]];
    return o;
  };
  row(
    "keep 1 % of f64",
    n,
    time(gatherJs),
    time(() => q.compact(keep, kept, [f64])),
    kernel(() => {
      k.bytes().set(keep, pm);
      x.maskCompact(pf, n, 8, pm, pout);
    }),
  );
  // A whole filter clause over a frame of four float64 columns, an int64 and a timestamp index.
  const frame = lib.DataFrame.fromColumns(
    [
      { name: "f", dtype: "float64", values: f64 },
      { name: "g", dtype: "float64", values: f64b },
      { name: "h", dtype: "float64", values: f64b.map((v) => v * 2) },
      { name: "u", dtype: "float64", values: f64.map((v) => v + 1) },
      { name: "i", dtype: "int64", values: i64 },
    ],
    { kind: "timestamp", name: "ts", values: BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 1000n) },
    n,
  );
  for (const [label, t] of [
    ["1 %", 98],
    ["50 %", 0],
  ]) {
    const query = new lib.QueryBuilder().filter(f.gt(t));
    const run = () => lib.runQuery(frame, query);
    row(`filter keeping ${label}, 6 cols`, n, time(jsPath(run)), time(run), NaN);
  }

  const GROUP = { count: 0, sum: 1, min: 2, max: 3, first: 4, last: 5, mean: 1 };
  for (const [dtype, values, p] of [
    ["f64", f64, pf],
    ["int64", i64, pi],
  ]) {
    const input = { dtype: dtype === "f64" ? "float64" : "int64", values };
    for (const agg of ["count", "sum", "mean", "min", "max", "first", "last"]) {
      const aggs = [{ column: "v", agg, out: agg }];
      const acc = () => lib.accumulate(aggs, [input], gids, numGroups, 0);
      const kind = dtype === "int64" && agg === "mean" ? 6 : GROUP[agg];
      const run =
        dtype === "f64"
          ? () => {
              x.groupReset(kind, pc, pa, pb, numGroups);
              x.groupF64(kind, p, pgid, n, pc, pa, pb, 0);
            }
          : () => {
              x.groupReset(kind, pc, pa, pb, numGroups);
              x.groupI64(kind, p, pgid, n, 0, pc, pa, pb, 0);
            };
      row(`group ${agg} ${dtype}`, n, time(jsPath(acc)), time(acc), kernel(run));
    }
  }
  // Several aggregations of one grouping share the copy of the group numbers and of a column.
  const many = ["count", "sum", "mean", "min", "max"].map((agg) => ({ column: "f", agg, out: agg }));
  const manyInputs = many.map(() => ({ dtype: "float64", values: f64 }));
  const accMany = () => lib.accumulate(many, manyInputs, gids, numGroups, 0);
  row("group 5 aggs of one f64", n, time(jsPath(accMany)), time(accMany), NaN);
}

const fmt = (ms) => (Number.isNaN(ms) ? "—" : ms < 1 ? ms.toFixed(3) : ms.toFixed(2));
console.log(
  `query kernels: TypeScript loops vs Wasm, ms (median of ${repeats}); groups: ${numGroups}; ` +
    `node ${process.version}`,
);
console.log(
  `${"kernel".padEnd(30)}${"rows".padStart(9)}${"js".padStart(9)}${"wasm+copy".padStart(11)}` +
    `${"kernel".padStart(9)}${"js÷wasm+copy".padStart(14)}`,
);
for (const r of rows) {
  console.log(
    `${r.name.padEnd(30)}${String(r.n).padStart(9)}${fmt(r.js).padStart(9)}${fmt(r.wasm).padStart(11)}` +
      `${fmt(r.kernel).padStart(9)}${(r.js / r.wasm).toFixed(2).padStart(14)}`,
  );
}
