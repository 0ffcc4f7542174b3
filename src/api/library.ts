import { packMetadata, unpackMetadata } from "../codec/msgpack.ts";
import { type Kernels, loadKernels } from "../codec/wasm.ts";
import {
  InvalidArgumentError,
  SnapshotNotFoundError,
  SymbolNotFoundError,
  VersionNotFoundError,
} from "../errors.ts";
import { DataFrame } from "../frame/dataframe.ts";
import { toNanos } from "../frame/timestamps.ts";
import { splitQuery } from "../query/chunk.ts";
import { frameOf } from "../query/execute.ts";
import { type DateBounds, dateBounds, requiredColumns } from "../query/plan.ts";
import { prunedRowRanges } from "../query/prune.ts";
import { QueryBuilder } from "../query/query-builder.ts";
import { applyReadQuery, shapeAnswer } from "../query/read.ts";
import { compactSymbol, isFragmented, rowSlices } from "../version/compaction.ts";
import type { ObjectVersionStore } from "../version/object-version-store.ts";
import {
  frameBytes,
  type ParallelContext,
  readInParallel,
  warmPool,
  worthWriting,
  writeInParallel,
} from "../version/parallel.ts";
import { type Progress, ProgressMeter } from "../version/progress.ts";
import { readWithQuery } from "../version/query-read.ts";
import type { ReadRequest } from "../version/read-plan.ts";
import type { VersionRecord } from "../version/records.ts";
import type { FinalizeOptions } from "../version/staging.ts";
import { updateFromStream } from "../version/stream-update.ts";
import { updateSymbol } from "../version/update.ts";
import type { VerifyReport } from "../version/verify.ts";
import type { VersionSelector } from "../version/version-chain.ts";
import { VersionStore } from "../version/version-store.ts";
import { fromFrameData, toFrameData } from "./convert.ts";
import { DataError } from "./data-error.ts";
import { type LazyFrame, lazyFrame } from "./lazy-frame.ts";
import {
  batchItems,
  type DeleteRequest,
  deleteBatch,
  eachItem,
  getDescriptionBatch,
  type ReadInfoRequest,
  readMetadataBatch,
  refuseDuplicateSymbols,
  type UpdatePayload,
  updateBatch,
  type WriteMetadataPayload,
  writeMetadataBatch,
} from "./library-batch.ts";
import {
  checkChunkSize,
  checkIterateQuery,
  type FrameSource,
  framesOf,
  isFrameSource,
  iterateChunks,
  streamsByRow,
} from "./streams.ts";
import type {
  AsOf,
  LibraryOptions,
  ReadResult,
  SymbolDescription,
  VersionedItem,
  VersionInfo,
} from "./types.ts";
import { checkInteger, checkName, checkNewName, checkOptions, checkRegex, describe } from "./validate.ts";

/** Options of `Library.read`. */
export interface ReadOptions {
  /** The version to read: a version number (negative counts back from the latest), a snapshot name or a `Date`. */
  asOf?: AsOf;
  /**
   * Inclusive timestamps; `null` leaves that end open. Needs a sorted timestamp index. A string is read
   * as the library reads every timestamp (UTC unless it has an offset), so a bare date is midnight: as
   * the end, `"2023-11-28"` takes only rows at 2023-11-28 00:00:00. For the whole day end at
   * `"2023-11-28T23:59:59.999999999"`. (The CLI's `--date-range` reads a bare end date as the whole day.)
   */
  dateRange?: [Date | string | bigint | null, Date | string | bigint | null];
  /**
   * Rows `[start, end)` of the stored frame, as pandas' `iloc[start:end]` (and ArcticDB's `row_range`)
   * takes them: a negative bound counts back from the end, `null` leaves that end open, bounds past the
   * frame are clamped and an end at or before the start gives no rows. Not with `dateRange`.
   */
  rowRange?: [number | null, number | null];
  /** Names of the columns to return, in this order (the index always comes back). */
  columns?: string[];
  /**
   * Clauses run on the rows read — filter, apply, groupby, resample, … (see `QueryBuilder`) — so only the
   * answer comes back; only the columns the query and `columns` name are read and decoded.
   */
  query?: QueryBuilder;
}

/**
 * A library: a namespace of symbols, each a chain of immutable versions. Obtain one from
 * `Arctic.getLibrary` or `Arctic.createLibrary`. Every method that touches storage returns a Promise.
 */
export class Library {
  /** @internal */
  constructor(
    /** The library's name. */
    readonly name: string,
    private readonly store: VersionStore | ObjectVersionStore,
    private readonly parallel?: ParallelContext,
  ) {}

  /** The options this library was created with. */
  get options(): Required<LibraryOptions> {
    const { rowsPerSegment, columnsPerSegment, dynamicSchema, dedup } = this.store.config;
    return { rowsPerSegment, columnsPerSegment, dynamicSchema, dedup };
  }

  /**
   * Writes `data` as a new version of `symbol` (version 0 for a new symbol). `data` is a `DataFrame` or a
   * record of columns. `metadata` is any msgpack-able value stored with the version;
   * `prunePreviousVersions` deletes the older versions once the new one is in place. With `staged: true`
   * the frame is stored as a staged chunk and no version is made (the result's `version` is -1) until
   * `finalizeStagedData` or `sortAndFinalizeStagedData` turns all staged chunks into one version.
   */
  async write(
    symbol: string,
    data: DataFrame | Record<string, unknown> | FrameSource,
    options?: {
      metadata?: unknown;
      prunePreviousVersions?: boolean;
      staged?: boolean;
      onProgress?: OnProgress;
    },
  ): Promise<VersionedItem> {
    this.checkNewSymbol(symbol);
    const opts = checkOptions("write", options, [
      "metadata",
      "prunePreviousVersions",
      "staged",
      "onProgress",
    ]);
    const meter = meterFor("write", opts.onProgress);
    if (isFrameSource(data)) {
      if (opts.staged === true) {
        throw new InvalidArgumentError(
          "write: a stream of frames is staged already; leave out staged: true.",
        );
      }
      return this.writeFrames("write", symbol, data, opts, meter);
    }
    const frame = toFrameData(asDataFrame(data, "write"));
    if (opts.staged === true) {
      if (opts.metadata !== undefined || opts.prunePreviousVersions !== undefined) {
        throw new InvalidArgumentError(
          "write: a staged write makes no version, so metadata and prunePreviousVersions belong to finalizeStagedData.",
        );
      }
      const k = await loadKernels();
      await this.store.metered(meter, () => this.store.stage(k, symbol, frame));
      return { symbol, library: this.name, version: -1, metadata: undefined, timestamp: new Date() };
    }
    const meta = optionalMetadata(opts.metadata);
    const k = await loadKernels();
    const prune = opts.prunePreviousVersions === true;
    // dedup compares each tile with the previous version's, which the calling thread does.
    const store = this.store;
    const pooled =
      this.parallel !== undefined &&
      store instanceof VersionStore &&
      !store.config.dedup &&
      worthWriting(k, frame);
    if (this.parallel) warmPool(this.parallel, frameBytes(frame), pooled ? "pool" : "caller");
    const record =
      pooled && store instanceof VersionStore
        ? await writeInParallel(this.parallel!, store, symbol, frame, { meta, prune }, meter)
        : await store.metered(meter, () => store.write(k, symbol, frame, { meta, prune }));
    // The rest of the pool starts once the calling thread's own write no longer needs the core.
    if (this.parallel && !pooled) warmPool(this.parallel, frameBytes(frame), "after");
    return this.item(symbol, record);
  }

  /**
   * Writes several symbols in one call, each item as `write` would, committing all new versions together.
   * Each result is the item's `VersionedItem`, or a `DataError` saying why that item failed; one bad item
   * does not stop the others. A symbol in two items is an `InvalidArgumentError` and nothing is written
   * (as ArcticDB's `ArcticDuplicateSymbolsInBatchException`).
   */
  async writeBatch(
    items: { symbol: string; data: DataFrame | Record<string, unknown>; metadata?: unknown }[],
    options?: { onProgress?: OnProgress },
  ): Promise<(VersionedItem | DataError)[]> {
    const meter = meterFor("writeBatch", checkOptions("writeBatch", options, ["onProgress"]).onProgress);
    refuseDuplicateSymbols("writeBatch", items);
    const checked = batchItems("writeBatch", items, (item) => {
      const opts = checkOptions("writeBatch item", item as BatchItem, ["symbol", "data", "metadata"]);
      this.checkNewSymbol(opts.symbol);
      return {
        symbol: opts.symbol as string,
        frame: toFrameData(asDataFrame(opts.data, "writeBatch")),
        meta: optionalMetadata(opts.metadata),
      };
    });
    const k = await loadKernels();
    const good = checked.filter((c): c is Exclude<typeof c, DataError> => !(c instanceof DataError));
    const records = await this.store.metered(meter, () => this.store.writeMany(k, good));
    let next = 0;
    return checked.map((c) => {
      if (c instanceof DataError) return c;
      const record = records[next++];
      return record instanceof Error ? DataError.from(c.symbol, record) : this.item(c.symbol, record);
    });
  }

  /**
   * Appends to several symbols in one call, each item as `append` would. Each result is the item's
   * `VersionedItem`, or a `DataError` saying why that item failed. A symbol in two items is an
   * `InvalidArgumentError` and nothing is appended.
   */
  async appendBatch(
    items: { symbol: string; data: DataFrame | Record<string, unknown>; metadata?: unknown }[],
    options?: { onProgress?: OnProgress },
  ): Promise<(VersionedItem | DataError)[]> {
    const meter = meterFor("appendBatch", checkOptions("appendBatch", options, ["onProgress"]).onProgress);
    refuseDuplicateSymbols("appendBatch", items);
    const checked = batchItems("appendBatch", items, (item) => {
      const opts = checkOptions("appendBatch item", item as BatchItem, ["symbol", "data", "metadata"]);
      this.checkNewSymbol(opts.symbol);
      return {
        symbol: opts.symbol as string,
        frame: toFrameData(asDataFrame(opts.data, "appendBatch")),
        meta: optionalMetadata(opts.metadata),
      };
    });
    const k = await loadKernels();
    const results: (VersionedItem | DataError)[] = [];
    for (const c of checked) {
      if (c instanceof DataError) {
        results.push(c);
        continue;
      }
      try {
        const record = await this.store.metered(meter, () =>
          this.store.append(k, c.symbol, c.frame, { meta: c.meta }),
        );
        results.push(this.item(c.symbol, record));
      } catch (err) {
        results.push(DataError.from(c.symbol, err));
      }
    }
    return results;
  }

  /**
   * Reads several symbols in one call. An item is a symbol name or `{ symbol, asOf?, dateRange?, rowRange?,
   * columns? }` as `read` takes. Each result is a `VersionedItem` with `data`, or a `DataError`.
   */
  async readBatch(
    items: (string | ({ symbol: string } & ReadOptions))[],
    options?: { onProgress?: OnProgress },
  ): Promise<(ReadResult | DataError)[]> {
    const meter = meterFor("readBatch", checkOptions("readBatch", options, ["onProgress"]).onProgress);
    const checked = batchItems("readBatch", items, (item) => {
      if (typeof item === "string") return { symbol: item, options: {} };
      const { symbol, ...options } = checkOptions("readBatch item", item as { symbol?: unknown }, [
        "symbol",
        "asOf",
        "dateRange",
        "rowRange",
        "columns",
        "query",
      ]);
      checkName("symbol", symbol);
      return { symbol: symbol as string, options: options as ReadOptions };
    });
    return eachItem(checked, (c) => this.readChecked(c.symbol, c.options, meter));
  }

  /**
   * Updates several symbols in one call, each item as `update` would (`{ symbol, data, metadata?,
   * dateRange?, upsert? }`; an item's `upsert` overrides the call's). Each result is the item's
   * `VersionedItem` or a `DataError`; items are committed one by one, so a failed item leaves the others
   * done. A symbol in two items is an `InvalidArgumentError` and nothing is updated.
   */
  async updateBatch(
    items: UpdatePayload[],
    options?: { upsert?: boolean; prunePreviousVersions?: boolean },
  ): Promise<(VersionedItem | DataError)[]> {
    return updateBatch(this, items, options);
  }

  /**
   * Deletes several symbols, or some of their versions, in one call: an item is a symbol name (the
   * whole symbol) or `{ symbol, versions }`. Each result is `null` when the item was done, or the
   * `DataError` that says why not (ArcticDB's `delete_batch` returns `None` or a `DataError` likewise).
   */
  async deleteBatch(items: (string | DeleteRequest)[]): Promise<(DataError | null)[]> {
    return deleteBatch(this, items);
  }

  /**
   * Reads the metadata of several symbols in one call: an item is a symbol name or `{ symbol, asOf? }`.
   * Each result is a `VersionedItem` without `data`, or a `DataError`.
   */
  async readMetadataBatch(items: (string | ReadInfoRequest)[]): Promise<(VersionedItem | DataError)[]> {
    return readMetadataBatch(this, items);
  }

  /**
   * Writes new metadata for several symbols in one call, each item (`{ symbol, metadata }`) as
   * `writeMetadata` would. Each result is the new `VersionedItem` or a `DataError`. A symbol in two items
   * is an `InvalidArgumentError` and nothing is written.
   */
  async writeMetadataBatch(
    items: WriteMetadataPayload[],
    options?: { prunePreviousVersions?: boolean },
  ): Promise<(VersionedItem | DataError)[]> {
    return writeMetadataBatch(this, items, options);
  }

  /**
   * Describes several symbols in one call, each item (a symbol name or `{ symbol, asOf? }`) as
   * `getDescription` would. Each result is a `SymbolDescription` or a `DataError`.
   */
  async getDescriptionBatch(items: (string | ReadInfoRequest)[]): Promise<(SymbolDescription | DataError)[]> {
    return getDescriptionBatch(this, items);
  }

  /**
   * Appends the rows of `data` after the last row of `symbol`, as a new version; only the new rows are
   * stored. With a timestamp index the new rows must not start before the last stored one
   * (`UnsortedIndexError`); columns and dtypes must match (`SchemaMismatchError`). A missing symbol is
   * written.
   */
  async append(
    symbol: string,
    data: DataFrame | Record<string, unknown> | FrameSource,
    options?: { metadata?: unknown; prunePreviousVersions?: boolean; onProgress?: OnProgress },
  ): Promise<VersionedItem> {
    this.checkNewSymbol(symbol);
    const opts = checkOptions("append", options, ["metadata", "prunePreviousVersions", "onProgress"]);
    const meter = meterFor("append", opts.onProgress);
    if (isFrameSource(data)) return this.writeFrames("append", symbol, data, opts, meter);
    const frame = toFrameData(asDataFrame(data, "append"));
    const meta = optionalMetadata(opts.metadata);
    const k = await loadKernels();
    const prune = opts.prunePreviousVersions === true;
    const record = await this.store.metered(meter, () =>
      this.store.append(k, symbol, frame, { meta, prune }),
    );
    return this.item(symbol, record);
  }

  /**
   * Turns every chunk staged for `symbol` (by any process) into one new version: `mode: "write"` (default)
   * makes them the whole symbol, `"append"` adds them after its latest version. Chunks are ordered by
   * their first timestamp (row-indexed ones by staging time) and used as stored, no data rewritten; with a
   * timestamp index they must not overlap (`UnsortedIndexError`: use `sortAndFinalizeStagedData`).
   */
  async finalizeStagedData(
    symbol: string,
    options?: { mode?: "write" | "append"; metadata?: unknown; prunePreviousVersions?: boolean },
  ): Promise<VersionedItem> {
    return this.finalize("finalizeStagedData", symbol, options, false);
  }

  /**
   * Like `finalizeStagedData`, but reads all staged rows, sorts them by timestamp (stable) and writes them
   * anew, so chunks may overlap and arrive in any order.
   */
  async sortAndFinalizeStagedData(
    symbol: string,
    options?: { mode?: "write" | "append"; metadata?: unknown; prunePreviousVersions?: boolean },
  ): Promise<VersionedItem> {
    return this.finalize("sortAndFinalizeStagedData", symbol, options, true);
  }

  private async finalize(
    call: string,
    symbol: string,
    options: { mode?: unknown; metadata?: unknown; prunePreviousVersions?: boolean } | undefined,
    sort: boolean,
  ): Promise<VersionedItem> {
    checkName("symbol", symbol);
    const opts = checkOptions(call, options, ["mode", "metadata", "prunePreviousVersions"]);
    const mode = opts.mode ?? "write";
    if (mode !== "write" && mode !== "append") {
      throw new InvalidArgumentError(`${call}: mode must be "write" or "append", got ${describe(mode)}.`);
    }
    const k = await loadKernels();
    const finalize: FinalizeOptions = {
      mode,
      sort,
      meta: optionalMetadata(opts.metadata),
      prune: opts.prunePreviousVersions === true,
    };
    const record = await this.store.finalizeStaged(k, symbol, finalize);
    return this.item(symbol, record);
  }

  /** Drops every chunk staged for `symbol` and frees its segments; versions are untouched. */
  async deleteStagedData(symbol: string): Promise<void> {
    checkName("symbol", symbol);
    await this.store.deleteStaged(symbol);
  }

  /**
   * Replaces the stored rows of `symbol` whose timestamps lie in `dateRange` (inclusive; default: from the
   * first to the last timestamp of `data`) with the rows of `data` inside that range, as a new version
   * (as in ArcticDB, rows of `data` outside `dateRange` are not written). Needs a timestamp index, the
   * stored schema and `data` sorted. Only segments that straddle the range's ends are rewritten. A missing
   * symbol is written when `upsert` is true, else `SymbolNotFoundError`. `data` without rows leaves the
   * stored rows alone, `dateRange` or not, and makes a new version with `metadata` (as ArcticDB does; to
   * remove rows use `deleteDataInRange`).
   *
   * `data` may also be a stream of frames (an async iterable or a web `ReadableStream`, as `write` takes),
   * each starting at or after the end of the one before: the stream's rows replace the stored rows in its
   * date range (its first to last timestamp, or `dateRange`) as ONE version made once the stream ends,
   * holding about a segment's rows at a time; see src/version/stream-update.ts.
   */
  async update(
    symbol: string,
    data: DataFrame | Record<string, unknown> | FrameSource,
    options?: {
      dateRange?: ReadOptions["dateRange"];
      upsert?: boolean;
      metadata?: unknown;
      prunePreviousVersions?: boolean;
      onProgress?: OnProgress;
    },
  ): Promise<VersionedItem> {
    this.checkNewSymbol(symbol);
    const opts = checkOptions("update", options, [
      "dateRange",
      "upsert",
      "metadata",
      "prunePreviousVersions",
      "onProgress",
    ]);
    const meter = meterFor("update", opts.onProgress);
    const range = opts.dateRange !== undefined ? checkDateRange(opts.dateRange) : undefined;
    const meta = optionalMetadata(opts.metadata);
    const prune = opts.prunePreviousVersions === true;
    if (isFrameSource(data)) {
      const k = await loadKernels();
      const frames = framesOf(data, "update");
      const streamed = { dateRange: range, meta, prune, upsert: opts.upsert === true, meter };
      return this.item(symbol, await updateFromStream(this.store, k, symbol, frames, streamed));
    }
    const given = toFrameData(asDataFrame(data, "update"));
    if (given.index.kind !== "timestamp") {
      throw new InvalidArgumentError(
        "update: data needs a timestamp index, e.g. new DataFrame(columns, { index: dates }).",
      );
    }
    const k = await loadKernels();
    const record = await updateSymbol(
      this.store,
      k,
      symbol,
      given,
      range,
      { meta, prune, upsert: opts.upsert === true },
      meter,
    );
    return this.item(symbol, record);
  }

  /**
   * Removes the rows of `symbol` whose timestamps lie in `dateRange` (inclusive, `null` for an open end),
   * as a new version; segments wholly outside the range are shared with the previous version.
   */
  async deleteDataInRange(
    symbol: string,
    dateRange: NonNullable<ReadOptions["dateRange"]>,
    options?: { metadata?: unknown; prunePreviousVersions?: boolean },
  ): Promise<VersionedItem> {
    checkName("symbol", symbol);
    const range = checkDateRange(dateRange);
    const opts = checkOptions("deleteDataInRange", options, ["metadata", "prunePreviousVersions"]);
    const meta = optionalMetadata(opts.metadata);
    const k = await loadKernels();
    const record = await this.store.replaceRange(k, symbol, range, null, {
      meta,
      prune: opts.prunePreviousVersions === true,
    });
    return this.item(symbol, record);
  }

  /**
   * Reads `symbol`: the latest version, or the one `asOf` names (a version number, negative counting back
   * from the latest; a snapshot name; or a `Date`, meaning the latest version written at or before it).
   * `dateRange: [start, end]` (inclusive; each a `Date`, ISO string, ns `bigint` or `null` for open),
   * `rowRange: [start, end)` (as `iloc`: negative from the end, `null` open) and `columns` narrow what is
   * fetched and decoded. A read of 8 MB or more is shared out among the worker pool by columns (see the
   * README's "Worker pool").
   */
  async read(symbol: string, options?: ReadOptions & { onProgress?: OnProgress }): Promise<ReadResult> {
    if (options === null || typeof options !== "object" || Array.isArray(options)) {
      return this.readChecked(symbol, options, undefined); // rejected there, with the usual message
    }
    const { onProgress, ...rest } = options;
    return this.readChecked(symbol, rest, meterFor("read", onProgress));
  }

  /**
   * A read of `symbol` not yet made: chain clauses as on a `QueryBuilder` (`filter`, `apply`,
   * `groupby(…).agg`, …), then `collect()` reads with them as its `query`. `options` are `read`'s.
   */
  lazy(symbol: string, options?: ReadOptions & { onProgress?: OnProgress }): LazyFrame {
    return lazyFrame(this, symbol, options);
  }

  /** `read` with its options checked here and progress counted by `meter`. */
  private async readChecked(
    symbol: string,
    options: ReadOptions | undefined,
    meter: ProgressMeter | undefined,
  ): Promise<ReadResult> {
    checkName("symbol", symbol);
    const opts = checkOptions("read", options, ["asOf", "dateRange", "rowRange", "columns", "query"]);
    const request: ReadRequest = {};
    if (opts.rowRange !== undefined && opts.dateRange !== undefined) {
      throw new InvalidArgumentError("read: give dateRange or rowRange, not both.");
    }
    if (opts.rowRange !== undefined) request.rowRange = checkRowRange(opts.rowRange);
    if (opts.dateRange !== undefined) request.dateRange = checkDateRange(opts.dateRange);
    if (opts.columns !== undefined) request.columns = checkColumns(opts.columns);
    const which = this.versionFor(opts.asOf);
    if (opts.query === undefined) return this.readWith(symbol, which, request, meter);
    const query = checkQuery(opts.query);
    // Only the columns the query and `columns` need are read; the version they were taken from is read.
    const record = await this.store.resolve(symbol, which);
    const index = await this.store.readIndex(record, symbol);
    request.columns = requiredColumns(
      query,
      index.columns.map((c) => c.name),
      opts.columns,
    );
    // The timestamps the query's leading filters allow narrow the read (segments outside are not fetched).
    if (index.index.kind === "timestamp" && index.index.sorted && request.rowRange === undefined) {
      const narrowed = narrowDates(request.dateRange, dateBounds(query, index.index.name));
      if (narrowed) request.dateRange = narrowed;
    }
    const split = splitQuery(query, index.index.kind !== "timestamp" || index.index.sorted);
    if (split === null) {
      const item = await this.readWith(symbol, pinned(which, record), request, meter);
      return { ...item, data: applyReadQuery(item.data, query, opts.columns) };
    }
    // Chunk by chunk: each chunk's rows go through the filters (and the aggregation's partial) alone.
    const k = await loadKernels();
    // Row slices whose statistics prove no row passes the leading filters are not fetched.
    const keep = prunedRowRanges(query, index)?.keep;
    const table = await readWithQuery(
      this.store,
      k,
      { symbol, record, index, request, split, keep },
      this.parallel,
      meter,
    );
    return { ...this.item(symbol, record), data: shapeAnswer(frameOf(table), query, opts.columns) };
  }

  private async readWith(
    symbol: string,
    which: VersionSelector | undefined,
    request: ReadRequest,
    meter?: ProgressMeter,
  ): Promise<ReadResult> {
    const k: Kernels = await loadKernels();
    const store = this.store;
    const pooled =
      this.parallel && store instanceof VersionStore
        ? await readInParallel(this.parallel, store, k, symbol, which, request, meter)
        : undefined;
    const { record, frame, rowStart } =
      pooled ?? (await store.metered(meter, () => store.read(k, symbol, which, request)));
    // As after a write: the rest of the pool starts once the calling thread's own read is done.
    if (this.parallel && !pooled) warmPool(this.parallel, frameBytes(frame), "after");
    return { ...this.item(symbol, record), data: fromFrameData(frame, rowStart) };
  }

  /**
   * The first `n` rows (default 5); a negative `n` means all rows but the last `-n`, as in pandas. With
   * `query`, the first `n` rows of the query's answer.
   */
  async head(
    symbol: string,
    n = 5,
    options?: { asOf?: AsOf; columns?: string[]; query?: QueryBuilder },
  ): Promise<ReadResult> {
    return this.edge("head", symbol, n, options);
  }

  /**
   * The last `n` rows (default 5); a negative `n` means all rows but the first `-n`, as in pandas. With
   * `query`, the last `n` rows of the query's answer.
   */
  async tail(
    symbol: string,
    n = 5,
    options?: { asOf?: AsOf; columns?: string[]; query?: QueryBuilder },
  ): Promise<ReadResult> {
    return this.edge("tail", symbol, n, options);
  }

  private async edge(
    which: "head" | "tail",
    symbol: string,
    n: number,
    options?: { asOf?: AsOf; columns?: string[]; query?: QueryBuilder },
  ): Promise<ReadResult> {
    checkName("symbol", symbol);
    checkInteger(`${which}: n`, n, Number.MIN_SAFE_INTEGER);
    const opts = checkOptions(which, options, ["asOf", "columns", "query"]);
    if (opts.query !== undefined) {
      // The first or last n rows of the answer, not of the stored rows the query then runs on.
      const query = checkQuery(opts.query);
      const edged = which === "head" ? query.head(n) : query.tail(n);
      return this.readChecked(symbol, { asOf: opts.asOf, columns: opts.columns, query: edged }, undefined);
    }
    const asked = this.versionFor(opts.asOf);
    const record = await this.store.resolve(symbol, asked);
    const rows = (await this.store.readIndex(record, symbol)).rows;
    // Read the very version whose row count was used, even if a writer adds one meanwhile.
    const version = pinned(asked, record);
    const count = n >= 0 ? Math.min(n, rows) : Math.max(0, rows + n);
    const rowRange: [number, number] = which === "head" ? [0, count] : [rows - count, rows];
    const request: ReadRequest = { rowRange };
    if (opts.columns !== undefined) request.columns = checkColumns(opts.columns);
    return this.readWith(symbol, version, request);
  }

  /** The metadata of a version of `symbol`, without reading its data (`data` is absent). */
  async readMetadata(symbol: string, options?: { asOf?: AsOf }): Promise<VersionedItem> {
    checkName("symbol", symbol);
    const opts = checkOptions("readMetadata", options, ["asOf"]);
    return this.item(symbol, await this.store.resolve(symbol, this.versionFor(opts.asOf)));
  }

  /**
   * Stores `metadata` (any msgpack-able value) as a new version of `symbol` whose data is the latest
   * version's: no data is copied, the new version shares its segments. A symbol without a live version
   * gets one without data, which reads as an empty frame (as ArcticDB's `write_metadata` does).
   */
  async writeMetadata(
    symbol: string,
    metadata: unknown,
    options?: { prunePreviousVersions?: boolean },
  ): Promise<VersionedItem> {
    this.checkNewSymbol(symbol);
    const opts = checkOptions("writeMetadata", options, ["prunePreviousVersions"]);
    const meta = packMetadata(metadata);
    const record = await this.store.writeMetadata(symbol, meta, opts.prunePreviousVersions === true, true);
    return this.item(symbol, record);
  }

  /** Names of the symbols with at least one live version, sorted. */
  async listSymbols(options?: { snapshot?: string; regex?: string | RegExp }): Promise<string[]> {
    const opts = checkOptions("listSymbols", options, ["snapshot", "regex"]);
    const re = opts.regex === undefined ? undefined : checkRegex("listSymbols", opts.regex);
    let symbols: string[];
    if (opts.snapshot !== undefined) {
      checkName("snapshot", opts.snapshot);
      const snap = await this.store.readSnapshot(opts.snapshot);
      symbols = snap.pinned.map((p) => p.symbol).sort();
    } else {
      symbols = await this.store.listSymbols();
    }
    if (re !== undefined) symbols = symbols.filter((s) => re.test(s));
    return symbols;
  }

  /** True when `symbol` has a live version (at `asOf`, when given). */
  async hasSymbol(symbol: string, options?: { asOf?: AsOf }): Promise<boolean> {
    checkName("symbol", symbol);
    const opts = checkOptions("hasSymbol", options, ["asOf"]);
    try {
      // As ArcticDB's has_symbol: a deleted version a snapshot holds counts, by number or time too.
      await this.store.resolve(symbol, this.versionFor(opts.asOf), { pinned: true });
      return true;
    } catch (err) {
      const missing =
        err instanceof SymbolNotFoundError ||
        err instanceof VersionNotFoundError ||
        err instanceof SnapshotNotFoundError;
      if (missing) return false;
      throw err;
    }
  }

  /**
   * Versions of `symbol` (or of every symbol), symbols in name order, newest first within each: every
   * live version, then each deleted version a snapshot still holds (`deleted: true`), each with the
   * snapshots holding it. As ArcticDB's `list_versions`: `snapshot` lists only what that snapshot holds;
   * `latestOnly` only each symbol's latest live version; `skipSnapshots` reads no snapshot (faster with
   * many), so `snapshots` stays empty and deleted versions are not listed.
   */
  async listVersions(
    symbol?: string,
    options?: { snapshot?: string; latestOnly?: boolean; skipSnapshots?: boolean },
  ): Promise<VersionInfo[]> {
    if (symbol !== undefined) checkName("symbol", symbol);
    const opts = checkOptions("listVersions", options, ["snapshot", "latestOnly", "skipSnapshots"]);
    if (opts.snapshot !== undefined) checkName("snapshot", opts.snapshot);
    for (const flag of ["latestOnly", "skipSnapshots"] as const) {
      if (opts[flag] !== undefined && typeof opts[flag] !== "boolean") {
        throw new InvalidArgumentError(
          `listVersions: ${flag} must be true or false, got ${describe(opts[flag])}.`,
        );
      }
    }
    const listed = await this.store.listVersionInfo(symbol, {
      snapshot: opts.snapshot,
      latestOnly: opts.latestOnly === true,
      skipSnapshots: opts.skipSnapshots === true,
    });
    return listed.map((e) => ({
      symbol: e.symbol,
      version: e.record.v,
      date: new Date(e.record.ts),
      snapshots: e.snapshots,
      deleted: e.deleted,
    }));
  }

  /**
   * Takes snapshot `name`: pins the latest version of every symbol (except `skipSymbols`), or exactly the
   * `versions` given ({ symbol: version }; an empty object is none given, as in ArcticDB). Pinned versions
   * stay readable with `asOf: name` after they are deleted or pruned, until `deleteSnapshot(name)`.
   * `SnapshotExistsError` if the name is taken; `VersionNotFoundError` if it would pin nothing (no symbol
   * with a live version, or all skipped), as in ArcticDB.
   */
  async snapshot(
    name: string,
    options?: { metadata?: unknown; skipSymbols?: string[]; versions?: Record<string, number> },
  ): Promise<void> {
    checkNewName("snapshot", name);
    const opts = checkOptions("snapshot", options, ["metadata", "skipSymbols", "versions"]);
    let skip: Set<string> | undefined;
    if (opts.skipSymbols !== undefined) {
      if (!Array.isArray(opts.skipSymbols) || opts.skipSymbols.some((s) => typeof s !== "string")) {
        throw new InvalidArgumentError(
          `snapshot: skipSymbols must be an array of symbol names, got ${describe(opts.skipSymbols)}.`,
        );
      }
      skip = new Set(opts.skipSymbols);
    }
    let versions: Map<string, number> | undefined;
    if (opts.versions !== undefined) {
      if (opts.versions === null || typeof opts.versions !== "object" || Array.isArray(opts.versions)) {
        throw new InvalidArgumentError(
          `snapshot: versions must be an object of symbol → version number, got ${describe(opts.versions)}.`,
        );
      }
      versions = new Map(
        Object.entries(opts.versions).map(([symbol, v]) => {
          checkName("symbol", symbol);
          return [symbol, checkInteger(`snapshot: version of '${symbol}'`, v, 0)];
        }),
      );
    }
    // As ArcticDB: an empty `versions` is none given (every symbol's latest), and only a non-empty
    // skipSymbols with a non-empty versions contradict each other.
    if (versions?.size === 0) versions = undefined;
    if (versions && skip && skip.size > 0) {
      throw new InvalidArgumentError("snapshot: give skipSymbols or versions, not both.");
    }
    await this.store.takeSnapshot(name, {
      meta: optionalMetadata(opts.metadata),
      skip: versions ? undefined : skip,
      versions,
    });
  }

  /** Every snapshot's name and its metadata (`undefined` when none was given), in name order. */
  async listSnapshots(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const [name, snap] of await this.store.listSnapshots()) {
      Object.defineProperty(out, name, {
        value: snap.meta ? unpackMetadata(snap.meta) : undefined,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }

  /** Deletes snapshot `name` and frees data that only it still held; `SnapshotNotFoundError` if absent. */
  async deleteSnapshot(name: string): Promise<void> {
    checkName("snapshot", name);
    await this.store.dropSnapshot(name);
  }

  /**
   * Deletes `symbol` entirely, or only `versions` of it. Storage that no remaining version references is
   * freed. Version numbers are not reused: a later write continues after the highest ever written. As in
   * ArcticDB, deleting a symbol that has no live version does nothing, while naming a version that is not
   * live is `VersionNotFoundError` (and nothing is deleted).
   */
  async delete(symbol: string, options?: { versions?: number | number[] }): Promise<void> {
    checkName("symbol", symbol);
    const opts = checkOptions("delete", options, ["versions"]);
    let versions: number[] | undefined;
    if (opts.versions !== undefined) {
      versions = (Array.isArray(opts.versions) ? opts.versions : [opts.versions]).map((v) =>
        checkInteger("delete: versions", v, 0),
      );
    }
    await this.store.delete(symbol, versions);
  }

  /**
   * Deletes every version of `symbol` except the latest and frees the storage nothing else references
   * (versions a snapshot holds stay readable through it). `SymbolNotFoundError` if it has no version.
   */
  async prunePreviousVersions(symbol: string): Promise<void> {
    checkName("symbol", symbol);
    await this.store.pruneVersions(symbol);
  }

  /**
   * Checks the library: every version, snapshot and staged chunk resolves to its index and segments and,
   * unless `data` is false, every segment passes its checksums and decodes. Reports the problems found
   * (`ok` is true when there are none) and the orphaned index and segment keys that nothing references,
   * which `cleanup` reclaims. Reads only.
   */
  async verify(options?: { data?: boolean }): Promise<
    VerifyReport & {
      /** True when no problem was found. */
      ok: boolean;
    }
  > {
    const opts = checkOptions("verify", options, ["data"]);
    const report = await this.store.verify(await loadKernels(), { data: opts.data !== false });
    return { ok: report.problems.length === 0, ...report };
  }

  /**
   * Removes orphaned segments and indexes (what a writer that died mid-write leaves behind) that are
   * older than `graceMs` (default one hour). Younger orphans are kept, because a writer that is still
   * running stores its segments before the commit that references them. Pass `graceMs: 0` only when no
   * writer is running. Returns the keys removed.
   */
  async cleanup(options?: { graceMs?: number }): Promise<{
    /** The storage keys removed. */
    removed: string[];
  }> {
    const opts = checkOptions("cleanup", options, ["graceMs"]);
    const graceMs =
      opts.graceMs === undefined ? 3_600_000 : checkInteger("cleanup: graceMs", opts.graceMs, 0);
    return { removed: await this.store.cleanup(await loadKernels(), graceMs) };
  }

  /**
   * `write` or `append` of a stream of frames: each frame is staged as it arrives (one in memory at a
   * time) and the whole stream becomes one version at its end; see src/version/stream-write.ts.
   */
  private async writeFrames(
    mode: "write" | "append",
    symbol: string,
    source: FrameSource,
    opts: { metadata?: unknown; prunePreviousVersions?: boolean },
    meter: ProgressMeter | undefined,
  ): Promise<VersionedItem> {
    const k = await loadKernels();
    const options = {
      mode,
      meta: optionalMetadata(opts.metadata),
      prune: opts.prunePreviousVersions === true,
      meter,
    };
    const frames = framesOf(source, mode);
    const record = await this.store.writeStream(k, symbol, frames, options);
    return this.item(symbol, record);
  }

  /**
   * Reads `symbol` chunk by chunk, in index order, as an async iterable of `DataFrame`s: for a symbol too
   * big to hold, or to start on the first rows before the last are read. The version is resolved once,
   * when `iterate` is called (as `read` takes `asOf`), so every chunk comes from it even if writers add
   * versions meanwhile. `dateRange`, `rowRange` and `columns` select as in `read`. A chunk is about
   * `chunkRows` rows (default: the library's `rowsPerSegment`, one segment's rows) or `chunkBytes` raw
   * bytes, cut at segment boundaries where they fall; a chunk of a row-indexed symbol numbers its rows
   * as the stored frame does. The next chunk is read while the caller handles the current one; breaking
   * out of the loop reads nothing more. A `query` of filter and apply clauses runs on each chunk
   * (chunks the filter empties are skipped); one with a groupby, resample or row selection needs every
   * row, so its answer comes as one frame at the end (computed a chunk at a time, as `read` does).
   */
  iterate(
    symbol: string,
    options?: ReadOptions & { chunkRows?: number; chunkBytes?: number },
  ): AsyncGenerator<DataFrame, void, undefined> {
    checkName("symbol", symbol);
    const opts = checkOptions("iterate", options, [
      "asOf",
      "dateRange",
      "rowRange",
      "columns",
      "query",
      "chunkRows",
      "chunkBytes",
    ]);
    if (opts.rowRange !== undefined && opts.dateRange !== undefined) {
      throw new InvalidArgumentError("iterate: give dateRange or rowRange, not both.");
    }
    const rowRange = opts.rowRange === undefined ? undefined : checkRowRange(opts.rowRange);
    const dateRange = opts.dateRange === undefined ? undefined : checkDateRange(opts.dateRange);
    const columns = opts.columns === undefined ? undefined : checkColumns(opts.columns);
    const query = opts.query === undefined ? undefined : checkIterateQuery(opts.query);
    const chunkRows = checkChunkSize("chunkRows", opts.chunkRows);
    const chunkBytes = checkChunkSize("chunkBytes", opts.chunkBytes);
    const asked = this.versionFor(opts.asOf);
    if (query !== undefined && !streamsByRow(query)) {
      // A groupby, resample or row selection needs every row: its answer comes as one frame, at the
      // end, computed a chunk of rows at a time as a read with the query is.
      const resolved = this.store.resolve(symbol, asked);
      const answer = async (record: VersionRecord) =>
        (
          await this.readChecked(
            symbol,
            {
              // A snapshot keeps its version readable after a delete; otherwise the number resolved now.
              asOf: typeof asked === "object" && "snapshot" in asked ? opts.asOf : record.v,
              dateRange: opts.dateRange,
              rowRange: opts.rowRange,
              columns,
              query,
            },
            undefined,
          )
        ).data;
      return (async function* () {
        yield await answer(await resolved);
      })();
    }
    const chunks = (record: VersionRecord) =>
      iterateChunks(
        {
          store: this.store,
          read: async (which, request) => (await this.readWith(symbol, which, request)).data,
          rowsInDateRange: async (rec, index, range) =>
            this.store.rowsInDateRange(await loadKernels(), symbol, rec, index, range),
        },
        symbol,
        // A snapshot keeps its version readable after a delete; a number or a time is pinned by number.
        { record, pin: pinned(asked, record), dateRange, rowRange, columns, query, chunkRows, chunkBytes },
        this.store.config.rowsPerSegment,
      );
    const resolved = this.store.resolve(symbol, asked);
    if (!(resolved instanceof Promise)) return chunks(resolved);
    // An object store resolves the version with a request: the first chunk waits for it.
    return (async function* () {
      yield* chunks(await resolved);
    })();
  }

  /**
   * Rewrites the latest version of `symbol` as a new version with the same rows, columns, dtypes and
   * metadata in full segments of `rowsPerSegment` rows (default: the library's), reading and writing a
   * segment's rows at a time: a symbol built by many small appends reads faster after. Older versions
   * keep their segments, readable until deleted or pruned (`prunePreviousVersions`). If another version
   * is added while it runs, nothing is committed and it throws (`InvalidArgumentError`); compact again.
   * ArcticDB calls this `defragment_symbol_data`.
   */
  async compactData(symbol: string, options?: { rowsPerSegment?: number }): Promise<VersionedItem> {
    checkName("symbol", symbol);
    const opts = checkOptions("compactData", options, ["rowsPerSegment"]);
    const rows =
      opts.rowsPerSegment === undefined
        ? this.store.config.rowsPerSegment
        : checkInteger("compactData: rowsPerSegment", opts.rowsPerSegment, 1);
    const record = await this.store.resolve(symbol, undefined);
    const k = await loadKernels();
    return this.item(symbol, await compactSymbol(this.store, k, symbol, record, rows));
  }

  /**
   * True when compacting the latest version of `symbol` into segments of `segmentSize` rows (default:
   * the library's `rowsPerSegment`) would remove at least 100 segments, as ArcticDB's
   * `is_symbol_fragmented` (its `SymbolDataCompact.SegmentCount` default). Reads only the index.
   */
  async isSymbolFragmented(symbol: string, options?: { segmentSize?: number }): Promise<boolean> {
    checkName("symbol", symbol);
    const opts = checkOptions("isSymbolFragmented", options, ["segmentSize"]);
    const size =
      opts.segmentSize === undefined
        ? this.store.config.rowsPerSegment
        : checkInteger("isSymbolFragmented: segmentSize", opts.segmentSize, 1);
    const record = await this.store.resolve(symbol, undefined);
    return isFragmented(await this.store.readIndex(record, symbol), size);
  }

  /** Schema, row count, index span and date of a version, read from its index without touching data. */
  async getDescription(symbol: string, options?: { asOf?: AsOf }): Promise<SymbolDescription> {
    checkName("symbol", symbol);
    const opts = checkOptions("getDescription", options, ["asOf"]);
    const record = await this.store.resolve(symbol, this.versionFor(opts.asOf));
    const index = await this.store.readIndex(record, symbol);
    const firstSeg = index.segments.find((s) => s.rows > 0);
    const lastSeg = [...index.segments].reverse().find((s) => s.rows > 0);
    return {
      symbol,
      version: record.v,
      columns: index.columns.map((c) => ({ name: c.name, dtype: c.dtype })),
      rowCount: index.rows,
      index:
        index.index.kind === "timestamp"
          ? {
              kind: "timestamp",
              name: index.index.name,
              first: firstSeg?.first ?? null,
              last: lastSeg?.last ?? null,
              sorted: index.index.sorted,
              ...(index.index.tz === undefined ? {} : { tz: index.index.tz }),
            }
          : { kind: "row" },
      date: new Date(record.ts),
      storedBytes: index.segments.reduce((sum, s) => sum + s.bytes, 0),
      segmentCount: index.segments.length,
      averageRowsPerSegment: rowSlices(index) === 0 ? 0 : index.rows / rowSlices(index),
      metadata: record.meta ? unpackMetadata(record.meta) : undefined,
    };
  }

  /**
   * Checks a symbol name given to a call that may create the symbol: ArcticDB's rules for new names,
   * waived for a symbol already stored (even if deleted since), so old names stay writable.
   */
  private checkNewSymbol(symbol: unknown): asserts symbol is string {
    checkNewName("symbol", symbol, () => this.store.symbolKnown(symbol as string));
  }

  /** Checks `asOf` and turns it into the version engine's selector (undefined = latest). */
  private versionFor(asOf: unknown): VersionSelector | undefined {
    if (asOf === undefined || asOf === null) return undefined;
    if (typeof asOf === "number") return checkInteger("asOf", asOf, Number.MIN_SAFE_INTEGER);
    if (typeof asOf === "string") {
      checkName("snapshot", asOf);
      return { snapshot: asOf };
    }
    if (asOf instanceof Date) {
      const at = asOf.getTime();
      if (Number.isNaN(at)) throw new InvalidArgumentError("asOf is an invalid Date.");
      return { at };
    }
    throw new InvalidArgumentError(
      `asOf must be a version number, a snapshot name or a Date, got ${describe(asOf)}.`,
    );
  }

  private item(symbol: string, record: VersionRecord): VersionedItem {
    return {
      symbol,
      library: this.name,
      version: record.v,
      metadata: record.meta ? unpackMetadata(record.meta) : undefined,
      timestamp: new Date(record.ts),
    };
  }
}

/** Called as a long read or write goes on, with bytes and segments done of the totals known so far. */
export type OnProgress = (progress: Progress) => void;

/** A progress meter for the caller's `onProgress`, if any. */
function meterFor(call: string, onProgress: unknown): ProgressMeter | undefined {
  if (onProgress === undefined) return undefined;
  if (typeof onProgress !== "function") {
    throw new InvalidArgumentError(`${call}: onProgress must be a function, got ${describe(onProgress)}.`);
  }
  return new ProgressMeter(onProgress as OnProgress);
}

/** A batch item before it is checked. */
type BatchItem = { symbol?: unknown; data?: unknown; metadata?: unknown };

function asDataFrame(data: unknown, call: string): DataFrame {
  if (data instanceof DataFrame) return data;
  if (data !== null && typeof data === "object" && !Array.isArray(data)) {
    return new DataFrame(data as Record<string, never>);
  }
  throw new InvalidArgumentError(
    `${call}: data must be a DataFrame or a record of columns such as { a: [1, 2, 3] }, got ${describe(data)}.`,
  );
}

/** User metadata packed for a version record; none when the caller gave none. */
function optionalMetadata(metadata: unknown): Uint8Array | undefined {
  return metadata === undefined ? undefined : packMetadata(metadata);
}

function checkDateRange(range: unknown): [bigint | null, bigint | null] {
  if (!Array.isArray(range) || range.length !== 2) {
    throw new InvalidArgumentError(
      `dateRange must be [start, end] (each a Date, ISO string, ns bigint or null), got ${describe(range)}.`,
    );
  }
  const [start, end] = range.map((v, i) =>
    v === null || v === undefined ? null : toNanos(v, `dateRange ${i === 0 ? "start" : "end"}`),
  );
  if (start !== null && end !== null && end < start) {
    throw new InvalidArgumentError("dateRange ends before it starts; give [start, end] with start <= end.");
  }
  return [start, end];
}

/**
 * Checks a `rowRange`: `[start, end)` of whole numbers, either negative (counting from the end) or
 * `null`/`undefined` (open), as `iloc` takes them; what the bounds select is worked out against the row
 * count by `resolveRowRange`.
 */
function checkRowRange(range: unknown): [number | null, number | null] {
  if (!Array.isArray(range) || range.length !== 2) {
    throw new InvalidArgumentError(
      `rowRange must be [start, end) (whole numbers, negative counting from the end, null for an open end), got ${describe(range)}.`,
    );
  }
  const bound = (v: unknown, what: string) =>
    v === null || v === undefined ? null : checkInteger(`rowRange ${what}`, v, Number.MIN_SAFE_INTEGER);
  return [bound(range[0], "start"), bound(range[1], "end")];
}

function checkColumns(columns: unknown): string[] {
  if (!Array.isArray(columns) || columns.some((c) => typeof c !== "string")) {
    throw new InvalidArgumentError(`columns must be an array of column names, got ${describe(columns)}.`);
  }
  return columns as string[];
}

/**
 * `range` narrowed to `bounds`; undefined when the bounds add nothing or contradict it (the query then
 * finds no rows by itself).
 */
function narrowDates(
  range: [bigint | null, bigint | null] | undefined,
  bounds: DateBounds,
): [bigint | null, bigint | null] | undefined {
  if (bounds.start === null && bounds.end === null) return undefined;
  const [s, e] = range ?? [null, null];
  const start = s === null ? bounds.start : bounds.start === null || s > bounds.start ? s : bounds.start;
  const end = e === null ? bounds.end : bounds.end === null || e < bounds.end ? e : bounds.end;
  return start !== null && end !== null && end < start ? undefined : [start, end];
}

/** `query` when it is a `QueryBuilder`, else the `InvalidArgumentError` that says how to make one. */
function checkQuery(query: unknown): QueryBuilder {
  if (query instanceof QueryBuilder) return query;
  throw new InvalidArgumentError(
    'read: query must be a QueryBuilder, such as new QueryBuilder().filter(col("px").gt(100)).',
  );
}

/**
 * The selector that reads again exactly the version `asked` resolved to (`record`), whatever writers do
 * meanwhile: its number, or the snapshot itself, through which alone a deleted version it pins is read.
 */
function pinned(asked: VersionSelector | undefined, record: VersionRecord): VersionSelector {
  return typeof asked === "object" && "snapshot" in asked ? asked : record.v;
}
