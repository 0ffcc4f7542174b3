/**
 * Numbering the groups of a batch of rows by their key columns, the first step of a groupby: each
 * distinct key (or tuple of keys) gets a group number, in order of first appearance or, for a string key
 * whose codes hold each entry of its dictionary, the codes themselves. The fast paths read
 * string keys through their dictionary codes (string-codes.ts), 64-bit integers that fit in 32 bits
 * through a 32-bit view, and few tuples through a dense table; the general path looks keys up in a Map.
 */
import type { DType, StringArray } from "../dtypes.ts";
import { NAT } from "../frame/timestamps.ts";
import { codesOf } from "../string-codes.ts";
import type { Column } from "./evaluate.ts";

/**
 * A group key's value: numbers for ints, floats and bools, strings; a 64-bit int beyond ±2^53 as a
 * bigint (within it a number: partials of a million groups would otherwise make a million BigInts each).
 */
export type KeyValue = number | bigint | string;

/** The distinct keys of a batch's groups: entry g of each column is group g's. */
export interface GroupKeys {
  /** The dtype of each key column. */
  readonly dtypes: readonly DType[];
  /** One array per key column; entry g is group g's key. */
  readonly columns: KeyValue[][];
}

/**
 * Numbers the groups of `n` rows by the values of `keys`: `gids[i]` is row i's group, or -1 when a key
 * is missing (NaN, NaT, null), which pandas' groupby drops. Groups come in order of first appearance,
 * except a string key's whose codes number them already (dictionary order). `gids` is read-only.
 */
export function groupRows(keys: readonly Column[], n: number): { gids: Int32Array; keys: GroupKeys } {
  const coded = keys.length === 1 && keys[0].dtype === "string" ? codesOf(keys[0].values) : undefined;
  if (coded?.complete === true && coded.codes.length === n) {
    // Codes in which every dictionary entry occurs number the groups already: entry j is group j.
    return { gids: coded.codes, keys: { dtypes: ["string"], columns: [coded.dict.slice()] } };
  }
  const gids = new Int32Array(n);
  const columns: KeyValue[][] = keys.map(() => []);
  const readers = keys.map(keyReader);
  if (keys.length === 1) {
    // Each distinct value numbered in order of first appearance is exactly the group number.
    numberKeys(keys[0], readers[0], n, gids, columns[0]);
  } else if (!groupTuples(keys, readers, n, gids, columns)) {
    const lookup = new Map<KeyValue, number>();
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
  return { gids, keys: { dtypes: keys.map((k) => k.dtype), columns } };
}

/**
 * `groupRows` for several keys by numbers: each key column's values numbered on its own, then each row's
 * tuple of numbers as one number, so no string key is built per row.
 * Fills `gids` and `columns` as the general path does (groups in order of first appearance) and
 * returns true; false, having written nothing, when the tuples could not be numbered exactly.
 */
function groupTuples(
  keys: readonly Column[],
  readers: readonly ((i: number) => KeyValue | undefined)[],
  n: number,
  gids: Int32Array,
  columns: KeyValue[][],
): boolean {
  const codes: Int32Array[] = [];
  const values: KeyValue[][] = [];
  for (let c = 0; c < readers.length; c++) {
    // A string column's dictionary codes number its values already (-1 null, as a missing key).
    const coded = keys[c].dtype === "string" ? codesOf(keys[c].values) : undefined;
    if (coded !== undefined && coded.codes.length === n) {
      codes.push(coded.codes);
      values.push(coded.dict as KeyValue[]);
      continue;
    }
    codes.push(new Int32Array(n));
    values.push([]);
    numberKeys(keys[c], readers[c], n, codes[c], values[c]);
  }
  const scale: number[] = new Array(readers.length);
  let radix = 1;
  for (let c = readers.length - 1; c >= 0; c--) {
    scale[c] = radix;
    radix *= Math.max(1, values[c].length);
  }
  if (radix > Number.MAX_SAFE_INTEGER) return false;
  // Few possible tuples: a dense table of group numbers instead of a Map lookup per row.
  const dense = radix <= DENSE_TUPLES ? new Int32Array(radix).fill(-1) : null;
  if (dense !== null && codes.length === 2) {
    densePairs(codes[0], codes[1], scale[0], n, dense, gids, values, columns);
    return true;
  }
  const tuples = new Map<number, number>();
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
      for (let c = 0; c < codes.length; c++) columns[c].push(values[c][codes[c][i]]);
    }
    gids[i] = g;
  }
  return true;
}

/** `groupTuples` for two key columns with a dense table, in a loop the JIT keeps tight. */
function densePairs(
  a: Int32Array,
  b: Int32Array,
  scale: number,
  n: number,
  dense: Int32Array,
  gids: Int32Array,
  values: KeyValue[][],
  columns: KeyValue[][],
): void {
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if ((x | y) < 0) {
      gids[i] = -1;
      continue;
    }
    const code = x * scale + y;
    let g = dense[code];
    if (g < 0) {
      g = columns[0].length;
      dense[code] = g;
      columns[0].push(values[0][x]);
      columns[1].push(values[1][y]);
    }
    gids[i] = g;
  }
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
    numberCodes(coded.codes, coded.dict, n, out, values);
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

/** `numberKeys` for dictionary codes: one table lookup a row (a small function the JIT keeps tight). */
function numberCodes(
  codes: Int32Array,
  dict: readonly string[],
  n: number,
  out: Int32Array,
  values: KeyValue[],
): void {
  const numberOf = new Int32Array(dict.length + 1).fill(-1);
  // Slot 0 is null (code -1), so the loop has no branch for it; it stays -1, the missing group.
  for (let i = 0; i < n; i++) {
    const c = codes[i] + 1;
    let g = numberOf[c];
    if (g < 0 && c > 0) {
      g = values.length;
      numberOf[c] = g;
      values.push(dict[c - 1]);
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
      values.push(x);
    }
    out[i] = g;
  }
  return true;
}

/** Several key parts as one Map key; strings are length-prefixed so no two tuples share a code. */
function encodeKey(parts: readonly KeyValue[]): string {
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
