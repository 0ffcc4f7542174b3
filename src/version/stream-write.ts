import type { Kernels } from "../codec/wasm.ts";
import { InvalidArgumentError } from "../errors.ts";
import { concatFrames } from "./frame-concat.ts";
import type { FrameData } from "./frame-data.ts";
import { newId } from "./keys.ts";
import type { ProgressMeter } from "./progress.ts";
import {
  type IndexRecord,
  indexRecordFor,
  isNoData,
  type SegmentRef,
  type VersionRecord,
} from "./records.ts";
import { checkAppendable, checkSortedWrite, frameShape, schemaOf } from "./schema-checks.ts";
import { ChunkBatch, deleteStaged, finalizeStaged, removeStaleStreams, streamChunkId } from "./staging.ts";
import type { VersionStore } from "./version-store.ts";
import { unionColumns } from "./widen.ts";

/**
 * Writes from a stream: every frame a source yields is stored as a staged chunk under the stream's own
 * id (see `streamChunkId`), a few chunks to a transaction (`ChunkBatch`), and once the source ends one finalize makes them a single
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
  const batch = new ChunkBatch(store, k, symbol, options.meter);
  const stage = (frame: FrameData) => {
    batch.add(frame, streamChunkId(stream, seq++));
  };
  try {
    await gatherChunks(symbol, source, { rowsPerSegment: rps, dynamic, previous }, stage);
    batch.flush();
    return finalizeStaged(store, k, symbol, {
      mode: options.mode,
      sort: false,
      stream,
      meta: options.meta,
      prune: options.prune,
      expectLatest: options.expectLatest,
    });
  } catch (err) {
    dropStreamChunks(store, symbol, stream, seq);
    throw err;
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
  shape: { rowsPerSegment: number; dynamic: boolean; previous?: IndexRecord },
  stage: (frame: FrameData) => void | Promise<void>,
  end?: (rest: FrameData) => void,
): Promise<number> {
  const { rowsPerSegment: rps, dynamic } = shape;
  let previous = shape.previous;
  let staged = 0;
  let frames = 0;
  let pending: FrameData[] = [];
  let pendingRows = 0;
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

/** The rows of `parts` (frames with the same columns) as one frame: the frame itself when one. */
function joinFrames(parts: FrameData[]): FrameData {
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

/**
 * Deletes the chunks a failed stream write or update staged (`seq` of them so far), best effort: the
 * source's error matters more, and chunks left stay for `deleteStagedData` or the next stream write.
 */
export function dropStreamChunks(store: VersionStore, symbol: string, stream: string, seq: number): void {
  if (seq === 0) return;
  try {
    deleteStaged(store, symbol, stream);
  } catch {
    // Reported by the caller's own error; see above.
  }
}
