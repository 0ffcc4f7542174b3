/**
 * The reference execution of a query over a whole decoded frame: each clause in order, over typed
 * arrays. Filter and apply are column kernels (evaluate.ts); groupby and resample go through partial
 * aggregates (aggregate.ts) exactly as a per-segment run will, with a single batch here.
 */

import { type ColumnValues, DTYPES, type DType, type NumericArray, type StringArray } from "../dtypes.ts";
import { InvalidArgumentError, UnsortedIndexError } from "../errors.ts";
import { DataFrame, type FrameIndex } from "../frame/dataframe.ts";
import { codesOf, setCodes } from "../string-codes.ts";
import { accumulate, finishColumn, type Partial } from "./aggregate.ts";
import { type Column, type Columns, evaluate, evaluateMask, materialize, unknownColumn } from "./evaluate.ts";
import { type GroupKeys, groupRows, type KeyValue } from "./group-keys.ts";
import { type QueryKernels, readyQueryKernels } from "./kernels.ts";
import type { Aggregation, Clause, QueryBuilder, ResampleSpec } from "./query-builder.ts";
import { bucketOrder, bucketRows, resolveOrigin, timeBounds } from "./resample.ts";

/** A frame while a query runs: ordered columns and an index. */
export interface Table {
  readonly numRows: number;
  readonly index: FrameIndex;
  readonly columns: Map<string, Column>;
}

/**
 * Runs `query` over `frame` and returns the answer as a new frame (the input is not changed). Throws
 * `InvalidArgumentError` for an unknown column or a clause the frame cannot take (resample without a
 * timestamp index) and `SchemaMismatchError` where a column's dtype does not fit the expression.
 */
export function runQuery(frame: DataFrame, query: QueryBuilder): DataFrame {
  if (!(frame instanceof DataFrame)) {
    throw new InvalidArgumentError("runQuery: the first argument must be a DataFrame.");
  }
  if (query === null || typeof query !== "object" || !Array.isArray(query.clauses)) {
    throw new InvalidArgumentError("runQuery: the second argument must be a QueryBuilder.");
  }
  return frameOf(runClauses(tableOf(frame), query.clauses));
}

/** `clauses` applied in order to `table`. */
export function runClauses(table: Table, clauses: readonly Clause[]): Table {
  let t = table;
  for (const clause of clauses) t = runClause(t, clause);
  return t;
}

/** A frame's columns and index as a table (nothing copied). */
export function tableOf(frame: DataFrame): Table {
  const columns = new Map<string, Column>();
  for (const name of frame.columnNames)
    columns.set(name, { dtype: frame.dtype(name), values: frame.column(name) });
  return { numRows: frame.numRows, index: frame.index, columns };
}

/** A table as a frame (nothing copied). */
export function frameOf(table: Table): DataFrame {
  return DataFrame.fromColumns(
    [...table.columns].map(([name, c]) => ({ name, dtype: c.dtype, values: c.values })),
    table.index,
    table.numRows,
  );
}

/** The table's columns as expressions see them; the timestamp index answers to its name. */
function columnsOf(t: Table): Columns {
  return {
    numRows: t.numRows,
    get: (name) =>
      t.columns.get(name) ??
      (t.index.kind === "timestamp" && t.index.name === name
        ? { dtype: "timestamp", values: t.index.values }
        : undefined),
    names: () => [...(t.index.kind === "timestamp" ? [t.index.name] : []), ...t.columns.keys()],
  };
}

/** One clause applied to `t`. */
export function runClause(t: Table, c: Clause): Table {
  switch (c.kind) {
    case "filter":
      return takeMask(t, evaluateMask(c.expr, columnsOf(t)));
    case "apply": {
      if (t.index.kind === "timestamp" && t.index.name === c.name) {
        throw new InvalidArgumentError(
          `apply: '${c.name}' is the name of the index; give the new column another name.`,
        );
      }
      const columns = new Map(t.columns);
      columns.set(c.name, materialize(evaluate(c.expr, columnsOf(t)), t.numRows));
      return { ...t, columns };
    }
    case "groupby":
      return groupby(t, c.keys, c.aggs);
    case "resample":
      return resample(t, c.spec, c.aggs);
    case "dateRange": {
      const ts = timestampIndex(t, "dateRange");
      const lo = c.start ?? -(2n ** 63n) + 1n;
      const hi = c.end ?? 2n ** 63n - 1n;
      const mask = new Uint8Array(t.numRows);
      for (let i = 0; i < mask.length; i++) mask[i] = ts[i] >= lo && ts[i] <= hi ? 1 : 0;
      return takeMask(t, mask);
    }
    case "rowRange": {
      const n = t.numRows;
      const clamp = (v: number | null, open: number) =>
        v === null ? open : v < 0 ? Math.max(0, n + v) : Math.min(n, v);
      return slice(t, clamp(c.start, 0), clamp(c.end, n));
    }
    case "head":
      return c.n >= 0 ? slice(t, 0, Math.min(c.n, t.numRows)) : slice(t, 0, Math.max(0, t.numRows + c.n));
    case "tail":
      return c.n >= 0
        ? slice(t, Math.max(0, t.numRows - c.n), t.numRows)
        : slice(t, Math.min(t.numRows, -c.n), t.numRows);
  }
}

function timestampIndex(t: Table, what: string): BigInt64Array {
  if (t.index.kind !== "timestamp") {
    throw new InvalidArgumentError(
      `${what}: needs a timestamp index, but the frame is indexed by row ` +
        "number (after a groupby, or written without an index); apply it before groupby, or to a timestamp-indexed symbol.",
    );
  }
  return t.index.values;
}

/** Rows where `mask` is 1; a row-number index is renumbered from 0 (floe's row index is a range). */
function takeMask(t: Table, mask: Uint8Array): Table {
  const q = readyQueryKernels();
  let count = 0;
  if (q) count = q.maskSum(mask);
  else for (let i = 0; i < mask.length; i++) count += mask[i];
  if (count === t.numRows) return t;
  const all = [...t.columns.values()].map((c) => c.values);
  if (t.index.kind === "timestamp") all.push(t.index.values);
  const kept = q ? compactTyped(q, mask, count, all) : all.map(() => undefined);
  let rows: Int32Array | undefined;
  const taken = all.map((values, i) => {
    const done = kept[i];
    if (done !== undefined) return done;
    if (rows === undefined) {
      rows = new Int32Array(count);
      for (let i = 0, j = 0; i < mask.length; i++) if (mask[i] === 1) rows[j++] = i;
    }
    return gather(values, rows);
  });
  const columns = new Map<string, Column>();
  let at = 0;
  for (const [name, c] of t.columns) columns.set(name, { dtype: c.dtype, values: taken[at++] });
  const index: FrameIndex =
    t.index.kind === "timestamp"
      ? { ...t.index, values: taken[at] as BigInt64Array }
      : { kind: "row", start: 0 };
  return { numRows: count, index, columns };
}

/**
 * The typed arrays among `all` compacted by the Wasm kernel, undefined for string columns (and for all
 * when the mask is not 0/1: the row-number gather then answers as it always has).
 */
function compactTyped(
  q: QueryKernels,
  mask: Uint8Array,
  count: number,
  all: readonly ColumnValues[],
): (ColumnValues | undefined)[] {
  const typed = all.filter((v): v is NumericArray => !Array.isArray(v));
  const done = typed.length > 0 ? q.compact(mask, count, typed) : [];
  let at = 0;
  return all.map((v) => (Array.isArray(v) || done === null ? undefined : done[at++]));
}

function gather(values: ColumnValues, rows: Int32Array): ColumnValues {
  const coded = Array.isArray(values) ? codesOf(values) : undefined;
  // A column read as codes alone (a groupby key nothing else reads) has no strings to gather.
  const codesOnly = coded !== undefined && values.length === 0;
  const out = Array.isArray(values)
    ? new Array<string | null>(codesOnly ? 0 : rows.length)
    : new (values.constructor as Float64ArrayConstructor)(rows.length);
  const o = out as unknown as unknown[];
  const v = values as unknown as unknown[];
  if (!codesOnly) for (let i = 0; i < rows.length; i++) o[i] = v[rows[i]];
  // A string column's dictionary codes follow its rows, so a later groupby still groups by them.
  if (coded !== undefined) {
    const codes = new Int32Array(rows.length);
    for (let i = 0; i < rows.length; i++) codes[i] = coded.codes[rows[i]];
    setCodes(out as StringArray, { dict: coded.dict, codes });
  }
  return out as ColumnValues;
}

/** Rows `[from, to)`; a row-number index keeps its numbering, as `iloc` keeps labels. */
function slice(t: Table, from: number, to: number): Table {
  const end = Math.max(from, to);
  const columns = new Map<string, Column>();
  for (const [name, c] of t.columns) columns.set(name, { dtype: c.dtype, values: c.values.slice(from, end) });
  const index: FrameIndex =
    t.index.kind === "timestamp"
      ? { ...t.index, values: t.index.values.slice(from, end) }
      : { kind: "row", start: t.index.start + from };
  return { numRows: end - from, index, columns };
}

function lookupColumn(t: Table, name: string): Column {
  const cols = columnsOf(t);
  const c = cols.get(name);
  if (c === undefined) throw unknownColumn(name, cols);
  return c;
}

/**
 * The partial aggregate of a table's rows (one batch; a segmented run merges one per chunk of rows).
 * `rowOffset` is the batch's first row position, so first/last merge in row order.
 */
export function partialOf(
  t: Table,
  grouping: { gids: Int32Array; keys: GroupKeys },
  aggs: readonly Aggregation[],
  rowOffset = 0,
): Partial {
  const inputs = aggs.map((a) => lookupColumn(t, a.column));
  const numGroups = grouping.keys.columns[0].length;
  return { keys: grouping.keys, states: accumulate(aggs, inputs, grouping.gids, numGroups, rowOffset) };
}

/** The partial aggregate of `groupby(keys).agg(aggs)` over the rows of `t`. */
export function groupbyPartial(
  t: Table,
  keys: readonly string[],
  aggs: readonly Aggregation[],
  rowOffset = 0,
): Partial {
  const keyColumns = keys.map((k) => lookupColumn(t, k));
  return partialOf(t, groupRows(keyColumns, t.numRows), aggs, rowOffset);
}

/** The answer of a groupby from its (merged) partial: keys ascending, then the aggregates. */
export function finishGroupby(
  partial: Partial,
  keys: readonly string[],
  aggs: readonly Aggregation[],
): Table {
  const order = sortGroups(partial.keys);
  const columns = new Map<string, Column>();
  keys.forEach((name, c) => {
    columns.set(name, keyColumn(partial.keys.dtypes[c], partial.keys.columns[c], order));
  });
  aggs.forEach((a, j) => {
    columns.set(a.out, finishColumn(partial.states[j], order));
  });
  return { numRows: order.length, index: { kind: "row", start: 0 }, columns };
}

function groupby(t: Table, keys: readonly string[], aggs: readonly Aggregation[]): Table {
  return finishGroupby(groupbyPartial(t, keys, aggs), keys, aggs);
}

/**
 * The partial aggregate of a resample over the rows of `t`, bucketed from `origin` (resolved once for
 * the whole query). Throws `UnsortedIndexError` when the rows' timestamps are out of order.
 */
export function resamplePartial(
  t: Table,
  spec: ResampleSpec,
  aggs: readonly Aggregation[],
  origin: bigint,
  rowOffset = 0,
): Partial {
  const ts = timestampIndex(t, "resample");
  checkSorted(ts);
  for (const a of aggs) lookupColumn(t, a.column);
  return partialOf(t, bucketRows(ts, spec, origin, true), aggs, rowOffset);
}

/** Throws `UnsortedIndexError` unless `ts` is in order. */
export function checkSorted(ts: BigInt64Array): void {
  // Compared by 32-bit halves (signed high, unsigned low; little-endian, as every engine floe runs on):
  // reading a BigInt64Array element makes a BigInt, which costs more than the comparison.
  const w = new Int32Array(ts.buffer, ts.byteOffset, ts.length * 2);
  for (let i = 1; i < ts.length; i++) {
    const hi = w[2 * i];
    const hiPrev = w[2 * i - 2];
    if (hi > hiPrev || (hi === hiPrev && w[2 * i - 1] >>> 0 <= w[2 * i + 1] >>> 0)) continue;
    if (ts[i] < ts[i - 1]) {
      throw new UnsortedIndexError(
        "resample: the index is not sorted; resample needs timestamps in order (sort the data before writing it).",
      );
    }
  }
}

/** The answer of a resample from its (merged) partial: bucket labels as the index, then the aggregates. */
export function finishResample(
  partial: Partial,
  spec: ResampleSpec,
  aggs: readonly Aggregation[],
  origin: bigint,
  index: { name: string; tz?: string },
): Table {
  const { order, labels } = bucketOrder(partial.keys, spec, origin);
  const columns = new Map<string, Column>();
  aggs.forEach((a, j) => {
    columns.set(a.out, finishColumn(partial.states[j], order));
  });
  const tz = index.tz === undefined ? {} : { tz: index.tz };
  return {
    numRows: order.length,
    index: { kind: "timestamp", name: index.name, values: labels, ...tz },
    columns,
  };
}

function resample(t: Table, spec: ResampleSpec, aggs: readonly Aggregation[]): Table {
  const ts = timestampIndex(t, "resample");
  const bounds = timeBounds(ts);
  const origin = bounds === null ? 0n : resolveOrigin(spec, bounds);
  const partial = resamplePartial(t, spec, aggs, origin);
  const index = t.index as Extract<FrameIndex, { kind: "timestamp" }>;
  return finishResample(partial, spec, aggs, origin, index);
}

/** Group numbers in ascending key order (the first key first, then the next). */
function sortGroups(keys: GroupKeys): Int32Array {
  const n = keys.columns[0]?.length ?? 0;
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const cols = keys.columns;
  return order.sort((a, b) => {
    for (const c of cols) {
      const x = c[a];
      const y = c[b];
      if (x < y) return -1;
      if (x > y) return 1;
    }
    return 0;
  });
}

function keyColumn(dtype: DType, values: KeyValue[], order: Int32Array): Column {
  if (dtype === "string") {
    const out: StringArray = new Array(order.length);
    for (let r = 0; r < order.length; r++) out[r] = values[order[r]] as string;
    return { dtype, values: out };
  }
  const out = new DTYPES[dtype].array!(order.length);
  const o = out as unknown as unknown[];
  // 64-bit keys come as numbers within ±2^53 (see KeyValue).
  const big = out instanceof BigInt64Array || out instanceof BigUint64Array;
  for (let r = 0; r < order.length; r++) {
    const v = values[order[r]];
    o[r] = big && typeof v === "number" ? BigInt(v) : v;
  }
  return { dtype, values: out };
}
