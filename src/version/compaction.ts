import type { Kernels } from "../codec/wasm.ts";
import type { FrameData } from "./frame-data.ts";
import type { ObjectVersionStore } from "./object-version-store.ts";
import type { IndexRecord, VersionRecord } from "./records.ts";
import type { VersionStore } from "./version-store.ts";

/**
 * Compaction: a symbol built by many small appends has many small segments, and a read pays per segment.
 * `compactSymbol` rewrites the rows into full segments as a new version; the old versions keep theirs
 * until they are deleted or pruned.
 */

/**
 * As ArcticDB's `SymbolDataCompact.SegmentCount` default: a symbol is fragmented when compaction would
 * remove at least this many segments.
 */
export const FRAGMENTED_SEGMENTS = 100;

/** The row slices of a version: one per distinct first row among its segments with rows. */
export function rowSlices(index: IndexRecord): number {
  return new Set(index.segments.filter((s) => s.rows > 0).map((s) => s.rowStart)).size;
}

/**
 * How many row slices compaction to `segmentSize` rows a slice would remove: the slices stored, less
 * the `ceil(rows / segmentSize)` full ones the rows need.
 */
export function compactionGain(index: IndexRecord, segmentSize: number): number {
  return Math.max(0, rowSlices(index) - Math.ceil(index.rows / segmentSize));
}

/** ArcticDB's `is_symbol_fragmented`: compaction would remove at least `FRAGMENTED_SEGMENTS` segments. */
export function isFragmented(index: IndexRecord, segmentSize: number): boolean {
  return compactionGain(index, segmentSize) >= FRAGMENTED_SEGMENTS;
}

/**
 * Rewrites version `record` of `symbol` (its latest) as a new version of the same rows, columns, dtypes
 * and metadata in segments of `rowsPerSegment` rows, reading and writing one segment's rows at a time.
 * The commit is refused (and nothing kept) if another version was added meanwhile.
 */
export async function compactSymbol(
  store: VersionStore | ObjectVersionStore,
  k: Kernels,
  symbol: string,
  record: VersionRecord,
  rowsPerSegment: number,
): Promise<VersionRecord> {
  const index = await store.readIndex(record, symbol);
  async function* chunks(): AsyncGenerator<FrameData> {
    if (index.rows === 0) {
      yield (await store.readRows(k, symbol, record, index, {})).frame;
      return;
    }
    for (let start = 0; start < index.rows; start += rowsPerSegment) {
      const rowRange: [number, number] = [start, Math.min(index.rows, start + rowsPerSegment)];
      yield (await store.readRows(k, symbol, record, index, { rowRange })).frame;
    }
  }
  const options = { mode: "write" as const, meta: record.meta, expectLatest: record.v };
  const target =
    rowsPerSegment === store.config.rowsPerSegment
      ? store
      : store.withConfig({ ...store.config, rowsPerSegment });
  return target.writeStream(k, symbol, chunks(), options);
}
