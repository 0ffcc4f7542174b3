import { packRecord } from "../codec/msgpack.ts";
import { encodeSegment, SegmentScratch } from "../codec/segment.ts";
import type { Kernels } from "../codec/wasm.ts";
import { DTYPES } from "../dtypes.ts";
import { StorageError } from "../errors.ts";
import { sameBytes } from "../storage/parsed-cache.ts";
import type { Storage, WriteTransaction } from "../storage/storage.ts";
import { SegmentArena } from "./arena.ts";
import { tileStats } from "./column-stats.ts";
import { concatFrames } from "./frame-concat.ts";
import type { FrameData } from "./frame-data.ts";
import { keys, newId, versionOfKey } from "./keys.ts";
import { LibraryGuardedStorage } from "./library-guard.ts";
import type { MeterSlot, ProgressMeter } from "./progress.ts";
import { parseIndex, type ReadPath } from "./read-path.ts";
import {
  type IndexRecord,
  indexRecordFor,
  type LibraryConfig,
  noDataIndex,
  type SegmentRef,
  unpackVersion,
  type VersionRecord,
} from "./records.ts";
import {
  appendIndex,
  checkAppendable,
  checkReplaceable,
  checkSortedWrite,
  frameShape,
} from "./schema-checks.ts";
import { planTiles, tileColumns } from "./tiling.ts";
import { replaceBounds, replacedIndex } from "./update.ts";
import type { VersionChain } from "./version-chain.ts";
import { conformFrame, unionColumns } from "./widen.ts";

/**
 * A big write commits its segments in transactions that end once they hold this many bytes, so a segment
 * of 4 MB or more is committed alone. LMDB copies each value into pages it mallocs and frees at commit;
 * glibc keeps freed memory for reuse only up to about twice the largest block it has freed (64 MB at
 * most), so one 8 MB segment per transaction gets the previous one's warm pages back, where 128 MB
 * transactions got fresh pages every time, whose first touch (~12 µs a page on the CI VM) held writes to
 * ~200 MB/s (BENCHMARKS.md). Bun's allocator gains the same way.
 */
const WRITE_BATCH_BYTES = 4 << 20;

/**
 * A write of up to this many bytes (raw, and again encoded) is encoded whole before one transaction that
 * stores its segments with its index, version and reference: one commit (one flush) instead of two, and
 * the write lock is held only to copy a few MB in. Bigger writes store segments in batches first.
 */
const SMALL_WRITE_BYTES = 4 << 20;

/**
 * The write path of one library: cuts frames into tiles, encodes them into segments (deduplicated against
 * the previous version where the library asks for it), stores them in batches or, for a small write,
 * inside the commit, and commits the new version (write, writeMany, append, replaceRange, writeMetadata).
 *
 * Write order gives crash safety: segments first, then in one final transaction the index, the version
 * and the symbol reference (for a small write, segments included in that one transaction). A reader finds
 * a version only through its key, which appears only once everything it points at is committed, so it
 * never sees half a version; a writer that dies earlier leaves unreferenced segments (garbage), never
 * damage.
 */
export class WritePath {
  /** Encode buffer kept between writes: a fresh one per write would be faulted in anew each time. */
  private readonly scratch = new SegmentScratch();
  /** Where a batch of encoded segments waits for its transaction, when encoding happens before it. */
  private readonly arena: SegmentArena | undefined;
  /** Where a small write's encoded segments wait for its one transaction (made on first use). */
  private smallWrites: SegmentArena | undefined;

  /**
   * `encodeFirst`: encode each batch of segments before opening the transaction that stores it (pool
   * workers, which share the store's write lock with each other), instead of inside it.
   */
  constructor(
    private readonly storage: Storage,
    private readonly lib: string,
    private readonly config: LibraryConfig,
    private readonly chain: VersionChain,
    private readonly reads: ReadPath,
    private readonly running: MeterSlot,
    options: { encodeFirst?: boolean } = {},
  ) {
    this.arena = options.encodeFirst ? new SegmentArena() : undefined;
  }

  /** The progress meter of the call running now (see `VersionStore.metered`). */
  private get meter(): ProgressMeter | undefined {
    return this.running.meter;
  }

  /** Stores `frame` as a new version of `symbol` and returns its record. */
  write(
    k: Kernels,
    symbol: string,
    frame: FrameData,
    options: { meta?: Uint8Array; prune?: boolean } = {},
  ): VersionRecord {
    checkSortedWrite(symbol, frame);
    const written: string[] = [];
    try {
      const previous = this.config.dedup ? this.chain.latest(symbol) : undefined;
      const reuse = previous ? this.dedupAgainst(this.reads.readIndex(previous, symbol)) : undefined;
      const record = this.writeAndCommit(
        k,
        symbol,
        frame,
        written,
        (index) => this.versionStep(symbol, index, options, reuse !== undefined),
        reuse,
      );
      if (record) return record;
      // A segment we meant to share was deleted meanwhile: store this version's own copies instead.
      this.discard(written.splice(0));
      return this.writeAndCommit(k, symbol, frame, written, (index) =>
        this.versionStep(symbol, index, options, false),
      ) as VersionRecord;
    } catch (err) {
      this.discard(written);
      throw err;
    }
  }

  /**
   * For dedup: finds, among `previous`'s segments, one byte-identical to a newly encoded tile, so the
   * new version can list it instead of storing a copy. Candidates must match in shape and size; the
   * bytes are then compared in full, so a match is never a hash collision.
   */
  private dedupAgainst(previous: IndexRecord): Reuse {
    const bySize = new Map<number, SegmentRef[]>();
    for (const seg of previous.segments) {
      const list = bySize.get(seg.bytes) ?? [];
      list.push(seg);
      bySize.set(seg.bytes, list);
    }
    return (bytes, tile) => {
      for (const seg of bySize.get(bytes.byteLength) ?? []) {
        if (seg.rows !== tile.rows || seg.cols !== tile.cols) continue;
        const stored = this.storage.getView(seg.key);
        if (stored && sameBytes(stored, bytes)) return seg.key;
      }
      return undefined;
    };
  }

  /**
   * Stores several frames as new versions, every version committed in one transaction (one disk flush
   * for the batch). Items are encoded first; the segments of the small ones (up to SMALL_WRITE_BYTES
   * together) go into that same transaction, bigger items store theirs in transactions of their own
   * before it. An item that fails yields its error in its slot and costs the others nothing; items of the
   * same symbol get successive versions.
   */
  writeMany(
    k: Kernels,
    items: { symbol: string; frame: FrameData; meta?: Uint8Array }[],
  ): (VersionRecord | Error)[] {
    const results: (VersionRecord | Error)[] = [];
    const ready: {
      slot: number;
      symbol: string;
      index: IndexRecord;
      indexKey: string;
      packed: Uint8Array;
      meta?: Uint8Array;
    }[] = [];
    const pending: PendingSegment[] = [];
    const progress: number[] = [];
    const written: string[] = [];
    const arena = this.smallArena();
    arena.reset();
    let budget = SMALL_WRITE_BYTES;
    for (const [slot, item] of items.entries()) {
      const mine: string[] = [];
      try {
        checkSortedWrite(item.symbol, item.frame);
        const small = this.encodeSmall(k, item.symbol, item.frame, arena, budget);
        let index: IndexRecord;
        if (small) {
          pending.push(...small.pending);
          progress.push(...small.progress);
          budget -= small.bytes;
          index = small.index;
        } else {
          index = this.writeSegments(k, item.symbol, item.frame, mine);
        }
        const indexKey = keys.index(this.lib, item.symbol, newId());
        ready.push({
          slot,
          symbol: item.symbol,
          index,
          indexKey,
          packed: packRecord(index),
          meta: item.meta,
        });
        results.push(new Error("not committed"));
        written.push(...mine);
      } catch (err) {
        this.discard(mine);
        results.push(err as Error);
      }
    }
    if (ready.length === 0) return results;
    try {
      this.storage.writeTransaction((tx) => {
        for (const s of pending) tx.put(s.key, s.bytes);
        for (const r of ready) {
          tx.put(r.indexKey, r.packed);
          results[r.slot] = this.chain.addVersion(tx, r.symbol, r.indexKey, { meta: r.meta });
        }
      });
    } catch (err) {
      this.discard(written);
      for (const r of ready) results[r.slot] = err as Error;
      return results;
    }
    for (const r of ready) this.reads.remember(r.indexKey, r.packed, r.index);
    for (const bytes of progress) this.meter?.add(bytes);
    return results;
  }

  /**
   * Appends the rows of `frame` after the last stored row of `symbol` as a new version. Only the new rows
   * are encoded and stored; the new index lists the previous version's segments followed by the new
   * ones. Appending to a symbol with no live version writes it. A small append is one transaction
   * (segments, index, version and reference together).
   *
   * If another writer adds a version between our read and our commit, the commit re-checks against that
   * version and appends after it, so concurrent appends are all kept, in commit order.
   */
  append(
    k: Kernels,
    symbol: string,
    frame: FrameData,
    options: { meta?: Uint8Array; prune?: boolean } = {},
  ): VersionRecord {
    const base = this.chain.latest(symbol);
    const dynamic = this.config.dynamicSchema;
    const baseIndex = base ? this.reads.readIndex(base, symbol) : undefined;
    if (baseIndex) checkAppendable(symbol, baseIndex, frameShape(frame), dynamic);
    else checkSortedWrite(symbol, frame);
    // With no version yet the rows are the whole symbol, unless another writer commits one first.
    const baseKey = base ? keys.version(this.lib, symbol, base.v) : undefined;
    const written: string[] = [];
    try {
      return this.writeAndCommit(k, symbol, frame, written, (added) => {
        // Combined and packed against `base` before the transaction; redone inside only if another
        // writer committed a version since.
        const indexKey = keys.index(this.lib, symbol, newId());
        const expected = baseIndex ? appendIndex(symbol, baseIndex, added, dynamic) : added;
        const packed = packRecord(expected);
        return (tx) => {
          const [latestKey] = tx.keys(keys.versionPrefix(this.lib, symbol), { reverse: true, limit: 1 });
          let combined = expected;
          let bytes = packed;
          if (latestKey !== baseKey) {
            const latestBytes = latestKey === undefined ? undefined : tx.get(latestKey);
            // With everything deleted meanwhile, the appended rows become the whole symbol.
            combined = added;
            if (latestBytes) {
              const latest = unpackVersion(latestBytes);
              const prior = this.reads.indexes.get(
                latest.index,
                tx.get(latest.index) ?? new Uint8Array(0),
                parseIndex,
              );
              combined = appendIndex(symbol, prior, added, dynamic);
            }
            bytes = packRecord(combined);
          }
          tx.put(indexKey, bytes);
          const record = this.chain.addVersion(tx, symbol, indexKey, options);
          this.reads.remember(indexKey, bytes, combined);
          return record;
        };
      }) as VersionRecord;
    } catch (err) {
      this.discard(written);
      throw err;
    }
  }

  /**
   * Encodes and stores the tiles of `frame`, then commits: `commit` gets their complete index record and
   * returns the step to run inside the committing transaction. A small frame (SMALL_WRITE_BYTES) is
   * encoded whole first, `commit` is called outside any transaction (so packing the index holds no lock)
   * and the segments go into the committing transaction: one commit, one flush, the write lock held only
   * while bytes are copied in, and a failure leaves nothing behind. A bigger frame is stored in batches
   * (`writeSegments`), their keys pushed to `written` for the caller to discard on failure; `commit` is
   * called and its step run inside the last batch's transaction, which commits the version. A step that
   * returns `undefined` declines (another writer got there first, say): its transaction then keeps nothing
   * of this call's (for a bigger frame, the caller discards `written`).
   */
  writeAndCommit<T>(
    k: Kernels,
    symbol: string,
    frame: FrameData,
    written: string[],
    commit: (index: IndexRecord) => (tx: WriteTransaction) => T | undefined,
    reuse?: Reuse,
  ): T | undefined {
    const arena = this.smallArena();
    arena.reset();
    const small = this.encodeSmall(k, symbol, frame, arena, SMALL_WRITE_BYTES, reuse);
    if (!small) {
      // The commit rides in the last batch's transaction: one flush fewer (two fsyncs on LMDB).
      let done: { result: T | undefined } | undefined;
      const index = this.writeSegments(k, symbol, frame, written, reuse, (index, tx) => {
        done = { result: commit(index)(tx) };
      });
      return done ? done.result : this.storage.writeTransaction(commit(index));
    }
    const step = commit(small.index);
    const result = this.storage.writeTransaction((tx) => {
      for (const s of small.pending) tx.put(s.key, s.bytes);
      const out = step(tx);
      // Declined: take this call's segments out again, so the transaction leaves no orphans.
      if (out === undefined) for (const s of small.pending) tx.remove(s.key);
      return out;
    });
    for (const bytes of small.progress) this.meter?.add(bytes);
    return result;
  }

  /**
   * Encodes the tiles of `frame` into `arena` under fresh segment keys, storing nothing, for a caller
   * that stores the segments of several frames in one transaction of its own (a stream's staged chunks);
   * the progress meter expects them now, and the caller adds `progress` once they are stored.
   */
  encodeUnstored(k: Kernels, symbol: string, frame: FrameData, arena: SegmentArena): EncodedWrite {
    // A stream's chunks were checked in order on arrival: the index needs no pass over the timestamps.
    return this.encodeSmall(
      k,
      symbol,
      frame,
      arena,
      Number.POSITIVE_INFINITY,
      undefined,
      true,
    ) as EncodedWrite;
  }

  /** The arena small writes encode into, kept between writes so its memory is not faulted in anew. */
  private smallArena(): SegmentArena {
    this.smallWrites ??= new SegmentArena();
    return this.smallWrites;
  }

  /**
   * Encodes the tiles of `frame` into `arena` under fresh segment keys, storing nothing, for a caller
   * that stores them in its committing transaction. `undefined` (and nothing counted as planned) when the
   * frame is more than `budget` bytes, raw (fixed-width estimate) or encoded.
   */
  private encodeSmall(
    k: Kernels,
    symbol: string,
    frame: FrameData,
    arena: SegmentArena,
    budget: number,
    reuse?: Reuse,
    sorted?: boolean,
  ): EncodedWrite | undefined {
    const plan = this.planWrite(k, frame, reuse, sorted);
    if (plan.rawBytes > budget) return undefined;
    const pending: PendingSegment[] = [];
    const progress: number[] = [];
    let bytes = 0;
    for (const tile of plan.tiles) {
      const { ref, bytes: encoded } = plan.encode(tile);
      progress.push(plan.tileBytes(ref));
      if (ref.key) continue; // shared with the previous version (dedup)
      // Checked before copying: long strings can make a frame far bigger encoded than estimated.
      bytes += encoded.byteLength;
      if (bytes > budget) return undefined;
      ref.key = keys.segment(this.lib, symbol, newId());
      pending.push({ key: ref.key, bytes: arena.copy(encoded) });
    }
    this.meter?.expect(
      progress.reduce((n, b) => n + b, 0),
      progress.length,
    );
    return { index: plan.index, pending, progress, bytes };
  }

  /** The tiles `frame` is cut into, how each is encoded (or matched by `reuse`), and the index they make. */
  planWrite(k: Kernels, frame: FrameData, reuse?: Reuse, sorted?: boolean): WritePlan {
    const { rowsPerSegment, columnsPerSegment } = this.config;
    const tiles = planTiles(frame.numRows, frame.columns.length, rowsPerSegment, columnsPerSegment);
    const segments: SegmentRef[] = [];
    const ts = frame.index.kind === "timestamp" ? frame.index.values : null;
    const tileBytes = (tile: Tile) =>
      tile.rows * (ts ? 8 : 0) +
      frame.columns
        .slice(tile.colStart, tile.colStart + tile.cols)
        .reduce((n, c) => n + tile.rows * (DTYPES[c.dtype].width || 8), 0);
    // Each call's bytes are a view of the scratch buffer, valid until the next call.
    const encode = (tile: Tile) => {
      const bytes = encodeSegment(k, tile.rows, tileColumns(frame, tile), this.scratch);
      const ref: SegmentRef = { key: "", ...tile, bytes: bytes.byteLength };
      if (ts && tile.rows > 0) {
        ref.first = ts[tile.rowStart];
        ref.last = ts[tile.rowStart + tile.rows - 1];
      }
      const stats = tileStats(k, frame, tile);
      if (stats) Object.assign(ref, stats);
      ref.key = reuse?.(bytes, ref) ?? "";
      segments.push(ref);
      return { ref, bytes };
    };
    const index: IndexRecord = indexRecordFor(frame, segments, sorted);
    return { tiles, tileBytes, encode, index, rawBytes: tiles.reduce((n, t) => n + tileBytes(t), 0) };
  }

  /**
   * Encodes and stores the tiles of `frame` in transactions of about WRITE_BATCH_BYTES; returns the index
   * record describing them (not yet stored). Stored keys are pushed to `written`. `last`, if given, runs
   * inside the transaction that stores the last segment, once the index is complete.
   */
  writeSegments(
    k: Kernels,
    symbol: string,
    frame: FrameData,
    written: string[],
    reuse?: Reuse,
    last?: (index: IndexRecord, tx: WriteTransaction) => void,
  ): IndexRecord {
    const { tiles, tileBytes, encode, index, rawBytes } = this.planWrite(k, frame, reuse);
    this.meter?.expect(rawBytes, tiles.length);
    let next = 0;
    while (next < tiles.length) {
      if (this.arena) {
        // Encode a batch into the arena first, then store it in a short transaction: the LMDB write lock,
        // which every writer of the store shares (other workers, other processes), is not held while encoding.
        const arena = this.arena;
        arena.reset();
        const batch: { ref: SegmentRef; bytes: Uint8Array }[] = [];
        let batchBytes = 0;
        while (next < tiles.length && batchBytes < WRITE_BATCH_BYTES) {
          const { ref, bytes } = encode(tiles[next++]);
          if (!ref.key) batch.push({ ref, bytes: arena.copy(bytes) });
          batchBytes += bytes.byteLength;
        }
        this.storage.writeTransaction((tx) => {
          for (const { ref, bytes } of batch) {
            ref.key = keys.segment(this.lib, symbol, newId());
            tx.put(ref.key, bytes);
            written.push(ref.key);
          }
          if (next === tiles.length) last?.(index, tx);
        });
        for (const { ref } of batch) this.meter?.add(tileBytes(ref));
        continue;
      }
      // Encoded inside the transaction so each segment is stored (copied) before the next reuses the
      // scratch buffer; a transaction ends at WRITE_BATCH_BYTES (see there).
      this.storage.writeTransaction((tx) => {
        let batchBytes = 0;
        while (next < tiles.length && batchBytes < WRITE_BATCH_BYTES) {
          const { ref, bytes } = encode(tiles[next++]);
          if (!ref.key) {
            ref.key = keys.segment(this.lib, symbol, newId());
            tx.put(ref.key, bytes);
            written.push(ref.key);
          }
          batchBytes += bytes.byteLength;
          this.meter?.add(tileBytes(ref));
        }
        if (next === tiles.length) last?.(index, tx);
      });
    }
    return index;
  }

  /** The final transaction of a write: index, version number, version record and reference. */
  commitVersion(
    symbol: string,
    index: IndexRecord,
    options: { meta?: Uint8Array; prune?: boolean },
    shares: boolean,
  ): VersionRecord | undefined {
    return this.storage.writeTransaction(this.versionStep(symbol, index, options, shares));
  }

  /**
   * The committing step of a new version listing `index` (packed here, before the transaction): stores
   * the index, a version number, the version record and the reference. With `shares` it declines when a
   * segment shared with an older version (dedup) was deleted meanwhile.
   */
  private versionStep(
    symbol: string,
    index: IndexRecord,
    options: { meta?: Uint8Array; prune?: boolean },
    shares: boolean,
  ): (tx: WriteTransaction) => VersionRecord | undefined {
    const indexKey = keys.index(this.lib, symbol, newId());
    const packed = packRecord(index);
    return (tx) => {
      // Shared (deduplicated) segments belong to another version that a delete may have freed meanwhile.
      if (shares && index.segments.some((s) => tx.get(s.key) === undefined)) return undefined;
      tx.put(indexKey, packed);
      const record = this.chain.addVersion(tx, symbol, indexKey, options);
      this.reads.remember(indexKey, packed, index);
      return record;
    };
  }

  /**
   * A new version of `symbol` whose rows with timestamps in `range` (inclusive) are replaced by `data`'s
   * (or removed when `data` is null). Only the row slices that straddle the range's ends are decoded and
   * rewritten; segments wholly before or after it are shared with the previous version. If another writer
   * commits first, the replacement is redone on top of its version.
   */
  replaceRange(
    k: Kernels,
    symbol: string,
    range: [bigint | null, bigint | null],
    data: FrameData | null,
    options: { meta?: Uint8Array; prune?: boolean },
  ): VersionRecord {
    for (let attempt = 0; ; attempt++) {
      const base = this.chain.latest(symbol);
      if (!base) throw this.chain.symbolNotFound(symbol);
      const index = this.reads.readIndex(base, symbol);
      const dynamic = this.config.dynamicSchema;
      if (data) checkReplaceable(symbol, index, data, range, dynamic);
      // Under dynamic schema the new rows may add or widen columns: every part takes the union schema.
      const columns = data && dynamic ? unionColumns(symbol, index.columns, data.columns) : index.columns;
      const [r0, r1] = this.reads.rowsInDateRange(k, symbol, base, index, range);
      const { lo, hi } = replaceBounds(index, r0, r1);
      const [before, after] = this.storage.readTransaction(() => [
        this.reads.readRows(k, symbol, base, index, { rowRange: [lo, r0] }).frame,
        this.reads.readRows(k, symbol, base, index, { rowRange: [r1, hi] }).frame,
      ]);
      const parts = (data ? [before, data, after] : [before, after]).map((f) =>
        columns === index.columns ? f : conformFrame(f, columns),
      );
      const middle = concatFrames(parts);
      const written: string[] = [];
      try {
        const committed = this.writeAndCommit(k, symbol, middle, written, (added) => {
          const record = replacedIndex(index, added, { lo, hi, columns, dynamic });
          const indexKey = keys.index(this.lib, symbol, newId());
          const packed = packRecord(record);
          return (tx) => {
            const [latestKey] = tx.keys(keys.versionPrefix(this.lib, symbol), { reverse: true, limit: 1 });
            if (latestKey === undefined || versionOfKey(latestKey) !== base.v) return undefined;
            tx.put(indexKey, packed);
            const version = this.chain.addVersion(tx, symbol, indexKey, options);
            this.reads.remember(indexKey, packed, record);
            return version;
          };
        });
        if (committed) return committed;
        this.discard(written.splice(0));
        if (attempt >= 20) {
          throw new StorageError(
            `Could not replace rows of '${symbol}': other writers kept committing first (21 tries); retry later.`,
          );
        }
      } catch (err) {
        this.discard(written);
        throw err;
      }
    }
  }

  /**
   * A new version of `symbol` holding the latest version's data (the same index, nothing copied) with
   * `meta` as its metadata (none when undefined). When the symbol has no live version: with `create`, a
   * version without data (`noDataIndex`), as ArcticDB's `write_metadata` makes; else `SymbolNotFoundError`.
   */
  writeMetadata(
    symbol: string,
    meta: Uint8Array | undefined,
    prune: boolean,
    create: boolean,
  ): VersionRecord {
    const empty = create ? packRecord(noDataIndex()) : undefined;
    return this.storage.writeTransaction((tx) => {
      const [key] = tx.keys(keys.versionPrefix(this.lib, symbol), { reverse: true, limit: 1 });
      const bytes = key === undefined ? undefined : tx.get(key);
      if (bytes) return this.chain.addVersion(tx, symbol, unpackVersion(bytes).index, { meta, prune });
      if (!empty) throw this.chain.symbolNotFound(symbol);
      const indexKey = keys.index(this.lib, symbol, newId());
      tx.put(indexKey, empty);
      return this.chain.addVersion(tx, symbol, indexKey, { meta, prune });
    });
  }

  /**
   * Best-effort removal of segments a failed write left behind. It bypasses the library guard: a write
   * refused because its library was deleted meanwhile must still take back what it stored before.
   */
  discard(written: string[]): void {
    if (written.length === 0) return;
    const storage = this.storage instanceof LibraryGuardedStorage ? this.storage.inner : this.storage;
    try {
      storage.writeTransaction((tx) => {
        for (const key of written) tx.remove(key);
      });
    } catch {
      // The store itself is failing; the orphans stay unreferenced and harmless.
    }
  }
}

/** Matches a newly encoded tile with an already stored segment (dedup); returns its key or undefined. */
export type Reuse = (bytes: Uint8Array, tile: SegmentRef) => string | undefined;

type Tile = ReturnType<typeof planTiles>[number];

/** A write's plan (see `planWrite`): `encode` returns a view of a scratch buffer, valid until its next call. */
export interface WritePlan {
  tiles: Tile[];
  /** Raw (decoded) bytes of a tile, for progress. */
  tileBytes(tile: Tile): number;
  encode(tile: Tile): { ref: SegmentRef; bytes: Uint8Array };
  /** The index the tiles make, complete once every tile is encoded. */
  index: IndexRecord;
  rawBytes: number;
}

/** An encoded segment waiting (in an arena) for the transaction that stores it. */
export interface PendingSegment {
  key: string;
  bytes: Uint8Array;
}

/** Segments encoded ahead of the transaction that stores them (a small write's, a stream's chunks). */
export interface EncodedWrite {
  index: IndexRecord;
  pending: PendingSegment[];
  /** Raw bytes of each tile, for progress once committed. */
  progress: number[];
  /** Encoded bytes of `pending`. */
  bytes: number;
}
