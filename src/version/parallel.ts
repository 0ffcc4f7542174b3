import { encodeSegment } from "../codec/segment.ts";
import type { Kernels } from "../codec/wasm.ts";
import { DTYPES, type NumericArray } from "../dtypes.ts";
import { rebuildError } from "../errors.ts";
import type { BufferRecycler } from "../parallel/buffers.ts";
import { moving, type Pool } from "../parallel/pool.ts";
import type { ColumnData, FrameData } from "./frame-data.ts";
import type { ProgressMeter } from "./progress.ts";
import { indexForRows, planRead, type ReadPlan, type ReadRequest } from "./read-plan.ts";
import { type IndexRecord, indexRecordFor, type SegmentRef, type VersionRecord } from "./records.ts";
import { checkSortedWrite } from "./schema-checks.ts";
import {
  frameBuffers,
  type Outcome,
  type ReadJob,
  type SegmentWorker,
  type StoreSpec,
  unpackStrings,
  type WriteResult,
} from "./segment-worker.ts";
import { tileColumns } from "./tiling.ts";
import type { VersionSelector } from "./version-chain.ts";
import type { VersionStore } from "./version-store.ts";

/** What a library needs to hand work to the pool. */
export interface ParallelContext {
  pool: Pool<SegmentWorker>;
  buffers: BufferRecycler;
  store: StoreSpec;
  /** Whether workers may start while the calling thread works itself (the runtime's `warmDuringWrites`). */
  warmDuringWrites: boolean;
}

/** Below this many raw bytes a read or write stays on the calling thread: messaging would cost more. */
export const PARALLEL_MIN_BYTES = 8 << 20;
/**
 * Below this, a read does not wait for workers still loading (Wasm, an LMDB handle: ~250 ms each on the
 * 2-core VM) but runs on the calling thread: a fresh process's first 25 MB read ran at 66 MB/s waiting
 * for the pool and 112-132 MB/s alone. Bigger reads gain more from the pool than the wait costs.
 */
export const COLD_READ_MAX_BYTES = 96 << 20;
/** Raw bytes of rows per write job. */
const JOB_BYTES = 16 << 20;
/** A write goes to the pool only when a sample of it compresses at least this much. */
const WRITE_MAX_STORED_RATIO = 0.7;
/** Guess of a string value's size, for planning only. */
const STRING_BYTES = 16;

/**
 * Starts the pool's workers in the background once a library moves a large frame (`bytes` raw), even one
 * the calling thread handles itself: a process that writes or reads that much is likely to read it back
 * soon, and a cold worker takes longer to start than such a read would wait for it. `when` says who works:
 * "pool" (the workers: start them all); "caller" (the calling thread is about to do the work itself: one
 * worker fewer starts, leaving it a core, as starting both during a 200 MB write on two cores slowed it
 * by 15 %; none where the runtime says its workers' start slows such work, as in Deno); "after" (the
 * caller's own work just ended: the rest start).
 */
export function warmPool(ctx: ParallelContext, bytes: number, when: "pool" | "caller" | "after"): void {
  if (bytes < PARALLEL_MIN_BYTES) return;
  if (when === "caller" && !ctx.warmDuringWrites) return;
  ctx.pool.warm(
    (w) => w.prepare(ctx.store),
    when === "caller" ? Math.max(1, ctx.pool.size - 1) : ctx.pool.size,
  );
}

/** Raw bytes per row of a frame's columns (and index), for deciding and sizing parallel work. */
function rowBytes(columns: readonly { dtype: keyof typeof DTYPES }[], timestamped: boolean): number {
  let n = timestamped ? 8 : 0;
  for (const c of columns) n += DTYPES[c.dtype].width || STRING_BYTES;
  return n;
}

/** Raw bytes of a frame's fixed-width columns and index (strings guessed), for sizing work. */
export function frameBytes(frame: FrameData): number {
  return frame.numRows * rowBytes(frame.columns, frame.index.kind === "timestamp");
}

/** Rows encoded as a sample to tell whether a frame compresses. */
const SAMPLE_ROWS = 16_384;

/**
 * True when writing `frame` is worth spreading over the pool: it is large, and a sample of its rows
 * compresses (encoding is then the work; storing barely compressible data is a checked copy, which the
 * calling thread does faster than it could hand the rows to a worker).
 */
export function worthWriting(k: Kernels, frame: FrameData): boolean {
  const raw = frameBytes(frame);
  if (raw < PARALLEL_MIN_BYTES) return false;
  const rows = Math.min(SAMPLE_ROWS, frame.numRows);
  const tile = { rowStart: 0, rows, colStart: 0, cols: frame.columns.length };
  const sample = encodeSegment(k, rows, tileColumns(frame, tile));
  return sample.byteLength <= (raw / frame.numRows) * rows * WRITE_MAX_STORED_RATIO;
}

/** The value of a worker's outcome, or its error thrown again as the typed error it was. */
export function unwrap<T>(outcome: Outcome<T>): T {
  if ("error" in outcome) throw rebuildError(outcome.error);
  return outcome.ok;
}

/**
 * Writes `frame` as a new version with its tiles encoded (and, on LMDB, stored) by the pool's workers,
 * a slice of rows per job, at most two jobs per worker in flight. Rows are copied into recycled buffers
 * that move to the worker and back, so the caller's arrays are never detached. The version is committed
 * here once every tile is stored; on any failure the stored tiles are removed and the error rethrown.
 */
export async function writeInParallel(
  ctx: ParallelContext,
  store: VersionStore,
  symbol: string,
  frame: FrameData,
  options: { meta?: Uint8Array; prune?: boolean },
  meter?: ProgressMeter,
): Promise<VersionRecord> {
  checkSortedWrite(symbol, frame);
  const { rowsPerSegment, columnsPerSegment } = store.config;
  const perRow = Math.max(1, rowBytes(frame.columns, frame.index.kind === "timestamp"));
  const colSlices = Math.max(1, Math.ceil(frame.columns.length / columnsPerSegment));
  meter?.expect(frame.numRows * perRow, Math.ceil(frame.numRows / rowsPerSegment) * colSlices);
  const slicesPerJob = Math.max(1, Math.floor(JOB_BYTES / (rowsPerSegment * perRow)));
  const jobRows = rowsPerSegment * slicesPerJob;
  const starts: number[] = [];
  for (let r = 0; r < frame.numRows; r += jobRows) starts.push(r);
  const results: IndexRecord[] = [];
  const written: string[] = [];
  let failure: unknown;
  let next = 0;
  const lane = async () => {
    while (next < starts.length && failure === undefined) {
      const j = next++;
      const start = starts[j];
      const part = copyRows(ctx.buffers, frame, start, Math.min(frame.numRows, start + jobRows));
      try {
        const result = unwrap(
          await ctx.pool.run<Outcome<WriteResult>>((w) =>
            w.write(
              moving(
                { store: ctx.store, lib: store.lib, config: store.config, symbol, frame: part },
                frameBuffers(part),
              ),
            ),
          ),
        );
        written.push(...result.written);
        if (result.segments) {
          store.storage.writeTransaction((tx) => {
            for (const [key, bytes] of result.segments ?? []) tx.put(key, bytes);
          });
          written.push(...result.segments.map(([key]) => key));
        }
        for (const buffer of result.buffers) ctx.buffers.give(buffer);
        results[j] = result.index;
        meter?.add(part.numRows * perRow, result.index.segments.length);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: ctx.pool.size * 2 }, lane));
  try {
    if (failure !== undefined) throw failure;
    const segments: SegmentRef[] = [];
    for (const [j, part] of results.entries()) {
      for (const seg of part.segments) segments.push({ ...seg, rowStart: seg.rowStart + starts[j] });
    }
    const index: IndexRecord = indexRecordFor(frame, segments);
    return store.commitVersion(symbol, index, options, false) as VersionRecord;
  } catch (err) {
    store.discard(written);
    throw err;
  }
}

/** Rows [start, end) of `frame` in buffers of their own (recycled), ready to move to a worker. */
function copyRows(buffers: BufferRecycler, frame: FrameData, start: number, end: number): FrameData {
  const n = end - start;
  const columns: ColumnData[] = frame.columns.map((c) => {
    const info = DTYPES[c.dtype];
    if (!info.array || Array.isArray(c.values)) {
      return { ...c, values: (c.values as (string | null)[]).slice(start, end) };
    }
    const values = new info.array(buffers.take(n * info.width), 0, n);
    // biome-ignore lint/suspicious/noExplicitAny: same element type on both sides
    (values as any).set((c.values as any).subarray(start, end));
    return { ...c, values };
  });
  if (frame.index.kind !== "timestamp") return { numRows: n, columns, index: { kind: "row" } };
  const values = new BigInt64Array(buffers.take(n * 8), 0, n);
  values.set(frame.index.values.subarray(start, end));
  return { numRows: n, columns, index: { kind: "timestamp", name: frame.index.name, values } };
}

/**
 * Reads a version with its columns split among the pool's workers (one group each, the timestamp index
 * with the first), each worker decoding whole columns of the rows asked for through its own LMDB handle;
 * the decoded arrays move back and become the result's columns as they are. Returns `undefined` when the
 * read is small, narrow, or of data that is barely compressed (decoding that is a checked copy, cheaper
 * on the calling thread than any hand-off), so the caller reads it itself.
 */
export async function readInParallel(
  ctx: ParallelContext,
  store: VersionStore,
  k: Kernels,
  symbol: string,
  which: VersionSelector | undefined,
  request: ReadRequest,
  meter?: ProgressMeter,
): Promise<{ record: VersionRecord; frame: FrameData; rowStart: number } | undefined> {
  const spec = ctx.store;
  const { record, index, rowRange } = store.storage.readTransaction(() => {
    const record = store.resolve(symbol, which);
    const index = store.readIndex(record, symbol);
    const rowRange = request.dateRange
      ? store.rowsInDateRange(k, symbol, record, index, request.dateRange)
      : request.rowRange;
    return { record, index, rowRange };
  });
  const plan = planRead(index, { ...request, rowRange });
  const wanted = plan.columns.map((i) => index.columns[i]);
  const raw = plan.rows * rowBytes(wanted, index.index.kind === "timestamp");
  if (raw < PARALLEL_MIN_BYTES) return undefined;
  const groups = Math.min(ctx.pool.size, plan.columns.length);
  // Without a store of their own (mem://) the workers get the segments in shared memory, as stored.
  const pooled = groups >= 2 && (spec !== null || canShareMemory());
  // Workers still loading: this thread reads while one of them starts; the library starts the rest
  // once the read is done (warmPool "after"), so a later read finds them loaded.
  const waits = raw < COLD_READ_MAX_BYTES && ctx.pool.loaded < groups;
  warmPool(ctx, raw, pooled && !waits ? "pool" : "caller");
  if (!pooled || waits) return undefined;
  const lent = spec ? undefined : lendSegments(store, plan);
  if (lent === null) return undefined;
  // Each job carries only the index entries of the rows read, not (cloned) the whole index.
  const jobIndex = indexForRows(index, plan.rowStart, plan.rowStart + plan.rows);
  const base = {
    lib: store.lib,
    config: store.config,
    symbol,
    record,
    index: jobIndex,
    seen: store.storage.seen,
  };
  // Deal columns to groups by size, largest first, each to the lightest group so far.
  const load = new Array(groups).fill(0);
  const members: string[][] = Array.from({ length: groups }, () => []);
  load[0] += index.index.kind === "timestamp" ? 8 : 0;
  const order = [...wanted].sort(
    (a, b) => (DTYPES[b.dtype].width || STRING_BYTES) - (DTYPES[a.dtype].width || STRING_BYTES),
  );
  for (const c of order) {
    const g = load.indexOf(Math.min(...load));
    members[g].push(c.name);
    load[g] += DTYPES[c.dtype].width || STRING_BYTES;
  }
  meter?.expect(raw, plan.pieces.length);
  // Every group settles before the read returns or throws, so no worker is still reading afterwards.
  const outcomes = await Promise.allSettled(
    members.map(async (names, g) => {
      // The result's arrays are allocated here and moved to the worker and back: this thread's allocator
      // may hand out memory a previous read freed (touched: copied at GB/s), where a worker's would be
      // fresh; and fresh memory is then first touched by the workers, on every core.
      const targets: NonNullable<ReadJob["targets"]> = { columns: [] };
      for (const name of names) {
        const info = DTYPES[wanted.find((c) => c.name === name)?.dtype ?? "string"];
        if (info.array) targets.columns.push([name, new info.array(plan.rows) as NumericArray]);
      }
      if (g === 0 && index.index.kind === "timestamp") targets.index = new BigInt64Array(plan.rows);
      const moved = targets.columns.map(([, a]) => a.buffer as ArrayBuffer);
      if (targets.index) moved.push(targets.index.buffer as ArrayBuffer);
      const job: ReadJob = {
        ...base,
        store: spec ?? { segments: lent ?? [] },
        request: {
          rowRange: [plan.rowStart, plan.rowStart + plan.rows],
          columns: names,
          withoutIndex: g > 0,
          // Strings come back as a dictionary and codes, made into strings here (see unpackStrings).
          codesOnly: names.filter((n) => wanted.find((c) => c.name === n)?.dtype === "string"),
        },
        targets,
      };
      const frame = unwrap(await ctx.pool.run<Outcome<FrameData>>((w) => w.read(moving(job, moved))));
      // Each group decodes its columns of every piece; the pieces are shared out among the groups.
      const n = plan.pieces.length;
      const share = Math.floor(n / groups) + (g < n % groups ? 1 : 0);
      meter?.add((raw * load[g]) / load.reduce((a, b) => a + b, 0), share);
      return frame;
    }),
  );
  const failed = outcomes.find((o) => o.status === "rejected");
  if (failed) throw failed.reason;
  const frames = outcomes.map((o) => unpackStrings((o as PromiseFulfilledResult<FrameData>).value));
  const byName = new Map<string, ColumnData>();
  for (const f of frames) for (const c of f.columns) byName.set(c.name, c);
  const frame: FrameData = {
    numRows: plan.rows,
    columns: wanted.map((c) => byName.get(c.name) as ColumnData),
    index: frames[0].index,
  };
  return { record, frame, rowStart: plan.rowStart };
}

/** True where result arrays can live in memory shared with workers (not in browsers without COOP/COEP). */
function canShareMemory(): boolean {
  return typeof SharedArrayBuffer === "function";
}

/**
 * The stored segments a read needs, as views of the store's shared memory (the store keeps small values
 * in plain memory: those are copied); `null` if one is missing.
 */
export function lendSegments(store: VersionStore, plan: ReadPlan): [string, Uint8Array][] | null {
  const lent: [string, Uint8Array][] = [];
  for (const piece of plan.pieces) {
    const bytes = store.storage.getView(piece.segment.key);
    if (!bytes) return null;
    lent.push([piece.segment.key, bytes.buffer instanceof SharedArrayBuffer ? bytes : shareCopy(bytes)]);
  }
  return lent;
}

/** `bytes` copied into shared memory. */
function shareCopy(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
  copy.set(bytes);
  return copy;
}
