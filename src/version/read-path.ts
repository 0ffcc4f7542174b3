import {
  CodesBuilder,
  decodeSegmentColumn,
  decodeSegmentColumnKept,
  type ParsedSegment,
  parseSegment,
} from "../codec/segment.ts";
import type { Kernels } from "../codec/wasm.ts";
import { type ColumnValues, DTYPES, type NumericArray, type StringArray } from "../dtypes.ts";
import { CorruptSegmentError, InvalidArgumentError, UnsortedIndexError } from "../errors.ts";
import { readyQueryKernels } from "../query/kernels.ts";
import { ParsedCache } from "../storage/parsed-cache.ts";
import type { Storage } from "../storage/storage.ts";
import { codesOf, setCodes } from "../string-codes.ts";
import type { ColumnData, FrameData } from "./frame-data.ts";
import type { MeterSlot, ProgressMeter } from "./progress.ts";
import { planRead, type ReadRequest, segmentColumns } from "./read-plan.ts";
import { type IndexRecord, isNoData, type SegmentRef, unpackIndex, type VersionRecord } from "./records.ts";
import { firstAtOrAfter } from "./search.ts";
import type { VersionChain, VersionSelector } from "./version-chain.ts";
import { convertInto, fillMissing } from "./widen.ts";

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

/** Arrays a read decodes into instead of allocating its own (see `ReadPath.readRows`). */
export interface ReadTargets {
  columns: Map<string, NumericArray>;
  index?: BigInt64Array;
}

/** Rows [from, to) of a segment for a chunk, landing at chunk row `outRow`; `columns`: those it holds. */
export interface ChunkPiece {
  segment: SegmentRef;
  from: number;
  to: number;
  outRow: number;
  columns: string[];
}

/**
 * The read path of one library: index records (parsed once, then cached), segments checked against their
 * index entries, date ranges turned into rows, and the rows and columns a request asks for decoded into a
 * frame.
 */
export class ReadPath {
  /** Index records parsed before, by index key; each hit is checked against the stored bytes. */
  readonly indexes = new ParsedCache<IndexRecord>(INDEX_CACHE_ENTRIES, INDEX_CACHE_BYTES);
  /** Decoded index columns of recent date-range boundary segments, by segment key (see `indexColumn`). */
  private readonly boundaries = new ParsedCache<BigInt64Array>(
    BOUNDARY_CACHE_ENTRIES,
    BOUNDARY_CACHE_BYTES,
    (block, values) => block.byteLength + values.byteLength,
  );

  constructor(
    private readonly storage: Storage,
    private readonly chain: VersionChain,
    private readonly running: MeterSlot,
  ) {}

  /** The progress meter of the call running now (see `VersionStore.metered`). */
  private get meter(): ProgressMeter | undefined {
    return this.running.meter;
  }

  /**
   * The index record a version points at. Parsed records are cached (see `ParsedCache`) and frozen, as
   * they are shared between calls: copy before changing one.
   */
  readIndex(record: VersionRecord, symbol: string): IndexRecord {
    return indexOfVersion(record, symbol, this.storage.getView(record.index), (bytes) =>
      this.indexes.get(record.index, bytes, parseIndex),
    );
  }

  /**
   * Seeds the index cache with a record this store is committing, so the next read or append of the
   * symbol skips parsing it. Harmless if the transaction then fails: entries are checked against the
   * stored bytes, and a key that was never stored is never found.
   */
  remember(indexKey: string, packed: Uint8Array, index: IndexRecord): void {
    this.indexes.set(indexKey, packed, frozen(index));
  }

  /** Reads a version of `symbol` (latest when `version` is absent), one consistent snapshot throughout. */
  read(
    k: Kernels,
    symbol: string,
    which: VersionSelector | undefined,
    request: ReadRequest = {},
  ): { record: VersionRecord; index: IndexRecord; frame: FrameData; rowStart: number } {
    return this.storage.readTransaction(() => {
      const record = this.chain.resolve(symbol, which);
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
    // String columns wanted only as dictionary codes get no array of strings (string-codes.ts).
    const only = new Set(request.codesOnly);
    const columns: ColumnData[] = plan.columns.map((i) => {
      const { name, dtype } = index.columns[i];
      const info = DTYPES[dtype];
      const given = into?.columns.get(name);
      if (given && given.length !== plan.rows) throw new Error(`internal: column '${name}' target misfits`);
      const values = info.array
        ? (given ?? new info.array(plan.rows))
        : only.has(name)
          ? ([] as StringArray)
          : (new Array(plan.rows).fill(null) as StringArray);
      return { name, dtype, values };
    });
    // Every tile holds the index: take it from the first tile fetched of each row slice (a read of
    // columns past the first tile's fetches no tile at column 0).
    const indexFrom = new Set<(typeof plan.pieces)[number]>();
    const sliced = new Set<number>();
    for (const piece of plan.pieces) {
      if (sliced.has(piece.segment.rowStart)) continue;
      sliced.add(piece.segment.rowStart);
      indexFrom.add(piece);
    }
    const pieceBytes = (piece: (typeof plan.pieces)[number]) =>
      (piece.to - piece.from) * (indexValues && indexFrom.has(piece) ? 8 : 0) +
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
    const builders =
      request.codes || only.size > 0
        ? new Map(
            columns
              .filter((c) => c.dtype === "string" && (request.codes || only.has(c.name)))
              // Without a groupby (request.codes) codes only serve to look kept rows' strings up.
              .map((c) => [
                c.name,
                new CodesBuilder(plan.rows, only.has(c.name), only.has(c.name) && !request.codes),
              ]),
          )
        : undefined;
    for (const piece of plan.pieces) {
      const seg = piece.segment;
      this.withSegment(k, symbol, record, seg, (parsed) => {
        for (const c of segmentColumns(seg, where)) {
          const col = byIndex.get(c);
          if (!col) continue;
          const storedAs = parsed.columns.get(col.name)?.dtype ?? col.dtype;
          if (storedAs === col.dtype) {
            const codes = builders?.get(col.name);
            decodeSegmentColumn(k, parsed, col.name, col.values, piece.outRow, piece.from, piece.to, codes);
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
        if (indexValues && index.index.kind === "timestamp" && indexFrom.has(piece)) {
          const known = decoded.get(seg.key);
          if (known) indexValues.set(known.subarray(piece.from, piece.to), piece.outRow);
          else
            decodeSegmentColumn(k, parsed, index.index.name, indexValues, piece.outRow, piece.from, piece.to);
        }
      });
      this.meter?.add(pieceBytes(piece));
    }
    for (const [name, builder] of builders ?? []) {
      builder.finish(columns.find((c) => c.name === name)?.values as StringArray);
    }
    for (const gap of plan.gaps) {
      const col = byIndex.get(gap.column);
      if (col && !only.has(col.name)) fillMissing(col.values, col.dtype, gap.outRow, gap.outRow + gap.rows);
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
   * The rows of `request` (a row range) that a mask keeps, materialised late: the columns `first` names
   * are decoded whole and `where` turns them into the mask (one byte per row, 1 to keep it, else 0); then the other
   * columns and the index are decoded compacted by it — numeric ones in Wasm memory, so only kept rows are
   * copied out; string columns and columns with gaps (dynamic schema) decoded whole, then gathered — and
   * the `first` columns compacted too. `rows` is how many rows the range held before the mask. Arrays of
   * `into` (as long as the rows read) are decoded into, the compacted ones at their start, as readRows does.
   */
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
    if (request.dateRange) throw new Error("internal: readRowsWhere takes a row range");
    const names = request.columns ?? index.columns.map((c) => c.name);
    const isFirst = new Set(first);
    const plan = planRead(index, { ...request, columns: names.filter((n) => !isFirst.has(n)) });
    // A row slice whose tiles lack every late column (dynamic schema) has no piece to take the index
    // from: the index then comes whole with the first columns.
    const indexLate = plan.gaps.length === 0;
    const head = this.readRows(
      k,
      symbol,
      record,
      index,
      {
        ...request,
        columns: [...first],
        withoutIndex: request.withoutIndex || indexLate,
      },
      into,
    ).frame;
    const rows = head.numRows;
    if (plan.rows !== rows) throw new Error("internal: the late columns' plan differs in rows");
    const mask = where(head.columns, rows);
    if (mask.length !== rows) throw new Error("internal: a mask of another length than the rows");
    // The mask is 0s and 1s (a comparison's or its and/or/not): its sums count the kept rows.
    // Rows kept before each piece's first row (where its first kept row goes), and in all.
    const before = keptBefore(mask, [...plan.pieces.map((p) => p.outRow), rows]);
    const kept = before.get(rows) as number;
    if (kept === rows) {
      // Every row passes: the other columns decode as a plain read does, with nothing to compact.
      const others = names.filter((n) => !isFirst.has(n));
      const rest = this.readRows(
        k,
        symbol,
        record,
        index,
        {
          ...request,
          columns: others,
          withoutIndex: request.withoutIndex || !indexLate,
        },
        into,
      ).frame;
      const all = new Map([...head.columns, ...rest.columns].map((c) => [c.name, c]));
      const frame: FrameData = {
        numRows: rows,
        columns: names.map((n) => all.get(n) as ColumnData),
        index: head.index.kind === "timestamp" ? head.index : rest.index,
      };
      return { frame, rows };
    }
    const gapped = new Set(plan.gaps.map((g) => g.column));
    const late = new Map<number, ColumnData>();
    const whole: string[] = [];
    for (const c of plan.columns) {
      const { name, dtype } = index.columns[c];
      const array = DTYPES[dtype].array;
      const given = into?.columns.get(name);
      if (array && !gapped.has(c))
        late.set(c, { name, dtype, values: given ? given.subarray(0, kept) : new array(kept) });
      else whole.push(name);
    }
    const indexValues =
      index.index.kind === "timestamp" && !request.withoutIndex
        ? head.index.kind === "timestamp"
          ? (keepRows(head.index.values, mask, kept) as BigInt64Array)
          : (into?.index?.subarray(0, kept) ?? new BigInt64Array(kept))
        : null;
    const sliced = new Set<number>();
    const at = new Map(index.columns.map((c, i) => [c.name, i]));
    for (const piece of plan.pieces) {
      const seg = piece.segment;
      // Every tile holds the index: take it from the first tile fetched of each row slice.
      const withIndex = indexValues !== null && indexLate && !sliced.has(seg.rowStart);
      sliced.add(seg.rowStart);
      const cols = segmentColumns(seg, at).filter((c) => late.has(c));
      if (cols.length === 0 && !withIndex) continue;
      const keep = mask.subarray(piece.outRow, piece.outRow + piece.to - piece.from);
      const outAt = before.get(piece.outRow) as number;
      this.withSegment(k, symbol, record, seg, (parsed) => {
        for (const c of cols) {
          const col = late.get(c) as ColumnData;
          const values = col.values as NumericArray;
          const storedAs = parsed.columns.get(col.name)?.dtype ?? col.dtype;
          if (storedAs === col.dtype) {
            decodeSegmentColumnKept(k, parsed, col.name, keep, values, outAt, piece.from, piece.to);
          } else {
            // Written before dynamic schema widened the column: decode as stored, widen, then keep.
            const info = DTYPES[storedAs];
            const wide = DTYPES[col.dtype].array;
            if (!info.array || !wide) throw new CorruptSegmentError("segment column has an impossible dtype");
            const temp = new info.array(piece.to - piece.from);
            decodeSegmentColumn(k, parsed, col.name, temp, 0, piece.from, piece.to);
            const widened = new wide(temp.length);
            convertInto(temp, widened, 0);
            values.set(keepRows(widened, keep, sumOf(keep)) as never, outAt);
          }
        }
        if (withIndex && index.index.kind === "timestamp") {
          decodeSegmentColumnKept(
            k,
            parsed,
            index.index.name,
            keep,
            indexValues,
            outAt,
            piece.from,
            piece.to,
          );
        }
      });
    }
    // String columns come as dictionary codes alone (cheap to decode); the kept rows' strings are then
    // looked up, unless the request wanted codes alone too.
    const only = new Set(request.codesOnly);
    const codesOnly = [
      ...only,
      ...whole.filter((n) => index.columns[at.get(n) as number].dtype === "string"),
    ];
    const gathered =
      whole.length === 0
        ? []
        : this.readRows(k, symbol, record, index, {
            ...request,
            columns: whole,
            withoutIndex: true,
            codesOnly,
          }).frame.columns;
    const done = new Map<string, ColumnData>();
    const named = new Set(names);
    for (const c of [...head.columns, ...gathered]) {
      // A `first` column the request does not name served the mask only.
      if (named.has(c.name))
        done.set(c.name, { ...c, values: keepRows(c.values, mask, kept, !only.has(c.name)) });
    }
    for (const c of late.values()) done.set(c.name, c);
    const frame: FrameData = {
      numRows: kept,
      columns: names.map((n) => done.get(n) as ColumnData),
      index:
        indexValues && index.index.kind === "timestamp"
          ? { kind: "timestamp", name: index.index.name, values: indexValues, tz: index.index.tz }
          : { kind: "row" },
    };
    return { frame, rows };
  }

  /**
   * Runs `fn` on the pieces of segments holding `columns` for the rows `request.rowRange` (each piece:
   * rows [from, to) of a segment, landing at `outRow`, and which of `columns` it holds), with `open` to
   * parse a piece's segment for a callback; counts them as read when `fn` returns a result. Null, having
   * read nothing, when a column is missing from some rows (dynamic schema) or `fn` returns null.
   */
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
    const plan = planRead(index, { ...request, columns: [...columns], withoutIndex: true });
    if (plan.gaps.length > 0) return null;
    const wanted = new Set(plan.columns);
    const where = new Map(index.columns.map((c, i) => [c.name, i]));
    const pieces = plan.pieces.map((p) => ({
      ...p,
      columns: segmentColumns(p.segment, where)
        .filter((c) => wanted.has(c))
        .map((c) => index.columns[c].name),
    }));
    const open = <R>(piece: ChunkPiece, use: (parsed: ParsedSegment) => R): R =>
      this.withSegment(k, symbol, record, piece.segment, use);
    const out = fn(pieces, open);
    if (out !== null) {
      const bytes = plan.columns.reduce(
        (n, c) => n + plan.rows * (DTYPES[index.columns[c].dtype].width || 8),
        0,
      );
      this.meter?.expect(bytes, pieces.length);
      this.meter?.add(bytes, pieces.length);
    }
    return out;
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
}

/** For each of `rows`, how many rows before it `mask` keeps (bytes that are 1). */
function keptBefore(mask: Uint8Array, rows: number[]): Map<number, number> {
  const out = new Map<number, number>();
  let at = 0;
  let sum = 0;
  for (const r of [...new Set(rows)].sort((a, b) => a - b)) {
    sum += sumOf(mask.subarray(at, r));
    out.set(r, sum);
    at = r;
  }
  return out;
}

/** How many bytes of `mask` (0s and 1s) are 1. */
function sumOf(mask: Uint8Array): number {
  const q = readyQueryKernels();
  if (q) return q.maskSum(mask);
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i];
  return n;
}

/**
 * The rows of `values` whose byte in `mask` is 1 (`kept` of them), as a new array of its type; a string
 * column's dictionary codes come along. A column read as codes alone gets its kept rows' strings from
 * the dictionary when `strings`, else stays codes alone.
 */
function keepRows(values: ColumnValues, mask: Uint8Array, kept: number, strings = true): ColumnValues {
  if (!Array.isArray(values)) {
    const typed = values as NumericArray;
    const q = readyQueryKernels();
    const done = q?.compact(mask, kept, [typed]);
    if (done) return done[0];
    const out = new (typed.constructor as Float64ArrayConstructor)(kept) as NumericArray;
    for (let i = 0, j = 0; i < mask.length; i++) if (mask[i] === 1) out[j++] = typed[i] as never;
    return out;
  }
  const coded = codesOf(values);
  const codesOnly = coded !== undefined && values.length === 0 && mask.length > 0;
  // Codes compact as typed columns do (in Wasm memory where the kernels are loaded).
  const codes = coded ? (keepRows(coded.codes, mask, kept) as Int32Array) : undefined;
  let out: StringArray;
  if (codesOnly) {
    out = strings ? Array.from(codes as Int32Array, (c) => (c < 0 ? null : coded.dict[c])) : [];
  } else {
    out = new Array<string | null>(kept);
    for (let i = 0, j = 0; i < mask.length; i++) if (mask[i] === 1) out[j++] = values[i];
  }
  if (codes && coded) setCodes(out, { dict: coded.dict, codes });
  return out;
}

/** An index record as stored, frozen because the cache shares it between callers. */
export function parseIndex(bytes: Uint8Array): IndexRecord {
  return frozen(unpackIndex(bytes));
}

/** `value` and every object and array inside it, frozen (typed arrays cannot be, and are left as they are). */
function frozen<T>(value: T): T {
  if (typeof value !== "object" || value === null || ArrayBuffer.isView(value) || Object.isFrozen(value))
    return value;
  for (const inner of Object.values(value)) frozen(inner);
  return Object.freeze(value);
}

/**
 * The index record of version `record`, from its stored `bytes` by `parse`; a missing or damaged one is
 * a `CorruptSegmentError` located at the symbol, version and index key (both engines).
 */
export function indexOfVersion(
  record: VersionRecord,
  symbol: string,
  bytes: Uint8Array | undefined,
  parse: (bytes: Uint8Array) => IndexRecord,
): IndexRecord {
  const at = { symbol, version: record.v, segment: record.index };
  if (!bytes) throw new CorruptSegmentError("index record is missing", at);
  try {
    return parse(bytes);
  } catch (err) {
    throw err instanceof CorruptSegmentError ? err.locate(at) : err;
  }
}
