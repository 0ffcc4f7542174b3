import { packRecord } from "../codec/msgpack.ts";
import {
  decodeSegmentColumn,
  encodeSegment,
  type ParsedSegment,
  parseSegment,
  SegmentScratch,
} from "../codec/segment.ts";
import type { Kernels } from "../codec/wasm.ts";
import { DTYPES, type NumericArray, type StringArray } from "../dtypes.ts";
import {
  CorruptSegmentError,
  type FloeError,
  InvalidArgumentError,
  type LibraryNotFoundError,
  StorageError,
  SymbolNotFoundError,
  UnsortedIndexError,
  VersionNotFoundError,
} from "../errors.ts";
import { ParsedCache, sameBytes } from "../storage/parsed-cache.ts";
import type { Storage, WriteTransaction } from "../storage/storage.ts";
import { SegmentArena } from "./arena.ts";
import { concatFrames } from "./frame-concat.ts";
import type { ColumnData, FrameData } from "./frame-data.ts";
import { collectGarbage } from "./garbage.ts";
import { keys, lastPart, newId, symbolOfVersionKey, versionOfKey } from "./keys.ts";
import { LibraryGuardedStorage } from "./library-guard.ts";
import type { ProgressMeter } from "./progress.ts";
import { planRead, type ReadRequest, segmentColumns } from "./read-plan.ts";
import {
  type IndexRecord,
  indexRecordFor,
  isNoData,
  type LibraryConfig,
  noDataIndex,
  type SegmentRef,
  type SnapshotRecord,
  type SymbolRef,
  unpackIndex,
  unpackRef,
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
import { firstAtOrAfter } from "./search.ts";
import { dropSnapshot, listSnapshots, readSnapshot, takeSnapshot } from "./snapshots.ts";
import { planTiles, tileColumns } from "./tiling.ts";
import { replaceBounds, replacedIndex } from "./update.ts";
import { type ListedVersion, listVersionInfo, type VersionListOptions } from "./version-list.ts";
import { conformFrame, convertInto, fillMissing, unionColumns } from "./widen.ts";

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
 * Parsed index records kept per store (at most this many, from this many stored bytes in all): a read or
 * append of a symbol with many segments then skips unpacking its index (every segment's key, rows and
 * time span) each time.
 */
const INDEX_CACHE_ENTRIES = 64;
const INDEX_CACHE_BYTES = 4 << 20;

/** Decoded index columns of date-range boundary segments kept per store: 4 x 100,000 rows = 3.2 MB. */
const BOUNDARY_CACHE_ENTRIES = 4;
const BOUNDARY_CACHE_BYTES = 8 << 20;

/** A version as listed: its symbol and record. */
export interface VersionEntry {
  symbol: string;
  record: VersionRecord;
}

/** Arrays a read decodes into instead of allocating its own (see `VersionStore.readRows`). */
export interface ReadTargets {
  columns: Map<string, NumericArray>;
  index?: BigInt64Array;
}

/** Which version to use: a number (negative from the latest), a snapshot's, or the latest at a time (ms). */
export type VersionSelector = number | { snapshot: string } | { at: number };

/**
 * The version engine of one library: turns frames into segments, indexes and versions on write, and
 * versions back into frames on read.
 *
 * Write order gives crash safety: segments first, then in one final transaction the index, the version
 * and the symbol reference (for a small write, segments included in that one transaction). A reader finds
 * a version only through its key, which appears only once everything it points at is committed, so it
 * never sees half a version; a writer that dies earlier leaves unreferenced segments (garbage), never
 * damage.
 */
export class VersionStore {
  /** Encode buffer kept between writes: a fresh one per write would be faulted in anew each time. */
  private readonly scratch = new SegmentScratch();
  /** Where a batch of encoded segments waits for its transaction, when encoding happens before it. */
  private readonly arena: SegmentArena | undefined;
  /** Where a small write's encoded segments wait for its one transaction (made on first use). */
  private smallWrites: SegmentArena | undefined;
  /** Index records parsed before, by index key; each hit is checked against the stored bytes. */
  private readonly indexes = new ParsedCache<IndexRecord>(INDEX_CACHE_ENTRIES, INDEX_CACHE_BYTES);
  /** Decoded index columns of recent date-range boundary segments, by segment key (see `indexColumn`). */
  private readonly boundaries = new ParsedCache<BigInt64Array>(
    BOUNDARY_CACHE_ENTRIES,
    BOUNDARY_CACHE_BYTES,
    (block, values) => block.byteLength + values.byteLength,
  );
  /** The progress meter of the call running now (calls into the store are synchronous, so one at a time). */
  private meter: ProgressMeter | undefined;

  /**
   * `encodeFirst`: encode each batch of segments before opening the transaction that stores it (pool
   * workers, which share the store's write lock with each other), instead of inside it.
   */
  constructor(
    readonly storage: Storage,
    readonly lib: string,
    readonly config: LibraryConfig,
    options: { encodeFirst?: boolean } = {},
  ) {
    this.arena = options.encodeFirst ? new SegmentArena() : undefined;
  }

  /** Runs `fn` with `meter` counting the segments it writes and reads. */
  metered<T>(meter: ProgressMeter | undefined, fn: () => T): T {
    const outer = this.meter;
    this.meter = meter ?? outer;
    try {
      return fn();
    } finally {
      this.meter = outer;
    }
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
      const previous = this.config.dedup ? this.latest(symbol) : undefined;
      const reuse = previous ? this.dedupAgainst(this.readIndex(previous, symbol)) : undefined;
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
          results[r.slot] = this.addVersion(tx, r.symbol, r.indexKey, { meta: r.meta });
        }
      });
    } catch (err) {
      this.discard(written);
      for (const r of ready) results[r.slot] = err as Error;
      return results;
    }
    for (const r of ready) this.remember(r.indexKey, r.packed, r.index);
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
    const base = this.latest(symbol);
    const dynamic = this.config.dynamicSchema;
    const baseIndex = base ? this.readIndex(base, symbol) : undefined;
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
              const prior = this.indexes.get(
                latest.index,
                tx.get(latest.index) ?? new Uint8Array(0),
                parseIndex,
              );
              combined = appendIndex(symbol, prior, added, dynamic);
            }
            bytes = packRecord(combined);
          }
          tx.put(indexKey, bytes);
          const record = this.addVersion(tx, symbol, indexKey, options);
          this.remember(indexKey, bytes, combined);
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
  ): SmallWrite | undefined {
    const plan = this.planWrite(k, frame, reuse);
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
  planWrite(k: Kernels, frame: FrameData, reuse?: Reuse) {
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
      ref.key = reuse?.(bytes, ref) ?? "";
      segments.push(ref);
      return { ref, bytes };
    };
    const index: IndexRecord = indexRecordFor(frame, segments);
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
      const record = this.addVersion(tx, symbol, indexKey, options);
      this.remember(indexKey, packed, index);
      return record;
    };
  }

  /**
   * Seeds the index cache with a record this store is committing, so the next read or append of the
   * symbol skips parsing it. Harmless if the transaction then fails: entries are checked against the
   * stored bytes, and a key that was never stored is never found.
   */
  private remember(indexKey: string, packed: Uint8Array, index: IndexRecord): void {
    this.indexes.set(indexKey, packed, frozen(index));
  }

  /** Allocates the next version number of `symbol` and stores its record, inside `tx`. */
  addVersion(
    tx: WriteTransaction,
    symbol: string,
    indexKey: string,
    options: { meta?: Uint8Array; prune?: boolean },
  ): VersionRecord {
    const refKey = keys.ref(this.lib, symbol);
    const refBytes = tx.get(refKey);
    const ref: SymbolRef = refBytes ? unpackRef(refBytes) : { next: 0 };
    // The reference keeps numbers of deleted versions from coming back; the newest stored version is
    // checked too, so a reference that is behind (lost, or restored from an older copy) can never make a
    // write replace a version or land before the latest one.
    const [newest] = tx.keys(keys.versionPrefix(this.lib, symbol), { reverse: true, limit: 1 });
    const v = newest === undefined ? ref.next : Math.max(ref.next, versionOfKey(newest) + 1);
    const record: VersionRecord = { v, ts: Date.now(), index: indexKey };
    if (options.meta) record.meta = options.meta;
    tx.put(keys.version(this.lib, symbol, record.v), packRecord(record));
    tx.put(refKey, packRecord({ next: record.v + 1 } satisfies SymbolRef));
    if (options.prune) {
      const older = tx
        .keys(keys.versionPrefix(this.lib, symbol))
        .filter((key) => versionOfKey(key) < record.v);
      this.removeVersions(tx, symbol, older);
    }
    return record;
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
      const base = this.latest(symbol);
      if (!base) throw this.symbolNotFound(symbol);
      const index = this.readIndex(base, symbol);
      const dynamic = this.config.dynamicSchema;
      if (data) checkReplaceable(symbol, index, data, range, dynamic);
      // Under dynamic schema the new rows may add or widen columns: every part takes the union schema.
      const columns = data && dynamic ? unionColumns(symbol, index.columns, data.columns) : index.columns;
      const [r0, r1] = this.rowsInDateRange(k, symbol, base, index, range);
      const { lo, hi } = replaceBounds(index, r0, r1);
      const [before, after] = this.storage.readTransaction(() => [
        this.readRows(k, symbol, base, index, { rowRange: [lo, r0] }).frame,
        this.readRows(k, symbol, base, index, { rowRange: [r1, hi] }).frame,
      ]);
      const parts = (data ? [before, data, after] : [before, after]).map((f) =>
        columns === index.columns ? f : conformFrame(f, columns),
      );
      const middle = concatFrames(parts);
      const written: string[] = [];
      try {
        const committed = this.writeAndCommit(k, symbol, middle, written, (added) => {
          const record = replacedIndex(index, added, { lo, hi, middle, columns, dynamic });
          const indexKey = keys.index(this.lib, symbol, newId());
          const packed = packRecord(record);
          return (tx) => {
            const [latestKey] = tx.keys(keys.versionPrefix(this.lib, symbol), { reverse: true, limit: 1 });
            if (latestKey === undefined || versionOfKey(latestKey) !== base.v) return undefined;
            tx.put(indexKey, packed);
            const version = this.addVersion(tx, symbol, indexKey, options);
            this.remember(indexKey, packed, record);
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
      if (bytes) return this.addVersion(tx, symbol, unpackVersion(bytes).index, { meta, prune });
      if (!empty) throw this.symbolNotFound(symbol);
      const indexKey = keys.index(this.lib, symbol, newId());
      tx.put(indexKey, empty);
      return this.addVersion(tx, symbol, indexKey, { meta, prune });
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

  /** The latest live version of `symbol`, or undefined. */
  latest(symbol: string): VersionRecord | undefined {
    const [key] = this.storage.keys(keys.versionPrefix(this.lib, symbol), { reverse: true, limit: 1 });
    return key === undefined ? undefined : this.versionAt(key);
  }

  private versionAt(key: string): VersionRecord | undefined {
    const bytes = this.storage.getView(key);
    return bytes ? unpackVersion(bytes, `version record ${key}`) : undefined;
  }

  /**
   * The record of `symbol` that `which` selects: the latest when absent, a version number (negative counts
   * back from the latest), the version a snapshot pins, or the latest written at or before a time (ms).
   * Typed errors when there is none.
   *
   * A number or a time selects among live versions only, as in ArcticDB's Library API (which reads with
   * `iterate_snapshots_if_tombstoned=False`, `test_delete_version_with_snapshot`): a deleted version a
   * snapshot still holds is read through that snapshot's name. `pinned` also finds such versions by
   * number or time, as ArcticDB's `has_symbol` does.
   */
  resolve(symbol: string, which?: VersionSelector, options: { pinned?: boolean } = {}): VersionRecord {
    if (which === undefined) {
      const record = this.latest(symbol);
      if (!record) throw this.symbolNotFound(symbol);
      return record;
    }
    if (typeof which === "object" && "snapshot" in which) {
      const snap = readSnapshot((key) => this.storage.getView(key), this.lib, which.snapshot);
      const held = snap.pinned.find((p) => p.symbol === symbol);
      if (!held) {
        throw new SymbolNotFoundError(
          `Snapshot '${which.snapshot}' of library '${this.lib}' does not hold '${symbol}'. ` +
            `Call listSymbols({ snapshot: '${which.snapshot}' }) to see what it holds.`,
        );
      }
      return held.record;
    }
    if (typeof which === "object") {
      const entries = options.pinned ? listVersionInfo(this, symbol, {}) : this.listVersions(symbol);
      const hit = entries.find((e) => e.record.ts <= which.at);
      if (hit) return hit.record;
      throw this.noLiveVersion(
        symbol,
        `written at or before ${new Date(which.at).toISOString()}`,
        (p) => p.record.ts <= which.at,
      );
    }
    const version = which;
    const key = keys.version(this.lib, symbol, version < 0 ? this.negativeVersion(symbol, version) : version);
    const record = this.versionAt(key) ?? (options.pinned ? this.pinnedVersion(symbol, version) : undefined);
    if (record) return record;
    throw this.noLiveVersion(symbol, String(version), (p) => p.record.v === version);
  }

  /**
   * The error for a version of `symbol` that is not live (`what` describes the one asked for):
   * `SymbolNotFoundError` when the symbol has no live version at all, else `VersionNotFoundError`; either
   * names the snapshots that still hold a matching deleted version (`held`), through which it reads.
   */
  private noLiveVersion(
    symbol: string,
    what: string,
    held: (pinned: { record: VersionRecord }) => boolean,
  ): FloeError {
    const snapshots: string[] = [];
    for (const [name, snap] of listSnapshots(this.storage, this.lib)) {
      if (snap.pinned.some((p) => p.symbol === symbol && held(p))) snapshots.push(name);
    }
    const through =
      snapshots.length > 0
        ? ` A deleted version that matches is held by snapshot ${snapshots.map((n) => `'${n}'`).join(", ")}; ` +
          `read it with asOf: '${snapshots[0]}'.`
        : "";
    const live = this.versionNumbers(symbol);
    if (live.length === 0) {
      const gone = this.libraryGone();
      if (gone) return gone;
      return new SymbolNotFoundError(
        `Symbol '${symbol}' has no live version in library '${this.lib}' (never written, or deleted), so no ` +
          `version ${what}.${through || " Call listSymbols() to see what is stored."}`,
      );
    }
    return new VersionNotFoundError(
      `Symbol '${symbol}' in library '${this.lib}' has no version ${what} that is live; its live versions are ` +
        `${live.join(", ")}.${through || ` Call listVersions('${symbol}') to see them.`}`,
    );
  }

  /** A deleted version that a snapshot still pins (found by number only where `resolve` allows it). */
  private pinnedVersion(symbol: string, version: number): VersionRecord | undefined {
    for (const snap of listSnapshots(this.storage, this.lib).values()) {
      const held = snap.pinned.find((p) => p.symbol === symbol && p.record.v === version);
      if (held) return held.record;
    }
    return undefined;
  }

  // ArcticDB reads as_of=-1 as the latest, -2 as the one before, and so on.
  private negativeVersion(symbol: string, version: number): number {
    const live = this.versionNumbers(symbol);
    return live[live.length + version] ?? -1;
  }

  private versionNumbers(symbol: string): number[] {
    return this.storage.keys(keys.versionPrefix(this.lib, symbol)).map(versionOfKey);
  }

  /**
   * `LibraryNotFoundError` when this handle's library was deleted, else undefined: a call that finds
   * nothing asks this first, so it says the library is gone rather than that the symbol is.
   */
  libraryGone(): LibraryNotFoundError | undefined {
    return this.storage instanceof LibraryGuardedStorage ? this.storage.missing() : undefined;
  }

  /** Why `symbol` has no version: its library is gone (`LibraryNotFoundError`), or it has none. */
  private symbolNotFound(symbol: string): FloeError {
    const gone = this.libraryGone();
    if (gone) return gone;
    return new SymbolNotFoundError(
      `Symbol '${symbol}' does not exist in library '${this.lib}' (never written, or deleted). ` +
        "Call listSymbols() to see what is stored.",
    );
  }

  /**
   * The index record a version points at. Parsed records are cached (see `ParsedCache`) and frozen, as
   * they are shared between calls: copy before changing one.
   */
  readIndex(record: VersionRecord, symbol: string): IndexRecord {
    const bytes = this.storage.getView(record.index);
    if (!bytes) {
      throw new CorruptSegmentError("index record is missing", {
        symbol,
        version: record.v,
        segment: record.index,
      });
    }
    try {
      return this.indexes.get(record.index, bytes, parseIndex);
    } catch (err) {
      throw err instanceof CorruptSegmentError
        ? err.locate({ symbol, version: record.v, segment: record.index })
        : err;
    }
  }

  /** Reads a version of `symbol` (latest when `version` is absent), one consistent snapshot throughout. */
  read(
    k: Kernels,
    symbol: string,
    which: VersionSelector | undefined,
    request: ReadRequest = {},
  ): { record: VersionRecord; index: IndexRecord; frame: FrameData; rowStart: number } {
    return this.storage.readTransaction(() => {
      const record = this.resolve(symbol, which);
      const index = this.readIndex(record, symbol);
      return { record, index, ...this.readRows(k, symbol, record, index, request) };
    });
  }

  /**
   * The rows and columns `request` asks for of the version `record` (whose index is `index`). Fixed-width
   * columns and the timestamp index go into the arrays of `into` where it has them (each as long as the
   * rows read): a pool worker fills arrays the calling thread allocated, whose memory it may recycle.
   */
  readRows(
    k: Kernels,
    symbol: string,
    record: VersionRecord,
    index: IndexRecord,
    request: ReadRequest,
    into?: ReadTargets,
  ): { frame: FrameData; rowStart: number } {
    // Index columns the date-range lookup decoded, reused below instead of decoding them again.
    const decoded = new Map<string, BigInt64Array>();
    const rowRange = request.dateRange
      ? this.rowsInDateRange(k, symbol, record, index, request.dateRange, decoded)
      : request.rowRange;
    const plan = planRead(index, { ...request, rowRange });
    const columns: ColumnData[] = plan.columns.map((i) => {
      const { name, dtype } = index.columns[i];
      const info = DTYPES[dtype];
      const given = into?.columns.get(name);
      if (given && given.length !== plan.rows) throw new Error(`internal: column '${name}' target misfits`);
      const values = info.array
        ? (given ?? new info.array(plan.rows))
        : (new Array(plan.rows).fill(null) as StringArray);
      return { name, dtype, values };
    });
    const pieceBytes = (piece: (typeof plan.pieces)[number]) =>
      (piece.to - piece.from) * (indexValues && piece.segment.colStart === 0 ? 8 : 0) +
      segmentColumns(piece.segment, where)
        .filter((c) => byIndex.has(c))
        .reduce((n, c) => n + (piece.to - piece.from) * (DTYPES[index.columns[c].dtype].width || 8), 0);
    const byIndex = new Map(plan.columns.map((c, i) => [c, columns[i]]));
    const where = new Map(index.columns.map((c, i) => [c.name, i]));
    const indexValues =
      index.index.kind === "timestamp" && !request.withoutIndex
        ? (into?.index ?? new BigInt64Array(plan.rows))
        : null;
    if (indexValues && indexValues.length !== plan.rows) throw new Error("internal: index target misfits");
    this.meter?.expect(
      plan.pieces.reduce((n, p) => n + pieceBytes(p), 0),
      plan.pieces.length,
    );
    for (const piece of plan.pieces) {
      const seg = piece.segment;
      this.withSegment(k, symbol, record, seg, (parsed) => {
        for (const c of segmentColumns(seg, where)) {
          const col = byIndex.get(c);
          if (!col) continue;
          const storedAs = parsed.columns.get(col.name)?.dtype ?? col.dtype;
          if (storedAs === col.dtype) {
            decodeSegmentColumn(k, parsed, col.name, col.values, piece.outRow, piece.from, piece.to);
          } else {
            // Written before dynamic schema widened the column: decode as stored, then widen.
            const info = DTYPES[storedAs];
            if (!info.array || !DTYPES[col.dtype].array)
              throw new CorruptSegmentError("segment column has an impossible dtype");
            const temp = new info.array(piece.to - piece.from);
            decodeSegmentColumn(k, parsed, col.name, temp, 0, piece.from, piece.to);
            convertInto(temp, col.values as NumericArray, piece.outRow);
          }
        }
        if (indexValues && index.index.kind === "timestamp" && seg.colStart === 0) {
          const known = decoded.get(seg.key);
          if (known) indexValues.set(known.subarray(piece.from, piece.to), piece.outRow);
          else
            decodeSegmentColumn(k, parsed, index.index.name, indexValues, piece.outRow, piece.from, piece.to);
        }
      });
      this.meter?.add(pieceBytes(piece));
    }
    for (const gap of plan.gaps) {
      const col = byIndex.get(gap.column);
      if (col) fillMissing(col.values, col.dtype, gap.outRow, gap.outRow + gap.rows);
    }
    const frame: FrameData = {
      numRows: plan.rows,
      columns,
      index:
        indexValues && index.index.kind === "timestamp"
          ? { kind: "timestamp", name: index.index.name, values: indexValues, tz: index.index.tz }
          : { kind: "row" },
    };
    return { frame, rowStart: plan.rowStart };
  }

  /**
   * Runs `fn` on segment `seg` of version `record`, parsed and checked against its index entry; a
   * `CorruptSegmentError` from either is located at symbol, version and segment.
   */
  private withSegment<T>(
    k: Kernels,
    symbol: string,
    record: VersionRecord,
    seg: SegmentRef,
    fn: (parsed: ParsedSegment) => T,
  ): T {
    try {
      const bytes = this.storage.getView(seg.key);
      if (!bytes) throw new CorruptSegmentError("segment is missing");
      const parsed = parseSegment(k, bytes);
      if (parsed.rows !== seg.rows) throw new CorruptSegmentError("segment row count differs from its index");
      return fn(parsed);
    } catch (err) {
      throw err instanceof CorruptSegmentError
        ? err.locate({ symbol, version: record.v, segment: `${seg.key} (rows ${seg.rowStart}..)` })
        : err;
    }
  }

  /**
   * Rows [start, end) of a sorted timestamp index whose timestamps lie in `range` (inclusive). Segment
   * first/last timestamps in the index pick the two boundary segments; only their index columns are
   * decoded, into `decoded` by segment key. Those arrays may be shared with later calls (see
   * `indexColumn`): read them, never write to them or hand them out.
   */
  rowsInDateRange(
    k: Kernels,
    symbol: string,
    record: VersionRecord,
    index: IndexRecord,
    range: [bigint | null, bigint | null],
    decoded: Map<string, BigInt64Array> = new Map(),
  ): [number, number] {
    if (isNoData(index)) return [0, 0];
    if (index.index.kind !== "timestamp") {
      throw new InvalidArgumentError(
        `dateRange needs a timestamp index, but '${symbol}' is indexed by row number; use rowRange.`,
      );
    }
    if (!index.index.sorted) {
      throw new UnsortedIndexError(
        `dateRange needs a sorted index, but '${symbol}' version ${record.v} was written with unsorted timestamps; read it whole or rewrite it sorted.`,
      );
    }
    const slices = index.segments.filter((seg) => seg.colStart === 0 && seg.rows > 0);
    const name = index.index.name;
    // The first row whose timestamp is >= t (strict: > t).
    const bound = (t: bigint, strict: boolean): number => {
      const past = (v: bigint) => (strict ? v > t : v >= t);
      const seg = slices.find((s) => past(s.last as bigint));
      if (!seg) return index.rows;
      if (past(seg.first as bigint)) return seg.rowStart;
      let values = decoded.get(seg.key);
      if (!values) {
        values = this.withSegment(k, symbol, record, seg, (parsed) => this.indexColumn(k, parsed, seg, name));
        decoded.set(seg.key, values);
      }
      return seg.rowStart + firstAtOrAfter(values, strict ? t + 1n : t);
    };
    const start = range[0] === null ? 0 : bound(range[0], false);
    const end = range[1] === null ? index.rows : bound(range[1], true);
    return [start, Math.max(start, end)];
  }

  /**
   * The index column of `seg` (parsed as `parsed`), decoded. The last few are kept, each checked against
   * the stored block on use: a date-range read looks its boundary segments up twice (once to plan for
   * the pool, once to read), and repeated reads of a window hit the same ones.
   */
  private indexColumn(k: Kernels, parsed: ParsedSegment, seg: SegmentRef, name: string): BigInt64Array {
    const decode = () => {
      const values = new BigInt64Array(seg.rows);
      decodeSegmentColumn(k, parsed, name, values, 0, 0, seg.rows);
      return values;
    };
    const block = parsed.columns.get(name)?.block.bytes;
    return block ? this.boundaries.get(seg.key, block, decode) : decode();
  }

  /**
   * Symbols with at least one live version, in name order (sorted here: key order is not name order,
   * as a name's `/` is NUL inside keys).
   */
  listSymbols(): string[] {
    return this.storage
      .keys(keys.refPrefix(this.lib))
      .map(lastPart)
      .filter((symbol) => this.storage.keys(keys.versionPrefix(this.lib, symbol), { limit: 1 }).length > 0)
      .sort();
  }

  /** Live versions, newest first, of one symbol or of all. */
  listVersions(symbol?: string): VersionEntry[] {
    return this.storage.readTransaction(() => {
      const prefix =
        symbol === undefined ? keys.allVersionsPrefix(this.lib) : keys.versionPrefix(this.lib, symbol);
      const entries: VersionEntry[] = [];
      for (const key of this.storage.keys(prefix, { reverse: true })) {
        const record = this.versionAt(key);
        const sym = symbolOfVersionKey(key);
        if (record) entries.push({ symbol: sym, record });
      }
      return entries;
    });
  }

  /**
   * Deletes some versions of `symbol`, or all of them, and frees the indexes and segments nothing else
   * references. The reference stays, so version numbers are never handed out twice. As in ArcticDB,
   * deleting a whole symbol that has no live version does nothing (`test_deleting_unknown_symbol`), while
   * naming a version that is not live is `VersionNotFoundError` (`test_delete_version_that_does_not_exist`)
   * and deletes nothing.
   */
  delete(symbol: string, versions?: number[]): void {
    this.storage.writeTransaction((tx) => {
      const existing = tx.keys(keys.versionPrefix(this.lib, symbol));
      let doomed = existing;
      if (versions) {
        const have = new Set(existing.map(versionOfKey));
        const missing = versions.filter((v) => !have.has(v));
        if (missing.length > 0) {
          const live =
            have.size > 0 ? `its live versions are ${[...have].join(", ")}` : "it has no live version";
          throw new VersionNotFoundError(
            `Symbol '${symbol}' in library '${this.lib}' has no version ${missing.join(", ")}; ${live}. ` +
              "Nothing was deleted.",
          );
        }
        const wanted = new Set(versions);
        doomed = existing.filter((key) => wanted.has(versionOfKey(key)));
      }
      this.removeVersions(tx, symbol, doomed);
    });
  }

  /** Deletes every version of `symbol` but the latest, freeing what only they referenced. */
  pruneVersions(symbol: string): void {
    this.storage.writeTransaction((tx) => {
      const existing = tx.keys(keys.versionPrefix(this.lib, symbol));
      if (existing.length === 0) throw this.symbolNotFound(symbol);
      this.removeVersions(tx, symbol, existing.slice(0, -1));
    });
  }

  /** Whether `symbol` was ever stored (a reference exists): old names stay writable under new-name rules. */
  symbolKnown(symbol: string): boolean {
    return this.storage.getView(keys.ref(this.lib, symbol)) !== undefined;
  }

  /** Snapshot `name`; `SnapshotNotFoundError` when absent. */
  readSnapshot(name: string): SnapshotRecord {
    return readSnapshot((key) => this.storage.getView(key), this.lib, name);
  }

  /** Every snapshot by name, in name order. */
  listSnapshots(): Map<string, SnapshotRecord> {
    return listSnapshots(this.storage, this.lib);
  }

  /** Takes snapshot `name` (see snapshots.ts). */
  takeSnapshot(
    name: string,
    options: { meta?: Uint8Array; skip?: Set<string>; versions?: Map<string, number> },
  ): SnapshotRecord {
    return takeSnapshot(this.storage, this.lib, name, options);
  }

  /** Removes snapshot `name` and frees the data only it still held. */
  dropSnapshot(name: string): void {
    dropSnapshot(this.storage, this.lib, name);
  }

  /** The versions `options` select (see version-list.ts). */
  listVersionInfo(symbol: string | undefined, options: VersionListOptions): ListedVersion[] {
    return listVersionInfo(this, symbol, options);
  }

  /** Removes version keys and frees the indexes and segments nothing else references. */
  private removeVersions(tx: WriteTransaction, symbol: string, versionKeys: string[]): void {
    const doomed: string[] = [];
    for (const key of versionKeys) {
      const bytes = tx.get(key);
      if (bytes) doomed.push(unpackVersion(bytes).index);
      tx.remove(key);
    }
    collectGarbage(tx, this.lib, symbol, doomed);
  }
}

/** Matches a newly encoded tile with an already stored segment (dedup); returns its key or undefined. */
type Reuse = (bytes: Uint8Array, tile: SegmentRef) => string | undefined;

type Tile = ReturnType<typeof planTiles>[number];

/** An encoded segment waiting (in an arena) for the transaction that stores it. */
interface PendingSegment {
  key: string;
  bytes: Uint8Array;
}

/** A small write encoded ahead of its one transaction. */
interface SmallWrite {
  index: IndexRecord;
  pending: PendingSegment[];
  /** Raw bytes of each tile, for progress once committed. */
  progress: number[];
  /** Encoded bytes of `pending`. */
  bytes: number;
}

/** An index record as stored, frozen because the cache shares it between callers. */
function parseIndex(bytes: Uint8Array): IndexRecord {
  return frozen(unpackIndex(bytes));
}

/** `value` and every object and array inside it, frozen (typed arrays cannot be, and are left as they are). */
function frozen<T>(value: T): T {
  if (typeof value !== "object" || value === null || ArrayBuffer.isView(value) || Object.isFrozen(value))
    return value;
  for (const inner of Object.values(value)) frozen(inner);
  return Object.freeze(value);
}
