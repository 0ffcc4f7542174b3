import { packRecord } from "../codec/msgpack.ts";
import type { Kernels } from "../codec/wasm.ts";
import { DTYPES, type NumericArray, type StringArray } from "../dtypes.ts";
import {
  type FloeError,
  InvalidArgumentError,
  LibraryNotFoundError,
  StorageError,
  VersionNotFoundError,
} from "../errors.ts";
import type { ChunkResult, ChunkSteps } from "../query/chunk.ts";
import { mapLimit, type ObjectStore } from "../storage/object-store.ts";
import { sameBytes } from "../storage/parsed-cache.ts";
import { concatFrames } from "./frame-concat.ts";
import type { FrameData } from "./frame-data.ts";
import { newId } from "./keys.ts";
import { commitSent, ObjectChain } from "./object-chain.ts";
import { libraryRecordKey, type ObjectKeys, objectKeys, unescapeName } from "./object-keys.ts";
import { deleteObjectStaged, finalizeObjectStaged, stageObjectChunk } from "./object-staging.ts";
import { cleanupObjects, verifyObjects } from "./object-verify.ts";
import { PrefetchedStorage } from "./prefetched-storage.ts";
import type { ProgressMeter } from "./progress.ts";
import { queryChunks } from "./query-chunk.ts";
import { indexOfVersion, type ReadTargets } from "./read-path.ts";
import { chunkRanges, planRead, type ReadRequest, resolveRowRange } from "./read-plan.ts";
import {
  type IndexRecord,
  isNoData,
  type LibraryConfig,
  noDataIndex,
  type SegmentRef,
  type SnapshotRecord,
  unpackIndex,
  unpackSnapshot,
  type VersionRecord,
} from "./records.ts";
import {
  appendIndex,
  checkAppendable,
  checkReplaceable,
  checkSortedWrite,
  frameShape,
} from "./schema-checks.ts";
import {
  emptySnapshotError,
  notPinnableError,
  snapshotExistsError,
  snapshotNotFoundError,
} from "./snapshots.ts";
import type { FinalizeOptions } from "./staging.ts";
import {
  boundaryFrames,
  checkStillReplaceable,
  gatherUpdate,
  MAX_ATTEMPTS,
  needsLast,
  type StreamUpdateOptions,
  splicedIndex,
  tooManyAttempts,
} from "./stream-update.ts";
import { gatherChunks, type StreamWriteOptions } from "./stream-write.ts";
import { replaceBounds, replacedIndex } from "./update.ts";
import type { VerifyReport } from "./verify.ts";
import type { VersionSelector } from "./version-chain.ts";
import { noLiveVersionError, notInSnapshotError, symbolNotFoundError } from "./version-errors.ts";
import {
  combineVersionInfo,
  type ListedVersion,
  type VersionEntry,
  type VersionListOptions,
} from "./version-list.ts";
import { VersionStore } from "./version-store.ts";
import { conformFrame, unionColumns } from "./widen.ts";

/** Encoded bytes of segments a write keeps in flight (PUTs not yet answered). */
const WRITE_IN_FLIGHT_BYTES = 128 << 20;
/** Segment PUTs a write keeps in flight. */
const WRITE_IN_FLIGHT = 16;
/** How many times a replacement (update) is redone when other writers commit first. */
const MAX_REPLACE_ATTEMPTS = 20;

/**
 * The version engine of one library on an object store (`s3://`): the same operations as `VersionStore`
 * (which it uses to encode and decode, so both write identical segments and indexes), with S3's rules:
 * no transactions, every immutable object created create-only, versions committed by `ObjectChain`,
 * nothing freed at delete time (tombstones; `cleanup` frees after a grace period, as a concurrent writer
 * may still be sharing what a delete made unreferenced). A read fetches its index, then exactly the
 * segments its plan names, many at once.
 */
export class ObjectVersionStore {
  readonly chain: ObjectChain;
  readonly keys: ObjectKeys;
  /** Encodes segments (its scratch buffer is reused: each encoded tile is copied before the next). */
  private readonly codec: VersionStore;
  private meter: ProgressMeter | undefined;

  constructor(
    readonly objects: ObjectStore,
    readonly lib: string,
    readonly config: LibraryConfig,
    /** The library's record as this handle opened it: writes check it is still the stored one. */
    private readonly libraryRecord: Uint8Array,
  ) {
    this.keys = objectKeys(lib, config.id ?? "0");
    this.chain = new ObjectChain(objects, this.keys);
    this.codec = new VersionStore(new PrefetchedStorage(new Map()), lib, config);
  }

  /** The same library with another configuration (compaction writes with its own `rowsPerSegment`). */
  withConfig(config: LibraryConfig): ObjectVersionStore {
    return new ObjectVersionStore(this.objects, this.lib, config, this.libraryRecord);
  }

  /**
   * Runs `fn` with `meter` counting the segments it writes and reads. Each async method takes the meter
   * in its first, synchronous step, so calls that overlap keep their own.
   */
  metered<T>(meter: ProgressMeter | undefined, fn: () => T): T {
    const outer = this.meter;
    this.meter = meter ?? outer;
    try {
      return fn();
    } finally {
      this.meter = outer;
    }
  }

  /** Object stores hold only names written under today's rules (see `Library.checkNewSymbol`). */
  symbolKnown(_symbol: string): boolean {
    return false;
  }

  // ---- writing ----

  /** Stores `frame` as a new version of `symbol`. */
  async write(
    k: Kernels,
    symbol: string,
    frame: FrameData,
    options: { meta?: Uint8Array; prune?: boolean; checkLibrary?: boolean } = {},
  ): Promise<VersionRecord> {
    const meter = this.meter;
    checkSortedWrite(symbol, frame);
    return (await this.committing(symbol, options, async (written) => {
      const index = await this.storeSegments(k, symbol, frame, written, meter);
      const indexKey = await this.storeIndex(symbol, index, written);
      // A plain write does not depend on the latest version.
      return this.chain.commit(symbol, async () => ({ index: indexKey, meta: options.meta }), {
        needsLatest: false,
      });
    })) as VersionRecord;
  }

  /** Writes several frames, each its own version; an item that fails yields its error in its slot. */
  async writeMany(
    k: Kernels,
    items: { symbol: string; frame: FrameData; meta?: Uint8Array }[],
  ): Promise<(VersionRecord | Error)[]> {
    const meter = this.meter;
    const results = await mapLimit(items, WRITE_IN_FLIGHT, (item) =>
      this.metered(meter, () =>
        this.write(k, item.symbol, item.frame, { meta: item.meta, checkLibrary: false }),
      ).catch((err: Error) => err),
    );
    // Whether the library still exists is asked once for the batch, not once per item.
    const gone = await this.libraryGone();
    return gone ? results.map((r) => (r instanceof Error ? r : gone)) : results;
  }

  /**
   * Appends `frame` after the last row of `symbol` as a new version (writes it when there is none). The
   * new rows are stored once; if another writer commits first, the index is rebuilt on its version.
   */
  async append(
    k: Kernels,
    symbol: string,
    frame: FrameData,
    options: { meta?: Uint8Array; prune?: boolean } = {},
  ): Promise<VersionRecord> {
    const meter = this.meter;
    const base = await this.chain.latest(symbol);
    const dynamic = this.config.dynamicSchema;
    const baseIndex = base ? await this.readIndex(base, symbol) : undefined;
    if (baseIndex) checkAppendable(symbol, baseIndex, frameShape(frame), dynamic);
    else checkSortedWrite(symbol, frame);
    return (await this.committing(symbol, options, async (written) => {
      const added = await this.storeSegments(k, symbol, frame, written, meter);
      // Another writer may have committed first (even the symbol's first version): append after it.
      return this.chain.commit(symbol, async (latest) => ({
        index: await this.storeIndex(
          symbol,
          await this.appendedTo(symbol, latest, base, baseIndex, added),
          written,
        ),
        meta: options.meta,
      }));
    })) as VersionRecord;
  }

  /** `added` appended to version `latest` (whose index is `baseIndex` when it is `base`), or alone. */
  private async appendedTo(
    symbol: string,
    latest: VersionRecord | undefined,
    base: VersionRecord | undefined,
    baseIndex: IndexRecord | undefined,
    added: IndexRecord,
  ): Promise<IndexRecord> {
    if (!latest) return added;
    const prior = latest.v === base?.v && baseIndex ? baseIndex : await this.readIndex(latest, symbol);
    return appendIndex(symbol, prior, added, this.config.dynamicSchema);
  }

  /**
   * A new version of `symbol` whose rows with timestamps in `range` (inclusive) are replaced by `data`'s
   * (removed when null); segments wholly outside the range are shared. Redone on the newer version when
   * another writer commits first.
   */
  async replaceRange(
    k: Kernels,
    symbol: string,
    range: [bigint | null, bigint | null],
    data: FrameData | null,
    options: { meta?: Uint8Array; prune?: boolean },
  ): Promise<VersionRecord> {
    const meter = this.meter;
    for (let attempt = 0; attempt < MAX_REPLACE_ATTEMPTS; attempt++) {
      const base = await this.chain.latest(symbol);
      if (!base) throw await this.symbolNotFound(symbol);
      const index = await this.readIndex(base, symbol);
      const dynamic = this.config.dynamicSchema;
      if (data) checkReplaceable(symbol, index, data, range, dynamic);
      const columns = data && dynamic ? unionColumns(symbol, index.columns, data.columns) : index.columns;
      const [r0, r1] = await this.rowsInDateRange(k, symbol, base, index, range);
      const { lo, hi } = replaceBounds(index, r0, r1);
      const before = (await this.readRows(k, symbol, base, index, { rowRange: [lo, r0] })).frame;
      const after = (await this.readRows(k, symbol, base, index, { rowRange: [r1, hi] })).frame;
      const parts = (data ? [before, data, after] : [before, after]).map((f) =>
        columns === index.columns ? f : conformFrame(f, columns),
      );
      const middle = concatFrames(parts);
      const record = await this.committing(symbol, options, async (written) => {
        const added = await this.storeSegments(k, symbol, middle, written, meter);
        const replaced = replacedIndex(index, added, { lo, hi, columns, dynamic });
        const indexKey = await this.storeIndex(symbol, replaced, written);
        // Declined when another version came first: the replacement is redone on it.
        return this.chain.commit(symbol, async (latest) =>
          latest?.v === base.v ? { index: indexKey, meta: options.meta } : undefined,
        );
      });
      if (record) return record;
    }
    throw new StorageError(
      `Could not replace rows of '${symbol}': other writers kept committing first (${MAX_REPLACE_ATTEMPTS} tries); retry later.`,
    );
  }

  /**
   * A new version of `symbol` with the latest version's data and `meta` as its metadata; with `create`,
   * a version without data when the symbol has none, else `SymbolNotFoundError`.
   */
  async writeMetadata(
    symbol: string,
    meta: Uint8Array | undefined,
    prune: boolean,
    create: boolean,
  ): Promise<VersionRecord> {
    let empty: string | undefined;
    return (await this.committing(symbol, { prune }, async (written) =>
      this.chain.commit(symbol, async (latest) => {
        if (latest) return { index: latest.index, meta };
        if (!create) throw await this.symbolNotFound(symbol);
        empty ??= await this.storeIndex(symbol, noDataIndex(), written);
        return { index: empty, meta };
      }),
    )) as VersionRecord;
  }

  /**
   * `write` or `append` of a stream of frames as ONE version (see stream-write.ts for the checks and the
   * cutting into whole segments): each chunk's segments are stored as it arrives and only the final
   * commit makes them visible. A source that throws leaves no version and its segments are deleted; a
   * process killed midway leaves them unreferenced, for `cleanup`.
   */
  async writeStream(
    k: Kernels,
    symbol: string,
    source: AsyncIterable<FrameData>,
    options: StreamWriteOptions,
  ): Promise<VersionRecord> {
    const meter = options.meter ?? this.meter;
    const dynamic = this.config.dynamicSchema;
    const base = options.mode === "append" ? await this.chain.latest(symbol) : undefined;
    const baseIndex = base ? await this.readIndex(base, symbol) : undefined;
    const record = await this.committing(symbol, options, async (written) => {
      let gathered: IndexRecord | undefined;
      await gatherChunks(
        symbol,
        source,
        { rowsPerSegment: this.config.rowsPerSegment, dynamic, previous: baseIndex },
        async (frame) => {
          const added = await this.storeSegments(k, symbol, frame, written, meter);
          gathered = gathered ? appendIndex(symbol, gathered, added, dynamic) : added;
        },
      );
      const rows = gathered as IndexRecord;
      return this.chain.commit(symbol, async (latest) => {
        if (options.expectLatest !== undefined && latest?.v !== options.expectLatest) return undefined;
        const index =
          options.mode === "write" ? rows : await this.appendedTo(symbol, latest, base, baseIndex, rows);
        return { index: await this.storeIndex(symbol, index, written), meta: options.meta };
      });
    });
    if (!record) {
      throw new InvalidArgumentError(
        `'${symbol}' got a new version while it was being rewritten; nothing was committed. Run it again.`,
      );
    }
    return record;
  }

  /**
   * `update` from a stream of frames as ONE version (see stream-update.ts): the stream's whole segments
   * are stored as they arrive; the commit stores the rows the range's ends cut through, read from the
   * version it commits on, and is redone (those rows only) when another writer commits first. A source
   * that throws leaves no version and the stream's segments deleted; a process killed midway leaves them
   * unreferenced, for `cleanup`.
   */
  async updateStream(
    k: Kernels,
    symbol: string,
    base: VersionRecord,
    source: AsyncIterable<FrameData>,
    options: StreamUpdateOptions,
  ): Promise<VersionRecord> {
    const meter = options.meter ?? this.meter;
    const dynamic = this.config.dynamicSchema;
    const stored = await this.readIndex(base, symbol);
    const streamWritten: string[] = [];
    const staged: IndexRecord[] = [];
    let sent = false;
    try {
      const got = await gatherUpdate(
        symbol,
        source,
        { stored, rowsPerSegment: this.config.rowsPerSegment, dynamic, dateRange: options.dateRange },
        async (frame) => {
          staged.push(await this.storeSegments(k, symbol, frame, streamWritten, meter));
        },
      );
      // No rows: the stored rows stay and the new version shares them, as `update` with an empty frame.
      if (!got.range) return await this.writeMetadata(symbol, options.meta, options.prune === true, false);
      const range = got.range;
      for (let attempt = 0; attempt <= MAX_ATTEMPTS; attempt++) {
        const latest = await this.chain.latest(symbol);
        if (!latest) throw await this.symbolNotFound(symbol);
        const index = await this.readIndex(latest, symbol);
        if (latest.v !== base.v) checkStillReplaceable(symbol, stored, index, dynamic);
        const [r0, r1] = await this.rowsInDateRange(k, symbol, latest, index, range);
        const { lo, hi } = replaceBounds(index, r0, r1);
        const before = (await this.readRows(k, symbol, latest, index, { rowRange: [lo, r0] })).frame;
        const after = (await this.readRows(k, symbol, latest, index, { rowRange: [r1, hi] })).frame;
        const { head, last } = boundaryFrames(symbol, before, got.tail, after, staged.length > 0, dynamic);
        const record = await this.committing(symbol, options, async (written) => {
          const headIndex = head ? await this.storeSegments(k, symbol, head, written, meter) : undefined;
          const added = needsLast(index, { lo, hi }, last, headIndex, staged)
            ? await this.storeSegments(k, symbol, last, written, meter)
            : undefined;
          const spliced = splicedIndex(symbol, index, [headIndex, ...staged, added], { lo, hi, dynamic });
          const indexKey = await this.storeIndex(symbol, spliced, written);
          // Declined when another version came first: the boundary rows are redone on it.
          const committed = await this.chain.commit(symbol, async (now) =>
            now?.v === latest.v ? { index: indexKey, meta: options.meta } : undefined,
          );
          sent = committed !== undefined;
          return committed;
        });
        if (record) return record;
      }
      throw tooManyAttempts(symbol);
    } catch (err) {
      if (!sent && !commitSent(err)) await this.discard(streamWritten);
      throw err;
    }
  }

  /**
   * Runs one write's `work`, which stores objects (their keys pushed to `written`) and commits, and
   * returns its version (undefined when the commit declined) once `afterCommit` is done. What it stored
   * is deleted when it fails or declines before its commit was sent; once sent it stays, since the
   * version may have landed (`cleanup` frees it if not).
   */
  private async committing(
    symbol: string,
    after: { prune?: boolean; checkLibrary?: boolean },
    work: (written: string[]) => Promise<VersionRecord | undefined>,
  ): Promise<VersionRecord | undefined> {
    const written: string[] = [];
    let record: VersionRecord | undefined;
    try {
      record = await work(written);
    } catch (err) {
      if (!commitSent(err)) await this.discard(written);
      throw err;
    }
    if (!record) {
      await this.discard(written);
      return undefined;
    }
    await this.afterCommit(symbol, record, after.prune, after.checkLibrary);
    return record;
  }

  /** The latest live version of `symbol`, or undefined. */
  latest(symbol: string): Promise<VersionRecord | undefined> {
    return this.chain.latest(symbol);
  }

  /**
   * Encodes the tiles of `frame` and stores each create-only as soon as it is encoded, up to
   * WRITE_IN_FLIGHT PUTs (WRITE_IN_FLIGHT_BYTES) at once; returns the index listing them (not stored).
   */
  async storeSegments(
    k: Kernels,
    symbol: string,
    frame: FrameData,
    written: string[],
    meter: ProgressMeter | undefined,
  ): Promise<IndexRecord> {
    const { tiles, tileBytes, encode, index, rawBytes } = this.codec.planWrite(k, frame);
    meter?.expect(rawBytes, tiles.length);
    const inFlight = new Set<Promise<void>>();
    let bytesInFlight = 0;
    let failure: unknown;
    for (const tile of tiles) {
      while (inFlight.size >= WRITE_IN_FLIGHT || bytesInFlight >= WRITE_IN_FLIGHT_BYTES)
        await Promise.race(inFlight);
      if (failure) throw failure;
      const { ref, bytes } = encode(tile);
      const copy = bytes.slice();
      ref.key = this.keys.segment(symbol, newId());
      written.push(ref.key);
      bytesInFlight += copy.byteLength;
      const put: Promise<void> = this.objects
        .create(ref.key, copy)
        .then((created) => {
          if (!created)
            throw new StorageError(`segment key ${ref.key} already existed; nothing was committed.`);
          meter?.add(tileBytes(ref));
        })
        .catch((err) => {
          failure ??= err;
        })
        .finally(() => {
          bytesInFlight -= copy.byteLength;
          inFlight.delete(put);
        });
      inFlight.add(put);
    }
    await Promise.all(inFlight);
    if (failure) throw failure;
    return index;
  }

  /** Stores `index` under a fresh key (create-only) and returns the key. */
  async storeIndex(symbol: string, index: IndexRecord, written: string[]): Promise<string> {
    const key = this.keys.index(symbol, newId());
    written.push(key);
    if (!(await this.objects.create(key, packRecord(index)))) {
      throw new StorageError(`index key ${key} already existed; nothing was committed.`);
    }
    return key;
  }

  /** After a commit: older versions tombstoned with `prune`; a library deleted meanwhile refuses the write. */
  async afterCommit(
    symbol: string,
    record: VersionRecord,
    prune: boolean | undefined,
    checkLibrary = true,
  ): Promise<void> {
    if (checkLibrary) {
      const gone = await this.libraryGone();
      if (gone) throw gone;
    }
    if (prune) {
      const live = await this.chain.live(symbol);
      await this.chain.tombstone(
        symbol,
        live.filter((v) => v < record.v),
      );
    }
  }

  /** Best-effort removal of what a failed write stored; what remains is garbage for `cleanup`. */
  async discard(written: string[]): Promise<void> {
    if (written.length === 0) return;
    try {
      await this.objects.deleteMany(written.splice(0));
    } catch {
      // The store is failing; the objects stay unreferenced and `cleanup` removes them later.
    }
  }

  // ---- reading ----

  /** The record of `symbol` that `which` selects (see `VersionStore.resolve`); typed errors when none. */
  async resolve(
    symbol: string,
    which?: VersionSelector,
    options: { pinned?: boolean } = {},
  ): Promise<VersionRecord> {
    if (which === undefined) {
      const record = await this.chain.latest(symbol);
      if (!record) throw await this.symbolNotFound(symbol);
      return record;
    }
    if (typeof which === "object" && "snapshot" in which) {
      const snap = await this.readSnapshot(which.snapshot);
      const held = snap.pinned.find((p) => p.symbol === symbol);
      if (!held) {
        throw notInSnapshotError(this.lib, symbol, which.snapshot);
      }
      return held.record;
    }
    if (typeof which === "object") {
      const entries = options.pinned
        ? await this.listVersionInfo(symbol, {})
        : await this.listVersions(symbol);
      const hit = entries.find((e) => e.record.ts <= which.at);
      if (hit) return hit.record;
      throw await this.noLiveVersion(
        symbol,
        `written at or before ${new Date(which.at).toISOString()}`,
        (p) => p.record.ts <= which.at,
      );
    }
    const live = await this.chain.live(symbol);
    const v = which < 0 ? (live[live.length + which] ?? -1) : which;
    const record = live.includes(v) ? await this.chain.record(symbol, v) : undefined;
    if (record) return record;
    if (options.pinned) {
      for (const snap of (await this.listSnapshots()).values()) {
        const held = snap.pinned.find((p) => p.symbol === symbol && p.record.v === which);
        if (held) return held.record;
      }
    }
    throw await this.noLiveVersion(symbol, String(which), (p) => p.record.v === which);
  }

  /** The index record a version points at. */
  async readIndex(record: VersionRecord, symbol: string): Promise<IndexRecord> {
    return indexOfVersion(record, symbol, await this.objects.get(record.index), (bytes) =>
      unpackIndex(bytes),
    );
  }

  /** Reads a version of `symbol` (latest when `which` is absent). */
  async read(
    k: Kernels,
    symbol: string,
    which: VersionSelector | undefined,
    request: ReadRequest = {},
  ): Promise<{ record: VersionRecord; index: IndexRecord; frame: FrameData; rowStart: number }> {
    const meter = this.meter;
    const record = await this.resolve(symbol, which);
    const index = await this.readIndex(record, symbol);
    return {
      record,
      index,
      ...(await this.metered(meter, () => this.readRows(k, symbol, record, index, request))),
    };
  }

  /**
   * The rows and columns `request` asks for of version `record`: the boundary segments of a date range
   * first, then the segments the read plan names, fetched READ_AHEAD at a time in row order while the
   * rows already fetched are decoded (by `VersionStore`, into slices of the result's arrays), so the
   * network and the decoding overlap and at most READ_AHEAD fetched segments wait in memory.
   */
  async readRows(
    k: Kernels,
    symbol: string,
    record: VersionRecord,
    index: IndexRecord,
    request: ReadRequest,
  ): Promise<{ frame: FrameData; rowStart: number }> {
    const meter = this.meter;
    const fetched = new Map<string, Uint8Array>();
    const reader = new VersionStore(new PrefetchedStorage(fetched), this.lib, this.config);
    let rowRange = request.rowRange;
    if (request.dateRange) {
      await this.fetchInto(fetched, boundarySegments(index, request.dateRange));
      rowRange = reader.rowsInDateRange(k, symbol, record, index, request.dateRange);
    }
    const [start, end] = resolveRowRange(rowRange, index.rows);
    const rows = { ...request, dateRange: undefined, rowRange: [start, end] as [number, number] };
    const plan = planRead(index, rows);
    const chunks = rowChunks(plan.pieces, start, end);
    const fetcher = new SegmentFetcher(
      this.objects,
      fetched,
      chunks.map((c) => c.keys),
    );
    if (chunks.length <= 1) {
      await fetcher.chunk(0);
      return reader.metered(meter, () => reader.readRows(k, symbol, record, index, rows));
    }
    // The result's fixed-width columns and index, which each chunk decodes into a slice of.
    const targets = new Map<string, NumericArray>();
    for (const c of plan.columns) {
      const { name, dtype } = index.columns[c];
      const array = DTYPES[dtype].array;
      if (array) targets.set(name, new array(end - start));
    }
    const indexValues =
      index.index.kind === "timestamp" && !request.withoutIndex ? new BigInt64Array(end - start) : undefined;
    const strings = new Map<string, StringArray[]>();
    let first: FrameData | undefined;
    for (const [n, chunk] of chunks.entries()) {
      await fetcher.chunk(n);
      const at = chunk.from - start;
      const into: ReadTargets = {
        columns: new Map([...targets].map(([name, a]) => [name, a.subarray(at, at + chunk.to - chunk.from)])),
        index: indexValues?.subarray(at, at + chunk.to - chunk.from),
      };
      const { frame } = reader.metered(meter, () =>
        reader.readRows(k, symbol, record, index, { ...rows, rowRange: [chunk.from, chunk.to] }, into),
      );
      first ??= frame;
      for (const col of frame.columns) {
        if (!targets.has(col.name))
          strings.set(col.name, [...(strings.get(col.name) ?? []), col.values as StringArray]);
      }
      for (const key of chunk.keys) fetched.delete(key);
    }
    const shape = first as FrameData;
    const frame: FrameData = {
      numRows: end - start,
      columns: shape.columns.map((c) => ({
        ...c,
        values: targets.get(c.name) ?? ((strings.get(c.name) ?? []).flat() as StringArray),
      })),
      index:
        shape.index.kind === "timestamp" && indexValues
          ? { ...shape.index, values: indexValues }
          : shape.index,
    };
    return { frame, rowStart: start };
  }

  /** Rows [start, end) of `index` whose timestamps lie in `range` (inclusive). */
  async rowsInDateRange(
    k: Kernels,
    symbol: string,
    record: VersionRecord,
    index: IndexRecord,
    range: [bigint | null, bigint | null],
  ): Promise<[number, number]> {
    const fetched = new Map<string, Uint8Array>();
    await this.fetchInto(fetched, boundarySegments(index, range));
    return new VersionStore(new PrefetchedStorage(fetched), this.lib, this.config).rowsInDateRange(
      k,
      symbol,
      record,
      index,
      range,
    );
  }

  /**
   * Fetches the segments of `request`'s rows (a row range), then runs a query's per-chunk `steps` on them
   * with the engine LMDB and memory use (late materialisation, resident groupbys): an aggregation a
   * segment's rows at a time (cut as `chunkRanges` cuts them), its partials merged; other steps on all the
   * rows at once. The fetch is the only await, so a caller can fetch the next rows while this one runs.
   */
  async queryRows(
    k: Kernels,
    symbol: string,
    record: VersionRecord,
    index: IndexRecord,
    request: ReadRequest & { rowRange: [number, number] },
    steps: ChunkSteps,
  ): Promise<ChunkResult> {
    const fetched = new Map<string, Uint8Array>();
    await this.fetchInto(
      fetched,
      planRead(index, request).pieces.map((p) => p.segment.key),
    );
    const reader = new VersionStore(new PrefetchedStorage(fetched), this.lib, this.config);
    const [from, to] = request.rowRange;
    const ranges = steps.aggregate ? chunkRanges(index, [from, to], this.config.rowsPerSegment) : [];
    return reader.metered(this.meter, () =>
      queryChunks(reader, k, symbol, record, index, request, from, ranges, steps),
    );
  }

  /** Fetches `keys` not in `into` yet, many at once; a missing one stays absent (reported on decode). */
  private async fetchInto(into: Map<string, Uint8Array>, keys: readonly string[]): Promise<void> {
    const wanted = [...new Set(keys)].filter((key) => !into.has(key));
    const values = await this.objects.getMany(wanted);
    wanted.forEach((key, i) => {
      const value = values[i];
      if (value) into.set(key, value);
    });
  }

  // ---- listing and deleting ----

  /** Symbols with at least one live version, in name order. */
  listSymbols(): Promise<string[]> {
    return this.chain.symbols();
  }

  /** Live versions, newest first, of one symbol or of all. */
  async listVersions(symbol?: string): Promise<VersionEntry[]> {
    const pairs: [string, number][] =
      symbol === undefined
        ? await this.chain.allLive()
        : (await this.chain.live(symbol)).map((v): [string, number] => [symbol, v]);
    const records = await mapLimit(pairs, 16, ([s, v]) => this.chain.record(s, v));
    const entries: VersionEntry[] = [];
    pairs.forEach(([s], i) => {
      const record = records[i];
      if (record) entries.push({ symbol: s, record });
    });
    return entries.sort((a, b) =>
      a.symbol === b.symbol ? b.record.v - a.record.v : a.symbol < b.symbol ? 1 : -1,
    );
  }

  /** `listVersionInfo` (version-list.ts) on this store. */
  async listVersionInfo(symbol: string | undefined, options: VersionListOptions): Promise<ListedVersion[]> {
    const [live, snapshots, chosen] = await Promise.all([
      this.listVersions(symbol),
      options.skipSnapshots ? new Map<string, SnapshotRecord>() : this.listSnapshots(),
      options.snapshot === undefined ? undefined : this.readSnapshot(options.snapshot).then((s) => s.pinned),
    ]);
    return combineVersionInfo(live, snapshots, chosen, symbol, options);
  }

  /**
   * Deletes some versions of `symbol` or all of them (tombstones); naming a version that is not live is
   * `VersionNotFoundError` and deletes nothing. The data is freed by `cleanup` once no version or
   * snapshot references it.
   */
  async delete(symbol: string, versions?: number[]): Promise<void> {
    const live = await this.chain.live(symbol);
    if (versions) {
      const have = new Set(live);
      const missing = versions.filter((v) => !have.has(v));
      if (missing.length > 0) {
        const which = live.length > 0 ? `its live versions are ${live.join(", ")}` : "it has no live version";
        throw new VersionNotFoundError(
          `Symbol '${symbol}' in library '${this.lib}' has no version ${missing.join(", ")}; ${which}. Nothing was deleted.`,
        );
      }
    }
    const doomed = versions ?? live;
    await this.chain.tombstone(symbol, doomed);
    if (doomed.length > 0 && doomed.length === live.length)
      await this.chain.emptied(symbol, Math.max(...doomed));
  }

  /** Deletes every version of `symbol` but the latest. */
  async pruneVersions(symbol: string): Promise<void> {
    const live = await this.chain.live(symbol);
    if (live.length === 0) throw await this.symbolNotFound(symbol);
    await this.chain.tombstone(symbol, live.slice(0, -1));
  }

  // ---- snapshots ----

  /** Snapshot `name`; `SnapshotNotFoundError` when absent. */
  async readSnapshot(name: string): Promise<SnapshotRecord> {
    const bytes = await this.objects.get(this.keys.snapshot(name));
    if (!bytes) throw snapshotNotFoundError(this.lib, name);
    return unpackSnapshot(bytes, `snapshot '${name}'`);
  }

  /** Every snapshot by name, in name order. */
  async listSnapshots(): Promise<Map<string, SnapshotRecord>> {
    const { keys } = await this.objects.list(this.keys.allSnapshots);
    const values = await this.objects.getMany(keys);
    const found: [string, SnapshotRecord][] = [];
    keys.forEach((key, i) => {
      const bytes = values[i];
      if (bytes) found.push([unescapeLast(key), unpackSnapshot(bytes, `snapshot ${key}`)]);
    });
    return new Map(found.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** Takes snapshot `name` (see `takeSnapshot` in snapshots.ts); created create-only, so never twice. */
  async takeSnapshot(
    name: string,
    options: { meta?: Uint8Array; skip?: Set<string>; versions?: Map<string, number> },
  ): Promise<SnapshotRecord> {
    const key = this.keys.snapshot(name);
    if (await this.objects.get(key)) throw snapshotExistsError(this.lib, name);
    const pinned: SnapshotRecord["pinned"] = [];
    if (options.versions) {
      for (const [symbol, v] of options.versions) {
        const live = await this.chain.live(symbol);
        const record = live.includes(v) ? await this.chain.record(symbol, v) : undefined;
        if (!record) throw notPinnableError(this.lib, symbol, v);
        pinned.push({ symbol, record });
      }
    } else {
      const seen = new Set<string>();
      for (const e of await this.listVersions()) {
        if (seen.has(e.symbol) || options.skip?.has(e.symbol)) continue;
        seen.add(e.symbol);
        pinned.push({ symbol: e.symbol, record: e.record });
      }
    }
    if (pinned.length === 0) throw emptySnapshotError(this.lib, options.skip);
    const record: SnapshotRecord = { ts: Date.now(), pinned };
    if (options.meta) record.meta = options.meta;
    if (!(await this.objects.create(key, packRecord(record)))) throw snapshotExistsError(this.lib, name);
    return record;
  }

  /** Removes snapshot `name`; what only it held is freed by `cleanup`. */
  async dropSnapshot(name: string): Promise<void> {
    await this.readSnapshot(name);
    await this.objects.deleteMany([this.keys.snapshot(name)]);
  }

  // ---- staged writes, checks (their own modules; methods so both engines answer alike) ----

  /** Stores `frame` as a staged chunk of `symbol` (object-staging.ts). */
  stage(k: Kernels, symbol: string, frame: FrameData): Promise<void> {
    return stageObjectChunk(this, k, symbol, frame, this.meter);
  }

  /** One new version of every chunk staged for `symbol`. */
  finalizeStaged(k: Kernels, symbol: string, options: FinalizeOptions): Promise<VersionRecord> {
    return finalizeObjectStaged(this, k, symbol, options);
  }

  /** Drops every chunk staged for `symbol`. */
  async deleteStaged(symbol: string): Promise<void> {
    await deleteObjectStaged(this, symbol);
  }

  /** Checks the library (object-verify.ts). */
  verify(k: Kernels, options: { data: boolean }): Promise<VerifyReport> {
    return verifyObjects(this, k, options);
  }

  /** Removes orphans and deleted versions' data older than `graceMs`; returns their keys. */
  cleanup(k: Kernels, graceMs: number): Promise<string[]> {
    return cleanupObjects(this, k, graceMs);
  }

  // ---- errors ----

  /** `LibraryNotFoundError` when this handle's library was deleted (or replaced), else undefined. */
  async libraryGone(): Promise<LibraryNotFoundError | undefined> {
    const stored = await this.objects.get(libraryRecordKey(this.lib));
    if (stored && sameBytes(stored, this.libraryRecord)) return undefined;
    return new LibraryNotFoundError(
      `Library '${this.lib}' was deleted from ${this.objects.description}${stored ? " and created again" : ""} ` +
        "after this handle opened it; nothing was written through it. Open it again with getLibrary().",
    );
  }

  private async symbolNotFound(symbol: string): Promise<FloeError> {
    const gone = await this.libraryGone();
    if (gone) return gone;
    return symbolNotFoundError(this.lib, symbol);
  }

  private async noLiveVersion(
    symbol: string,
    what: string,
    held: (pinned: { record: VersionRecord }) => boolean,
  ): Promise<FloeError> {
    const [live, snapshots] = await Promise.all([this.chain.live(symbol), this.listSnapshots()]);
    if (live.length === 0) {
      const gone = await this.libraryGone();
      if (gone) return gone;
    }
    return noLiveVersionError(this.lib, symbol, what, live, snapshots, held);
  }
}

/**
 * The segments whose index columns `rowsInDateRange` decodes for `range`: per bound, the first row slice
 * whose last timestamp reaches it (the same search it makes).
 */
function boundarySegments(index: IndexRecord, range: [bigint | null, bigint | null]): string[] {
  if (isNoData(index) || index.index.kind !== "timestamp" || !index.index.sorted) return [];
  const slices = index.segments.filter((s) => s.colStart === 0 && s.rows > 0);
  const out: string[] = [];
  const find = (t: bigint, strict: boolean) => {
    const seg = slices.find((s) => (strict ? (s.last as bigint) > t : (s.last as bigint) >= t));
    if (seg && !(strict ? (seg.first as bigint) > t : (seg.first as bigint) >= t)) out.push(seg.key);
  };
  if (range[0] !== null) find(range[0], false);
  if (range[1] !== null) find(range[1], true);
  return out;
}

function unescapeLast(key: string): string {
  return unescapeName(key.slice(key.lastIndexOf("/") + 1));
}

/** Segments a read keeps fetched ahead of the rows it is decoding. */
const READ_AHEAD = 16;

/** A read's rows [from, to) cut at row-slice edges into chunks of about READ_AHEAD / 4 segments each. */
function rowChunks(
  pieces: { segment: SegmentRef }[],
  start: number,
  end: number,
): { from: number; to: number; keys: string[] }[] {
  const slices = new Map<number, string[]>();
  for (const { segment } of pieces) {
    const first = Math.max(start, segment.rowStart);
    slices.set(first, [...(slices.get(first) ?? []), segment.key]);
  }
  const edges = [...slices.keys()].sort((a, b) => a - b);
  const chunks: { from: number; to: number; keys: string[] }[] = [];
  for (const [i, from] of edges.entries()) {
    const keys = slices.get(from) as string[];
    const last = chunks[chunks.length - 1];
    if (last && last.keys.length + keys.length <= READ_AHEAD / 4) last.keys.push(...keys);
    else chunks.push({ from, to: from, keys: [...keys] });
    chunks[chunks.length - 1].to = edges[i + 1] ?? end;
  }
  if (chunks.length > 0) chunks[0].from = start;
  return chunks.length > 0 ? chunks : [{ from: start, to: end, keys: [] }];
}

/**
 * Fetches the segments of a read's chunks in order, READ_AHEAD requests in flight, into `into`; `chunk(n)`
 * resolves once chunk n's are all there. Fetching runs ahead of decoding by at most READ_AHEAD segments.
 */
class SegmentFetcher {
  private readonly order: { key: string; chunk: number }[] = [];
  private readonly done: Promise<void>[] = [];
  private readonly settle: (() => void)[] = [];
  private readonly left: number[];
  /** Where each chunk's keys begin in `order`. */
  private readonly starts: number[] = [];
  private next = 0;
  private inFlight = 0;
  private failure: unknown;
  private waitingFor = 0;

  constructor(
    private readonly objects: ObjectStore,
    private readonly into: Map<string, Uint8Array>,
    chunks: string[][],
  ) {
    this.left = chunks.map(() => 0);
    chunks.forEach((all, chunk) => {
      // Segments fetched already (a date range's boundaries) are not fetched again.
      const keys = all.filter((key) => !into.has(key));
      this.left[chunk] = keys.length;
      this.starts.push(this.order.length);
      for (const key of keys) this.order.push({ key, chunk });
      let resolve = () => {};
      this.done.push(new Promise<void>((r) => (resolve = r)));
      this.settle.push(resolve);
      if (keys.length === 0) resolve();
    });
    this.pump();
  }

  /** Resolves once chunk `n`'s segments are fetched (a missing one is left absent, reported on decode). */
  async chunk(n: number): Promise<void> {
    this.waitingFor = n;
    this.pump();
    await this.done[n];
    if (this.failure) throw this.failure;
  }

  private pump(): void {
    while (this.inFlight < READ_AHEAD && this.next < this.order.length && !this.failure) {
      const { key, chunk } = this.order[this.next];
      // Stay within READ_AHEAD segments of the chunk being decoded, so memory stays bounded.
      if (this.next - this.starts[this.waitingFor] >= READ_AHEAD * 2) break;
      this.next++;
      this.inFlight++;
      this.objects.get(key).then(
        (bytes) => {
          if (bytes) this.into.set(key, bytes);
          this.inFlight--;
          if (--this.left[chunk] === 0) this.settle[chunk]();
          this.pump();
        },
        (err) => {
          this.failure ??= err;
          for (const resolve of this.settle) resolve();
        },
      );
    }
  }
}
