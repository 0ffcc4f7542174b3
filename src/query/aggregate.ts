/**
 * Partial aggregates, as a segment-at-a-time engine needs them: `groupRows` (group-keys.ts) numbers the
 * groups of a batch of rows, `accumulate` folds the rows into per-group state, `mergePartials` combines the state
 * of batches (in any split of the rows), and `finishColumns` turns state into result columns
 * (mean = sum / count, empty groups as pandas). State is typed arrays indexed by group, the layout the
 * Wasm kernels (kernels.ts) fold float64, int64 and timestamp columns into once they are loaded; the
 * loops here fold the other dtypes, and all of them before the kernels load, to the same bits.
 */

import { type ColumnValues, DTYPES, type DType, type StringArray } from "../dtypes.ts";
import { SchemaMismatchError } from "../errors.ts";
import { NAT } from "../frame/timestamps.ts";
import { type Column, nullMask } from "./evaluate.ts";
import type { GroupKeys, KeyValue } from "./group-keys.ts";

import { type GroupKind, type GroupState, readyQueryKernels } from "./kernels.ts";
import { KeyIndex } from "./key-index.ts";
import type { AggName, Aggregation } from "./query-builder.ts";

/** How an aggregation holds values: doubles (exact for ≤32-bit ints), 64-bit integers or strings. */
type Repr = "f64" | "i64" | "u64" | "str";

/** One aggregation's state over the groups of a batch. */
export interface AggState {
  readonly agg: AggName;
  /** The input column's dtype. */
  readonly dtype: DType;
  /** Non-missing values seen per group (every aggregation keeps it: count, mean, "has a value"). */
  count: Float64Array;
  /** Sum per group (sum, mean). */
  sum?: Float64Array | BigInt64Array | BigUint64Array;
  /** Kahan compensation of a float `sum` (pandas sums floats this way, so answers agree to the bit). */
  comp?: Float64Array;
  /** The value kept per group (min, max, first, last). */
  value?: Float64Array | BigInt64Array | BigUint64Array | StringArray;
  /** Row position of `value` (first, last), so batches merge in row order whatever order they finish in. */
  pos?: Float64Array;
}

/** The partial result of a batch: its groups and one state per aggregation. */
export interface Partial {
  readonly keys: GroupKeys;
  readonly states: AggState[];
}

/** Refuses aggregations the dtype cannot take (the column's dtype is known only when read). */
export function checkAggregation(a: Aggregation, dtype: DType): void {
  const numeric = dtype !== "string" && dtype !== "timestamp";
  if ((a.agg === "sum" || a.agg === "mean") && !numeric) {
    throw new SchemaMismatchError(
      `query: cannot take the ${a.agg} of '${a.column}', a ${dtype} column (for '${a.out}'); ` +
        "sum and mean need a numeric column — use count, min, max, first or last.",
    );
  }
}

function reprOf(dtype: DType): Repr {
  if (dtype === "string") return "str";
  if (dtype === "uint64") return "u64";
  if (DTYPES[dtype].bigint) return "i64";
  return "f64";
}

function newArray(repr: Repr, n: number): Float64Array | BigInt64Array | BigUint64Array | StringArray {
  if (repr === "str") return new Array<string | null>(n).fill(null);
  if (repr === "i64") return new BigInt64Array(n);
  if (repr === "u64") return new BigUint64Array(n);
  return new Float64Array(n);
}

/** An empty state for `numGroups` groups. */
function emptyState(a: Aggregation, dtype: DType, numGroups: number): AggState {
  const state: AggState = { agg: a.agg, dtype, count: new Float64Array(numGroups) };
  if (a.agg === "sum") {
    const repr = dtype === "float64" || dtype === "float32" ? "f64" : dtype === "uint64" ? "u64" : "i64";
    state.sum = newArray(repr, numGroups) as Float64Array | BigInt64Array | BigUint64Array;
  } else if (a.agg === "mean") state.sum = new Float64Array(numGroups);
  else if (a.agg !== "count") {
    state.value = newArray(reprOf(dtype), numGroups);
    if (a.agg === "first" || a.agg === "last") state.pos = new Float64Array(numGroups).fill(-1);
  }
  if (state.sum instanceof Float64Array) state.comp = new Float64Array(numGroups);
  return state;
}

/** 1 where row i holds a value (not NaN, NaT or null): `notnull`'s mask; null for a dtype never missing. */
function presentMask(c: Column, n: number): Uint8Array | null {
  const d = c.dtype;
  if (d !== "float64" && d !== "float32" && d !== "timestamp" && d !== "string") return null;
  return nullMask({ kind: "column", dtype: d, values: c.values }, n, true);
}

/**
 * Folds `n` rows into a fresh state for each aggregation: `inputs[j]` is aggregation j's column,
 * `gids` the rows' groups (-1: skip), `rowOffset` the batch's first row position (for first/last).
 */
export function accumulate(
  aggs: readonly Aggregation[],
  inputs: readonly Column[],
  gids: Int32Array,
  numGroups: number,
  rowOffset: number,
): AggState[] {
  aggs.forEach((a, j) => {
    checkAggregation(a, inputs[j].dtype);
  });
  const folded = accumulateWithKernels(aggs, inputs, gids, numGroups, rowOffset);
  const n = gids.length;
  return aggs.map((a, j) => {
    const done = folded[j];
    if (done !== undefined) return done;
    const c = inputs[j];
    const s = emptyState(a, c.dtype, numGroups);
    const present = presentMask(c, n);
    const count = s.count;
    for (let i = 0; i < n; i++) {
      const g = gids[i];
      if (g >= 0 && (present === null || present[i] === 1)) count[g]++;
    }
    const values = c.values;
    if (a.agg === "sum" || a.agg === "mean") {
      const sum = s.sum!;
      if (sum instanceof Float64Array) {
        const numbers = toNumbers(values, n);
        const comp = s.comp!;
        for (let i = 0; i < n; i++) {
          const g = gids[i];
          if (g >= 0 && (present === null || present[i] === 1)) {
            const y = numbers[i] - comp[g];
            const t = sum[g] + y;
            const c = t - sum[g] - y;
            // An infinity makes the compensation NaN: pandas resets it (GH#53606), so inf + inf is inf.
            comp[g] = Number.isNaN(c) ? 0 : c;
            sum[g] = t;
          }
        }
      } else sumIntegers(sum as BigInt64Array | BigUint64Array, values as ArrayLike<number>, gids, numGroups);
    } else if (a.agg === "min" || a.agg === "max") {
      const value = s.value as ColumnValues;
      const seen = new Uint8Array(numGroups);
      if (value instanceof Float64Array && isNumberArray(values)) {
        // The common case (floats, ≤32-bit ints) in a loop the JIT keeps monomorphic.
        const x = values as ArrayLike<number>;
        for (let i = 0; i < n; i++) {
          const g = gids[i];
          if (g < 0 || (present !== null && present[i] === 0)) continue;
          const v = x[i];
          if (seen[g] === 0 || (a.agg === "min" ? v < value[g] : v > value[g])) value[g] = v;
          seen[g] = 1;
        }
      } else {
        const min = a.agg === "min";
        for (let i = 0; i < n; i++) {
          const g = gids[i];
          if (g < 0 || (present !== null && present[i] === 0)) continue;
          const x = values[i];
          if (seen[g] === 0 || (min ? x! < value[g]! : x! > value[g]!)) setAt(value, g, x);
          seen[g] = 1;
        }
      }
    } else if (a.agg === "first" || a.agg === "last") {
      const value = s.value as ColumnValues;
      const pos = s.pos!;
      const first = a.agg === "first";
      // Scanning from the end for last (and the start for first) touches each group's answer once.
      const step = first ? 1 : -1;
      for (let i = first ? 0 : n - 1; i >= 0 && i < n; i += step) {
        const g = gids[i];
        if (g < 0 || pos[g] >= 0 || (present !== null && present[i] === 0)) continue;
        pos[g] = rowOffset + i;
        setAt(value, g, values[i]);
      }
    }
    return s;
  });
}

/** The kernel that folds aggregation `agg` over a column, and how it reads the column; null if none does. */
function kernelFor(
  agg: AggName,
  c: Column,
): { kind: GroupKind; values: Float64Array | BigInt64Array; nat: boolean } | null {
  const v = c.values;
  if (v instanceof Float64Array) return { kind: agg === "mean" ? "sum" : agg, values: v, nat: false };
  if (v instanceof BigInt64Array) {
    return { kind: agg === "mean" ? "meanI64" : agg, values: v, nat: c.dtype === "timestamp" };
  }
  // uint64 as int64 bits: counting, wrapping sums and picking a row do not depend on the sign.
  if (
    v instanceof BigUint64Array &&
    (agg === "count" || agg === "sum" || agg === "first" || agg === "last")
  ) {
    return { kind: agg, values: new BigInt64Array(v.buffer, v.byteOffset, v.length), nat: false };
  }
  return null;
}

/**
 * The states `accumulate` computes, from the Wasm kernels for every aggregation one folds (float64,
 * int64 and timestamp columns; uint64 except mean, min and max), undefined for the others or all when
 * the kernels are not loaded. The kernels compute the same state bit for bit (Kahan steps included).
 */
function accumulateWithKernels(
  aggs: readonly Aggregation[],
  inputs: readonly Column[],
  gids: Int32Array,
  numGroups: number,
  rowOffset: number,
): (AggState | undefined)[] {
  const out: (AggState | undefined)[] = aggs.map(() => undefined);
  const q = readyQueryKernels();
  if (q === undefined) return out;
  const which: number[] = [];
  const specs: NonNullable<ReturnType<typeof kernelFor>>[] = [];
  aggs.forEach((a, j) => {
    const spec = kernelFor(a.agg, inputs[j]);
    if (spec === null) return;
    which.push(j);
    specs.push(spec);
  });
  if (specs.length === 0) return out;
  const states = q.groups(specs, gids, numGroups, rowOffset);
  which.forEach((j, i) => {
    out[j] = stateOf(aggs[j].agg, inputs[j].dtype, states[i]);
  });
  return out;
}

/** A kernel's state as an AggState with exactly the fields emptyState gives that aggregation. */
export function stateOf(agg: AggName, dtype: DType, g: GroupState): AggState {
  const s: AggState = { agg, dtype, count: g.count };
  if (agg === "count") return s;
  const a = dtype === "uint64" ? new BigUint64Array(g.a.buffer) : g.a;
  if (agg === "sum" || agg === "mean") {
    s.sum = a;
    if (a instanceof Float64Array) s.comp = g.b;
    return s;
  }
  s.value = a;
  if (agg === "first" || agg === "last") s.pos = g.b;
  return s;
}

/** Rows per flush of the double accumulators: 2^20 values below 2^32 stay below 2^52, so exact. */
const SUM_CHUNK = 1 << 20;

/**
 * Exact integer sums per group without a BigInt per row: 64-bit values are split into their 32-bit
 * halves (read through a 32-bit view; every JS engine floe runs on is little-endian), summed as
 * doubles, and folded into the 64-bit sums every `SUM_CHUNK` rows. The 64-bit stores wrap, as numpy's
 * integer sums do.
 */
function sumIntegers(
  sum: BigInt64Array | BigUint64Array,
  values: ArrayLike<number> | BigInt64Array | BigUint64Array,
  gids: Int32Array,
  numGroups: number,
): void {
  const n = gids.length;
  const lo = new Float64Array(numGroups);
  const hi = new Float64Array(numGroups);
  const wide = values instanceof BigInt64Array || values instanceof BigUint64Array;
  const words = wide ? new Uint32Array(values.buffer, values.byteOffset, n * 2) : null;
  const highs =
    values instanceof BigInt64Array ? new Int32Array(values.buffer, values.byteOffset, n * 2) : words;
  const small = values as ArrayLike<number>;
  for (let start = 0; start < n; start += SUM_CHUNK) {
    const end = Math.min(n, start + SUM_CHUNK);
    if (words !== null && highs !== null) {
      for (let i = start; i < end; i++) {
        const g = gids[i];
        if (g < 0) continue;
        lo[g] += words[2 * i];
        hi[g] += highs[2 * i + 1];
      }
    } else {
      for (let i = start; i < end; i++) {
        const g = gids[i];
        if (g >= 0) lo[g] += small[i];
      }
    }
    for (let g = 0; g < numGroups; g++) {
      if (lo[g] === 0 && hi[g] === 0) continue;
      sum[g] += BigInt(lo[g]) + (BigInt(hi[g]) << 32n);
      lo[g] = 0;
      hi[g] = 0;
    }
  }
}

function isNumberArray(values: ColumnValues): boolean {
  return !Array.isArray(values) && !(values instanceof BigInt64Array) && !(values instanceof BigUint64Array);
}

function setAt(target: ColumnValues, g: number, x: unknown): void {
  (target as unknown as unknown[])[g] = target instanceof Float64Array ? Number(x) : x;
}

function toNumbers(values: ColumnValues, n: number): ArrayLike<number> {
  if (values instanceof Float64Array || values instanceof Float32Array) return values;
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = Number(values[i]);
    return out;
  }
  return values as ArrayLike<number>;
}

/**
 * Partials combined, as if their rows had been one batch: groups new to the merge are appended, sums
 * and counts add, min/max compare, first/last keep the lower/higher row position. Any order of the
 * same partials gives the same groups and states (up to group order).
 */
export function mergePartials(parts: readonly Partial[]): Partial {
  const merger = new PartialMerger();
  for (const p of parts) merger.add(p);
  return merger.result();
}

/**
 * A running merge of partials into one state that grows by doubling, so each group's state is copied
 * O(1) times on average and each partial's keys are looked up once (`mergePartials` in steps).
 */
export class PartialMerger {
  #keys: GroupKeys | null = null;
  #states: AggState[] = [];
  #size = 0;
  #capacity = 0;
  /** One key column: value → group. Several: each column's values numbered, the tuple → group. */
  #groups = new KeyIndex();
  #ids: KeyIndex[] = [];

  /** Folds `p` in. Throws `SchemaMismatchError` when an aggregated column changed dtype. */
  add(p: Partial): void {
    const width = p.keys.columns.length;
    if (this.#keys === null) {
      this.#keys = { dtypes: p.keys.dtypes, columns: p.keys.columns.map(() => []) };
      this.#ids = p.keys.columns.map(() => new KeyIndex());
      this.#states = p.states.map((s) => ({ agg: s.agg, dtype: s.dtype, count: new Float64Array(0) }));
      p.states.forEach((s, j) => {
        const t = this.#states[j];
        if (s.sum) t.sum = grow(s.sum, 0);
        if (s.comp) t.comp = grow(s.comp, 0);
        if (s.value) t.value = grow(s.value, 0);
        if (s.pos) t.pos = grow(s.pos, 0);
      });
    }
    const columns = this.#keys.columns;
    const n = p.keys.columns[0]?.length ?? 0;
    const map = new Int32Array(n);
    const parts: KeyValue[] = new Array(width);
    for (let g = 0; g < n; g++) {
      for (let c = 0; c < width; c++) parts[c] = p.keys.columns[c][g];
      const code = this.#codeOf(parts) as KeyValue;
      let target = this.#groups.get(code);
      if (target === undefined) {
        target = columns[0].length;
        this.#groups.set(code, target);
        for (let c = 0; c < width; c++) columns[c].push(parts[c]);
      }
      map[g] = target;
    }
    this.#size = columns[0]?.length ?? 0;
    if (this.#size > this.#capacity) {
      this.#capacity = Math.max(this.#size, this.#capacity * 2);
      for (const t of this.#states) growState(t, this.#capacity);
    }
    this.#states.forEach((t, j) => {
      mergeState(t, p.states[j], map);
    });
  }

  /** The merged partial, its state trimmed to its groups. */
  result(): Partial {
    const size = this.#size;
    const trim = <T extends ColumnValues>(x: T): T =>
      Array.isArray(x) ? (x.slice(0, size) as T) : ((x as Float64Array).subarray(0, size) as unknown as T);
    const states = this.#states.map((t) => {
      const out: AggState = { agg: t.agg, dtype: t.dtype, count: trim(t.count) };
      if (t.sum) out.sum = trim(t.sum);
      if (t.comp) out.comp = trim(t.comp);
      if (t.value) out.value = trim(t.value);
      if (t.pos) out.pos = trim(t.pos);
      return out;
    });
    return { keys: this.#keys ?? { dtypes: [], columns: [] }, states };
  }

  /** The merged group a tuple of key values belongs to, if any. */
  groupOf(parts: readonly KeyValue[]): number | undefined {
    const code = this.#codeOf(parts, false);
    return code === undefined ? undefined : this.#groups.get(code);
  }

  /** A tuple of keys as one index key: the value itself for one column, else its columns' value numbers. */
  #codeOf(parts: readonly KeyValue[], intern = true): KeyValue | undefined {
    if (parts.length === 1) return mapKey(parts[0]);
    let code = "";
    let pair = 0;
    let big = false;
    for (let c = 0; c < parts.length; c++) {
      const numbers = this.#ids[c];
      const key = mapKey(parts[c]);
      let id = numbers.get(key);
      if (id === undefined) {
        if (!intern) return undefined;
        id = numbers.size;
        numbers.set(key, id);
      }
      if (parts.length === 2) {
        if (id >= PAIR) big = true;
        pair = c === 0 ? id * PAIR : pair + id;
      } else code += `${id},`;
    }
    // Two columns whose values number fewer than 2^26 each: one exact number; else the numbers joined.
    if (parts.length !== 2) return code;
    return big ? `${this.#ids[0].get(mapKey(parts[0]))},${this.#ids[1].get(mapKey(parts[1]))}` : pair;
  }
}

/**
 * A key value as an index key: a bigint within ±2^53 as the number it equals. A 64-bit key column comes
 * both ways (numbers within ±2^53, bigints beyond, see KeyValue), so equal keys meet as one number, and
 * KeyIndex keeps numbers in its typed table.
 */
function mapKey(v: KeyValue): KeyValue {
  return typeof v === "bigint" && v >= -SAFE && v <= SAFE ? Number(v) : v;
}
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Two key columns' value numbers below this combine into one exact double. */
const PAIR = 2 ** 26;

function grow<T extends ColumnValues>(x: T, size: number, fill?: unknown): T {
  if (Array.isArray(x)) {
    const out = x.slice(0, size);
    while (out.length < size) out.push(null);
    return out as T;
  }
  const typed = x as Float64Array;
  const out = new (typed.constructor as Float64ArrayConstructor)(size);
  if (fill !== undefined) out.fill(fill as number);
  out.set(typed.subarray(0, Math.min(size, typed.length)));
  return out as unknown as T;
}

/** `t`'s arrays grown to `capacity` entries, new groups empty (positions -1). */
function growState(t: AggState, capacity: number): void {
  t.count = grow(t.count, capacity);
  if (t.sum) t.sum = grow(t.sum, capacity);
  if (t.comp) t.comp = grow(t.comp, capacity);
  if (t.value) t.value = grow(t.value, capacity);
  if (t.pos) t.pos = grow(t.pos, capacity, -1);
}

/** Folds `b`'s groups into `out` (large enough), group g of b into `map[g]`. */
function mergeState(out: AggState, b: AggState, map: Int32Array): void {
  if (out.dtype !== b.dtype) {
    throw new SchemaMismatchError(
      `query: a column is ${out.dtype} in one part of the data and ${b.dtype} in another; aggregations need one dtype.`,
    );
  }
  for (let g = 0; g < map.length; g++) {
    const t = map[g];
    const had = out.count[t] > 0;
    out.count[t] += b.count[g];
    if (out.comp) {
      // Adds b's compensated sum to out's, carrying both compensations.
      const sum = out.sum as Float64Array;
      const y = (b.sum as Float64Array)[g] - (out.comp[t] + b.comp![g]);
      const total = sum[t] + y;
      const c = total - sum[t] - y;
      out.comp[t] = Number.isNaN(c) ? 0 : c;
      sum[t] = total;
    } else if (out.sum) (out.sum as BigInt64Array)[t] += (b.sum as BigInt64Array)[g];
    if (b.count[g] === 0 || !out.value) continue;
    const v = out.value as unknown as unknown[];
    const x = (b.value as unknown as unknown[])[g];
    if (out.agg === "min" || out.agg === "max") {
      if (!had || (out.agg === "min" ? x! < v[t]! : x! > v[t]!)) v[t] = x;
    } else {
      const p = b.pos![g];
      const q = out.pos![t];
      if (q < 0 || (out.agg === "first" ? p < q : p > q)) {
        v[t] = x;
        out.pos![t] = p;
      }
    }
  }
}

/** The result dtype of an aggregation over `dtype` when some group may be empty (`withEmpty`). */
export function resultDtype(agg: AggName, dtype: DType, withEmpty: boolean): DType {
  if (agg === "count") return "int64";
  if (agg === "mean") return "float64";
  if (agg === "sum")
    return dtype === "float64" || dtype === "float32" ? "float64" : dtype === "uint64" ? "uint64" : "int64";
  // min/max/first/last keep the dtype; an empty group needs NaN, which ints and bools lack (pandas).
  if (
    withEmpty &&
    dtype !== "string" &&
    dtype !== "timestamp" &&
    dtype !== "float64" &&
    dtype !== "float32"
  ) {
    return "float64";
  }
  return dtype;
}

/**
 * The result column of a state: row r is group `order[r]`, or an empty group when `order[r]` is -1
 * (resample's empty buckets; groups with no values are empty too).
 */
export function finishColumn(s: AggState, order: Int32Array): Column {
  const n = order.length;
  let empty = false;
  for (let r = 0; r < n; r++) if (order[r] < 0 || s.count[order[r]] === 0) empty = true;
  const dtype = resultDtype(
    s.agg,
    s.dtype,
    empty && s.agg !== "sum" && s.agg !== "count" && s.agg !== "mean",
  );
  if (s.agg === "count") {
    const out = new BigInt64Array(n);
    for (let r = 0; r < n; r++) out[r] = order[r] < 0 ? 0n : BigInt(s.count[order[r]]);
    return { dtype, values: out };
  }
  if (s.agg === "mean") {
    const out = new Float64Array(n);
    const sum = s.sum as Float64Array;
    for (let r = 0; r < n; r++) {
      const g = order[r];
      out[r] = g < 0 || s.count[g] === 0 ? Number.NaN : sum[g] / s.count[g];
    }
    return { dtype, values: out };
  }
  const source = (s.agg === "sum" ? s.sum : s.value) as ColumnValues;
  if (dtype === "string") {
    const out: StringArray = new Array(n);
    for (let r = 0; r < n; r++) {
      const g = order[r];
      out[r] = g < 0 || s.count[g] === 0 ? null : (source as StringArray)[g];
    }
    return { dtype, values: out };
  }
  const out = new DTYPES[dtype].array!(n) as ColumnValues;
  const big = DTYPES[dtype].bigint;
  // An empty group: 0 for sums, NaN for floats, NaT for timestamps.
  const missing = s.agg === "sum" ? (big ? 0n : 0) : dtype === "timestamp" ? NAT : Number.NaN;
  for (let r = 0; r < n; r++) {
    const g = order[r];
    const x = g < 0 || (s.count[g] === 0 && s.agg !== "sum") ? missing : source[g]!;
    (out as unknown as unknown[])[r] = big ? BigInt(x as bigint) : Number(x);
  }
  return { dtype, values: out };
}
