/**
 * A read with a query, run a chunk of rows at a time: each chunk (a few segments' rows) is decoded and
 * put through the query's row-wise clauses and the partial of its aggregation — in the worker pool when
 * there is one, else on the calling thread — and only the chunks' answers are kept and merged. Peak
 * memory is the chunks in flight plus the answer, never the symbol.
 */
import type { Kernels } from "../codec/wasm.ts";
import { DTYPES } from "../dtypes.ts";
import { moving } from "../parallel/pool.ts";
import {
  aggregationColumns,
  type ChunkResult,
  type ChunkRows,
  type ChunkSteps,
  mergeChunks,
  runChunk,
  type SplitQuery,
} from "../query/chunk.ts";
import type { Table } from "../query/execute.ts";
import { columnsOf } from "../query/expr.ts";
import type { FrameData } from "./frame-data.ts";
import type { ObjectVersionStore } from "./object-version-store.ts";
import {
  COLD_READ_MAX_BYTES,
  lendSegments,
  PARALLEL_MIN_BYTES,
  type ParallelContext,
  unwrap,
  warmPool,
} from "./parallel.ts";
import type { ProgressMeter } from "./progress.ts";
import { queryChunk } from "./query-chunk.ts";
import { chunkRanges, planRead, type ReadRequest, resolveRowRange } from "./read-plan.ts";
import type { IndexRecord, VersionRecord } from "./records.ts";
import { type Outcome, type QueryJob, unpackStrings } from "./segment-worker.ts";
import { VersionStore } from "./version-store.ts";

/** A chunk the calling thread reads from an object store: enough segments' rows to keep requests in flight. */
const OBJECT_CHUNK_SEGMENTS = 16;
/** Jobs a pool worker gets of an aggregating query (each several chunks, merged in the worker). */
const JOBS_PER_WORKER = 4;
/** What a string value counts for in progress, as a plain read counts it. */
const STRING_BYTES = 8;

/** What a query read needs: the version, its index, and the rows and columns the query needs. */
export interface QueryRead {
  symbol: string;
  record: VersionRecord;
  index: IndexRecord;
  /** The columns to decode and a row or date range. */
  request: ReadRequest;
  split: SplitQuery;
  /** Row ranges of the stored frame that may hold an answer row (segment statistics); all when absent. */
  keep?: readonly [number, number][];
}

/**
 * Runs `q` over its version a chunk at a time and returns the merged answer (a query `Table`); progress
 * counts the raw bytes and segments each chunk decodes. The chunks run in the pool's workers when `parallel` is given, the store is LMDB or memory,
 * and the read is big enough to pay for messaging; else on the calling thread, one chunk at a time (an
 * object store fetching the next chunk while this one is decoded).
 */
export async function readWithQuery(
  store: VersionStore | ObjectVersionStore,
  k: Kernels,
  q: QueryRead,
  parallel: ParallelContext | undefined,
  meter?: ProgressMeter,
): Promise<Table> {
  const { symbol, record, index, request } = q;
  const columns = request.columns ?? index.columns.map((c) => c.name);
  // The query on no rows of the stored schema first: an unknown column or a dtype an expression cannot
  // take is refused before anything is fetched.
  runChunk(emptyRows(index, columns), 0, q.split.steps);
  const [start, end] = await rowsOf(store, k, q);
  const chunks = chunkRows(
    index,
    start,
    end,
    q.keep,
    // About a segment's rows (a fragmented symbol's small segments go together), more from an object store.
    store.config.rowsPerSegment * (store instanceof VersionStore ? 1 : OBJECT_CHUNK_SEGMENTS),
  );
  // A groupby that never names the timestamp index does not decode it.
  const withoutIndex = indexUnread(q.split.steps, index);
  const width =
    (index.index.kind === "timestamp" && !withoutIndex ? 8 : 0) +
    columns.reduce((n, name) => {
      const c = index.columns.find((x) => x.name === name);
      return n + (c ? DTYPES[c.dtype].width || STRING_BYTES : 0);
    }, 0);
  const rowsRead = chunks.reduce((n, [a, b]) => n + b - a, 0);
  const segments = chunks.map(([a, b]) => segmentsIn(index, a, b, columns));
  meter?.expect(
    rowsRead * width,
    segments.reduce((n, x) => n + x, 0),
  );
  const indexInfo =
    index.index.kind === "timestamp"
      ? {
          kind: "timestamp" as const,
          name: index.index.name,
          ...(index.index.tz ? { tz: index.index.tz } : {}),
        }
      : { kind: "row" as const };
  const done = (i: number) => meter?.add((chunks[i][1] - chunks[i][0]) * width, segments[i]);
  // For a groupby, string columns come with their dictionary codes: it groups by them, not the strings;
  // keys nothing else reads come as codes alone.
  const codes = q.split.steps.aggregate?.kind === "groupby";
  const codesOnly = codes ? codesOnlyColumns(q.split.steps, index, columns) : [];
  const readChunk = (from: number, to: number): ReadRequest & { rowRange: [number, number] } => ({
    columns,
    rowRange: [from, to],
    codes,
    codesOnly,
    withoutIndex,
  });
  let results: ChunkResult[];
  const pooled =
    parallel !== undefined &&
    store instanceof VersionStore &&
    chunks.length > 1 &&
    rowsRead * width >= PARALLEL_MIN_BYTES &&
    (parallel.store !== null || typeof SharedArrayBuffer === "function") &&
    // Workers still loading: a read this small runs here rather than wait for them (as a plain read).
    (parallel.pool.loaded > 0 || rowsRead * width >= COLD_READ_MAX_BYTES);

  if (pooled) {
    results = await inPool(parallel, store, q, chunks, { columns, withoutIndex }, done);
  } else if (store instanceof VersionStore) {
    // One read transaction for every chunk: a consistent snapshot, and no awaits between chunks.
    results = store.storage.readTransaction(() =>
      chunks.map(([from, to], i) => {
        const out = queryChunk(store, k, symbol, record, index, readChunk(from, to), from, q.split.steps);
        done(i);
        return out;
      }),
    );
  } else {
    results = [];
    // The next chunk's segments are fetched while this one's are decoded and queried.
    const query = (i: number) =>
      store.queryRows(k, symbol, record, index, readChunk(...chunks[i]), q.split.steps);
    let next = chunks.length > 0 ? query(0) : undefined;
    for (let i = 0; i < chunks.length; i++) {
      const current = next as ReturnType<typeof query>;
      next = i + 1 < chunks.length ? query(i + 1) : undefined;
      // A failed prefetch is reported when awaited; until then it must not be an unhandled rejection.
      next?.catch(() => {});
      results.push(await current);
      done(i);
    }
  }
  // A big query run here: the pool starts now, in the background, so the next one finds it loaded.
  if (parallel !== undefined && store instanceof VersionStore && !pooled) {
    warmPool(parallel, rowsRead * width, "after");
  }
  return mergeChunks(results, q.split, start, indexInfo);
}

/**
 * The stored string columns a chunk can read as dictionary codes alone, as no clause reads their strings:
 * a groupby's keys named by no filter, apply or aggregation (and not replaced by an apply); without an
 * aggregation, every string column no expression names (a pool worker sends the kept rows' codes).
 */
function codesOnlyColumns(steps: ChunkSteps, index: IndexRecord, columns: readonly string[]): string[] {
  const agg = steps.aggregate;
  const used = new Set<string>();
  for (const c of steps.prefix) {
    if (c.kind === "filter" || c.kind === "apply") columnsOf(c.expr, used);
    if (c.kind === "apply") used.add(c.name);
  }
  const isString = (k: string) => index.columns.some((c) => c.name === k && c.dtype === "string");
  if (agg === undefined) return columns.filter((k) => !used.has(k) && isString(k));
  if (agg.kind !== "groupby") return [];
  for (const a of agg.aggs) used.add(a.column);
  return agg.keys.filter((k) => !used.has(k) && isString(k));
}

/**
 * For each chunk [from, to) (in row order), `index` with only the segments whose rows overlap it, as
 * `planRead` would pick them (a few more at most): one sweep over the segments, which are in row order.
 */
function indexSpans(index: IndexRecord, chunks: readonly [number, number][]): IndexRecord[] {
  const segs = index.segments;
  // Out of row order (no floe writes one): every chunk gets them all, planRead picks.
  if (segs.some((seg, i) => i > 0 && seg.rowStart < segs[i - 1].rowStart)) return chunks.map(() => index);
  let lo = 0;
  return chunks.map(([from, to]) => {
    while (lo < segs.length && segs[lo].rows > 0 && segs[lo].rowStart + segs[lo].rows <= from) lo++;
    let hi = lo;
    while (hi < segs.length && (segs[hi].rowStart < to || (segs[hi].rows === 0 && segs[hi].rowStart <= to)))
      hi++;
    return { ...index, segments: segs.slice(lo, hi) };
  });
}

/**
 * True when no step reads the timestamp index: a groupby whose keys, aggregations, filters and applies
 * never name it (a dateRange, resample or the rows themselves need it).
 */
function indexUnread(steps: ChunkSteps, index: IndexRecord): boolean {
  const agg = steps.aggregate;
  if (index.index.kind !== "timestamp" || agg?.kind !== "groupby") return false;
  const used = aggregationColumns(agg);
  for (const c of steps.prefix) {
    if (c.kind !== "filter" && c.kind !== "apply") return false;
    columnsOf(c.expr, used);
  }
  return !used.has(index.index.name);
}

/** No rows of the stored frame's `columns`, with their dtypes and its index. */
function emptyRows(index: IndexRecord, columns: readonly string[]): ChunkRows {
  return {
    numRows: 0,
    columns: columns.map((name) => {
      const dtype = index.columns.find((c) => c.name === name)?.dtype ?? "float64";
      const array = DTYPES[dtype].array;
      return { name, dtype, values: array ? new array(0) : [] };
    }),
    index:
      index.index.kind === "timestamp"
        ? { kind: "timestamp", name: index.index.name, values: new BigInt64Array(0) }
        : { kind: "row" },
  };
}

/** Rows [start, end) of the stored frame the read's row or date range selects. */
async function rowsOf(
  store: VersionStore | ObjectVersionStore,
  k: Kernels,
  q: QueryRead,
): Promise<[number, number]> {
  const { symbol, record, index, request } = q;
  if (!request.dateRange) return resolveRowRange(request.rowRange, index.rows);
  const range = request.dateRange;
  if (store instanceof VersionStore) {
    return store.storage.readTransaction(() => store.rowsInDateRange(k, symbol, record, index, range));
  }
  return store.rowsInDateRange(k, symbol, record, index, range);
}

/**
 * Rows [start, end) cut into chunks of about `chunkRows` rows at segment boundaries (`chunkRanges`, as
 * `iterate` cuts them), leaving out rows outside `keep`. There is always at least one chunk (maybe of no
 * rows), so an empty answer still has the query's columns and dtypes, and a bad query is still refused.
 */
export function chunkRows(
  index: IndexRecord,
  start: number,
  end: number,
  keep: readonly [number, number][] | undefined,
  chunkRows: number,
): [number, number][] {
  const out: [number, number][] = [];
  for (const [a, b] of keep ?? [[start, end]]) {
    const from = Math.max(a, start);
    const to = Math.min(b, end);
    if (to > from) out.push(...chunkRanges(index, [from, to], chunkRows));
  }
  return out.length === 0 ? [[start, start]] : out;
}

/** The segments a read of rows [a, b) of `columns` fetches. */
function segmentsIn(index: IndexRecord, a: number, b: number, columns: readonly string[]): number {
  if (b <= a) return 0;
  return new Set(
    planRead(index, { rowRange: [a, b], columns: [...columns] }).pieces.map((p) => p.segment.key),
  ).size;
}

/** The chunks run in the pool's workers, a few per worker in flight, results kept in row order. */
async function inPool(
  ctx: ParallelContext,
  store: VersionStore,
  q: QueryRead,
  chunks: readonly [number, number][],
  { columns, withoutIndex }: { columns: string[]; withoutIndex: boolean },
  done: (i: number) => void,
): Promise<ChunkResult[]> {
  warmPool(ctx, PARALLEL_MIN_BYTES, "pool");
  const base = {
    lib: store.lib,
    config: store.config,
    symbol: q.symbol,
    record: q.record,
    seen: store.storage.seen,
    steps: q.split.steps,
  };
  // An aggregation's chunks go a few to a job, merged in the worker: the calling thread then merges a
  // few partials, not one a chunk, while still JOBS_PER_WORKER jobs a worker balance the load.
  const per = q.split.steps.aggregate ? Math.ceil(chunks.length / (ctx.pool.size * JOBS_PER_WORKER)) : 1;
  const jobs: (readonly [number, number])[][] = [];
  for (let i = 0; i < chunks.length; i += per) jobs.push(chunks.slice(i, i + per));
  const results: ChunkResult[] = new Array(jobs.length);
  const spans = indexSpans(
    q.index,
    jobs.map((js) => [js[0][0], js[js.length - 1][1]]),
  );
  const pooledOnly = codesOnlyColumns(q.split.steps, q.index, columns);
  let nextJob = 0;
  let failed: unknown;
  const lane = async () => {
    while (failed === undefined && nextJob < jobs.length) {
      const i = nextJob++;
      const group = jobs[i];
      const [from, to] = group[0];
      // A worker's chunk of rows comes back with its strings as a dictionary and codes (unpackStrings):
      // string columns no expression reads are decoded as codes alone, the others with their codes.
      const request: ReadRequest = {
        columns,
        rowRange: [from, to],
        codes: true,
        codesOnly: pooledOnly,
        withoutIndex,
      };
      try {
        let jobStore: QueryJob["store"];
        if (ctx.store !== null) jobStore = ctx.store;
        else {
          // mem://: the chunks' segments, lent in shared memory.
          const lent = store.storage.readTransaction(() =>
            group.map(([a, b]) => lendSegments(store, planRead(q.index, { ...request, rowRange: [a, b] }))),
          );
          if (lent.includes(null))
            throw new Error(`internal: a segment of '${q.symbol}' vanished during a query`);
          jobStore = { segments: (lent as [string, Uint8Array][][]).flat() };
        }
        // The job carries only the index entries of its rows: cloning the whole index for every chunk
        // would cost the calling thread O(segments) a chunk.
        const job: QueryJob = {
          ...base,
          index: spans[i],
          store: jobStore,
          request,
          rowStart: from,
          ...(group.length > 1 ? { chunks: group.map(([a, b]): [number, number] => [a, b]) } : {}),
        };
        const result = unwrap(await ctx.pool.run<Outcome<ChunkResult>>((w) => w.query(moving(job, []))));
        results[i] =
          result.kind === "rows" ? { ...result, rows: unpackStrings(result.rows as FrameData) } : result;
        for (let c = i * per; c < i * per + group.length; c++) done(c);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  // Two chunks per worker in flight: one decoding, one waiting, so no worker idles between messages.
  await Promise.all(Array.from({ length: Math.min(jobs.length, ctx.pool.size * 2) }, lane));
  if (failed !== undefined) throw failed;
  return results;
}
