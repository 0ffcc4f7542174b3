import { encodeSegment } from "../codec/segment.ts";
import type { Kernels } from "../codec/wasm.ts";
import { DTYPES, type NumericArray, type StringArray } from "../dtypes.ts";
import { rebuildError } from "../errors.ts";
import type { BufferRecycler } from "../parallel/buffers.ts";
import { moving, type WorkerPool } from "../parallel/pool.ts";
import type { LmdbOptions } from "../storage/lmdb-storage.ts";
import type { ColumnData, FrameData } from "./frame-data.ts";
import type { ProgressMeter } from "./progress.ts";
import { planRead, type ReadPlan, type ReadRequest } from "./read-plan.ts";
import { INDEX_FORMAT, type IndexRecord, type SegmentRef, type VersionRecord } from "./records.ts";
import { isSorted } from "./schema-checks.ts";
import {
  frameBuffers,
  type Outcome,
  type ReadIntoJob,
  type ReadJob,
  type SegmentWorker,
  type StoreSpec,
  type WriteResult,
} from "./segment-worker.ts";
import { tileColumns } from "./tiling.ts";
import type { VersionSelector, VersionStore } from "./version-store.ts";

/** What a library needs to hand work to the pool. */
export interface ParallelContext {
  pool: WorkerPool<SegmentWorker>;
  buffers: BufferRecycler;
  store: StoreSpec;
}

/** Below this many raw bytes a read or write stays on the calling thread: messaging would cost more. */
export const PARALLEL_MIN_BYTES = 8 << 20;
/** Raw bytes of rows per write job. */
const JOB_BYTES = 16 << 20;
/** A read goes to the pool only when its segments are compressed at least this much (decode-heavy). */
const READ_MAX_STORED_RATIO = 0.7;
/** A write goes to the pool only when a sample of it compresses at least this much. */
const WRITE_MAX_STORED_RATIO = 0.7;
/** Guess of a string value's size, for planning only. */
const STRING_BYTES = 16;

/**
 * Starts the pool's workers in the background once a library moves a large frame (`bytes` raw), even one
 * the calling thread handles itself: a process that writes or reads that much is likely to read it back
 * soon, and a cold worker takes longer to start than such a read would wait for it.
 */
export function warmPool(ctx: ParallelContext, bytes: number): void {
  if (bytes >= PARALLEL_MIN_BYTES) ctx.pool.warm((w) => w.prepare(ctx.store));
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

function unwrap<T>(outcome: Outcome<T>): T {
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
    const index: IndexRecord = {
      f: INDEX_FORMAT,
      rows: frame.numRows,
      columns: frame.columns.map((c) => ({ name: c.name, dtype: c.dtype })),
      index:
        frame.index.kind === "timestamp"
          ? { kind: "timestamp", name: frame.index.name, sorted: isSorted(frame.index.values) }
          : { kind: "row" },
      segments,
    };
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
  warmPool(ctx, raw);
  const base = { lib: store.lib, config: store.config, symbol, record, index };
  const shared = await readShared(ctx, store, base, plan, wanted, raw, meter);
  if (shared) return { record, frame: shared, rowStart: plan.rowStart };
  if (!spec) return undefined;
  const groups = Math.min(ctx.pool.size, plan.columns.length);
  if (groups < 2) return undefined;
  const storedBytes = index.segments.reduce((sum, seg) => sum + seg.bytes, 0);
  const rawBytes = index.rows * rowBytes(index.columns, index.index.kind === "timestamp");
  if (storedBytes > rawBytes * READ_MAX_STORED_RATIO) return undefined;
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
      const frame = unwrap(
        await ctx.pool.run<Outcome<FrameData>>((w) =>
          w.read({
            ...base,
            store: spec,
            request: {
              rowRange: [plan.rowStart, plan.rowStart + plan.rows],
              columns: names,
              withoutIndex: g > 0,
            },
          }),
        ),
      );
      // Each group decodes its columns of every piece; the pieces are shared out among the groups.
      const n = plan.pieces.length;
      const share = Math.floor(n / groups) + (g < n % groups ? 1 : 0);
      meter?.add((raw * load[g]) / load.reduce((a, b) => a + b, 0), share);
      return frame;
    }),
  );
  const failed = outcomes.find((o) => o.status === "rejected");
  if (failed) throw failed.reason;
  const frames = outcomes.map((o) => (o as PromiseFulfilledResult<FrameData>).value);
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
 * Reads `plan` with its rows split among the pool's workers, whole segments each, every worker decoding
 * straight into its share of result arrays allocated over SharedArrayBuffers. Both the decoding and the
 * first touch of the result's fresh memory (page faults, which bound a large read on small VMs) then run
 * on every core, with no copy back. Returns `undefined` where memory cannot be shared or the rows do not
 * split into at least two parts; string columns come back from the workers and are joined here.
 */
async function readShared(
  ctx: ParallelContext,
  store: VersionStore,
  base: Omit<ReadJob, "request" | "store">,
  plan: ReadPlan,
  wanted: readonly { name: string; dtype: keyof typeof DTYPES }[],
  raw: number,
  meter: ProgressMeter | undefined,
): Promise<FrameData | undefined> {
  if (!canShareMemory() || ctx.pool.size < 2) return undefined;
  const parts = splitRows(plan, ctx.pool.size);
  if (parts.length < 2) return undefined;
  // Without a store of their own (mem://) the workers get each segment in shared memory, as stored.
  const lent = ctx.store ? undefined : lendSegments(store, plan, parts);
  if (lent === null) return undefined;
  const timestamped = base.index.index.kind === "timestamp";
  const columns: ColumnData[] = wanted.map(({ name, dtype }) => {
    const info = DTYPES[dtype];
    const values = info.array
      ? // biome-ignore lint/suspicious/noExplicitAny: every typed-array constructor takes a buffer
        (new (info.array as any)(new SharedArrayBuffer(plan.rows * info.width)) as NumericArray)
      : (new Array(plan.rows).fill(null) as StringArray);
    return { name, dtype, values };
  });
  const indexValues = timestamped ? new BigInt64Array(new SharedArrayBuffer(plan.rows * 8)) : undefined;
  meter?.expect(raw, plan.pieces.length);
  const outcomes = await Promise.allSettled(
    parts.map(async ([from, to, pieces], p) => {
      const targets: ReadIntoJob["targets"] = {
        columns: columns
          .filter((c) => !Array.isArray(c.values))
          .map((c) => [c.name, (c.values as NumericArray).subarray(from, to) as NumericArray]),
        index: indexValues?.subarray(from, to),
      };
      const strings = unwrap(
        await ctx.pool.run<Outcome<[string, StringArray][]>>((w) =>
          w.readInto({
            ...base,
            store: lent ? { segments: lent[p] } : (ctx.store as { lmdb: LmdbOptions }),
            request: {
              rowRange: [plan.rowStart + from, plan.rowStart + to],
              columns: wanted.map((c) => c.name),
            },
            targets,
          }),
        ),
      );
      meter?.add((raw * (to - from)) / Math.max(1, plan.rows), pieces);
      return { from, strings };
    }),
  );
  const failed = outcomes.find((o) => o.status === "rejected");
  if (failed) throw failed.reason;
  const byName = new Map(columns.map((c) => [c.name, c]));
  for (const o of outcomes) {
    const { from, strings } = (
      o as PromiseFulfilledResult<{ from: number; strings: [string, StringArray][] }>
    ).value;
    for (const [name, values] of strings) {
      const target = byName.get(name)?.values as StringArray;
      for (let i = 0; i < values.length; i++) target[from + i] = values[i];
    }
  }
  const ix = base.index.index;
  return {
    numRows: plan.rows,
    columns,
    index:
      ix.kind === "timestamp" && indexValues
        ? { kind: "timestamp", name: ix.name, values: indexValues }
        : { kind: "row" },
  };
}

/**
 * Per run of `parts`, the stored segments its rows need, as views of the store's shared memory (the
 * store keeps small values in plain memory: those are copied); `null` if one is missing.
 */
function lendSegments(
  store: VersionStore,
  plan: ReadPlan,
  parts: [number, number, number][],
): [string, Uint8Array][][] | null {
  const lent: [string, Uint8Array][][] = parts.map(() => []);
  for (const piece of plan.pieces) {
    const p = parts.findIndex(([from, to]) => piece.outRow >= from && piece.outRow < to);
    const bytes = store.storage.getView(piece.segment.key);
    if (p < 0 || !bytes) return null;
    lent[p].push([piece.segment.key, bytes.buffer instanceof SharedArrayBuffer ? bytes : shareCopy(bytes)]);
  }
  return lent;
}

/** `bytes` copied into shared memory. */
function shareCopy(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
  copy.set(bytes);
  return copy;
}

/**
 * Cuts a read's result rows into at most `n` runs [from, to) of about equal bytes, on row-slice
 * boundaries so that no segment is decoded twice; each run also carries its number of pieces.
 */
function splitRows(plan: ReadPlan, n: number): [number, number, number][] {
  // Result rows where a row slice starts, with the stored bytes of its pieces.
  const slices = new Map<number, { rows: number; bytes: number; pieces: number }>();
  for (const p of plan.pieces) {
    const slice = slices.get(p.outRow) ?? { rows: p.to - p.from, bytes: 0, pieces: 0 };
    slice.bytes += p.segment.bytes * ((p.to - p.from) / Math.max(1, p.segment.rows));
    slice.pieces++;
    slices.set(p.outRow, slice);
  }
  const starts = [...slices.keys()].sort((a, b) => a - b);
  if (starts.length === 0 || starts[0] !== 0) return [];
  const total = [...slices.values()].reduce((sum, s) => sum + s.bytes, 0);
  const runs: [number, number, number][] = [];
  let from = 0;
  let bytes = 0;
  let pieces = 0;
  for (let i = 0; i < starts.length; i++) {
    const slice = slices.get(starts[i]) as { rows: number; bytes: number; pieces: number };
    bytes += slice.bytes;
    pieces += slice.pieces;
    const end = i + 1 < starts.length ? starts[i + 1] : plan.rows;
    if (bytes >= (total * (runs.length + 1)) / n || i + 1 === starts.length) {
      runs.push([from, end, pieces]);
      from = end;
      pieces = 0;
    }
  }
  return runs;
}
