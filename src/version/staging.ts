import { packRecord } from "../codec/msgpack.ts";
import type { Kernels } from "../codec/wasm.ts";
import { InvalidArgumentError, SchemaMismatchError, UnsortedIndexError } from "../errors.ts";
import type { WriteTransaction } from "../storage/storage.ts";
import { SegmentArena } from "./arena.ts";
import { concatFrames } from "./frame-concat.ts";
import type { FrameData } from "./frame-data.ts";
import { keys, newId, STREAM_MARK } from "./keys.ts";
import type { ProgressMeter } from "./progress.ts";
import {
  type IndexRecord,
  type StagedRecord,
  unpackIndex,
  unpackStaged,
  unpackVersion,
  type VersionRecord,
} from "./records.ts";
import { appendIndex, lastTimestamp, schemaOf } from "./schema-checks.ts";
import type { VersionStore } from "./version-store.ts";
import { conformFrame, unionColumns } from "./widen.ts";

/**
 * Staged writes let many writers build one version of a symbol: each stages chunks (segments plus a
 * `T:` record, no version), and one finalize turns every chunk staged so far into a single version in one
 * transaction. A chunk staged after the finalize read the list waits for the next finalize.
 */

/**
 * Stores `frame` as a staged chunk of `symbol`; no version is created. A small chunk's segments and its
 * record go in one transaction.
 */
export function stageChunk(
  store: VersionStore,
  k: Kernels,
  symbol: string,
  frame: FrameData,
  id: string = newId(),
): IndexRecord {
  const written: string[] = [];
  let staged: IndexRecord | undefined;
  try {
    store.writeAndCommit(k, symbol, frame, written, (index) => {
      staged = index;
      const packed = packRecord({ ts: Date.now(), index } satisfies StagedRecord);
      return (tx) => {
        tx.put(keys.staged(store.lib, symbol, id), packed);
        return true;
      };
    });
  } catch (err) {
    store.discard(written);
    throw err;
  }
  return staged as IndexRecord;
}

/** Encoded bytes of staged chunks a `ChunkBatch` gathers before one transaction stores them. */
const CHUNK_BATCH_BYTES = 4 << 20;
/** ...or once its first chunk has waited this long (ms), when the next one comes. */
const CHUNK_BATCH_MS = 1000;

/**
 * Stages a stream's chunks as `stageChunk` does, but several to a transaction: each chunk's segments are
 * encoded into an arena as it comes, and once they reach CHUNK_BATCH_BYTES (encoded), or when a chunk
 * comes after the batch's first has waited CHUNK_BATCH_MS, one transaction stores them with the chunks'
 * staged records (stamped then: a stream that keeps giving frames keeps its staged chunks fresh, see
 * `removeStaleStreams`). A stream of well-compressed 10 MB frames made a commit (a disk flush on LMDB)
 * per segment or two, where a one-frame write makes one per 4 MB encoded; memory holds at most a batch of
 * encoded bytes. Chunks not stored yet when the stream fails or its process dies were only memory.
 */
export class ChunkBatch {
  private readonly arena = new SegmentArena();
  private segments: { key: string; bytes: Uint8Array }[] = [];
  private chunks: [string, IndexRecord][] = [];
  private progress: number[] = [];
  private bytes = 0;
  private since = 0;

  constructor(
    private readonly store: VersionStore,
    private readonly k: Kernels,
    private readonly symbol: string,
    private readonly meter: ProgressMeter | undefined,
  ) {}

  /** Stages `frame` as chunk `id` (stored with the batch); returns the chunk's index. */
  add(frame: FrameData, id: string): IndexRecord {
    const { store, k, symbol } = this;
    const encoded = store.metered(this.meter, () => store.encodeUnstored(k, symbol, frame, this.arena));
    if (this.chunks.length === 0) this.since = Date.now();
    for (const s of encoded.pending) this.segments.push(s);
    for (const b of encoded.progress) this.progress.push(b);
    this.chunks.push([keys.staged(store.lib, symbol, id), encoded.index]);
    this.bytes += encoded.bytes;
    if (this.bytes >= CHUNK_BATCH_BYTES || Date.now() - this.since >= CHUNK_BATCH_MS) this.flush();
    return encoded.index;
  }

  /** Stores the chunks added since the last flush, in one transaction. */
  flush(): void {
    if (this.chunks.length === 0) return;
    const ts = Date.now();
    const records = this.chunks.map(
      ([key, index]) => [key, packRecord({ ts, index } satisfies StagedRecord)] as const,
    );
    this.store.storage.writeTransaction((tx) => {
      for (const s of this.segments) tx.put(s.key, s.bytes);
      for (const [key, packed] of records) tx.put(key, packed);
    });
    for (const bytes of this.progress) this.meter?.add(bytes);
    this.arena.reset();
    this.segments = [];
    this.chunks = [];
    this.progress = [];
    this.bytes = 0;
  }
}

/** The staged chunk id of chunk `seq` of stream `stream` (the layout is `STREAM_MARK`'s, in keys.ts). */
export function streamChunkId(stream: string, seq: number): string {
  return `${STREAM_MARK}${stream}.${String(seq).padStart(10, "0")}`;
}

/** The prefix of the staged keys of `symbol`: all of them, or only those of stream write `stream`. */
function stagedKeysPrefix(lib: string, symbol: string, stream: string | undefined): string {
  return stream === undefined ? keys.stagedPrefix(lib, symbol) : keys.stagedStreamPrefix(lib, symbol, stream);
}

export interface FinalizeOptions {
  mode: "write" | "append";
  /**
   * Finalize the chunks of this stream write (their id's middle part, see `streamChunkId`) in staging
   * order, instead of the symbol's plain staged chunks.
   */
  stream?: string;
  /** Refuse to commit (nothing done) unless the symbol's latest version is still this one (compaction). */
  expectLatest?: number;
  /** Rewrite the staged rows sorted by timestamp instead of requiring chunks that follow each other. */
  sort: boolean;
  meta?: Uint8Array;
  prune?: boolean;
}

/**
 * Makes one new version of `symbol` from all its staged chunks (`mode` "write": they are the whole
 * symbol; "append": they follow its latest version). Without `sort` the chunks' segments are used as they
 * are, ordered by first timestamp (or staging time for row-indexed chunks), and must not overlap; with
 * `sort` their rows are read, sorted by timestamp and written anew. The staged records go in the same
 * transaction as the new version, so a failure keeps them for another try.
 */
export function finalizeStaged(
  store: VersionStore,
  k: Kernels,
  symbol: string,
  options: FinalizeOptions,
): VersionRecord {
  const lib = store.lib;
  const dynamic = store.config.dynamicSchema;
  const stream = options.stream;
  const prefix = stagedKeysPrefix(lib, symbol, stream);
  const streamsPrefix = keys.stagedStreamPrefix(lib, symbol);
  const listed = store.storage.readTransaction(() =>
    store.storage
      .keys(prefix)
      .filter((key) => stream !== undefined || !key.startsWith(streamsPrefix))
      .map((key) => {
        const bytes = store.storage.getView(key);
        return { key, record: unpackStaged(bytes ?? new Uint8Array(0), `staged chunk ${key}`) };
      }),
  );
  const plan = planFinalize(symbol, listed, { dynamic, stream, sort: options.sort });
  if (!plan) {
    const gone = store.libraryGone();
    if (gone) throw gone;
    throw noStagedData(symbol, lib);
  }
  const { chunks, columns } = plan;
  const stagedKeys = new Set(chunks.map((c) => c.key));
  if (options.sort) {
    const frames = chunks.map((c) => {
      const fake: VersionRecord = { v: -1, ts: c.record.ts, index: c.key };
      const frame = store.readRows(k, symbol, fake, c.record.index, {}).frame;
      return dynamic ? conformFrame(frame, columns) : frame;
    });
    const sorted = sortByTimestamp(concatFrames(frames));
    const written: string[] = [];
    try {
      return store.writeAndCommit(k, symbol, sorted, written, (added) =>
        commitStep(store, symbol, options, stagedKeys, added),
      ) as VersionRecord;
    } catch (err) {
      store.discard(written);
      throw err;
    }
  }
  const combined = plan.combined as IndexRecord;
  return store.storage.writeTransaction(commitStep(store, symbol, options, stagedKeys, combined));
}

/** A staged chunk as listed: its key and record. */
export interface StagedChunk {
  key: string;
  record: StagedRecord;
}

/** The error for a finalize that finds nothing staged. */
export function noStagedData(symbol: string, lib: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `No staged data for '${symbol}' in library '${lib}'; stage chunks with write(symbol, data, { staged: true }) first.`,
  );
}

/**
 * What a finalize makes of the staged chunks `listed` (both engines share it): the chunks in order (a
 * stream's in key order, plain ones by staging time), their columns (the union under dynamic schema), and
 * without `sort` the index of the new rows, chunks ordered by first timestamp and checked not to overlap.
 * Undefined when nothing is staged; typed errors for chunks that cannot make one version.
 */
export function planFinalize(
  symbol: string,
  listed: StagedChunk[],
  options: { dynamic: boolean; stream?: string; sort: boolean },
): { chunks: StagedChunk[]; columns: IndexRecord["columns"]; combined?: IndexRecord } | undefined {
  const { dynamic, stream } = options;
  // A stream's chunks are in key order (their sequence numbers); plain chunks in staging order, as near
  // as clocks tell.
  const chunks =
    stream !== undefined
      ? listed
      : listed.sort((a, b) => a.record.ts - b.record.ts || (a.key < b.key ? -1 : 1));
  if (chunks.length === 0) return undefined;
  const indexes = chunks.map((c) => c.record.index);
  const kinds = new Set(
    indexes.map((i) => (i.index.kind === "timestamp" ? `timestamp '${i.index.name}'` : "row")),
  );
  if (kinds.size > 1) {
    throw new SchemaMismatchError(
      `Staged chunks of '${symbol}' mix indexes (${[...kinds].join(", ")}); delete them with deleteStagedData and stage again.`,
    );
  }
  let columns = indexes[0].columns;
  for (const index of indexes) {
    if (dynamic) columns = unionColumns(symbol, columns, index.columns);
    else if (schemaOf(index.columns) !== schemaOf(columns)) {
      throw new SchemaMismatchError(
        `Staged chunks of '${symbol}' differ in columns: (${schemaOf(columns)}) and (${schemaOf(index.columns)}). ` +
          "Stage chunks with one schema, or use a library with dynamicSchema: true.",
      );
    }
  }
  const timestamped = indexes[0].index.kind === "timestamp";
  if (options.sort && !timestamped) {
    throw new InvalidArgumentError(
      `sortAndFinalizeStagedData needs a timestamp index, but the chunks of '${symbol}' are row-indexed; use finalizeStagedData.`,
    );
  }
  if (options.sort) return { chunks, columns };
  const nonEmpty = chunks.filter((c) => c.record.index.rows > 0);
  const kept = nonEmpty.length > 0 ? nonEmpty : chunks.slice(0, 1);
  const ordered =
    stream !== undefined
      ? kept
      : kept.sort((a, b) => {
          if (timestamped) {
            const fa = a.record.index.segments[0]?.first ?? 0n;
            const fb = b.record.index.segments[0]?.first ?? 0n;
            if (fa !== fb) return fa < fb ? -1 : 1;
          }
          return a.record.ts - b.record.ts || (a.key < b.key ? -1 : 1);
        });
  let combined = ordered[0].record.index;
  for (const c of ordered.slice(1)) {
    const next = c.record.index;
    if (timestamped) {
      const prevLast = lastTimestamp(combined);
      const first = next.segments.find((s) => s.rows > 0)?.first;
      const unsorted =
        (next.index.kind === "timestamp" && !next.index.sorted) ||
        (combined.index.kind === "timestamp" && !combined.index.sorted);
      if (unsorted || (prevLast !== undefined && first !== undefined && first < prevLast)) {
        throw new UnsortedIndexError(
          stream !== undefined
            ? `The frames streamed to '${symbol}' overlap or go back in time; each must start at or after the last timestamp of the one before.`
            : `Staged chunks of '${symbol}' overlap or are unsorted in time; use sortAndFinalizeStagedData to sort them.`,
        );
      }
    }
    combined = appendIndex(symbol, combined, next, dynamic);
  }
  if (combined.index.kind === "timestamp" && !combined.index.sorted) {
    throw new UnsortedIndexError(
      `A staged chunk of '${symbol}' has unsorted timestamps; use sortAndFinalizeStagedData to sort them.`,
    );
  }
  return { chunks, columns, combined };
}

/**
 * The final transaction's work: the new index and version; the staged records it consumed removed, with
 * the staged segments the new index does not use (all of them after a sort, empty chunks otherwise).
 */
function commitStep(
  store: VersionStore,
  symbol: string,
  options: FinalizeOptions,
  stagedKeys: Set<string>,
  added: IndexRecord,
): (tx: WriteTransaction) => VersionRecord {
  const lib = store.lib;
  return (tx) => {
    let index = added;
    if (options.expectLatest !== undefined) {
      const [latestKey] = tx.keys(keys.versionPrefix(lib, symbol), { reverse: true, limit: 1 });
      if (latestKey !== keys.version(lib, symbol, options.expectLatest)) {
        throw new InvalidArgumentError(
          `'${symbol}' got a new version (or lost version ${options.expectLatest}) while it was being compacted; nothing was done. Compact it again.`,
        );
      }
    }
    if (options.mode === "append") {
      const [latestKey] = tx.keys(keys.versionPrefix(lib, symbol), { reverse: true, limit: 1 });
      const latestBytes = latestKey === undefined ? undefined : tx.get(latestKey);
      if (latestBytes) {
        const latest = unpackVersion(latestBytes);
        const prior = unpackIndex(tx.get(latest.index) ?? new Uint8Array(0));
        index = appendIndex(symbol, prior, added, store.config.dynamicSchema);
      }
    }
    const used = new Set(index.segments.map((s) => s.key));
    for (const key of stagedKeys) {
      if (!tx.get(key)) {
        throw new InvalidArgumentError(
          `Staged data of '${symbol}' changed while finalizing (another finalize or deleteStagedData ran); nothing was done.`,
        );
      }
      removeChunk(tx, key, used);
    }
    const indexKey = keys.index(lib, symbol, newId());
    tx.put(indexKey, packRecord(index));
    return store.addVersion(tx, symbol, indexKey, { meta: options.meta, prune: options.prune });
  };
}

/**
 * Removes every staged chunk of `symbol` and its segments (or only those of stream write `stream`);
 * returns how many there were.
 */
export function deleteStaged(store: VersionStore, symbol: string, stream?: string): number {
  const prefix = stagedKeysPrefix(store.lib, symbol, stream);
  return store.storage.writeTransaction((tx) => {
    const stagedKeys = tx.keys(prefix);
    for (const key of stagedKeys) removeChunk(tx, key);
    return stagedKeys.length;
  });
}

/**
 * Removes the chunks of stream writes to `symbol` that staged nothing for `graceMs` (a writer that died
 * mid-stream left them); returns how many chunks went. A stream still running stages a chunk per frame,
 * so only one whose source has stalled that long loses its chunks (and its commit then fails).
 */
export function removeStaleStreams(store: VersionStore, symbol: string, graceMs: number): number {
  const prefix = keys.stagedStreamPrefix(store.lib, symbol);
  const now = Date.now();
  return store.storage.writeTransaction((tx) => {
    const newest = new Map<string, number>();
    const byStream = new Map<string, string[]>();
    for (const key of tx.keys(prefix)) {
      const stream = key.slice(prefix.length, key.lastIndexOf("."));
      const bytes = tx.get(key);
      const ts = bytes ? unpackStaged(bytes, `staged chunk ${key}`).ts : 0;
      newest.set(stream, Math.max(newest.get(stream) ?? 0, ts));
      const streamKeys = byStream.get(stream);
      if (streamKeys) streamKeys.push(key);
      else byStream.set(stream, [key]);
    }
    let removed = 0;
    for (const [stream, ts] of newest) {
      if (ts > now - graceMs) continue;
      for (const key of byStream.get(stream) ?? []) {
        removeChunk(tx, key);
        removed++;
      }
    }
    return removed;
  });
}

/** Removes a staged record and those of its segments not in `keep`. */
function removeChunk(tx: WriteTransaction, key: string, keep?: Set<string>): void {
  const bytes = tx.get(key);
  const segments = bytes ? unpackStaged(bytes).index.segments : [];
  for (const seg of segments) if (!keep?.has(seg.key)) tx.remove(seg.key);
  tx.remove(key);
}

/** The rows of `frame` in timestamp order (stable: equal timestamps keep their order). */
export function sortByTimestamp(frame: FrameData): FrameData {
  if (frame.index.kind !== "timestamp") return frame;
  const ts = frame.index.values;
  const order = Array.from({ length: frame.numRows }, (_, i) => i);
  order.sort((a, b) => (ts[a] < ts[b] ? -1 : ts[a] > ts[b] ? 1 : a - b));
  const take = <T extends { length: number }>(values: T, make: (n: number) => T): T => {
    const out = make(values.length) as unknown as Record<number, unknown>;
    const src = values as unknown as Record<number, unknown>;
    for (let i = 0; i < order.length; i++) out[i] = src[order[i]];
    return out as unknown as T;
  };
  return {
    numRows: frame.numRows,
    columns: frame.columns.map((c) => ({
      ...c,
      values: Array.isArray(c.values)
        ? take(c.values, (n) => new Array(n))
        : take(c.values, (n) => new (c.values.constructor as new (n: number) => typeof c.values)(n)),
    })),
    index: { ...frame.index, values: take(ts, (n) => new BigInt64Array(n)) },
  };
}
