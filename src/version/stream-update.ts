import { packRecord } from "../codec/msgpack.ts";
import type { Kernels } from "../codec/wasm.ts";
import {
  InvalidArgumentError,
  SchemaMismatchError,
  StorageError,
  SymbolNotFoundError,
  UnsortedIndexError,
} from "../errors.ts";
import type { WriteTransaction } from "../storage/storage.ts";
import { concatFrames } from "./frame-concat.ts";
import type { FrameData } from "./frame-data.ts";
import { keys, newId, versionOfKey } from "./keys.ts";
import type { ObjectVersionStore } from "./object-version-store.ts";
import type { ProgressMeter } from "./progress.ts";
import type { IndexRecord, VersionRecord } from "./records.ts";
import { checkReplaceable, rowsInRange, schemaOf } from "./schema-checks.ts";
import { ChunkBatch, removeStaleStreams, streamChunkId } from "./staging.ts";
import { dropStreamChunks, gatherChunks, STALE_STREAM_MS } from "./stream-write.ts";
import { joinIndexes, replaceBounds, replacedIndex, type UpdateOptions } from "./update.ts";
import type { VersionStore } from "./version-store.ts";
import { conformFrame, unionColumns } from "./widen.ts";

/**
 * `update` from a stream of frames: ONE new version whose stored rows in the stream's date range (from
 * its first to its last timestamp, or `dateRange`) are replaced by the stream's rows, as `update` with
 * the frames joined into one would make, holding about a segment's rows at a time instead of the join.
 *
 * The stream's rows are stored as they arrive, in whole segments (`gatherChunks`), except the last
 * segment's worth, kept for the commit. Once the source ends the commit reads, from the version it
 * commits on, the stored rows the range's ends cut through (rows [lo, r0) and [r1, hi), see
 * `replaceBounds`) and stores them around the stream's segments; every other stored segment is kept by
 * reference. When the stream was shorter than a segment that makes one segment of all three, as `update`
 * does; otherwise the rows before the range are a segment of their own and those after are joined to the
 * stream's last rows. If another writer commits first, only those boundary rows are redone on its
 * version. Nothing is visible before the commit; a source that throws or a bad frame leaves the symbol
 * as it was and the stream's segments deleted (each engine keeps them findable until then: staged chunks
 * on LMDB and memory, segments for `cleanup` on object stores).
 */

/** What a stream update needs of its call. */
export interface StreamUpdateOptions extends UpdateOptions {
  /** The rows to replace (inclusive); default the stream's first to last timestamp. */
  dateRange?: [bigint | null, bigint | null];
  meter?: ProgressMeter;
}

/** What the stream gave, once it ended. */
export interface GatheredUpdate {
  /** Rows the source gave, inside `dateRange` or not (none: the update changes no data). */
  rows: number;
  /** The range the commit replaces; undefined when `rows` is 0. */
  range?: [bigint | null, bigint | null];
  /** The stream's last rows (fewer than a segment's), not stored yet; undefined when none were left. */
  tail?: FrameData;
}

/**
 * `update(symbol, source)`: the missing symbol handled as `updateSymbol` does (written from the stream
 * with `upsert`, else `SymbolNotFoundError`), then the engine's `updateStream`.
 */
export async function updateFromStream(
  store: VersionStore | ObjectVersionStore,
  k: Kernels,
  symbol: string,
  source: AsyncGenerator<FrameData>,
  options: StreamUpdateOptions,
): Promise<VersionRecord> {
  const { meta, prune, meter } = options;
  const base = await store.latest(symbol);
  if (!base) {
    if (options.upsert) return store.writeStream(k, symbol, source, { mode: "write", meta, prune, meter });
    await source.return(undefined);
    const gone = await store.libraryGone();
    if (gone) throw gone;
    throw new SymbolNotFoundError(
      `Cannot update '${symbol}': it does not exist in library '${store.lib}'. Pass { upsert: true } ` +
        "to write it, or write() it first.",
    );
  }
  return store.updateStream(k, symbol, base, source, options);
}

/**
 * The loop both engines' `updateStream` share: checks each frame of `source` on arrival against the
 * stored version `stored` (its index and columns, as `update` checks its frame) and against the frame
 * before (time not going back), keeps the rows inside `dateRange`, and hands `stage` whole segments'
 * rows (see `gatherChunks`); the rows left at the end come back as `tail`.
 */
export async function gatherUpdate(
  symbol: string,
  source: AsyncIterable<FrameData>,
  shape: {
    stored: IndexRecord;
    rowsPerSegment: number;
    dynamic: boolean;
    dateRange?: [bigint | null, bigint | null];
  },
  stage: (frame: FrameData) => void | Promise<void>,
): Promise<GatheredUpdate> {
  const { stored, dynamic, dateRange } = shape;
  let rows = 0;
  let first: bigint | undefined;
  let last: bigint | undefined;
  async function* checked(): AsyncGenerator<FrameData> {
    let n = 0;
    for await (const frame of source) {
      checkReplaceable(symbol, stored, frame, [null, null], dynamic);
      if (frame.index.kind === "timestamp" && frame.numRows > 0) {
        const values = frame.index.values;
        if (last !== undefined && values[0] < last) {
          throw new UnsortedIndexError(
            `Cannot update '${symbol}' from a stream: frame ${n} starts at ${values[0]} ns, before the last row ` +
              `of the frame before it (${last} ns). Each frame must start at or after the end of the one before.`,
          );
        }
        first ??= values[0];
        last = values[values.length - 1];
        rows += frame.numRows;
      }
      n++;
      yield dateRange ? rowsInRange(frame, dateRange) : frame;
    }
  }
  let tail: FrameData | undefined;
  await gatherChunks(
    symbol,
    checked(),
    { rowsPerSegment: shape.rowsPerSegment, dynamic },
    async (frame) => {
      if (frame.numRows > 0) await stage(frame);
    },
    (rest) => {
      tail = rest;
    },
  );
  if (rows === 0) return { rows };
  return { rows, range: dateRange ?? [first ?? null, last ?? null], tail };
}

/**
 * Checks, at the commit, that the version committed on (`latest`) still takes the stream's rows when it
 * is not the version the stream was checked against (`stored`): another writer may have changed the
 * schema meanwhile.
 */
export function checkStillReplaceable(
  symbol: string,
  stored: IndexRecord,
  latest: IndexRecord,
  dynamic: boolean,
): void {
  if (latest === stored) return;
  const indexName = (i: IndexRecord) => (i.index.kind === "timestamp" ? i.index.name : undefined);
  const same = indexName(latest) !== undefined && indexName(latest) === indexName(stored);
  if (same && dynamic) {
    unionColumns(symbol, latest.columns, stored.columns);
    return;
  }
  if (!same || schemaOf(latest.columns) !== schemaOf(stored.columns)) {
    throw new SchemaMismatchError(
      `Cannot update '${symbol}' from a stream: another writer changed its columns to (${schemaOf(latest.columns)}) ` +
        "while the stream was being stored; nothing was committed.",
    );
  }
}

/**
 * The rows a stream update's commit stores around the stream's segments, given the stored rows the
 * range's ends cut through (`before`, `after`): with no segment of the stream stored yet, one frame of
 * `before`, the stream's `tail` and `after` (as `update` writes its middle); else `before` as the head
 * and `tail` joined to `after` as the last. Under dynamic schema a joined frame takes its parts' union
 * of columns.
 */
export function boundaryFrames(
  symbol: string,
  before: FrameData,
  tail: FrameData | undefined,
  after: FrameData,
  streamStored: boolean,
  dynamic: boolean,
): { head?: FrameData; last: FrameData } {
  const join = (parts: FrameData[]): FrameData => {
    const nonEmpty = parts.filter((p) => p.numRows > 0);
    const kept = nonEmpty.length > 0 ? nonEmpty : parts.slice(-1);
    if (kept.length === 1) return kept[0];
    if (!dynamic) return concatFrames(kept);
    const columns = kept.reduce<IndexRecord["columns"]>(
      (cols, p) => unionColumns(symbol, cols, p.columns),
      kept[0].columns,
    );
    return concatFrames(kept.map((p) => conformFrame(p, columns)));
  };
  const middle = tail ? [tail, after] : [after];
  if (!streamStored) return { last: join([before, ...middle]) };
  return { head: before.numRows > 0 ? before : undefined, last: join(middle) };
}

/**
 * The LMDB and memory engine's stream update (see the top of this file): the stream's whole segments are
 * staged (a few chunks to a transaction, `ChunkBatch`) as chunks of a stream write of their own (so `cleanup` sees them referenced while the stream
 * runs, and a process that dies leaves them for `deleteStagedData` or the next stream write an hour on);
 * the commit stores the boundary rows and, in one transaction, the version and the removal of the staged
 * records (their segments stay, now the version's).
 */
export async function updateStream(
  store: VersionStore,
  k: Kernels,
  symbol: string,
  base: VersionRecord,
  source: AsyncIterable<FrameData>,
  options: StreamUpdateOptions,
): Promise<VersionRecord> {
  removeStaleStreams(store, symbol, STALE_STREAM_MS);
  const stream = newId();
  const dynamic = store.config.dynamicSchema;
  const stored = store.readIndex(base, symbol);
  const staged: IndexRecord[] = [];
  const stagedKeys: string[] = [];
  let seq = 0;
  const batch = new ChunkBatch(store, k, symbol, options.meter);
  try {
    const got = await gatherUpdate(
      symbol,
      source,
      { stored, rowsPerSegment: store.config.rowsPerSegment, dynamic, dateRange: options.dateRange },
      (frame) => {
        const id = streamChunkId(stream, seq++);
        staged.push(batch.add(frame, id));
        stagedKeys.push(keys.staged(store.lib, symbol, id));
      },
    );
    // No rows: the stored rows stay and the new version shares them, as `update` with an empty frame.
    if (!got.range) return store.writeMetadata(symbol, options.meta, options.prune === true, false);
    batch.flush();
    const range = got.range;
    return store.metered(options.meter, () =>
      commitLocal(store, k, symbol, { base, stored, staged, stagedKeys, range, tail: got.tail }, options),
    );
  } catch (err) {
    dropStreamChunks(store, symbol, stream, seq);
    throw err;
  }
}

/** What a stream update's commit builds on: the stream's stored part and where it goes. */
interface StreamedRows {
  /** The version the stream was checked against, and its index. */
  base: VersionRecord;
  stored: IndexRecord;
  /** The indexes of the stream's stored segments, in order. */
  staged: IndexRecord[];
  /** Their staged records (LMDB and memory). */
  stagedKeys?: string[];
  range: [bigint | null, bigint | null];
  tail?: FrameData;
}

/**
 * The commit of `updateStream`: on the latest version (redone, boundary rows only, when another writer
 * commits first), the rows the range's ends cut through are read and stored around the stream's
 * segments, and the last transaction stores the index and the version and removes the staged records.
 */
function commitLocal(
  store: VersionStore,
  k: Kernels,
  symbol: string,
  streamed: StreamedRows,
  options: StreamUpdateOptions,
): VersionRecord {
  const { staged, range } = streamed;
  const dynamic = store.config.dynamicSchema;
  for (let attempt = 0; ; attempt++) {
    const latest = store.resolve(symbol);
    const index = store.readIndex(latest, symbol);
    if (latest.v !== streamed.base.v) checkStillReplaceable(symbol, streamed.stored, index, dynamic);
    const [r0, r1] = store.rowsInDateRange(k, symbol, latest, index, range);
    const { lo, hi } = replaceBounds(index, r0, r1);
    const [before, after] = store.storage.readTransaction(() => [
      store.readRows(k, symbol, latest, index, { rowRange: [lo, r0] }).frame,
      store.readRows(k, symbol, latest, index, { rowRange: [r1, hi] }).frame,
    ]);
    const { head, last } = boundaryFrames(symbol, before, streamed.tail, after, staged.length > 0, dynamic);
    const written: string[] = [];
    try {
      const headIndex = head ? store.writeSegments(k, symbol, head, written) : undefined;
      const step = (added?: IndexRecord) => {
        const record = splicedIndex(symbol, index, [headIndex, ...staged, added], { lo, hi, dynamic });
        const indexKey = keys.index(store.lib, symbol, newId());
        const packed = packRecord(record);
        return (tx: WriteTransaction): VersionRecord | undefined => {
          const [latestKey] = tx.keys(keys.versionPrefix(store.lib, symbol), { reverse: true, limit: 1 });
          if (latestKey === undefined || versionOfKey(latestKey) !== latest.v) return undefined;
          for (const key of streamed.stagedKeys ?? []) {
            if (!tx.get(key)) throw chunksGone(symbol);
            tx.remove(key);
          }
          tx.put(indexKey, packed);
          return store.addVersion(tx, symbol, indexKey, { meta: options.meta, prune: options.prune });
        };
      };
      const committed = needsLast(index, { lo, hi }, last, headIndex, staged)
        ? store.writeAndCommit(k, symbol, last, written, step)
        : store.storage.writeTransaction(step());
      if (committed) return committed;
      store.discard(written.splice(0));
      if (attempt >= MAX_ATTEMPTS) throw tooManyAttempts(symbol);
    } catch (err) {
      store.discard(written);
      throw err;
    }
  }
}

/** How many times a stream update's commit is redone when other writers commit first. */
export const MAX_ATTEMPTS = 20;

/** The error for a commit that other writers kept beating. */
export function tooManyAttempts(symbol: string): StorageError {
  return new StorageError(
    `Could not replace rows of '${symbol}' from a stream: other writers kept committing first (${MAX_ATTEMPTS + 1} tries); nothing was committed, retry later.`,
  );
}

function chunksGone(symbol: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `The staged chunks of the stream updating '${symbol}' were removed meanwhile (deleteStagedData, or a stream ` +
      "write an hour after this one stalled); nothing was committed. Run the update again.",
  );
}

/**
 * Whether the commit stores `last` (the stream's last rows and the stored rows after the range): when it
 * has rows, or when nothing else would be left to carry the columns of a version without rows.
 */
export function needsLast(
  index: IndexRecord,
  at: { lo: number; hi: number },
  last: FrameData,
  head: IndexRecord | undefined,
  staged: IndexRecord[],
): boolean {
  const others = index.rows - (at.hi - at.lo) + (head?.rows ?? 0) + staged.reduce((n, s) => n + s.rows, 0);
  return last.numRows > 0 || others === 0;
}

/**
 * The index of the new version: rows [lo, hi) of `index` replaced by the rows of `parts` (the stored
 * indexes of the boundary rows and the stream's segments, in order; undefined ones left out).
 */
export function splicedIndex(
  symbol: string,
  index: IndexRecord,
  parts: (IndexRecord | undefined)[],
  at: { lo: number; hi: number; dynamic: boolean },
): IndexRecord {
  const present = parts.filter((p): p is IndexRecord => p !== undefined);
  const middle =
    present.length > 0 ? joinIndexes(symbol, present, at.dynamic) : { ...index, rows: 0, segments: [] };
  const columns = at.dynamic ? unionColumns(symbol, index.columns, middle.columns) : index.columns;
  return replacedIndex(index, middle, { lo: at.lo, hi: at.hi, columns, dynamic: at.dynamic });
}
