import type { Kernels } from "../codec/wasm.ts";
import { SymbolNotFoundError } from "../errors.ts";
import type { FrameData } from "./frame-data.ts";
import type { ObjectVersionStore } from "./object-version-store.ts";
import type { ProgressMeter } from "./progress.ts";
import { INDEX_FORMAT, type IndexRecord, type SegmentRef, type VersionRecord } from "./records.ts";
import { rowsInRange } from "./schema-checks.ts";
import type { VersionStore } from "./version-store.ts";
import { unionColumns } from "./widen.ts";

/** How `updateSymbol` treats the version it makes and a missing symbol. */
export interface UpdateOptions {
  meta?: Uint8Array;
  prune?: boolean;
  /** Write `frame` as the symbol when it has no live version, instead of `SymbolNotFoundError`. */
  upsert?: boolean;
}

/**
 * ArcticDB's `update`, for `Library.update` and any batch of updates: a new version of `symbol` whose
 * rows with timestamps in `dateRange` (inclusive; default the span of `frame`) are replaced by the rows of
 * `frame` inside it. `frame` must have a timestamp index (checked by the caller).
 *
 * A `frame` without rows changes no data, `dateRange` or not: it makes a new version sharing the latest
 * one's data, with `meta` as its metadata, as ArcticDB does (its docstring: update "cannot be used with
 * date_range to just delete"; that is `deleteDataInRange`). Code ported from ArcticDB would otherwise
 * delete rows it meant to keep. A `frame` whose rows all lie outside `dateRange` does remove the range,
 * as in ArcticDB, which filters the rows only after that check.
 */
export async function updateSymbol(
  store: VersionStore | ObjectVersionStore,
  k: Kernels,
  symbol: string,
  frame: FrameData,
  dateRange: [bigint | null, bigint | null] | undefined,
  options: UpdateOptions,
  meter?: ProgressMeter,
): Promise<VersionRecord> {
  if (frame.index.kind !== "timestamp") throw new Error("internal: update needs a timestamp index");
  const { meta, prune } = options;
  if (!(await store.latest(symbol))) {
    if (options.upsert) return store.metered(meter, () => store.write(k, symbol, frame, { meta, prune }));
    const gone = await store.libraryGone();
    if (gone) throw gone;
    throw new SymbolNotFoundError(
      `Cannot update '${symbol}': it does not exist in library '${store.lib}'. Pass { upsert: true } ` +
        "to write it, or write() it first.",
    );
  }
  // `create` false: a symbol deleted since the look above is SymbolNotFoundError, not a new version 0.
  if (frame.numRows === 0) return store.writeMetadata(symbol, meta, prune === true, false);
  const stamps = frame.index.values;
  const range = dateRange ?? [stamps[0], stamps[stamps.length - 1]];
  const rows = dateRange ? rowsInRange(frame, dateRange) : frame;
  return store.metered(meter, () => store.replaceRange(k, symbol, range, rows, { meta, prune }));
}

/**
 * The index of a version whose rows [lo, hi) of `index` were replaced by the rows `added` lists (stored,
 * numbered from 0): segments wholly before `lo` kept, `added`'s shifted to start at `lo`, those from `hi`
 * on shifted by the change in rows; under dynamic schema each new segment names its columns (those of
 * `added` unless it names its own already, as the parts `joinIndexes` joins do).
 */
export function replacedIndex(
  index: IndexRecord,
  added: IndexRecord,
  at: { lo: number; hi: number; columns: IndexRecord["columns"]; dynamic: boolean },
): IndexRecord {
  const { lo, hi, columns, dynamic } = at;
  const shift = lo + added.rows - hi;
  const named = (s: SegmentRef) =>
    s.names ?? added.columns.slice(s.colStart, s.colStart + s.cols).map((c) => c.name);
  const segments = [
    ...index.segments.filter((s) => s.rows > 0 && s.rowStart + s.rows <= lo),
    ...added.segments.map((s) => ({
      ...s,
      rowStart: s.rowStart + lo,
      ...(dynamic ? { names: named(s) } : {}),
    })),
    ...index.segments
      .filter((s) => s.rows > 0 && s.rowStart >= hi)
      .map((s) => ({ ...s, rowStart: s.rowStart + shift })),
  ];
  const rows = index.rows + shift;
  return {
    ...index,
    f: INDEX_FORMAT,
    columns,
    rows,
    segments: rows > 0 ? segments.filter((s) => s.rows > 0) : added.segments,
  };
}

/**
 * The rows of `parts` (stored indexes of rows that follow each other, numbered from 0 each) as one index
 * numbered from 0, in one pass (folding `appendIndex` would copy the list once a part). Under dynamic
 * schema the columns are their union and every segment names its columns. `parts` is not empty.
 */
export function joinIndexes(symbol: string, parts: IndexRecord[], dynamic: boolean): IndexRecord {
  let columns = parts[0].columns;
  let rows = 0;
  let sorted = true;
  const segments: SegmentRef[] = [];
  for (const part of parts) {
    if (dynamic) columns = unionColumns(symbol, columns, part.columns);
    for (const s of part.segments) {
      const seg = { ...s, rowStart: s.rowStart + rows };
      if (dynamic && !s.names)
        seg.names = part.columns.slice(s.colStart, s.colStart + s.cols).map((c) => c.name);
      segments.push(seg);
    }
    rows += part.rows;
    if (part.index.kind === "timestamp") sorted &&= part.index.sorted;
  }
  const first = parts[0].index;
  return {
    ...parts[0],
    f: INDEX_FORMAT, // segments written now carry statistics
    columns,
    rows,
    index: first.kind === "timestamp" ? { ...first, sorted } : first,
    segments: rows > 0 ? segments.filter((s) => s.rows > 0) : segments,
  };
}

/**
 * The rows [lo, hi) a replacement of rows [r0, r1) rewrites: widened to the edges of the row slices that
 * straddle r0 and r1, so every kept segment is whole.
 */
export function replaceBounds(index: IndexRecord, r0: number, r1: number): { lo: number; hi: number } {
  const slices = index.segments.filter((s) => s.colStart === 0 && s.rows > 0);
  const around = (row: number) => slices.find((s) => s.rowStart < row && row < s.rowStart + s.rows);
  const containing = slices.find((s) => s.rowStart <= r0 && r0 < s.rowStart + s.rows);
  const lo = containing ? containing.rowStart : r0;
  const straddling = around(r1) ?? (r1 === r0 && containing && r0 > lo ? containing : undefined);
  const hi = straddling ? straddling.rowStart + straddling.rows : r1;
  return { lo, hi };
}
