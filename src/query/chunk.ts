/**
 * A query run a chunk of rows at a time: `splitQuery` cuts it into the row-wise clauses every chunk
 * runs on its own (filter, apply, dateRange), the aggregation whose partial each chunk computes, and
 * the clauses left for the merged answer; `runChunk` is one chunk's work (in a pool worker or on the
 * calling thread) and `mergeChunks` puts the chunks' results together, so no step holds every row.
 */
import type { ColumnValues, DType } from "../dtypes.ts";
import type { FrameIndex } from "../frame/dataframe.ts";
import { mergePartials, type Partial } from "./aggregate.ts";
import { type Column, evaluateMask } from "./evaluate.ts";
import {
  finishGroupby,
  finishResample,
  groupbyPartial,
  resamplePartial,
  runClauses,
  type Table,
} from "./execute.ts";
import { columnsOf, type ExprNode, isCompareOp } from "./expr.ts";
import type { KeyValue } from "./group-keys.ts";
import type { Clause, QueryBuilder, ResampleSpec } from "./query-builder.ts";

type Aggregating = Extract<Clause, { kind: "groupby" | "resample" }>;

/** What each chunk runs: its row-wise clauses, then the partial of the aggregation, if any. */
export interface ChunkSteps {
  readonly prefix: readonly Clause[];
  readonly aggregate?: Aggregating;
  /** A resample's origin, resolved for the whole query before any chunk runs. */
  readonly origin?: bigint;
}

/** A query cut for a chunked run: what chunks run, and the clauses left for the merged answer. */
export interface SplitQuery {
  readonly steps: ChunkSteps;
  readonly rest: readonly Clause[];
}

const DAY = 86_400_000_000_000n;

/**
 * Cuts `query` for a chunked run: the leading filter/apply/dateRange clauses run on each chunk; a
 * groupby right after them is pushed down as per-chunk partials, and so is a resample whose origin does
 * not depend on which rows pass (epoch, a timestamp, or start_day/end_day for rules that divide a day:
 * every midnight is then a bucket edge) and the stored index is sorted. Everything after runs on the
 * merged answer. Returns null when
 * no clause can run per chunk, so the plain read-then-query path is as good.
 */
export function splitQuery(query: QueryBuilder, sortedIndex = true): SplitQuery | null {
  const clauses = query.clauses;
  let i = 0;
  while (i < clauses.length && ["filter", "apply", "dateRange"].includes(clauses[i].kind)) i++;
  const prefix = clauses.slice(0, i);
  const next = clauses[i];
  if (next?.kind === "groupby") {
    return { steps: { prefix, aggregate: next }, rest: clauses.slice(i + 1) };
  }
  // An unsorted index: the rows are gathered, so the resample refuses them as over a whole frame.
  if (next?.kind === "resample" && sortedIndex) {
    const origin = fixedOrigin(next.spec);
    if (origin !== null) {
      return { steps: { prefix, aggregate: next, origin }, rest: clauses.slice(i + 1) };
    }
  }
  if (prefix.length === 0) return null;
  return { steps: { prefix }, rest: clauses.slice(i) };
}

/** A resample's origin when it does not depend on the data's first or last row; else null. */
function fixedOrigin(spec: ResampleSpec): bigint | null {
  const o = spec.origin;
  if (typeof o === "object") return o.ns + spec.offsetNs;
  if (o === "epoch") return spec.offsetNs;
  // Midnights are epoch + whole days: the same bucket edges as epoch when the rule divides a day.
  if ((o === "start_day" || o === "end_day") && spec.ruleNs > 0n && DAY % spec.ruleNs === 0n) {
    return spec.offsetNs;
  }
  return null;
}

/** A chunk's rows as the storage layer decodes them (the version engine's FrameData has this shape). */
export interface ChunkRows {
  numRows: number;
  columns: { name: string; dtype: DType; values: ColumnValues }[];
  index: { kind: "row" } | { kind: "timestamp"; name: string; values: BigInt64Array; tz?: string };
}

/**
 * One chunk's result: the rows its clauses kept (`rows`, with `all` true when none was dropped), or the
 * partial aggregate of its rows.
 */
export type ChunkResult =
  | { kind: "rows"; rows: ChunkRows; all: boolean }
  | { kind: "partial"; keys: { dtypes: DType[]; columns: KeyValue[][] }; states: Partial["states"] };

/**
 * Runs `steps` over one chunk, rows `rowStart …` of the stored frame. Throws the query's errors (an
 * unknown column, a dtype an expression cannot take) as `runQuery` does.
 */
export function runChunk(
  rows: ChunkRows,
  rowStart: number,
  steps: ChunkSteps,
  filteredFrom?: number,
): ChunkResult {
  // With `filteredFrom`, `rows` are what the leading filter kept of that many (see `leadingFilter`).
  const total = filteredFrom ?? rows.numRows;
  const prefix = filteredFrom === undefined ? steps.prefix : steps.prefix.slice(1);
  const columns = new Map<string, Column>();
  for (const c of rows.columns) columns.set(c.name, { dtype: c.dtype, values: c.values });
  const index: FrameIndex =
    rows.index.kind === "timestamp"
      ? rows.index
      : { kind: "row", start: rows.numRows === total ? rowStart : 0 };
  const agg = steps.aggregate;
  let t: Table = { numRows: rows.numRows, index, columns };
  if (agg === undefined) t = runClauses(t, prefix);
  else {
    // Before an aggregation only the columns later clauses read matter: the others are dropped as
    // soon as they are done with, so a filter does not compact them.
    const live = liveColumns(prefix, agg);
    prefix.forEach((clause, j) => {
      t = runClauses(keepOnly(t, live[j]), [clause]);
    });
  }
  if (agg === undefined) {
    return {
      kind: "rows",
      all: t.numRows === total,
      rows: {
        numRows: t.numRows,
        columns: [...t.columns].map(([name, c]) => ({ name, dtype: c.dtype, values: c.values })),
        index: t.index.kind === "timestamp" ? t.index : { kind: "row" },
      },
    };
  }
  // Positions only order first/last across chunks: the filtered rows of a chunk keep their order.
  const partial =
    agg.kind === "groupby"
      ? groupbyPartial(t, agg.keys, agg.aggs, rowStart)
      : resamplePartial(t, agg.spec, agg.aggs, steps.origin ?? 0n, rowStart);
  return {
    kind: "partial",
    keys: { dtypes: [...partial.keys.dtypes], columns: partial.keys.columns },
    states: partial.states,
  };
}

/**
 * The leading filter of `steps` when a chunk can apply it while decoding (late materialisation, see
 * `ReadPath.readRowsWhere`): comparisons of fixed-width numeric columns with literals (what the Wasm
 * comparison kernels evaluate) or with each other, joined by and/or/not, with every column it reads among the chunk's (`dtypeOf`
 * gives their stored dtypes). Null otherwise: the chunk is then decoded whole, as before.
 */
export function leadingFilter(
  steps: ChunkSteps,
  dtypeOf: (name: string) => DType | undefined,
): { expr: ExprNode; columns: string[] } | null {
  const first = steps.prefix[0];
  if (first?.kind !== "filter") return null;
  const columns = new Set<string>();
  const fits = (node: ExprNode): boolean => {
    if (node.op === "not") return fits(node.arg);
    if (node.op === "and" || node.op === "or") return fits(node.left) && fits(node.right);
    if (!isCompareOp(node.op)) return false;
    const { left, right } = node as { left: ExprNode; right: ExprNode };
    const numeric = (name: string): boolean => {
      const dtype = dtypeOf(name);
      return dtype === "float64" || dtype === "int32" || dtype === "int64" || dtype === "timestamp";
    };
    if (left.op === "col" && right.op === "col") {
      // Two columns (`close > open`): the mask is computed by evaluate.ts's loops, still before the
      // other columns are decoded.
      if (!numeric(left.name) || !numeric(right.name)) return false;
      columns.add(left.name).add(right.name);
      return true;
    }
    const [col, lit] = left.op === "col" ? [left, right] : [right, left];
    if (col.op !== "col" || lit.op !== "lit") return false;
    const v = lit.value;
    if (!(typeof v === "number" || typeof v === "bigint") || !numeric(col.name)) return false;
    columns.add(col.name);
    return true;
  };
  return fits(first.expr) ? { expr: first.expr, columns: [...columns] } : null;
}

/** The 0/1 mask of `expr` over a chunk's `columns` of `numRows` rows (as `filter` computes it). */
export function filterMask(
  expr: ExprNode,
  columns: readonly { name: string; dtype: DType; values: ColumnValues }[],
  numRows: number,
): Uint8Array {
  const byName = new Map(columns.map((c) => [c.name, c]));
  return evaluateMask(expr, {
    numRows,
    get: (name) => byName.get(name),
    names: () => [...byName.keys()],
  });
}

/**
 * The columns the steps after the first clause read, when the chunk aggregates (its other columns are
 * not needed once the first clause has run); null when the chunk's rows are its answer.
 */
export function readAfterFirst(steps: ChunkSteps): Set<string> | null {
  const agg = steps.aggregate;
  if (agg === undefined) return null;
  const rest = steps.prefix.slice(1);
  return rest.length > 0 ? liveColumns(rest, agg)[0] : aggregationColumns(agg);
}

/** The columns an aggregation reads: its inputs and, for a groupby, its keys. */
export function aggregationColumns(agg: Aggregating): Set<string> {
  const live = new Set<string>(agg.aggs.map((a) => a.column));
  if (agg.kind === "groupby") for (const k of agg.keys) live.add(k);
  return live;
}

/**
 * For each prefix clause j, the columns clause j and everything after it read (the aggregation's keys
 * and inputs included).
 */
function liveColumns(prefix: readonly Clause[], agg: Aggregating): Set<string>[] {
  const live = aggregationColumns(agg);
  const out: Set<string>[] = new Array(prefix.length);
  for (let j = prefix.length - 1; j >= 0; j--) {
    const c = prefix[j];
    if (c.kind === "apply") live.delete(c.name);
    if (c.kind === "filter" || c.kind === "apply") columnsOf(c.expr, live);
    out[j] = new Set(live);
  }
  return out;
}

/** `t` with only the columns in `names` (the index stays). */
function keepOnly(t: Table, names: Set<string>): Table {
  if ([...t.columns.keys()].every((n) => names.has(n))) return t;
  const columns = new Map<string, Column>();
  for (const [name, c] of t.columns) if (names.has(name)) columns.set(name, c);
  return { ...t, columns };
}

/**
 * The chunks' results, in row order, merged into the answer of the whole query: rows concatenated
 * (a row-numbered index renumbered from 0 once a row was dropped, as a filter over the whole frame
 * does), or partials merged pairwise and finished; then the `rest` of the clauses.
 * `shape` is the stored frame's index, for an answer with no chunks.
 */
export function mergeChunks(
  results: readonly ChunkResult[],
  split: SplitQuery,
  rowStart: number,
  indexInfo: { kind: "row" } | { kind: "timestamp"; name: string; tz?: string },
): Table {
  const agg = split.steps.aggregate;
  if (agg === undefined) return runClauses(concatRows(results, rowStart, indexInfo), split.rest);
  const partials = results.map((r) => {
    if (r.kind !== "partial") throw new Error("internal: a chunk returned rows for an aggregation");
    return r;
  });
  const merged = mergePartials(partials);
  const table =
    agg.kind === "groupby"
      ? finishGroupby(merged, agg.keys, agg.aggs)
      : finishResample(
          merged,
          agg.spec,
          agg.aggs,
          split.steps.origin ?? 0n,
          indexInfo.kind === "timestamp" ? indexInfo : { name: "index" },
        );
  return runClauses(table, split.rest);
}

function concatRows(
  results: readonly ChunkResult[],
  rowStart: number,
  indexInfo: { kind: "row" } | { kind: "timestamp"; name: string; tz?: string },
): Table {
  const chunks = results.map((r) => {
    if (r.kind !== "rows") throw new Error("internal: a chunk returned a partial without an aggregation");
    return r;
  });
  const numRows = chunks.reduce((n, c) => n + c.rows.numRows, 0);
  const all = chunks.every((c) => c.all);
  const columns = new Map<string, Column>();
  const first = chunks[0]?.rows;
  for (const [j, c] of (first?.columns ?? []).entries()) {
    columns.set(c.name, {
      dtype: c.dtype,
      values: concatValues(
        chunks.map((ch) => ch.rows.columns[j].values),
        numRows,
      ),
    });
  }
  let index: FrameIndex;
  if (indexInfo.kind === "timestamp") {
    const values = concatValues(
      chunks.map((ch) => (ch.rows.index as { values: BigInt64Array }).values),
      numRows,
    ) as BigInt64Array;
    index = {
      kind: "timestamp",
      name: indexInfo.name,
      values,
      ...(indexInfo.tz === undefined ? {} : { tz: indexInfo.tz }),
    };
  } else index = { kind: "row", start: all ? rowStart : 0 };
  return { numRows, index, columns };
}

function concatValues(parts: ColumnValues[], n: number): ColumnValues {
  if (parts.length === 1) return parts[0];
  if (Array.isArray(parts[0])) return (parts as (string | null)[][]).flat() as ColumnValues;
  const out = new (parts[0].constructor as Float64ArrayConstructor)(n);
  let at = 0;
  for (const p of parts as Float64Array[]) {
    out.set(p, at);
    at += p.length;
  }
  return out as ColumnValues;
}
