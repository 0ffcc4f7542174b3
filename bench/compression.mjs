// floe's per-column codecs against LZ4 alone (ArcticDB's default) on the same bytes: stored size and
// encode / decode MB/s, on realistic minute bars and on random floats.
//
//   npm run bench:compression                  # 1,000,000 rows, median of 5
//   npm run bench:compression -- --quick       # 200,000 rows, median of 3
//   options: --rows N   --repeats N   --out DIR (bench/out)   --charts DIR (also write the SVG chart there)
//
// The data is cut into segments of 100,000 rows, as floe stores it, and every column of every segment is
// encoded on its own by:
//   floe         encodeColumn (src/codec/column-codec.ts): the codec floe picks for the column (int-pack of
//                deltas for timestamps, exact decimals for prices, int-pack for volumes, a dictionary for
//                strings, raw for random floats, ...), checksum included; decoded by decodeColumnInto /
//                decodeStrings, checksum verified.
//   LZ4          one LZ4 block of the column's bytes (the Wasm kernel lz4Compress, standard LZ4 block
//                format), as ArcticDB compresses each column block of a segment by default; no checksum.
//                Strings: int32 lengths followed by the UTF-8 characters, in one block; decoding also
//                cuts the text back into strings, as floe's does.
//   shuffle+LZ4  floe's codec 2 forced on every numeric column (byte-shuffle by element width, LZ4 in 64 KB
//                chunks), Blosc's recipe, for reference.
// The kernels are bundled from src/ with esbuild on the fly, so this measures the code the library ships.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { barsSpec, writeSvg } from "./lib/chart.mjs";
import { writeCsv } from "./lib/csv.mjs";
import { fillNormal, minuteBars, runtimeVersion } from "./lib/data.mjs";
import { Progress } from "./lib/progress.mjs";
import { median } from "./lib/stats.mjs";

const here = import.meta.dirname ?? fileURLToPath(new URL(".", import.meta.url));
const { values: args } = parseArgs({
  options: {
    rows: { type: "string" },
    repeats: { type: "string" },
    quick: { type: "boolean", default: false },
    out: { type: "string", default: join(here, "out") },
    charts: { type: "string" },
  },
});
const rows = Number(args.rows ?? (args.quick ? 200_000 : 1_000_000));
const repeats = Number(args.repeats ?? (args.quick ? 3 : 5));
const SEGMENT = 100_000;

mkdirSync(args.out, { recursive: true });
const bundle = join(args.out, "codec-kernels.mjs");
await build({
  stdin: {
    contents:
      'export { encodeColumn, decodeColumnInto, decodeStrings } from "./src/codec/column-codec.ts";\n' +
      'export { createKernels } from "./src/codec/wasm.ts";\n' +
      'export { codecById } from "./src/codec/codecs.ts";\n',
    resolveDir: join(here, ".."),
    loader: "ts",
  },
  outfile: bundle,
  bundle: true,
  format: "esm",
  platform: "neutral",
  logLevel: "warning",
});
const { encodeColumn, decodeColumnInto, decodeStrings, createKernels, codecById } = await import(
  pathToFileURL(bundle).href
);
const k = await createKernels();

// ---- data sets -------------------------------------------------------------------------------------------

const bars = minuteBars(rows);
const minuteCols = [
  ["timestamp", "timestamp", bars.index],
  ["open", "float64", bars.columns.open],
  ["high", "float64", bars.columns.high],
  ["low", "float64", bars.columns.low],
  ["close", "float64", bars.columns.close],
  ["volume", "int64", bars.columns.volume],
  ["symbol", "string", bars.columns.symbol],
];
const randomCols = [];
for (let c = 0; c < 4; c++) randomCols.push([`c${c}`, "float64", fillNormal(new Float64Array(rows))]);
const DATASETS = [
  ["minute bars", minuteCols],
  ["random floats", randomCols],
];

// ---- the codecs ------------------------------------------------------------------------------------------

const utf8 = new TextEncoder();
const utf8dec = new TextDecoder();
const bytesOf = (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * Strings as LZ4 sees them: per value its length in UTF-16 code units (int32), then all characters as
 * UTF-8, the layout of floe's plain string codec before its own packing.
 */
function stringBytes(values) {
  const lengths = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) lengths[i] = values[i].length;
  const chars = utf8.encode(values.join(""));
  const out = new Uint8Array(lengths.byteLength + chars.byteLength);
  out.set(bytesOf(lengths));
  out.set(chars, lengths.byteLength);
  return out;
}

function stringsFrom(bytes, n) {
  const lengths = new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + n * 4));
  const text = utf8dec.decode(bytes.subarray(n * 4));
  const out = new Array(n);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    out[i] = text.substring(pos, pos + lengths[i]);
    pos += lengths[i];
  }
  return out;
}

const CODECS = {
  floe: {
    encode: (values, dtype) => encodeColumn(k, values, dtype),
    size: (enc) => enc.bytes.byteLength,
    decode: (enc, dtype, n, out) => {
      if (dtype === "string") return decodeStrings(k, enc, n);
      decodeColumnInto(k, enc, dtype, n, out, 0);
      return out;
    },
    name: (enc) => codecById(enc.codec).name,
  },
  LZ4: {
    // The column's bytes in LZ4 blocks of 64 KB (floe's codec 1 forced; the same ratio as one big block,
    // since LZ4's window is 64 KB, and it decodes into the caller's array as floe's codecs do).
    encode: (values, dtype) => {
      const raw = dtype === "string" ? stringBytes(values) : bytesOf(values);
      return { ...k.compressBlocks(raw, 1), rawLen: raw.byteLength };
    },
    size: (enc) => enc.bytes.byteLength,
    decode: (enc, dtype, n, out) => {
      if (dtype !== "string") {
        k.decompressBlocksInto(enc.bytes, 1, bytesOf(out), enc.checksum);
        return out;
      }
      const raw = new Uint8Array(enc.rawLen);
      k.decompressBlocksInto(enc.bytes, 1, raw, enc.checksum);
      return stringsFrom(raw, n);
    },
    name: () => "lz4 64 KB blocks",
  },
  "LZ4 one block": {
    // One LZ4 block per column and segment (ArcticDB's layout); its output is a new array every call.
    encode: (values, dtype) => k.lz4Compress(dtype === "string" ? stringBytes(values) : bytesOf(values)),
    size: (enc) => enc.byteLength,
    decode: () => null,
    name: () => "lz4 block",
    sizeOnly: true,
  },
  "shuffle+LZ4": {
    encode: (values, dtype) =>
      dtype === "string" ? null : k.compressBlocks(bytesOf(values), values.BYTES_PER_ELEMENT),
    size: (enc) => enc.bytes.byteLength,
    decode: (enc, _dtype, _n, out) => {
      k.decompressBlocksInto(enc.bytes, out.BYTES_PER_ELEMENT, bytesOf(out), enc.checksum);
      return out;
    },
    name: () => "shuffle-lz4",
  },
};

/** In-memory bytes of a column: the typed array, or for strings int32 lengths + UTF-8 characters. */
const rawBytesOf = (values, dtype) =>
  dtype === "string" ? stringBytes(values).byteLength : values.byteLength;

// ---- measure ---------------------------------------------------------------------------------------------

const results = []; // per dataset, column, codec
const totalSteps = DATASETS.reduce((s, [, cols]) => s + cols.length, 0) * Object.keys(CODECS).length;
const progress = new Progress("compression", totalSteps);
for (const [dataset, cols] of DATASETS) {
  for (const [column, dtype, values] of cols) {
    const segments = [];
    for (let at = 0; at < rows; at += SEGMENT) segments.push(values.slice(at, Math.min(rows, at + SEGMENT)));
    const raw = segments.reduce((s, v) => s + rawBytesOf(v, dtype), 0);
    for (const [codec, impl] of Object.entries(CODECS)) {
      progress.update(`${dataset}: ${column} with ${codec}`);
      if (impl.encode(segments[0], dtype) === null) {
        progress.step();
        continue;
      }
      const outs = segments.map((v) => (dtype === "string" ? null : new v.constructor(v.length)));
      let encoded = segments.map((v) => impl.encode(v, dtype)); // warm-up, and the sizes
      const encTimes = [];
      const decTimes = [];
      for (let r = 0; r < (impl.sizeOnly ? 0 : repeats); r++) {
        let t = performance.now();
        encoded = segments.map((v) => impl.encode(v, dtype));
        encTimes.push(performance.now() - t);
        t = performance.now();
        const back = encoded.map((e, i) => impl.decode(e, dtype, segments[i].length, outs[i]));
        decTimes.push(performance.now() - t);
        if (r === 0) {
          const a = back[back.length - 1];
          const b = segments[segments.length - 1];
          const last = b.length - 1;
          const got = dtype === "string" ? a[last] : bytesOf(a)[bytesOf(a).length - 1];
          const want = dtype === "string" ? b[last] : bytesOf(b)[bytesOf(b).length - 1];
          if (got !== want) throw new Error(`${codec} did not round-trip ${dataset} ${column}`);
        }
      }
      const size = encoded.reduce((s, e) => s + impl.size(e), 0);
      const names = [...new Set(encoded.map((e) => impl.name(e)))].join("/");
      const encMs = impl.sizeOnly ? Number.NaN : median(encTimes);
      const decMs = impl.sizeOnly ? Number.NaN : median(decTimes);
      results.push({
        dataset,
        column,
        dtype,
        codec,
        chosen: names,
        rawBytes: raw,
        storedBytes: size,
        ratio: size / raw,
        encodeMs: encMs,
        decodeMs: decMs,
        encodeMBps: raw / 1e6 / (encMs / 1000),
        decodeMBps: raw / 1e6 / (decMs / 1000),
      });
      progress.step();
    }
  }
}
const elapsed = progress.end();
writeCsv(join(args.out, "compression.csv"), results);

// ---- report ----------------------------------------------------------------------------------------------

const MB = (b) => (b / 1e6).toFixed(2);
console.log(
  `\ncompression, ${runtimeVersion()}: ${rows.toLocaleString()} rows in segments of ${SEGMENT.toLocaleString()}, ` +
    `median of ${repeats}, ${elapsed.toFixed(0)} s`,
);
const totals = [];
for (const [dataset, cols] of DATASETS) {
  console.log(`\n${dataset}`);
  console.log(
    `${"column".padEnd(12)}${"raw MB".padStart(8)}  ${"floe codec".padEnd(12)}${"floe MB".padStart(9)}${"LZ4 MB".padStart(9)}` +
      `${"LZ4 1blk".padStart(9)}${"shuf+LZ4".padStart(9)}${"floe/LZ4".padStart(10)}   enc MB/s floe | LZ4   dec MB/s floe | LZ4`,
  );
  const get = (column, codec) =>
    results.find((r) => r.dataset === dataset && r.column === column && r.codec === codec);
  for (const [column] of cols) {
    const f = get(column, "floe");
    const l = get(column, "LZ4");
    const s = get(column, "shuffle+LZ4");
    const one = get(column, "LZ4 one block");
    console.log(
      `${column.padEnd(12)}${MB(f.rawBytes).padStart(8)}  ${f.chosen.padEnd(12)}${MB(f.storedBytes).padStart(9)}${MB(l.storedBytes).padStart(9)}` +
        `${MB(one.storedBytes).padStart(9)}${(s ? MB(s.storedBytes) : "-").padStart(9)}${(f.storedBytes / l.storedBytes).toFixed(3).padStart(10)}` +
        `   ${f.encodeMBps.toFixed(0).padStart(8)} | ${l.encodeMBps.toFixed(0).padEnd(5)}   ${f.decodeMBps.toFixed(0).padStart(8)} | ${l.decodeMBps.toFixed(0)}`,
    );
  }
  const sum = (codec, key) =>
    results.filter((r) => r.dataset === dataset && r.codec === codec).reduce((a, r) => a + r[key], 0);
  const raw = sum("floe", "rawBytes");
  const row = { dataset, rawMB: raw / 1e6 };
  for (const codec of ["floe", "LZ4"]) {
    row[`${codec} MB`] = sum(codec, "storedBytes") / 1e6;
    row[`${codec} encode MB/s`] = raw / 1e6 / (sum(codec, "encodeMs") / 1000);
    row[`${codec} decode MB/s`] = raw / 1e6 / (sum(codec, "decodeMs") / 1000);
  }
  row["LZ4 one block MB"] = sum("LZ4 one block", "storedBytes") / 1e6;
  row["floe / LZ4 size"] = row["floe MB"] / row["LZ4 MB"];
  row["floe / LZ4 one block size"] = row["floe MB"] / row["LZ4 one block MB"];
  totals.push(row);
  console.log(
    `${"all".padEnd(12)}${MB(raw).padStart(8)}  ${"".padEnd(12)}${row["floe MB"].toFixed(2).padStart(9)}${row["LZ4 MB"].toFixed(2).padStart(9)}${(sum("LZ4 one block", "storedBytes") / 1e6).toFixed(2).padStart(9)}${"".padStart(9)}` +
      `${row["floe / LZ4 size"].toFixed(3).padStart(10)}   ${row["floe encode MB/s"].toFixed(0).padStart(8)} | ${row["LZ4 encode MB/s"].toFixed(0).padEnd(5)}   ` +
      `${row["floe decode MB/s"].toFixed(0).padStart(8)} | ${row["LZ4 decode MB/s"].toFixed(0)}`,
  );
}
writeCsv(join(args.out, "compression-totals.csv"), totals);
const bar = totals.find((t) => t.dataset === "minute bars")["floe / LZ4 size"];
const bar1 = totals.find((t) => t.dataset === "minute bars")["floe / LZ4 one block size"];
console.log(
  `\nbar: minute-bar stored size floe / LZ4 alone = ${bar.toFixed(3)} (64 KB blocks), ${bar1.toFixed(3)} (one block) ` +
    `(<= 0.6: ${Math.max(bar, bar1) <= 0.6 ? "met" : "NOT met"})`,
);

// One random column stands for all: they are alike.
const chartRows = results
  .filter((r) => r.dataset !== "random floats" || r.column === "c0")
  .map((r) => ({
    group: `${r.dataset}: ${r.column}`,
    who: r.codec === "floe" ? `floe (${r.chosen})` : r.codec,
    value: r.ratio,
    label: `${(r.ratio * 100).toFixed(1)} %`,
  }));
const files = [join(args.out, "compression.svg")];
if (args.charts) files.push(join(args.charts, "compression.svg"));
await writeSvg(
  barsSpec(chartRows, {
    title: `Stored size / raw size per column, ${rows.toLocaleString()} rows (lower is better)`,
    xTitle: "stored / raw",
    width: 420,
  }),
  ...files,
);
console.log(`wrote ${files.join(", ")} and ${join(args.out, "compression*.csv")}`);
