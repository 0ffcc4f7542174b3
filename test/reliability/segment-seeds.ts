// Well-formed segments to corrupt: together they hold every dtype under every codec that can store it,
// plus the edge shapes (no rows, several LZ4 chunks, nulls, UTF-16 strings). Deterministic, so a failing
// input reproduces from the fuzz seed alone.
import { encodeSegment, type SegmentColumn } from "../../src/codec/segment.ts";
import type { Kernels } from "../../src/codec/wasm.ts";
import { DTYPES, type DType, type NumericArray, type StringArray } from "../../src/dtypes.ts";
import { rng } from "../codec/test-data.ts";

export interface Seed {
  name: string;
  rows: number;
  columns: SegmentColumn[];
  bytes: Uint8Array;
}

type Shape = "random" | "sorted" | "small" | "pattern" | "decimal" | "steps";

/** `n` values of `dtype` shaped so the encoder picks a particular codec (see seeds below). */
function numbers(dtype: DType, n: number, shape: Shape, seed: number): NumericArray {
  const r = rng(seed);
  const info = DTYPES[dtype];
  const out = new info.array!(n);
  const bits = info.width * 8;
  const big = (x: number) => BigInt.asIntN(64, BigInt(Math.floor(x)));
  for (let i = 0; i < n; i++) {
    let x: number;
    if (shape === "random") x = r() * 2 ** Math.min(bits, 52) - (info.integer ? 0 : 0.5);
    else if (shape === "sorted") x = 1_700_000_000 + i * 37 + Math.floor(r() * 5);
    else if (shape === "small") x = Math.floor(r() * 9);
    else if (shape === "pattern") x = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3][i % 10] * 1e6 + (i % 7);
    else if (shape === "decimal") x = Math.round(r() * 1e6) / 100;
    else x = Math.round(i / 4) / 4 + 100;
    if (info.bigint) {
      (out as BigInt64Array)[i] = shape === "random" ? BigInt.asIntN(64, big(x) * 2654435761n) : big(x);
    } else if (dtype === "bool") {
      out[i] = shape === "random" ? (r() < 0.5 ? 1 : 0) : Math.floor(i / 50) % 2;
    } else {
      (out as Float64Array)[i] = x;
    }
  }
  return out;
}

function strings(n: number, kind: "unique" | "repeated" | "utf16", seed: number): StringArray {
  const r = rng(seed);
  const words = ["", "a", "EURUSD", "Zürich", "東京", "😀x", "\uFEFFbom", "long ".repeat(20)];
  return Array.from({ length: n }, (_, i) => {
    if (i % 17 === 5) return null;
    if (kind === "repeated") return words[Math.floor(r() * words.length)];
    const text = `${words[i % words.length]}${Math.floor(r() * 1e9)}`;
    return kind === "utf16" ? `${text}\uD83D` : text;
  });
}

const NUMERIC: [DType, Shape[]][] = [
  ["float64", ["random", "decimal", "pattern", "steps"]],
  ["float32", ["random", "steps", "pattern"]],
  ["int8", ["random", "small", "pattern"]],
  ["int16", ["random", "sorted", "pattern"]],
  ["int32", ["random", "sorted", "pattern"]],
  ["int64", ["random", "sorted", "pattern"]],
  ["uint8", ["random", "small", "pattern"]],
  ["uint16", ["random", "sorted", "pattern"]],
  ["uint32", ["random", "sorted", "pattern"]],
  ["uint64", ["random", "sorted", "pattern"]],
  ["bool", ["random", "steps"]],
  ["timestamp", ["sorted", "random", "pattern"]],
];

/** The seed segments, each encoded once. */
export function makeSeeds(k: Kernels): Seed[] {
  const specs: { name: string; rows: number; columns: SegmentColumn[] }[] = [];
  let seed = 1;
  for (const [dtype, shapes] of NUMERIC) {
    const rows = 300 + seed * 7;
    const columns = shapes.map((shape) => ({
      name: `${dtype}_${shape}`,
      dtype,
      values: numbers(dtype, rows, shape, seed++),
    }));
    specs.push({ name: dtype, rows, columns });
  }
  specs.push({
    name: "string",
    rows: 240,
    columns: [
      { name: "unique", dtype: "string", values: strings(240, "unique", 90) },
      { name: "repeated", dtype: "string", values: strings(240, "repeated", 91) },
      { name: "utf16", dtype: "string", values: strings(240, "utf16", 92) },
      { name: "nulls", dtype: "string", values: new Array(240).fill(null) },
    ],
  });
  // A tile as a timestamp-indexed frame stores it: index column first, then mixed dtypes.
  const rows = 500;
  specs.push({
    name: "mixed tile",
    rows,
    columns: [
      { name: "ts", dtype: "timestamp", values: numbers("timestamp", rows, "sorted", 93) },
      { name: "price", dtype: "float64", values: numbers("float64", rows, "decimal", 94) },
      { name: "qty", dtype: "int32", values: numbers("int32", rows, "small", 95) },
      { name: "flag", dtype: "bool", values: numbers("bool", rows, "random", 96) },
      { name: "venue", dtype: "string", values: strings(rows, "repeated", 97) },
    ],
  });
  // Two 64 KB LZ4 chunks, shuffled and plain.
  specs.push({
    name: "multi-chunk",
    rows: 9000,
    columns: [
      { name: "wide", dtype: "float64", values: numbers("float64", 9000, "pattern", 98) },
      { name: "narrow", dtype: "uint8", values: numbers("uint8", 9000, "pattern", 99) },
    ],
  });
  specs.push({
    name: "no rows",
    rows: 0,
    columns: [
      { name: "x", dtype: "float64", values: new Float64Array(0) },
      { name: "s", dtype: "string", values: [] },
    ],
  });
  specs.push({
    name: "one row",
    rows: 1,
    columns: [{ name: "x", dtype: "int64", values: new BigInt64Array([-1n]) }],
  });
  return specs.map((s) => ({ ...s, bytes: encodeSegment(k, s.rows, s.columns) }));
}
