import type { Kernels } from "../codec/wasm.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { FrameData } from "./frame-data.ts";
import { newId } from "./keys.ts";
import type { ProgressMeter } from "./progress.ts";
import type { IndexRecord, VersionRecord } from "./records.ts";
import { checkAppendable, checkSortedWrite, frameShape } from "./schema-checks.ts";
import { deleteStaged, finalizeStaged, removeStaleStreams, stageChunk, streamChunkId } from "./staging.ts";
import type { VersionStore } from "./version-store.ts";

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
}

/**
 * Stages each frame of `source` and commits them as one version of `symbol`. Each frame is checked on
 * arrival against the one before it (and, appending, the stored version): same index and columns, time
 * not going back, so a bad frame stops the stream at once rather than at the commit.
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
  let previous: IndexRecord | undefined;
  if (options.mode === "append") {
    const base = store.latest(symbol);
    if (base) previous = store.readIndex(base, symbol);
  }
  let seq = 0;
  try {
    for await (const frame of source) {
      if (previous) checkAppendable(symbol, previous, frameShape(frame), dynamic);
      else checkSortedWrite(symbol, frame);
      const id = streamChunkId(stream, seq++);
      const staged = store.metered(options.meter, () => stageChunk(store, k, symbol, frame, id));
      if (staged.rows > 0 || previous === undefined) previous = staged;
    }
    if (seq === 0) {
      throw new InvalidArgumentError(
        `The stream for '${symbol}' gave no frames; nothing was written. Give at least one frame (it may have no rows).`,
      );
    }
    return finalizeStaged(store, k, symbol, {
      mode: options.mode,
      sort: false,
      stream,
      meta: options.meta,
      prune: options.prune,
      expectLatest: options.expectLatest,
    });
  } catch (err) {
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
