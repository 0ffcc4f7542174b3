/**
 * One chunk of a query read, decoded and run through the query's per-chunk steps — on the calling thread
 * or in a pool worker alike. When the steps begin with a filter the Wasm comparison kernels evaluate
 * (`leadingFilter`), the chunk is materialised late: the filter's columns are decoded, the mask computed,
 * and every other column decoded compacted by it (`VersionStore.readRowsWhere`), so the rows the filter
 * drops are never copied out of Wasm memory.
 */
import type { Kernels } from "../codec/wasm.ts";
import { type ChunkResult, type ChunkSteps, filterMask, leadingFilter, runChunk } from "../query/chunk.ts";
import type { ReadRequest } from "./read-plan.ts";
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
  const dtypes = new Map(index.columns.map((c) => [c.name, c.dtype]));
  const wanted = new Set(request.columns ?? dtypes.keys());
  const filter = request.dateRange
    ? null
    : leadingFilter(steps, (name) => (wanted.has(name) ? dtypes.get(name) : undefined));
  if (filter === null) {
    return runChunk(store.readRows(k, symbol, record, index, request).frame, rowStart, steps);
  }
  const { frame, rows } = store.readRowsWhere(k, symbol, record, index, request, filter.columns, (cols, n) =>
    filterMask(filter.expr, cols, n),
  );
  return runChunk(frame, rowStart, steps, rows);
}
