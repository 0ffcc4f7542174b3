import { unpackRecord } from "../codec/msgpack.ts";
import { DTYPES, type DType } from "../dtypes.ts";
import { CorruptSegmentError } from "../errors.ts";
import type { FrameData } from "./frame-data.ts";
import { isSorted } from "./schema-checks.ts";

/** What `L:<lib>` holds. */
export interface LibraryConfig {
  rowsPerSegment: number;
  columnsPerSegment: number;
  dynamicSchema: boolean;
  dedup: boolean;
  created: number; // ms since the epoch
  /** Random, unique to this library's creation (libraries created before it was added have none). */
  id?: string;
}

/** One tile of a stored frame: rows [rowStart, rowStart + rows) of columns [colStart, colStart + cols). */
export interface SegmentRef {
  key: string;
  rowStart: number;
  rows: number;
  colStart: number;
  cols: number;
  /** Stored size in bytes. */
  bytes: number;
  /**
   * The column names the tile holds, when they are not `columns[colStart, colStart + cols)` of its index
   * (tiles appended under dynamic schema).
   */
  names?: string[];
  /** First and last timestamp of the tile, for timestamp-indexed frames. */
  first?: bigint;
  last?: bigint;
  /**
   * Per-column statistics (index format 2), aligned with the tile's columns (`names`, or
   * `columns[colStart, colStart + cols)`): the least and greatest value of each numeric or timestamp
   * column, NaN and NaT left out; a bigint for int64, uint64 and timestamp columns, a number for the
   * others. `null` for a bool or string column, and for one whose every value is NaN or NaT. Both absent
   * when the tile was written before statistics (format 1) or has no row; a query may then skip nothing.
   * They describe the segment's stored values, which never change, so a ref copied into a later index
   * (append, update) keeps them.
   */
  min?: (number | bigint | null)[];
  max?: (number | bigint | null)[];
}

/** What `I:<lib>/<symbol>/<id>` holds: the schema and the list of tiles of one stored frame. */
export interface IndexRecord {
  f: number;
  rows: number;
  columns: { name: string; dtype: DType }[];
  /** `tz`: the index's time zone, absent for a naive index (and in records written before zones). */
  index: { kind: "row" } | { kind: "timestamp"; name: string; sorted: boolean; tz?: string };
  segments: SegmentRef[];
}

/**
 * The format an index record is written in: 1, the tiles alone; 2, tiles with per-column statistics
 * (`SegmentRef.min`/`max`). A reader takes any `f`: fields it does not know are ignored (a floe of
 * format 1 reads a format-2 index as it always read, without skipping), and a tile without statistics
 * is one nothing is known about.
 */
export const INDEX_FORMAT = 2;

/**
 * The index of a version without data: what `writeMetadata` stores for a symbol that had no version
 * (ArcticDB's `write_metadata` makes version 0 with `data` None). It reads as an empty frame, and an
 * append or a date-range read treats it as nothing stored.
 */
export function noDataIndex(): IndexRecord {
  return { f: INDEX_FORMAT, rows: 0, columns: [], index: { kind: "row" }, segments: [] };
}

/** True for the index `noDataIndex` makes: no rows, no columns, no segments. */
export function isNoData(index: IndexRecord): boolean {
  return index.rows === 0 && index.columns.length === 0 && index.segments.length === 0;
}

/** What `V:<lib>/<symbol>/<version>` holds. Written once, never changed. */
export interface VersionRecord {
  v: number;
  /** When it was written, ms since the epoch. */
  ts: number;
  /** Key of its index record. */
  index: string;
  /** User metadata, msgpack-encoded, if any. */
  meta?: Uint8Array;
}

/**
 * Decodes a version record. An unframed value (the older format, without a checksum) is checked field by
 * field, so damage that turns a framed record into a plausible unframed one is a `CorruptSegmentError`
 * rather than a record without an index. The other `unpack…` functions check their records the same way.
 */
export function unpackVersion(bytes: Uint8Array, what = "version record"): VersionRecord {
  return unpackChecked(bytes, what, "a version record", isVersionRecord);
}

/** Decodes a snapshot record. */
export function unpackSnapshot(bytes: Uint8Array, what = "snapshot"): SnapshotRecord {
  return unpackChecked(bytes, what, "a snapshot", isSnapshot);
}

/** Decodes a symbol reference. */
export function unpackRef(bytes: Uint8Array, what = "symbol reference"): SymbolRef {
  return unpackChecked(bytes, what, "a symbol reference", isRef);
}

/** Decodes an index record: its schema, its index and every tile are checked. */
export function unpackIndex(bytes: Uint8Array, what = "index record"): IndexRecord {
  return unpackChecked(bytes, what, "an index record", isIndexRecord);
}

/** Decodes a staged chunk. */
export function unpackStaged(bytes: Uint8Array, what = "staged chunk"): StagedRecord {
  return unpackChecked(bytes, what, "a staged chunk", isStaged);
}

/** Decodes a library's configuration. */
export function unpackLibraryConfig(bytes: Uint8Array, what = "library config"): LibraryConfig {
  return unpackChecked(bytes, what, "a library config", isLibraryConfig);
}

/** Decodes a record and checks it with `is`; a record that fails is a `CorruptSegmentError` naming `what`. */
function unpackChecked<T>(bytes: Uint8Array, what: string, kind: string, is: (r: unknown) => r is T): T {
  const r = unpackRecord<unknown>(bytes, what);
  if (!is(r)) throw new CorruptSegmentError(`Cannot decode ${what}: its fields are not those of ${kind}`);
  return r;
}

function isSnapshot(r: unknown): r is SnapshotRecord {
  const x = r as Partial<SnapshotRecord> | null;
  return (
    typeof x === "object" &&
    x !== null &&
    typeof x.ts === "number" &&
    (x.meta === undefined || x.meta instanceof Uint8Array) &&
    Array.isArray(x.pinned) &&
    x.pinned.every((p) => typeof p?.symbol === "string" && isVersionRecord(p.record))
  );
}

function isRef(r: unknown): r is SymbolRef {
  const x = r as Partial<SymbolRef> | null;
  return typeof x === "object" && x !== null && isCount(x.next);
}

function isStaged(r: unknown): r is StagedRecord {
  const x = r as Partial<StagedRecord> | null;
  return typeof x === "object" && x !== null && typeof x.ts === "number" && isIndexRecord(x.index);
}

function isLibraryConfig(r: unknown): r is LibraryConfig {
  const x = r as Partial<LibraryConfig> | null;
  return (
    typeof x === "object" &&
    x !== null &&
    isCount(x.rowsPerSegment) &&
    (x.rowsPerSegment as number) > 0 &&
    isCount(x.columnsPerSegment) &&
    (x.columnsPerSegment as number) > 0 &&
    typeof x.dynamicSchema === "boolean" &&
    typeof x.dedup === "boolean" &&
    typeof x.created === "number"
  );
}

function isCount(n: unknown): boolean {
  return Number.isSafeInteger(n) && (n as number) >= 0;
}

function isIndexRecord(r: unknown): r is IndexRecord {
  const x = r as Partial<IndexRecord> | null;
  if (typeof x !== "object" || x === null || typeof x.f !== "number" || !isCount(x.rows)) return false;
  if (!Array.isArray(x.columns) || !Array.isArray(x.segments)) return false;
  for (const c of x.columns) {
    if (typeof c?.name !== "string" || !Object.hasOwn(DTYPES, c.dtype)) return false;
  }
  const index = x.index as { kind?: unknown; name?: unknown; sorted?: unknown; tz?: unknown } | undefined;
  const indexOk =
    index?.kind === "row" ||
    (index?.kind === "timestamp" &&
      typeof index.name === "string" &&
      typeof index.sorted === "boolean" &&
      (index.tz === undefined || typeof index.tz === "string"));
  return indexOk && x.segments.every(isSegmentRef);
}

function isSegmentRef(s: unknown): boolean {
  const x = s as Partial<SegmentRef> | null;
  const stamp = (t: unknown) => t === undefined || typeof t === "bigint" || typeof t === "number";
  return (
    typeof x === "object" &&
    x !== null &&
    typeof x.key === "string" &&
    isCount(x.rowStart) &&
    isCount(x.rows) &&
    isCount(x.colStart) &&
    isCount(x.cols) &&
    isCount(x.bytes) &&
    (x.names === undefined || (Array.isArray(x.names) && x.names.every((n) => typeof n === "string"))) &&
    stamp(x.first) &&
    stamp(x.last) &&
    statsOk(x.min, x.max, x.cols as number)
  );
}

/**
 * Statistics are both absent, or two lists of `cols` entries, each null in both or a number (not NaN)
 * or bigint in both with min <= max: a damaged record must not make a query skip rows it holds.
 */
function statsOk(min: unknown, max: unknown, cols: number): boolean {
  if (min === undefined && max === undefined) return true;
  if (!Array.isArray(min) || !Array.isArray(max) || min.length !== cols || max.length !== cols) return false;
  const value = (v: unknown) => typeof v === "bigint" || (typeof v === "number" && !Number.isNaN(v));
  for (let i = 0; i < cols; i++) {
    const lo = min[i];
    const hi = max[i];
    if (lo === null && hi === null) continue;
    if (!value(lo) || !value(hi) || lo > hi) return false;
  }
  return true;
}

function isVersionRecord(r: unknown): r is VersionRecord {
  const v = r as Partial<VersionRecord> | null;
  return (
    typeof v === "object" &&
    v !== null &&
    typeof v.v === "number" &&
    typeof v.ts === "number" &&
    typeof v.index === "string" &&
    (v.meta === undefined || v.meta instanceof Uint8Array)
  );
}

/** What `R:<lib>/<symbol>` holds. */
export interface SymbolRef {
  /** The next version number to hand out; never decreases, so numbers are never reused. */
  next: number;
}

/** What `N:<lib>/<name>` holds: the versions a snapshot pins, copied so they outlive their deletion. */
export interface SnapshotRecord {
  /** When it was taken, ms since the epoch. */
  ts: number;
  /** User metadata, msgpack-encoded, if any. */
  meta?: Uint8Array;
  /** The pinned versions, one per symbol (a list, not an object, so any symbol name is safe). */
  pinned: { symbol: string; record: VersionRecord }[];
}

/** What `T:<lib>/<symbol>/<id>` holds: a staged chunk, written by `write(…, { staged: true })`. */
export interface StagedRecord {
  /** When it was staged, ms since the epoch; orders row-indexed chunks. */
  ts: number;
  index: IndexRecord;
  /**
   * Object stores: the symbol's newest version number when the chunk was staged (-1: none). A finalize
   * that finds the chunk's segments in a version after it knows the chunk was consumed already.
   */
  after?: number;
}

/** The index record of `frame` stored as `segments` (rows counted from the frame's first). */
export function indexRecordFor(
  frame: FrameData,
  segments: SegmentRef[],
  /** Whether the timestamps are in order, when the caller checked already (one pass fewer). */
  sorted?: boolean,
): IndexRecord {
  return {
    f: INDEX_FORMAT,
    rows: frame.numRows,
    columns: frame.columns.map((c) => ({ name: c.name, dtype: c.dtype })),
    index:
      frame.index.kind === "timestamp"
        ? {
            kind: "timestamp",
            name: frame.index.name,
            sorted: sorted ?? isSorted(frame.index.values),
            ...(frame.index.tz === undefined ? {} : { tz: frame.index.tz }),
          }
        : { kind: "row" },
    segments,
  };
}
