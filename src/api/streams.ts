import { DTYPES } from "../dtypes.ts";
import { InvalidArgumentError } from "../errors.ts";
import { DataFrame } from "../frame/dataframe.ts";
import { requiredColumns } from "../query/plan.ts";
import { QueryBuilder } from "../query/query-builder.ts";
import { applyReadQuery } from "../query/read.ts";
import type { FrameData } from "../version/frame-data.ts";
import type { ObjectVersionStore } from "../version/object-version-store.ts";
import { chunkRanges, columnPositions, type ReadRequest, resolveRowRange } from "../version/read-plan.ts";
import type { IndexRecord, VersionRecord } from "../version/records.ts";
import type { VersionSelector } from "../version/version-chain.ts";
import type { VersionStore } from "../version/version-store.ts";
import { toFrameData } from "./convert.ts";
import { describe } from "./validate.ts";

/**
 * Streams: `Library.iterate` (a version read chunk by chunk) and the frame sources `write` and `append`
 * take (an async iterable or a web `ReadableStream` of frames). The version engine's side is in
 * src/version/stream-write.ts and src/version/compaction.ts.
 */

/** A source of frames for a stream write. */
export type FrameSource = AsyncIterable<DataFrame | Record<string, unknown>> | ReadableStream<DataFrame>;

/** True when `data` is a stream of frames rather than one frame. */
export function isFrameSource(data: unknown): data is FrameSource {
  if (data === null || typeof data !== "object" || data instanceof DataFrame) return false;
  return (
    typeof (data as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function" ||
    typeof (data as { getReader?: unknown }).getReader === "function"
  );
}

/**
 * The frames of `source` as the version engine takes them, pulled one at a time (so one frame is in
 * memory at once, besides what the source holds). Ending early (an error while staging) cancels the
 * source: an async iterator gets `return()`, a `ReadableStream` is cancelled.
 */
export async function* framesOf(source: FrameSource, call: string): AsyncGenerator<FrameData> {
  const iterable: AsyncIterable<unknown> =
    typeof (source as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function"
      ? (source as AsyncIterable<unknown>)
      : readerFrames(source as ReadableStream<unknown>);
  let n = 0;
  for await (const item of iterable) {
    if (item instanceof DataFrame) yield toFrameData(item);
    else if (item !== null && typeof item === "object" && !Array.isArray(item)) {
      yield toFrameData(new DataFrame(item as Record<string, never>));
    } else {
      throw new InvalidArgumentError(
        `${call}: frame ${n} of the stream must be a DataFrame or a record of columns, got ${describe(item)}.`,
      );
    }
    n++;
  }
}

/** The chunks of a web `ReadableStream` as an async iterable; leaving the loop early cancels the stream. */
export async function* readerFrames(stream: ReadableStream<unknown>): AsyncGenerator<unknown> {
  const reader = stream.getReader();
  let done = false;
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) {
        done = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** What `iterate` needs of its library. */
export interface IterateContext {
  store: VersionStore | ObjectVersionStore;
  /** Reads rows of the pinned version, through the library's read path (worker pool included). */
  read(which: VersionSelector, request: ReadRequest): Promise<DataFrame>;
  /** The rows a date range selects (see `VersionStore.rowsInDateRange`). */
  rowsInDateRange(
    record: VersionRecord,
    index: IndexRecord,
    range: [bigint | null, bigint | null],
  ): Promise<[number, number]>;
}

/** `iterate`'s options, checked. */
export interface IterateRequest {
  record: VersionRecord;
  /** The selector each chunk's read pins: the snapshot asked for, or the version number resolved. */
  pin: VersionSelector;
  dateRange?: [bigint | null, bigint | null];
  rowRange?: [number | null, number | null];
  columns?: string[];
  query?: QueryBuilder;
  chunkRows?: number;
  chunkBytes?: number;
}

/** The query clauses that work row by row, so a chunk's answer is the answer's rows for that chunk. */
const STREAMING_CLAUSES = new Set(["filter", "apply"]);

/** `query` checked for `iterate`: a `QueryBuilder`. */
export function checkIterateQuery(query: unknown): QueryBuilder {
  if (!(query instanceof QueryBuilder)) {
    throw new InvalidArgumentError(
      'iterate: query must be a QueryBuilder, such as new QueryBuilder().filter(col("px").gt(100)).',
    );
  }
  return query;
}

/**
 * Whether every clause of `query` works row by row (filter, apply), so each chunk's answer is the
 * answer's rows for that chunk; otherwise (groupby, resample, row selections) the answer needs every
 * row, and `iterate` gives it as one frame at the end.
 */
export function streamsByRow(query: QueryBuilder): boolean {
  return query.clauses.every((c) => STREAMING_CLAUSES.has(c.kind));
}

/** Rows of about `chunkBytes` raw bytes: fixed-width columns at their width, strings at 16 bytes a value. */
export function rowsForBytes(index: IndexRecord, columns: number[], chunkBytes: number): number {
  const rowBytes =
    (index.index.kind === "timestamp" ? 8 : 0) +
    columns.reduce((n, c) => n + (DTYPES[index.columns[c].dtype].width || 16), 0);
  return Math.max(1, Math.floor(chunkBytes / Math.max(1, rowBytes)));
}

/**
 * The chunks of a version as `DataFrame`s, one read ahead: while the caller handles one chunk, the next
 * is being read. Breaking out of the loop waits for that read to settle and reads nothing more.
 */
export async function* iterateChunks(
  ctx: IterateContext,
  symbol: string,
  req: IterateRequest,
  defaultChunkRows: number,
): AsyncGenerator<DataFrame> {
  const record = req.record;
  const index = await ctx.store.readIndex(record, symbol);
  const range = req.dateRange
    ? await ctx.rowsInDateRange(record, index, req.dateRange)
    : resolveRowRange(req.rowRange, index.rows);
  const query = req.query;
  let columns = req.columns;
  if (query)
    columns = requiredColumns(
      query,
      index.columns.map((c) => c.name),
      req.columns,
    );
  // Unknown columns are refused here, before any chunk is read, as a read refuses them.
  const picked = columnPositions(index, columns);
  let chunkRows =
    req.chunkRows ?? (req.chunkBytes === undefined ? defaultChunkRows : Number.POSITIVE_INFINITY);
  if (req.chunkBytes !== undefined)
    chunkRows = Math.min(chunkRows, rowsForBytes(index, picked, req.chunkBytes));
  const ranges = chunkRanges(index, range, chunkRows);
  const readChunk = async (rowRange: [number, number]) => {
    const request: ReadRequest = { rowRange };
    if (columns !== undefined) request.columns = columns;
    const frame = await ctx.read(req.pin, request);
    return query ? applyReadQuery(frame, query, req.columns) : frame;
  };
  let next: Promise<DataFrame> | undefined;
  try {
    for (let i = 0; i < ranges.length; i++) {
      const current = next ?? readChunk(ranges[i]);
      next = undefined;
      const frame = await current;
      if (i + 1 < ranges.length) {
        next = readChunk(ranges[i + 1]);
        next.catch(() => {}); // awaited on the next turn; left unhandled only if the caller stops first
      }
      if (query && frame.numRows === 0) continue;
      yield frame;
    }
  } finally {
    // Stopped early: let the read ahead finish (its error, if any, no longer matters) before returning.
    if (next) await next.catch(() => {});
  }
}

/** Checks a chunk size option: a whole number of at least 1. */
export function checkChunkSize(what: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(
      `iterate: ${what} must be a whole number of at least 1, got ${describe(value)}.`,
    );
  }
  return value;
}
