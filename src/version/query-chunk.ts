/**
 * One chunk of a query read, decoded and run through the query's per-chunk steps — on the calling thread
 * or in a pool worker alike. When the steps begin with a filter the Wasm comparison kernels evaluate
 * (`leadingFilter`), the chunk is materialised late: the filter's columns are decoded, the mask computed,
 * and every other column decoded compacted by it (`VersionStore.readRowsWhere`), so the rows the filter
 * drops are never copied out of Wasm memory.
 */
import type { Kernels } from "../codec/wasm.ts";
import { DTYPES, type NumericArray } from "../dtypes.ts";
import { mergePartials } from "../query/aggregate.ts";
import {
  type ChunkResult,
  type ChunkSteps,
  filterMask,
  leadingFilter,
  readAfterFirst,
  runChunk,
} from "../query/chunk.ts";
import { residentChunk } from "./query-resident.ts";
import type { ReadTargets } from "./read-path.ts";
import { type ReadRequest, resolveRowRange } from "./read-plan.ts";
import type { IndexRecord, VersionRecord } from "./records.ts";
import type { VersionStore } from "./version-store.ts";

/** Reads rows `request.rowRange` (starting at stored row `rowStart`) and runs `steps` on them. */
export function queryChunk(
  store: VersionStore,
  k: Kernels,
  symbol: string,
  record: VersionRecord,
  index: IndexRecord,
  request: ReadRequest,
  rowStart: number,
  steps: ChunkSteps,
): ChunkResult {
  const resident = residentChunk(store, k, symbol, record, index, request, rowStart, steps);
  if (resident !== null) return resident;
  const dtypes = new Map(index.columns.map((c) => [c.name, c.dtype]));
  const wanted = new Set(request.columns ?? dtypes.keys());
  const filter = request.dateRange
    ? null
    : leadingFilter(steps, (name) => (wanted.has(name) ? dtypes.get(name) : undefined));
  // A chunk answering with a partial keeps none of its decoded columns: the next chunk decodes into them.
  const into = steps.aggregate !== undefined ? spareTargets(index, request) : undefined;
  if (filter === null) {
    return runChunk(store.readRows(k, symbol, record, index, request, into).frame, rowStart, steps);
  }
  // The filter's columns no later step reads are decoded for the mask only, never compacted.
  const after = readAfterFirst(steps);
  const wantedAfter =
    after === null ? request : { ...request, columns: [...wanted].filter((n) => after.has(n)) };
  const { frame, rows } = store.readRowsWhere(
    k,
    symbol,
    record,
    index,
    wantedAfter,
    filter.columns,
    (cols, n) => filterMask(filter.expr, cols, n),
    into,
  );
  return runChunk(frame, rowStart, steps, rows);
}

/**
 * Arrays of the last aggregating chunk decoded on this thread, by position among its columns and dtype,
 * held weakly: reused while a query runs, reclaimed by the collector once the thread is idle (no timer).
 */
const spare = new Map<string, WeakRef<NumericArray>>();
/** Chunks up to this many rows reuse arrays (8 MB a float64 column); larger ones allocate their own. */
const SPARE_MAX_ROWS = 1 << 20;

/**
 * Reusable arrays for the fixed-width columns and timestamp index of a chunk of rows `request.rowRange`,
 * so a query's chunks do not allocate, zero and collect a chunk's worth of memory each. Every row of
 * them is written by the read (gaps are filled), so what the previous chunk left does not matter.
 */
function spareTargets(index: IndexRecord, request: ReadRequest): ReadTargets | undefined {
  if (request.rowRange === undefined || request.dateRange) return undefined;
  const [from, to] = resolveRowRange(request.rowRange, index.rows);
  const rows = to - from;
  if (rows <= 0 || rows > SPARE_MAX_ROWS) return undefined;
  const take = (key: string, make: new (n: number) => NumericArray): NumericArray => {
    let have = spare.get(key)?.deref();
    if (have === undefined || have.length < rows || have.constructor !== make) {
      have = new make(rows);
      spare.set(key, new WeakRef(have));
    }
    return have.subarray(0, rows);
  };
  const wanted = new Set(request.columns ?? index.columns.map((c) => c.name));
  const columns = new Map<string, NumericArray>();
  for (const c of index.columns) {
    const array = DTYPES[c.dtype].array;
    if (array === null || !wanted.has(c.name)) continue;
    columns.set(c.name, take(`${columns.size}:${c.dtype}`, array));
  }
  const indexValues =
    index.index.kind === "timestamp" && !request.withoutIndex
      ? (take("index", BigInt64Array) as BigInt64Array)
      : undefined;
  return { columns, ...(indexValues ? { index: indexValues } : {}) };
}

/**
 * Runs `steps` on the rows of `request` as the chunks `ranges` (row ranges of an aggregating query),
 * their partials merged into one result; with one range or none (no rows, whose partial still has the
 * query's shape) it is `queryChunk` on `request` itself, starting at `rowStart`.
 */
export function queryChunks(
  store: VersionStore,
  k: Kernels,
  symbol: string,
  record: VersionRecord,
  index: IndexRecord,
  request: ReadRequest,
  rowStart: number,
  ranges: readonly [number, number][],
  steps: ChunkSteps,
): ChunkResult {
  if (ranges.length <= 1) return queryChunk(store, k, symbol, record, index, request, rowStart, steps);
  const results = ranges.map(([from, to]) =>
    queryChunk(store, k, symbol, record, index, { ...request, rowRange: [from, to] }, from, steps),
  );
  const merged = mergePartials(
    results.map((r) => {
      if (r.kind !== "partial") throw new Error("internal: a chunk of an aggregation returned rows");
      return r;
    }),
  );
  return {
    kind: "partial",
    keys: { dtypes: [...merged.keys.dtypes], columns: merged.keys.columns },
    states: merged.states,
  };
}
