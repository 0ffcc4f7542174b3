// Would filtering inside Wasm memory, before the decoded columns are copied out, pay? A prototype of a
// `decodeWhere` over shuffle-LZ4 float64 columns (the codec of most float data), and what a late-materialised
// read does now (`decodeKept`: the filter's column decoded and compared, the others decoded compacted by
// the mask with decodeColumnKept), against decoding every column into JS arrays (decodeColumnInto), then
// comparing and compacting with the query kernels (their copies in and out included). Milliseconds,
// medians of --repeats runs, one run.
// Usage: node bench/decode-filter.mjs [--repeats 7] [--sizes 100000,1000000] [--columns 4]
// Bundled from src/ on the fly (esbuild), so it measures the code the library ships.
import { arg, importInternals } from "./lib/internals.mjs";

const repeats = Number(arg("repeats", 7));
const sizes = arg("sizes", "100000,1000000").split(",").map(Number);
const numColumns = Number(arg("columns", 4));

const lib = await importInternals(
  "decode-filter",
  `
      export { CHUNK, loadKernels } from "./src/codec/wasm.ts";
      export { decodeColumnInto, decodeColumnKept } from "./src/codec/column-codec.ts";
      export { CODEC } from "./src/codec/codecs.ts";
      export { queryKernelsOf } from "./src/query/kernels.ts";`,
);
const k = await lib.loadKernels();
const q = lib.queryKernelsOf(k);
const x = k.exports;
const CHUNK = lib.CHUNK;
const STORED = 0x80000000;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Medians of the functions' times, run in turn each repeat so that a slow spell hits them alike. */
function timeAll(fns) {
  for (const fn of fns) fn();
  const ms = fns.map(() => []);
  for (let r = 0; r < repeats; r++) {
    fns.forEach((fn, j) => {
      const t = performance.now();
      fn();
      ms[j].push(performance.now() - t);
    });
  }
  return ms.map(median);
}

/** Today: decode every column into a JS array, then mask and compact with the query kernels. */
function decodeThenFilter(encs, n, s) {
  const cols = encs.map((enc) => {
    const values = new Float64Array(n);
    lib.decodeColumnInto(k, enc, "float64", n, values, 0);
    return values;
  });
  const mask = q.compare(cols[0], "gt", s);
  return q.compact(mask, q.maskSum(mask), cols);
}

/**
 * The prototype: one scratch layout; each column's 64 KB chunks are checksummed, decompressed and
 * unshuffled in Wasm memory, the first column's chunks compared into a mask that stays there, and every
 * column's chunks compacted by it, so only the kept rows are copied out.
 */
function decodeWhere(encs, n, s) {
  const maxBody = x.lz4Bound(CHUNK);
  const [pin, ptmp, pdst, pmask, pout] = k.scratch(maxBody + 4, CHUNK, CHUNK, n, 8 * n);
  const mem = k.bytes();
  let kept = 0;
  return encs.map((enc, c) => {
    const stored = enc.bytes;
    const view = new DataView(stored.buffer, stored.byteOffset, stored.byteLength);
    let pos = 0;
    let at = 0; // kept rows written so far
    x.hashInit();
    for (let off = 0; off < 8 * n; off += CHUNK) {
      const len = Math.min(CHUNK, 8 * n - off);
      const word = view.getUint32(pos, true);
      const body = word & 0x7fffffff;
      mem.set(stored.subarray(pos, pos + 4 + body), pin);
      x.hashUpdate(pin, body + 4);
      pos += 4 + body;
      let data = pin + 4;
      if ((word & STORED) === 0) {
        if (x.lz4Decompress(pin + 4, body, ptmp, len) !== len) throw new Error("corrupt");
        data = ptmp;
      }
      x.unshuffle(data, len / 8, 8, pdst);
      const row = off / 8;
      if (c === 0) x.compareF64(pdst, len / 8, s, 0, pmask + row);
      at += x.maskCompact(pdst, len / 8, 8, pmask + row, pout + 8 * at);
    }
    if (x.hashFinal() >>> 0 !== enc.checksum) throw new Error("checksum");
    if (c === 0) kept = at;
    else if (at !== kept) throw new Error("kept");
    return new Float64Array(mem.slice(pout, pout + 8 * at).buffer);
  });
}

/**
 * What a late-materialised read does (src/version/read-path.ts `readRowsWhere`): the filter's column
 * decoded whole and compared, then every other column decoded compacted by the mask (decodeColumnKept:
 * its kept rows alone copied out of Wasm memory) and the filter's column compacted.
 */
function decodeKept(encs, n, s) {
  const first = new Float64Array(n);
  lib.decodeColumnInto(k, encs[0], "float64", n, first, 0);
  const mask = q.compare(first, "gt", s);
  const kept = q.maskSum(mask);
  const rest = encs.slice(1).map((enc) => {
    const values = new Float64Array(kept);
    lib.decodeColumnKept(k, enc, "float64", n, mask, values, 0, 0, n);
    return values;
  });
  return [...q.compact(mask, kept, [first]), ...rest];
}

/** Decoding alone, for scale: every column into JS arrays. */
function decodeOnly(encs, n) {
  for (const enc of encs) lib.decodeColumnInto(k, enc, "float64", n, new Float64Array(n), 0);
}

console.log(
  `decode + filter: ${numColumns} shuffle-LZ4 float64 columns, filter on the first; ms (median of ${repeats}); ` +
    `node ${process.version}`,
);
console.log(
  `${"rows".padStart(9)}${"kept".padStart(7)}${"decode only".padStart(13)}${"decode, then filter".padStart(21)}` +
    `${"decodeWhere".padStart(13)}${"saved".padStart(8)}${"decodeKept".padStart(13)}${"saved".padStart(8)}`,
);
for (const n of sizes) {
  let seed = n;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  // Random walks with full-precision steps: compressible after shuffling, not decimal.
  const encs = [];
  for (let c = 0; c < numColumns; c++) {
    const v = new Float64Array(n);
    for (let i = 0, p = 100; i < n; i++) v[i] = p += rnd() - 0.5;
    const packed = k.compressBlocks(new Uint8Array(v.buffer), 8);
    encs.push({
      codec: lib.CODEC.shuffleLz4,
      rawBytes: 8 * n,
      bytes: packed.bytes,
      checksum: packed.checksum,
    });
  }
  const first = new Float64Array(n);
  lib.decodeColumnInto(k, encs[0], "float64", n, first, 0);
  const sorted = Float64Array.from(first).sort();
  for (const share of [0.01, 0.5]) {
    const s = sorted[Math.floor(n * (1 - share))];
    // Both paths must agree before either is timed.
    const a = decodeThenFilter(encs, n, s);
    for (const [name, fn] of [
      ["decodeWhere", decodeWhere],
      ["decodeKept", decodeKept],
    ]) {
      const b = fn(encs, n, s);
      if (a.some((col, c) => col.length !== b[c].length || col.some((v, i) => !Object.is(v, b[c][i])))) {
        throw new Error(`${name} disagrees with decode, then filter`);
      }
    }
    const [base, today, proto, late] = timeAll([
      () => decodeOnly(encs, n),
      () => decodeThenFilter(encs, n, s),
      () => decodeWhere(encs, n, s),
      () => decodeKept(encs, n, s),
    ]);
    const saved = (t) => `${Math.round((1 - t / today) * 100)}%`.padStart(8);
    console.log(
      `${String(n).padStart(9)}${`${share * 100}%`.padStart(7)}${base.toFixed(2).padStart(13)}` +
        `${today.toFixed(2).padStart(21)}${proto.toFixed(2).padStart(13)}${saved(proto)}` +
        `${late.toFixed(2).padStart(13)}${saved(late)}`,
    );
  }
}
