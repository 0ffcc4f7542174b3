import type { Kernels } from "../codec/wasm.ts";
import { InvalidArgumentError } from "../errors.ts";
import { concatFrames } from "./frame-concat.ts";
import type { FrameData } from "./frame-data.ts";
import { keys, newId } from "./keys.ts";
import {
  compresses,
  copyParts,
  frameBytes,
  PARALLEL_MIN_BYTES,
  type ParallelContext,
  stageInPool,
  warmPool,
} from "./parallel.ts";
import type { ProgressMeter } from "./progress.ts";
import {
  type IndexRecord,
  indexRecordFor,
  isNoData,
  type SegmentRef,
  type VersionRecord,
} from "./records.ts";
import { checkAppendable, checkSortedWrite, frameShape, schemaOf } from "./schema-checks.ts";
import { deleteStaged, finalizeStaged, removeStaleStreams, stageChunk, streamChunkId } from "./staging.ts";
import type { VersionStore } from "./version-store.ts";
import { unionColumns } from "./widen.ts";

/**
 * Writes from a stream: every frame a source yields is stored as a staged chunk under the stream's own
 * id (see `streamChunkId`), one frame at a time, and once the source ends one finalize makes them a single
 * version. Nothing is visible until then. If the source or a check throws, the stream's chunks are
 * deleted and the error rethrown; a process that dies mid-stream leaves its chunks staged (never a
 * version), where `deleteStagedData` or the next stream write to the symbol an hour later removes them.
 */

/** Stream chunks untouched this long are a dead writer's, which the next stream write removes. */
export const STALE_STREAM_MS = 3_600_000;

export interface StreamWriteOptions {
  mode: "write" | "append";
  meta?: Uint8Array;
  prune?: boolean;
  /** Commit only if the latest version is still this one (compaction), else nothing is done. */
  expectLatest?: number;
  /** Counts the segments staged. */
  meter?: ProgressMeter;
  /**
   * The library's worker pool (LMDB and memory stores, not with dedup): chunks are then encoded and
   * stored by its workers while the source makes the next frame (see `PooledStager`).
   */
  pool?: ParallelContext;
}

/**
 * Stages the frames of `source` and commits them as one version of `symbol`. Rows are staged in whole
 * segments whatever the frames' sizes: frames are gathered until they hold at least `rowsPerSegment`
 * rows, whose whole segments are staged and the rest kept for the next (a big frame is cut without
 * copying), so a stream of small batches makes a symbol of full segments, not a fragmented one; memory
 * holds a frame and at most a segment's rows besides. Each frame is checked on arrival against the one
 * before it (and, appending, the stored version): same index and columns (under dynamic schema, ones
 * that widen), time not going back; a bad frame stops the stream at once rather than at the commit.
 */
export async function writeStream(
  store: VersionStore,
  k: Kernels,
  symbol: string,
  source: AsyncIterable<FrameData>,
  options: StreamWriteOptions,
): Promise<VersionRecord> {
  removeStaleStreams(store, symbol, STALE_STREAM_MS);
  const stream = newId();
  const dynamic = store.config.dynamicSchema;
  const rps = store.config.rowsPerSegment;
  // The shape of the rows so far (their columns, under dynamic schema all so far; their last timestamp).
  let previous: IndexRecord | undefined;
  if (options.mode === "append") {
    const base = store.latest(symbol);
    if (base) previous = store.readIndex(base, symbol);
  }
  let seq = 0;
  const pooled = options.pool && new PooledStager(options.pool, store, k, symbol, options.meter);
  const stage = async (frame: FrameData) => {
    const id = streamChunkId(stream, seq++);
    if (pooled && (await pooled.stage(frame, keys.staged(store.lib, symbol, id)))) return;
    store.metered(options.meter, () => stageChunk(store, k, symbol, frame, id));
  };
  try {
    const join = pooled && ((parts: FrameData[]) => pooled.join(parts));
    const chunking = pooled && ((frame: FrameData) => pooled.chunkRows(rps, frame));
    await gatherChunks(symbol, source, { rowsPerSegment: rps, dynamic, previous, join, chunking }, stage);
    await pooled?.done();
    return finalizeStaged(store, k, symbol, {
      mode: options.mode,
      sort: false,
      stream,
      meta: options.meta,
      prune: options.prune,
      expectLatest: options.expectLatest,
    });
  } catch (err) {
    // Chunks still being stored by the pool are waited for, so none is staged after the deletion.
    await pooled?.settled();
    if (seq > 0) {
      try {
        deleteStaged(store, symbol, stream);
      } catch {
        // The source's error matters more; the chunks stay for deleteStagedData or the next stream write.
      }
    }
    throw err;
  }
}

/** Raw bytes a chunk needs to go to the pool: smaller ones cost more to hand over than to encode. */
const POOLED_CHUNK_BYTES = 1 << 20;
/** Raw bytes of the chunks a pooled stream gathers (as a one-frame write's jobs). */
const POOLED_CHUNK_TARGET = 16 << 20;

/**
 * Stages a stream's chunks through the worker pool (`stageInPool`), up to one per worker in flight, so
 * the calling thread checks and cuts the next frames (and the source makes them) while workers encode and
 * store the ones before: a stream write then overlaps its source with its writing, as a one-frame write
 * spreads its encoding. Each chunk is copied before it goes, so memory holds at most a chunk per worker
 * besides the frame at hand. Chunks keep their ids (the stream's order) whatever order they finish in.
 * Whether the stream's rows compress enough to be worth a worker is sampled once, on its first big
 * chunk (as `worthWriting` decides for one frame).
 */
export class PooledStager {
  private readonly inFlight = new Set<Promise<void>>();
  /** Chunks `join` made in buffers of their own, which go to a worker without another copy. */
  private readonly owned = new WeakSet<FrameData>();
  private failure: unknown;
  private worth: boolean | undefined;

  constructor(
    private readonly ctx: ParallelContext,
    private readonly store: VersionStore,
    private readonly k: Kernels,
    private readonly symbol: string,
    private readonly meter: ProgressMeter | undefined,
  ) {}

  /**
   * Rows a chunk of the pool's holds: whole segments, about JOB_BYTES raw, so a worker commits once for
   * several segments (each staged chunk is a commit, with its disk flush).
   */
  chunkRows(rowsPerSegment: number, frame: FrameData): number | undefined {
    this.worth ??= compresses(this.k, frame);
    if (!this.worth) return undefined;
    const segmentBytes = Math.max(1, frameBytes(frame) / Math.max(1, frame.numRows)) * rowsPerSegment;
    return rowsPerSegment * Math.max(1, Math.floor(POOLED_CHUNK_TARGET / segmentBytes));
  }

  /** Whether `frame` goes to the pool: big enough, and the stream's rows compress (sampled once). */
  private pooled(frame: FrameData, bytes = frameBytes(frame)): boolean {
    if (bytes < POOLED_CHUNK_BYTES) return false;
    this.worth ??= compresses(this.k, frame);
    return this.worth;
  }

  /** The rows of `parts` as one chunk: copied straight into buffers for a worker when it will go to one. */
  join(parts: FrameData[]): FrameData {
    if (parts.length === 1) return parts[0];
    const bytes = parts.reduce((n, p) => n + frameBytes(p), 0);
    const biggest = parts.reduce((a, b) => (b.numRows > a.numRows ? b : a));
    if (!this.pooled(biggest, bytes)) return concatFrames(parts);
    const copy = copyParts(this.ctx.buffers, parts);
    this.owned.add(copy);
    return copy;
  }

  /**
   * Sends `frame` to the pool as staged chunk `key`; false when it is for the calling thread. `stored`
   * gets the chunk's index once the worker is done.
   */
  async stage(frame: FrameData, key: string, stored?: (index: IndexRecord) => void): Promise<boolean> {
    if (!this.pooled(frame)) return false;
    if (this.inFlight.size === 0) warmPool(this.ctx, PARALLEL_MIN_BYTES, "pool");
    while (this.inFlight.size >= 2 * this.ctx.pool.size) await Promise.race(this.inFlight);
    if (this.failure !== undefined) throw this.failure;
    const part = this.owned.has(frame) ? frame : copyParts(this.ctx.buffers, [frame]);
    const job: Promise<void> = stageInPool(this.ctx, this.store, this.symbol, part, key, this.meter)
      .then(
        (index) => stored?.(index),
        (err) => {
          this.failure ??= err;
        },
      )
      .finally(() => this.inFlight.delete(job));
    this.inFlight.add(job);
    return true;
  }

  /** Waits for every chunk sent; throws the first failure. */
  async done(): Promise<void> {
    await this.settled();
    if (this.failure !== undefined) throw this.failure;
  }

  /** Waits for every chunk sent, failed or not. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }
}

/**
 * The loop every stream write shares: checks each frame of `source` on arrival (against the one before,
 * or `previous`, the stored version an append extends) and hands `stage` whole segments' rows, gathering
 * small frames and cutting big ones (see `writeStream`). Throws `InvalidArgumentError` for a source that
 * gives no frame at all. Returns how many chunks were staged. With `end`, the rows left once the source
 * ends (fewer than a segment's, or a frame without rows when nothing else came) go to it instead of
 * `stage`: a stream update joins them to the stored rows after its range.
 */
export async function gatherChunks(
  symbol: string,
  source: AsyncIterable<FrameData>,
  shape: {
    rowsPerSegment: number;
    dynamic: boolean;
    previous?: IndexRecord;
    /** Joins frames' rows into one chunk (default `concatFrames`; the pool's copies them for a worker). */
    join?: (parts: FrameData[]) => FrameData;
    /**
     * Asked on the first frame with rows: stage chunks of exactly this many rows (a multiple of
     * `rowsPerSegment`) but the last, instead of each frame's whole segments as they come; undefined for
     * the latter. The pool's chunks are copied anyway, and each costs a commit.
     */
    chunking?: (frame: FrameData) => number | undefined;
  },
  stage: (frame: FrameData) => void | Promise<void>,
  end?: (rest: FrameData) => void,
): Promise<number> {
  const { rowsPerSegment: rps, dynamic } = shape;
  const joinFrames = shape.join ?? joinRows;
  let previous = shape.previous;
  let staged = 0;
  let frames = 0;
  let pending: FrameData[] = [];
  let pendingRows = 0;
  let decided = false;
  let chunkRows: number | undefined;
  const put = async (frame: FrameData) => {
    staged++;
    await stage(frame);
  };
  for await (const frame of source) {
    frames++;
    if (previous) checkAppendable(symbol, previous, frameShape(frame), dynamic);
    else checkSortedWrite(symbol, frame);
    if (frame.numRows > 0 || previous === undefined) previous = shapeOf(symbol, frame, previous, dynamic);
    if (frame.numRows === 0 && pending.length > 0) continue;
    // Frames with other columns (dynamic schema) are not joined: a column one of them lacks must stay
    // missing, read as the final dtype's missing value, not filled now with its dtype's so far.
    if (pending.length > 0 && schemaOf(pending[0].columns) !== schemaOf(frame.columns)) {
      await put(joinFrames(pending));
      pending = [];
      pendingRows = 0;
    }
    pending.push(frame);
    pendingRows += frame.numRows;
    if (!decided && frame.numRows > 0) {
      decided = true;
      chunkRows = shape.chunking?.(frame);
    }
    if (chunkRows !== undefined) {
      // Chunks of `chunkRows` rows (whole segments), joined across frames by `join`, which copies
      // them once for the pool.
      while (pendingRows >= chunkRows) {
        const [head, rest] = splitRows(pending, chunkRows);
        await put(joinFrames(head));
        pending = rest;
        pendingRows -= chunkRows;
      }
      continue;
    }
    if (pendingRows < rps) continue;
    // The rows gathered before this frame (fewer than a segment's) and this frame's first rows make
    // one segment, the only rows copied; the frame's next whole segments are staged as a view of it.
    let rest = frame;
    const before = pendingRows - frame.numRows;
    if (before > 0) {
      const need = rps - before;
      await put(joinFrames([...pending.slice(0, -1), sliceFrame(frame, 0, need)]));
      rest = sliceFrame(frame, need, frame.numRows);
    }
    const whole = rest.numRows - (rest.numRows % rps);
    if (whole > 0) await put(whole === rest.numRows ? rest : sliceFrame(rest, 0, whole));
    pending = whole === rest.numRows ? [] : [sliceFrame(rest, whole, rest.numRows)];
    pendingRows = rest.numRows - whole;
  }
  if (frames === 0) {
    throw new InvalidArgumentError(
      `The stream for '${symbol}' gave no frames; nothing was written. Give at least one frame (it may have no rows).`,
    );
  }
  if (pending.length > 0 && (pendingRows > 0 || staged === 0)) {
    if (end) end(joinFrames(pending));
    else await put(joinFrames(pending));
  }
  return staged;
}

/** The shape `checkAppendable` checks the next frame against: `frame`'s, with all columns so far. */
function shapeOf(
  symbol: string,
  frame: FrameData,
  before: IndexRecord | undefined,
  dynamic: boolean,
): IndexRecord {
  const ts = frame.index.kind === "timestamp" ? frame.index.values : undefined;
  const seg: SegmentRef = {
    key: "",
    rowStart: 0,
    rows: frame.numRows,
    colStart: 0,
    cols: frame.columns.length,
    bytes: 0,
  };
  if (ts && ts.length > 0) {
    seg.first = ts[0];
    seg.last = ts[ts.length - 1];
  }
  // Checked on arrival (checkSortedWrite or checkAppendable): in order.
  const shape = indexRecordFor(frame, [seg], true);
  if (dynamic && before && !isNoData(before))
    shape.columns = unionColumns(symbol, before.columns, shape.columns);
  return shape;
}

/** The first `n` rows of `parts` (frames one after another) and the rest, cutting one frame at most. */
function splitRows(parts: FrameData[], n: number): [FrameData[], FrameData[]] {
  const head: FrameData[] = [];
  let left = n;
  for (const [i, part] of parts.entries()) {
    if (part.numRows < left || (part.numRows === left && i < parts.length - 1)) {
      head.push(part);
      left -= part.numRows;
      continue;
    }
    if (part.numRows === left) return [[...head, part], parts.slice(i + 1)];
    head.push(sliceFrame(part, 0, left));
    return [head, [sliceFrame(part, left, part.numRows), ...parts.slice(i + 1)]];
  }
  return [head, []];
}

/** The rows of `parts` (frames with the same columns) as one frame: the frame itself when one. */
function joinRows(parts: FrameData[]): FrameData {
  return parts.length === 1 ? parts[0] : concatFrames(parts);
}

/** Rows [from, to) of `frame`, sharing its arrays (typed arrays as views; string arrays copied). */
function sliceFrame(frame: FrameData, from: number, to: number): FrameData {
  return {
    numRows: to - from,
    columns: frame.columns.map((c) => ({
      ...c,
      values: (Array.isArray(c.values)
        ? c.values.slice(from, to)
        : c.values.subarray(from, to)) as typeof c.values,
    })),
    index:
      frame.index.kind === "timestamp"
        ? { ...frame.index, values: frame.index.values.subarray(from, to) }
        : frame.index,
  };
}
