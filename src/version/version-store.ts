import type { ParsedSegment } from "../codec/segment.ts";
import type { Kernels } from "../codec/wasm.ts";
import type { LibraryNotFoundError } from "../errors.ts";
import type { Storage, WriteTransaction } from "../storage/storage.ts";
import type { SegmentArena } from "./arena.ts";
import type { ColumnData, FrameData } from "./frame-data.ts";
import type { MeterSlot, ProgressMeter } from "./progress.ts";
import { type ChunkPiece, ReadPath, type ReadTargets } from "./read-path.ts";
import type { ReadRequest } from "./read-plan.ts";
import type { IndexRecord, LibraryConfig, SnapshotRecord, VersionRecord } from "./records.ts";
import { dropSnapshot, listSnapshots, readSnapshot, takeSnapshot } from "./snapshots.ts";
import { deleteStaged, type FinalizeOptions, finalizeStaged, stageChunk } from "./staging.ts";
import { type StreamUpdateOptions, updateStream } from "./stream-update.ts";
import { type StreamWriteOptions, writeStream } from "./stream-write.ts";
import { removeOrphans, type VerifyReport, verifyLibrary } from "./verify.ts";
import { VersionChain, type VersionSelector } from "./version-chain.ts";
import {
  type ListedVersion,
  listVersionInfo,
  type VersionEntry,
  type VersionListOptions,
} from "./version-list.ts";
import { type EncodedWrite, type Reuse, WritePath, type WritePlan } from "./write-path.ts";

/**
 * The version engine of one library on a transactional store (LMDB, memory): turns frames into segments,
 * indexes and versions on write, and versions back into frames on read. It holds the library's state and
 * hands each call to the path that does it:
 * - write-path.ts (`WritePath`): encoding and storing segments, and committing the versions they make;
 * - read-path.ts (`ReadPath`): index records, segments and date ranges back into frames;
 * - version-chain.ts (`VersionChain`): finding, numbering and deleting versions.
 * A write goes down that list (its commit numbers the version in the chain), a read the last two.
 */
export class VersionStore {
  /** The progress meter of the call running now, shared by the read and write paths. */
  private readonly running: MeterSlot = { meter: undefined };
  private readonly chain: VersionChain;
  private readonly reads: ReadPath;
  private readonly writes: WritePath;

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
    this.chain = new VersionChain(storage, lib);
    this.reads = new ReadPath(storage, this.chain, this.running);
    this.writes = new WritePath(storage, lib, config, this.chain, this.reads, this.running, options);
  }

  /** Runs `fn` with `meter` counting the segments it writes and reads. */
  metered<T>(meter: ProgressMeter | undefined, fn: () => T): T {
    const outer = this.running.meter;
    this.running.meter = meter ?? outer;
    try {
      return fn();
    } finally {
      this.running.meter = outer;
    }
  }

  // ---- writing (write-path.ts) ----

  /** Stores `frame` as a new version of `symbol` and returns its record. */
  write(
    k: Kernels,
    symbol: string,
    frame: FrameData,
    options: { meta?: Uint8Array; prune?: boolean } = {},
  ): VersionRecord {
    return this.writes.write(k, symbol, frame, options);
  }

  /** Stores several frames as new versions, all committed in one transaction; an error in a failed item's slot. */
  writeMany(
    k: Kernels,
    items: { symbol: string; frame: FrameData; meta?: Uint8Array }[],
  ): (VersionRecord | Error)[] {
    return this.writes.writeMany(k, items);
  }

  /** Appends the rows of `frame` after the last stored row of `symbol` as a new version. */
  append(
    k: Kernels,
    symbol: string,
    frame: FrameData,
    options: { meta?: Uint8Array; prune?: boolean } = {},
  ): VersionRecord {
    return this.writes.append(k, symbol, frame, options);
  }

  /** Encodes and stores the tiles of `frame`, then commits with the step `commit` returns. */
  writeAndCommit<T>(
    k: Kernels,
    symbol: string,
    frame: FrameData,
    written: string[],
    commit: (index: IndexRecord) => (tx: WriteTransaction) => T | undefined,
    reuse?: Reuse,
  ): T | undefined {
    return this.writes.writeAndCommit(k, symbol, frame, written, commit, reuse);
  }

  /** Encodes the tiles of `frame` into `arena` under fresh keys, storing nothing (see `WritePath`). */
  encodeUnstored(k: Kernels, symbol: string, frame: FrameData, arena: SegmentArena): EncodedWrite {
    return this.writes.encodeUnstored(k, symbol, frame, arena);
  }

  /** The tiles `frame` is cut into, how each is encoded (or matched by `reuse`), and the index they make. */
  planWrite(k: Kernels, frame: FrameData, reuse?: Reuse): WritePlan {
    return this.writes.planWrite(k, frame, reuse);
  }

  /** Encodes and stores the tiles of `frame` in batches; returns the index record describing them. */
  writeSegments(
    k: Kernels,
    symbol: string,
    frame: FrameData,
    written: string[],
    reuse?: Reuse,
    last?: (index: IndexRecord, tx: WriteTransaction) => void,
  ): IndexRecord {
    return this.writes.writeSegments(k, symbol, frame, written, reuse, last);
  }

  /** The final transaction of a write: index, version number, version record and reference. */
  commitVersion(
    symbol: string,
    index: IndexRecord,
    options: { meta?: Uint8Array; prune?: boolean },
    shares: boolean,
  ): VersionRecord | undefined {
    return this.writes.commitVersion(symbol, index, options, shares);
  }

  /** A new version of `symbol` whose rows with timestamps in `range` are replaced by `data`'s. */
  replaceRange(
    k: Kernels,
    symbol: string,
    range: [bigint | null, bigint | null],
    data: FrameData | null,
    options: { meta?: Uint8Array; prune?: boolean },
  ): VersionRecord {
    return this.writes.replaceRange(k, symbol, range, data, options);
  }

  /** A new version of `symbol` holding the latest version's data with `meta` as its metadata. */
  writeMetadata(
    symbol: string,
    meta: Uint8Array | undefined,
    prune: boolean,
    create: boolean,
  ): VersionRecord {
    return this.writes.writeMetadata(symbol, meta, prune, create);
  }

  /** Best-effort removal of segments a failed write left behind. */
  discard(written: string[]): void {
    this.writes.discard(written);
  }

  // ---- reading (read-path.ts) ----

  /** The index record a version points at (cached and frozen: copy before changing one). */
  readIndex(record: VersionRecord, symbol: string): IndexRecord {
    return this.reads.readIndex(record, symbol);
  }

  /** Reads a version of `symbol` (latest when `version` is absent), one consistent snapshot throughout. */
  read(
    k: Kernels,
    symbol: string,
    which: VersionSelector | undefined,
    request: ReadRequest = {},
  ): { record: VersionRecord; index: IndexRecord; frame: FrameData; rowStart: number } {
    return this.reads.read(k, symbol, which, request);
  }

  /** The rows and columns `request` asks for of the version `record` (whose index is `index`). */
  readRows(
    k: Kernels,
    symbol: string,
    record: VersionRecord,
    index: IndexRecord,
    request: ReadRequest,
    into?: ReadTargets,
  ): { frame: FrameData; rowStart: number } {
    return this.reads.readRows(k, symbol, record, index, request, into);
  }

  /** The rows of `request` a mask computed from its `first` columns keeps (see `ReadPath.readRowsWhere`). */
  readRowsWhere(
    k: Kernels,
    symbol: string,
    record: VersionRecord,
    index: IndexRecord,
    request: ReadRequest,
    first: readonly string[],
    where: (columns: readonly ColumnData[], rows: number) => Uint8Array,
    into?: ReadTargets,
  ): { frame: FrameData; rows: number } {
    return this.reads.readRowsWhere(k, symbol, record, index, request, first, where, into);
  }

  /** `fn` on the pieces of segments holding `columns` for `request`'s rows (see `ReadPath.withPieces`). */
  withPieces<T>(
    k: Kernels,
    symbol: string,
    record: VersionRecord,
    index: IndexRecord,
    request: ReadRequest,
    columns: readonly string[],
    fn: (
      pieces: ChunkPiece[],
      open: <R>(piece: ChunkPiece, use: (parsed: ParsedSegment) => R) => R,
    ) => T | null,
  ): T | null {
    return this.reads.withPieces(k, symbol, record, index, request, columns, fn);
  }

  /** Rows [start, end) of a sorted timestamp index whose timestamps lie in `range` (inclusive). */
  rowsInDateRange(
    k: Kernels,
    symbol: string,
    record: VersionRecord,
    index: IndexRecord,
    range: [bigint | null, bigint | null],
    decoded?: Map<string, BigInt64Array>,
  ): [number, number] {
    return this.reads.rowsInDateRange(k, symbol, record, index, range, decoded);
  }

  // ---- the version chain (version-chain.ts) ----

  /** Allocates the next version number of `symbol` and stores its record, inside `tx`. */
  addVersion(
    tx: WriteTransaction,
    symbol: string,
    indexKey: string,
    options: { meta?: Uint8Array; prune?: boolean },
  ): VersionRecord {
    return this.chain.addVersion(tx, symbol, indexKey, options);
  }

  /** The latest live version of `symbol`, or undefined. */
  latest(symbol: string): VersionRecord | undefined {
    return this.chain.latest(symbol);
  }

  /** The record of `symbol` that `which` selects (the latest when absent); typed errors when there is none. */
  resolve(symbol: string, which?: VersionSelector, options: { pinned?: boolean } = {}): VersionRecord {
    return this.chain.resolve(symbol, which, options);
  }

  /** `LibraryNotFoundError` when this handle's library was deleted, else undefined. */
  libraryGone(): LibraryNotFoundError | undefined {
    return this.chain.libraryGone();
  }

  /** Symbols with at least one live version, in name order. */
  listSymbols(): string[] {
    return this.chain.listSymbols();
  }

  /** Live versions, newest first, of one symbol or of all. */
  listVersions(symbol?: string): VersionEntry[] {
    return this.chain.listVersions(symbol);
  }

  /** Deletes some versions of `symbol`, or all of them, and frees what nothing else references. */
  delete(symbol: string, versions?: number[]): void {
    this.chain.delete(symbol, versions);
  }

  /** Deletes every version of `symbol` but the latest, freeing what only they referenced. */
  pruneVersions(symbol: string): void {
    this.chain.pruneVersions(symbol);
  }

  /** Whether `symbol` was ever stored (a reference exists): old names stay writable under new-name rules. */
  symbolKnown(symbol: string): boolean {
    return this.chain.symbolKnown(symbol);
  }

  // ---- snapshots and listings ----

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
    return listVersionInfo(this.chain, symbol, options);
  }

  // ---- staged and streamed writes, checks (their own modules; methods so both engines answer alike) ----

  /** Stores `frame` as a staged chunk of `symbol` (staging.ts). */
  stage(k: Kernels, symbol: string, frame: FrameData): void {
    stageChunk(this, k, symbol, frame);
  }

  /** One new version of every chunk staged for `symbol` (staging.ts). */
  finalizeStaged(k: Kernels, symbol: string, options: FinalizeOptions): VersionRecord {
    return finalizeStaged(this, k, symbol, options);
  }

  /** Drops every chunk staged for `symbol`. */
  deleteStaged(symbol: string): void {
    deleteStaged(this, symbol);
  }

  /** One version from a stream of frames (stream-write.ts). */
  writeStream(
    k: Kernels,
    symbol: string,
    source: AsyncIterable<FrameData>,
    options: StreamWriteOptions,
  ): Promise<VersionRecord> {
    return writeStream(this, k, symbol, source, options);
  }

  /** One version from `base` with the rows of a stream of frames in their date range (stream-update.ts). */
  updateStream(
    k: Kernels,
    symbol: string,
    base: VersionRecord,
    source: AsyncIterable<FrameData>,
    options: StreamUpdateOptions,
  ): Promise<VersionRecord> {
    return updateStream(this, k, symbol, base, source, options);
  }

  /** The same library with another configuration (compaction writes with its own `rowsPerSegment`). */
  withConfig(config: LibraryConfig): VersionStore {
    return new VersionStore(this.storage, this.lib, config);
  }

  /** Checks the library (verify.ts). */
  verify(k: Kernels, options: { data: boolean }): VerifyReport {
    return verifyLibrary(this, k, options);
  }

  /** Removes orphans older than `graceMs`; returns their keys. */
  cleanup(k: Kernels, graceMs: number): string[] {
    return removeOrphans(this, verifyLibrary(this, k, { data: false }).orphans, graceMs);
  }
}
