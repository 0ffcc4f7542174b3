/**
 * Numbering the groups of a batch of rows by their key columns, the first step of a groupby: each
 * distinct key (or tuple of keys) gets a group number in order of first appearance. The fast paths read
 * string keys through their dictionary codes (string-codes.ts), 64-bit integers that fit in 32 bits
 * through a 32-bit view, and few tuples through a dense table; the general path looks keys up in a Map.
 */
import type { DType, StringArray } from "../dtypes.ts";
import { NAT } from "../frame/timestamps.ts";
import { codesOf } from "../string-codes.ts";
import type { Column } from "./evaluate.ts";

/** A group key's value: numbers for ≤32-bit ints, floats and bools, bigints for 64-bit ints, strings. */
export type KeyValue = number | bigint | string;

/** The distinct keys of a batch's groups, in order of first appearance, and their lookup. */
export interface GroupKeys {
  /** The dtype of each key column. */
  readonly dtypes: readonly DType[];
  /** One array per key column; entry g is group g's key. */
  readonly columns: KeyValue[][];
  /** Encoded key → group number. */
  readonly lookup: Map<KeyValue, number>;
}

/**
 * Numbers the groups of `n` rows by the values of `keys`: `gids[i]` is row i's group, or -1 when a key
 * is missing (NaN, NaT, null), which pandas' groupby drops.
 */
export function groupRows(keys: readonly Column[], n: number): { gids: Int32Array; keys: GroupKeys } {
  const gids = new Int32Array(n);
  const lookup = new Map<KeyValue, number>();
  const columns: KeyValue[][] = keys.map(() => []);
  const readers = keys.map(keyReader);
  if (keys.length === 1) {
    // Each distinct value numbered in order of first appearance is exactly the group number.
    numberKeys(keys[0], readers[0], n, gids, columns[0]);
    for (let g = 0; g < columns[0].length; g++) lookup.set(columns[0][g], g);
  } else if (!groupTuples(keys, readers, n, gids, columns, lookup)) {
    const parts: KeyValue[] = new Array(keys.length);
    for (let i = 0; i < n; i++) {
      let missing = false;
      for (let c = 0; c < readers.length; c++) {
        const k = readers[c](i);
        if (k === undefined) missing = true;
        else parts[c] = k;
      }
      if (missing) {
        gids[i] = -1;
        continue;
      }
      const code = encodeKey(parts);
      let g = lookup.get(code);
      if (g === undefined) {
        g = columns[0].length;
        lookup.set(code, g);
        for (let c = 0; c < parts.length; c++) columns[c].push(parts[c]);
      }
      gids[i] = g;
    }
  }
  return { gids, keys: { dtypes: keys.map((k) => k.dtype), columns, lookup } };
}

/**
 * `groupRows` for several keys by numbers: each key column's values numbered on its own, then each row's
 * tuple of numbers as one number, so the string `encodeKey` is built once per group, not once per row.
 * Fills `gids`, `columns` and `lookup` as the general path does (groups in order of first appearance) and
 * returns true; false, having written nothing, when the tuples could not be numbered exactly.
 */
function groupTuples(
  keys: readonly Column[],
  readers: readonly ((i: number) => KeyValue | undefined)[],
  n: number,
  gids: Int32Array,
  columns: KeyValue[][],
  lookup: Map<KeyValue, number>,
): boolean {
  const codes = readers.map(() => new Int32Array(n));
  const values: KeyValue[][] = readers.map(() => []);
  for (let c = 0; c < readers.length; c++) numberKeys(keys[c], readers[c], n, codes[c], values[c]);
  const scale: number[] = new Array(readers.length);
  let radix = 1;
  for (let c = readers.length - 1; c >= 0; c--) {
    scale[c] = radix;
    radix *= Math.max(1, values[c].length);
  }
  if (radix > Number.MAX_SAFE_INTEGER) return false;
  // Few possible tuples: a dense table of group numbers instead of a Map lookup per row.
  const dense = radix <= DENSE_TUPLES ? new Int32Array(radix).fill(-1) : null;
  const tuples = new Map<number, number>();
  const parts: KeyValue[] = new Array(readers.length);
  for (let i = 0; i < n; i++) {
    let code = 0;
    let missing = false;
    for (let c = 0; c < codes.length; c++) {
      const k = codes[c][i];
      if (k < 0) {
        missing = true;
        break;
      }
      code += k * scale[c];
    }
    if (missing) {
      gids[i] = -1;
      continue;
    }
    let g = dense !== null ? dense[code] : tuples.get(code);
    if (g === undefined || g < 0) {
      g = columns[0].length;
      if (dense !== null) dense[code] = g;
      else tuples.set(code, g);
      for (let c = 0; c < codes.length; c++) {
        parts[c] = values[c][codes[c][i]];
        columns[c].push(parts[c]);
      }
      lookup.set(encodeKey(parts), g);
    }
    gids[i] = g;
  }
  return true;
}

/** Tuples of key numbers up to this many get a dense table (4 MB of Int32) rather than a Map. */
const DENSE_TUPLES = 1 << 20;

/**
 * Numbers a key column's values in order of first appearance: `out[i]` is row i's number (-1 where the
 * key is missing) and `values[j]` value j. A string column that carries its dictionary codes
 * (string-codes.ts) is numbered through them, one array lookup a row instead of a Map lookup.
 */
function numberKeys(
  key: Column,
  read: (i: number) => KeyValue | undefined,
  n: number,
  out: Int32Array,
  values: KeyValue[],
): void {
  const coded = key.dtype === "string" ? codesOf(key.values) : undefined;
  if (coded !== undefined && coded.codes.length === n) {
    const numberOf = new Int32Array(coded.dict.length).fill(-1);
    const codes = coded.codes;
    for (let i = 0; i < n; i++) {
      const c = codes[i];
      if (c < 0) {
        out[i] = -1;
        continue;
      }
      let g = numberOf[c];
      if (g < 0) {
        g = values.length;
        numberOf[c] = g;
        values.push(coded.dict[c]);
      }
      out[i] = g;
    }
    return;
  }
  if ((key.dtype === "int64" || key.dtype === "timestamp") && numberSmallInts(key, n, out, values)) return;
  const seen = new Map<KeyValue, number>();
  for (let i = 0; i < n; i++) {
    const k = read(i);
    if (k === undefined) {
      out[i] = -1;
      continue;
    }
    let g = seen.get(k);
    if (g === undefined) {
      g = values.length;
      seen.set(k, g);
      values.push(k);
    }
    out[i] = g;
  }
}

/** A span of 64-bit key values up to this wide gets a dense table (4 MB of Int32) rather than a Map. */
const DENSE_SPAN = 1 << 20;

/**
 * `numberKeys` for a 64-bit integer (or timestamp) key whose values all fit in 32 bits, read through a
 * 32-bit view: reading a BigInt64Array element makes a BigInt, which costs more than the grouping. Values
 * within a span of DENSE_SPAN are numbered through a dense table, others through a Map of numbers.
 * Returns false, having written nothing that counts, when a value does not fit.
 */
function numberSmallInts(key: Column, n: number, out: Int32Array, values: KeyValue[]): boolean {
  const v = key.values as BigInt64Array;
  const w = new Int32Array(v.buffer, v.byteOffset, n * 2);
  let min = 0;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const lo = w[2 * i];
    if (w[2 * i + 1] !== lo >> 31) return false; // beyond 32 bits (and NaT, far below)
    if (i === 0 || lo < min) min = lo;
    if (i === 0 || lo > max) max = lo;
  }
  const dense = max - min < DENSE_SPAN ? new Int32Array(max - min + 1).fill(-1) : null;
  const seen = dense === null ? new Map<number, number>() : null;
  for (let i = 0; i < n; i++) {
    const x = w[2 * i];
    let g = dense !== null ? dense[x - min] : seen!.get(x);
    if (g === undefined || g < 0) {
      g = values.length;
      if (dense !== null) dense[x - min] = g;
      else seen!.set(x, g);
      values.push(BigInt(x));
    }
    out[i] = g;
  }
  return true;
}

/**
 * `keys` with its lookup made again from its columns: a partial sent between threads travels without
 * it (a Map of every group would be cloned entry by entry).
 */
export function rebuildLookup(keys: { dtypes: readonly DType[]; columns: KeyValue[][] }): GroupKeys {
  const lookup = new Map<KeyValue, number>();
  const n = keys.columns[0]?.length ?? 0;
  const single = keys.columns.length === 1;
  const parts: KeyValue[] = new Array(keys.columns.length);
  for (let g = 0; g < n; g++) {
    if (single) lookup.set(keys.columns[0][g], g);
    else {
      for (let c = 0; c < parts.length; c++) parts[c] = keys.columns[c][g];
      lookup.set(encodeKey(parts), g);
    }
  }
  return { dtypes: keys.dtypes, columns: keys.columns, lookup };
}

/** Several key parts as one Map key; strings are length-prefixed so no two tuples share a code. */
export function encodeKey(parts: readonly KeyValue[]): string {
  let code = "";
  for (const p of parts) {
    code += typeof p === "string" ? `s${p.length}:${p}|` : typeof p === "bigint" ? `b${p}|` : `n${p}|`;
  }
  return code;
}

function keyReader(c: Column): (i: number) => KeyValue | undefined {
  const v = c.values;
  if (c.dtype === "string") return (i) => (v as StringArray)[i] ?? undefined;
  if (c.dtype === "timestamp")
    return (i) => ((v as BigInt64Array)[i] === NAT ? undefined : (v as BigInt64Array)[i]);
  if (c.dtype === "float64" || c.dtype === "float32") {
    // +0 for -0: pandas puts both in one group.
    return (i) => (Number.isNaN(v[i] as number) ? undefined : (v[i] as number) + 0);
  }
  return (i) => v[i] as number | bigint;
}
