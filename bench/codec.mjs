// LZ4 and the column codec in Wasm, on text-like and float data: MB/s of raw bytes, medians of N runs.
// Usage: node bench/codec.mjs [--size 16] [--repeats 9]   (size in MB)
// The kernels are bundled from src/ on the fly (esbuild), so this measures the code the library ships.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const size = arg("size", 16) << 20;
const repeats = arg("repeats", 9);

const out = join(import.meta.dirname, "out");
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(import.meta.dirname, "../src/codec/wasm.ts")],
  outfile: join(out, "wasm.mjs"),
  bundle: true,
  format: "esm",
  platform: "neutral",
  logLevel: "warning",
});
const { createKernels } = await import(pathToFileURL(join(out, "wasm.mjs")).href);
const k = await createKernels();

/** CSV-like rows (dates, tickers, random-walk prices, volumes): what "text-like" means here. */
function textLike(n) {
  const tickers = ["AAPL", "MSFT", "GOOG", "AMZN", "TSLA", "NVDA", "META", "IBM"];
  let price = 100;
  const parts = [];
  let len = 0;
  for (let i = 0; len < n; i++) {
    price += Math.random() - 0.5;
    const line = `2024-01-${String(1 + (i % 28)).padStart(2, "0")} 09:${String(i % 60).padStart(2, "0")}:00,${tickers[i % 8]},${price.toFixed(2)},${Math.floor(Math.random() * 10000)}\n`;
    parts.push(line);
    len += line.length;
  }
  return new TextEncoder().encode(parts.join("")).subarray(0, n);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function rate(fn, bytes) {
  fn(); // warm-up: compiles and grows Wasm memory once
  const mbs = [];
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    fn();
    mbs.push(bytes / 2 ** 20 / ((performance.now() - t) / 1000));
  }
  return median(mbs);
}

const text = textLike(size);
const floats = new Float64Array(size / 8).map(() => Math.random());
const floatBytes = new Uint8Array(floats.buffer);
const prices = new Float64Array(size / 8);
for (let i = 0, p = 100; i < prices.length; i++)
  prices[i] = p += Math.round((Math.random() - 0.5) * 10) / 100;
const priceBytes = new Uint8Array(prices.buffer);

const rows = [];
const block = k.lz4Compress(text);
rows.push([
  "one LZ4 block, text-like (fresh output)",
  rate(() => k.lz4Compress(text), size),
  rate(() => k.lz4Decompress(block, size), size),
  block.byteLength / size,
]);
const outBuf = new Uint8Array(size);
for (const [name, bytes, width] of [
  ["container (64 KB chunks), text-like", text, 1],
  ["shuffle+LZ4 container, random float64", floatBytes, 8],
  ["shuffle+LZ4 container, price walk float64", priceBytes, 8],
]) {
  const packed = k.compressBlocks(bytes, width);
  rows.push([
    name,
    rate(() => k.compressBlocks(bytes, width), size),
    rate(() => k.decompressBlocksInto(packed.bytes, width, outBuf, packed.checksum), size),
    packed.bytes.byteLength / size,
  ]);
}
const copyChecked = k.checksum(floatBytes);
rows.push([
  "raw copy + checksum (codec 0 read)",
  Number.NaN,
  rate(() => k.copyRawInto(floatBytes, outBuf, copyChecked), size),
  1,
]);
const warm = new Uint8Array(size);
rows.push(["memcpy (baseline)", Number.NaN, rate(() => warm.set(floatBytes), size), 1]);

console.log(`codec throughput, ${size >> 20} MB inputs, median of ${repeats}, Node ${process.version}`);
console.log(
  `${"".padEnd(44)}${"compress MB/s".padStart(15)}${"decompress MB/s".padStart(17)}${"ratio".padStart(8)}`,
);
for (const [name, c, d, ratio] of rows) {
  const fmt = (v) => (Number.isNaN(v) ? "-" : v.toFixed(0)).padStart(15);
  console.log(`${name.padEnd(44)}${fmt(c)}${fmt(d).padStart(17)}${ratio.toFixed(3).padStart(8)}`);
}
// The bars use the container: it is how floe stores LZ4 data and decodes into the caller's array.
const lz4 = rows[1];
console.log(
  `\nbars: LZ4 compress ${lz4[1].toFixed(0)} MB/s (>= 250: ${lz4[1] >= 250 ? "met" : "NOT met"}), ` +
    `decompress ${lz4[2].toFixed(0)} MB/s (>= 1024: ${lz4[2] >= 1024 ? "met" : "NOT met"})`,
);
