// Test data shared by the studies, and the few things that differ between Node, Bun and Deno.

/**
 * Fills `out` with standard normal samples (numpy's randn, as the seed uses): Marsaglia's polar method,
 * two samples per accepted pair, no trigonometry, so a gigabyte takes seconds, not minutes.
 */
export function fillNormal(out) {
  const n = out.length;
  let i = 0;
  while (i < n) {
    const u = 2 * Math.random() - 1;
    const v = 2 * Math.random() - 1;
    const s = u * u + v * v;
    if (s >= 1 || s === 0) continue;
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    out[i++] = u * f;
    if (i < n) out[i++] = v * f;
  }
  return out;
}

/**
 * The seed's frame: `ncols` float64 columns of standard normals, `bytes` in all. The columns are views of
 * one buffer (`flat`), so the same bytes can also be written as one plain file or as raw LMDB values.
 */
export function normalColumns(bytes, ncols = 10) {
  const nrows = Math.floor(bytes / ncols / 8);
  const flat = fillNormal(new Float64Array(nrows * ncols));
  const columns = {};
  for (let c = 0; c < ncols; c++) columns[`c${c}`] = flat.subarray(c * nrows, (c + 1) * nrows);
  return { nrows, columns, flat, flatBytes: new Uint8Array(flat.buffer) };
}

export const MINUTE_NS = 60_000_000_000n;
/** 2020-01-01T00:00:00Z in ns. */
export const START_NS = BigInt(Date.UTC(2020, 0, 1)) * 1_000_000n;

const TICKERS = ["AAPL", "MSFT", "GOOG", "AMZN", "NVDA", "META", "TSLA", "JPM", "XOM", "BRK.B"];

/**
 * `n` minute bars from minute `from` on: a ns timestamp index, open/high/low/close as a random walk in
 * cents, an integer volume (int64, heavy-tailed), and (with `symbol`) a ticker string column that
 * changes every 390 rows (one trading day of one name, as bars of many names stacked by day).
 */
export function minuteBars(n, { from = 0, symbol = true, seedPrice = 100 } = {}) {
  const index = new BigInt64Array(n);
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  const volume = new BigInt64Array(n);
  const sym = symbol ? new Array(n) : null;
  let p = seedPrice;
  const t0 = START_NS + BigInt(from) * MINUTE_NS;
  for (let i = 0; i < n; i++) {
    index[i] = t0 + BigInt(i) * MINUTE_NS;
    const o = p;
    let hi = o;
    let lo = o;
    for (let k = 0; k < 4; k++) {
      p = Math.max(0.01, p + (Math.random() - 0.5) * 0.1);
      if (p > hi) hi = p;
      if (p < lo) lo = p;
    }
    open[i] = Math.round(o * 100) / 100;
    high[i] = Math.round(hi * 100) / 100;
    low[i] = Math.round(lo * 100) / 100;
    close[i] = Math.round(p * 100) / 100;
    volume[i] = BigInt(Math.floor(100 * Math.exp(3 * Math.random())) * 10);
    if (sym) sym[i] = TICKERS[Math.floor((from + i) / 390) % TICKERS.length];
  }
  const columns = { open, high, low, close, volume };
  if (sym) columns.symbol = sym;
  return { index, columns };
}

/** Which runtime runs this: "node", "bun" or "deno". */
export const runtime = globalThis.Bun ? "bun" : globalThis.Deno ? "deno" : "node";

/** The runtime's version, e.g. "node 20.19.5". */
export function runtimeVersion() {
  if (globalThis.Bun) return `bun ${globalThis.Bun.version}`;
  if (globalThis.Deno) return `deno ${globalThis.Deno.version.deno}`;
  return `node ${process.versions.node}`;
}

/** A full garbage collection where the runtime offers one (node --expose-gc, Bun.gc, deno --v8-flags=--expose-gc). */
export function gc() {
  if (globalThis.gc) globalThis.gc();
  else if (globalThis.Bun) globalThis.Bun.gc(true);
}

/**
 * The command that runs `script` with `args` in `rt` (spawned from Node): Node and Deno get a
 * collector to call between measurements; Bun and Deno come from node_modules/.bin (devDependencies).
 */
export function runtimeCommand(rt, script, args, binDir) {
  if (rt === "node") return [process.execPath, ["--expose-gc", script, ...args]];
  if (rt === "bun") return [`${binDir}/bun`, [script, ...args]];
  if (rt === "deno") return [`${binDir}/deno`, ["run", "-A", "--v8-flags=--expose-gc", script, ...args]];
  throw new Error(`unknown runtime '${rt}' (node, bun or deno)`);
}

/** The throughput study's rows, [store, contender], in the order its tables print them. */
export const THROUGHPUT_SERIES = [
  ["disk", "plain file"],
  ["disk", "raw lmdb"],
  ["disk", "floe"],
  ["disk", "raw lmdb, beside reopened"],
  ["disk", "floe, reopened"],
  ["tmpfs", "plain file"],
  ["tmpfs", "raw lmdb"],
  ["tmpfs", "floe"],
  ["tmpfs", "raw lmdb, beside reopened"],
  ["tmpfs", "floe, reopened"],
  ["mem", "fresh arrays"],
  ["mem", "floe"],
  ["mem", "floe, read again"],
  ["mem", "floe, huge pages"],
];
