import {
  type ColumnValues,
  DTYPES,
  type DType,
  isDType,
  type NumericArray,
  type StringArray,
} from "../dtypes.ts";
import { CorruptSegmentError, InvalidArgumentError } from "../errors.ts";
import { codesOf, type StringCodes, setCodes } from "../string-codes.ts";
import {
  decodeCodesAt,
  decodeColumnInto,
  decodeColumnKept,
  decodeStrings,
  type EncodedColumn,
  encodeColumn,
} from "./column-codec.ts";
import { packPlain, unpackPlain } from "./msgpack.ts";
import type { Kernels } from "./wasm.ts";

/**
 * A segment is one storage value holding a tile of a frame:
 *
 *     "FLSG" | u32 header length | u32 header checksum | msgpack header | column blocks...
 *
 * The header (format version, row count, per column its name, dtype, codec, raw size, stored size and
 * checksum) is checksummed itself, so a damaged header cannot send the decoder after wrong sizes.
 * Little-endian throughout.
 */
const MAGIC = 0x47534c46; // "FLSG" read as a little-endian u32
const PREFIX_BYTES = 12;
/** No codec expands its stored bytes more than this (LZ4's densest run; int-pack reaches 128 at most). */
const MAX_EXPANSION = 255;
export const SEGMENT_FORMAT = 1;

interface HeaderColumn {
  n: string; // name
  t: DType;
  c: number; // codec id
  r: number; // raw bytes
  l: number; // stored bytes
  s: number; // checksum of the stored bytes
}

interface SegmentHeader {
  f: number;
  rows: number;
  cols: HeaderColumn[];
}

/** A column as the segment writer receives it: rows [0, rows) of the tile. */
export interface SegmentColumn {
  name: string;
  dtype: DType;
  values: ColumnValues;
}

/**
 * A reusable output buffer for `encodeSegment`. Fresh memory is slow to fault in (a few hundred MB/s on
 * small VMs), so a writer that stores each segment before encoding the next reuses one buffer.
 */
export class SegmentScratch {
  private buffer = new Uint8Array(0);

  /** A view of at least `n` bytes; it is overwritten by the next call. */
  take(n: number): Uint8Array {
    if (this.buffer.byteLength < n) this.buffer = new Uint8Array(Math.max(n, this.buffer.byteLength * 1.5));
    return this.buffer.subarray(0, n);
  }
}

/**
 * Encodes the columns of one tile (all of equal length `rows`) into one segment value. With `scratch` the
 * result is a view of the scratch buffer, valid until its next use; without, a new array.
 */
export function encodeSegment(
  k: Kernels,
  rows: number,
  columns: SegmentColumn[],
  scratch?: SegmentScratch,
): Uint8Array {
  // A frame's arrays are the caller's, not copies: one resized after the write checked it must not
  // become a segment whose header claims more rows than its column blocks hold.
  for (const c of columns) {
    if (c.values.length !== rows) {
      throw new InvalidArgumentError(
        `column '${c.name}' has ${c.values.length} values for a segment of ${rows} rows: its array was ` +
          "resized or detached while the write was under way, and nothing was stored. Leave a frame's " +
          "arrays unchanged until its write has finished.",
      );
    }
  }
  const blocks: EncodedColumn[] = columns.map((c) => encodeColumn(k, c.values, c.dtype));
  const header: SegmentHeader = {
    f: SEGMENT_FORMAT,
    rows,
    cols: columns.map((c, i) => ({
      n: c.name,
      t: c.dtype,
      c: blocks[i].codec,
      r: blocks[i].rawBytes,
      l: blocks[i].bytes.byteLength,
      s: blocks[i].checksum,
    })),
  };
  const head = packPlain(header);
  let total = PREFIX_BYTES + head.byteLength;
  for (const b of blocks) total += b.bytes.byteLength;
  const out = scratch ? scratch.take(total) : new Uint8Array(total);
  const view = new DataView(out.buffer, out.byteOffset, total);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, head.byteLength, true);
  view.setUint32(8, k.checksum(head), true);
  out.set(head, PREFIX_BYTES);
  let at = PREFIX_BYTES + head.byteLength;
  for (const b of blocks) {
    out.set(b.bytes, at);
    at += b.bytes.byteLength;
  }
  return out;
}

/** A parsed segment: its row count and, per column, where its block lies. */
export interface ParsedSegment {
  rows: number;
  columns: Map<string, { dtype: DType; block: EncodedColumn }>;
}

/**
 * Parses and checks a segment's header. `bytes` may be a view into storage memory: the returned blocks
 * are views too and must be decoded before the next storage call. Any inconsistency (bad magic, sizes that
 * overrun the value, a header checksum mismatch) throws `CorruptSegmentError` before anything is allocated.
 */
export function parseSegment(k: Kernels, bytes: Uint8Array): ParsedSegment {
  if (bytes.byteLength < PREFIX_BYTES) throw new CorruptSegmentError("segment is truncated");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new CorruptSegmentError("segment has a bad magic number");
  const headLen = view.getUint32(4, true);
  if (headLen > bytes.byteLength - PREFIX_BYTES) throw new CorruptSegmentError("segment header overruns it");
  const head = bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headLen);
  if (k.checksum(head) !== view.getUint32(8, true)) {
    throw new CorruptSegmentError("segment header fails its checksum");
  }
  // Browsers' TextDecoder refuses views of shared memory (mem:// keeps large segments there): copy.
  const header = unpackPlain<SegmentHeader>(isShared(head) ? head.slice() : head, "segment header");
  if (typeof header !== "object" || header === null)
    throw new CorruptSegmentError("segment header is malformed");
  if (typeof header.f !== "number") throw new CorruptSegmentError("segment header has no format number");
  if (header.f !== SEGMENT_FORMAT) {
    throw new CorruptSegmentError(
      `segment format ${header.f} is not known to this floe (knows ${SEGMENT_FORMAT}); upgrade floe`,
    );
  }
  if (!Number.isSafeInteger(header.rows) || header.rows < 0 || !Array.isArray(header.cols)) {
    throw new CorruptSegmentError("segment header is malformed");
  }
  const columns = new Map<string, { dtype: DType; block: EncodedColumn }>();
  let at = PREFIX_BYTES + headLen;
  for (const c of header.cols) {
    checkColumn(c, header.rows, bytes.byteLength - at);
    columns.set(c.n, {
      dtype: c.t,
      block: { codec: c.c, rawBytes: c.r, bytes: bytes.subarray(at, at + c.l), checksum: c.s },
    });
    at += c.l;
  }
  return { rows: header.rows, columns };
}

/**
 * Checks one column entry of a header before anything is sized from it: the fields have their types, the
 * block fits in the `left` bytes that follow, a fixed-width column's raw size is rows x width, and no
 * codec is asked to expand its block more than any codec can (so a lying size never drives an
 * allocation). Only reachable past the header checksum, i.e. by a forged or colliding header.
 */
function checkColumn(c: HeaderColumn, rows: number, left: number): void {
  if (typeof c !== "object" || c === null || typeof c.n !== "string") {
    throw new CorruptSegmentError("segment header lists a malformed column");
  }
  if (!isDType(c.t)) throw new CorruptSegmentError(`segment column '${c.n}' has an unknown dtype`);
  if (!Number.isSafeInteger(c.l) || c.l < 0 || c.l > left) {
    throw new CorruptSegmentError(`segment column '${c.n}' has an impossible size`);
  }
  if (!Number.isInteger(c.c) || !Number.isSafeInteger(c.r) || c.r < 0 || !Number.isInteger(c.s)) {
    throw new CorruptSegmentError(`segment column '${c.n}' has a malformed codec, size or checksum`);
  }
  const width = DTYPES[c.t].width;
  if ((width > 0 && c.r !== rows * width) || c.r > c.l * MAX_EXPANSION + width * 128) {
    throw new CorruptSegmentError(
      `segment column '${c.n}' claims ${c.r} raw bytes for ${rows} rows from ${c.l} stored bytes`,
    );
  }
}

/**
 * Decodes segment rows [from, to) of one column into `out` starting at `outOffset`. Numeric columns are
 * decoded in Wasm memory, as little of them as each codec allows (see `NumericCodec.decodeInto`), and only
 * those rows copied out.
 */
export function decodeSegmentColumn(
  k: Kernels,
  segment: ParsedSegment,
  name: string,
  out: NumericArray | StringArray,
  outOffset: number,
  from = 0,
  to = segment.rows,
  codes?: CodesBuilder,
): void {
  const col = segment.columns.get(name);
  if (!col) throw new CorruptSegmentError(`segment lacks column '${name}' that its index lists`);
  const info = DTYPES[col.dtype];
  if (info.array === null ? !Array.isArray(out) : !(out instanceof info.array)) {
    throw new CorruptSegmentError(`segment stores column '${name}' as ${col.dtype}, unlike its index`);
  }
  if (info.array === null) {
    const wanted =
      codes === undefined ? undefined : codes.gather ? "gather" : codes.codesOnly ? "only" : "with";
    const strings = decodeStrings(k, col.block, segment.rows, wanted);
    if (!codes?.codesOnly) {
      const target = out as StringArray;
      for (let i = from; i < to; i++) target[outOffset + i - from] = strings[i];
    }
    codes?.add(codesOf(strings), outOffset, from, to, strings);
    return;
  }
  decodeColumnInto(k, col.block, col.dtype, segment.rows, out as NumericArray, outOffset, from, to);
}

/**
 * The codes of every row of a dictionary-encoded string column, unpacked into Wasm memory at `dst`, and
 * its dictionary; null when the segment stores the column without a dictionary.
 */
export function decodeSegmentCodesAt(
  k: Kernels,
  segment: ParsedSegment,
  name: string,
  dst: number,
): readonly string[] | null {
  const col = segment.columns.get(name);
  if (!col) throw new CorruptSegmentError(`segment lacks column '${name}' that its index lists`);
  if (col.dtype !== "string")
    throw new CorruptSegmentError(`segment stores column '${name}' as ${col.dtype}`);
  return decodeCodesAt(k, col.block, segment.rows, dst);
}

/**
 * Decodes segment rows [from, to) of a numeric column, keeping only those whose byte in `keep` is 1, into
 * `out` from `outOffset` on (see `decodeColumnKept`); returns how many were kept.
 */
export function decodeSegmentColumnKept(
  k: Kernels,
  segment: ParsedSegment,
  name: string,
  keep: Uint8Array,
  out: NumericArray,
  outOffset: number,
  from: number,
  to: number,
): number {
  const col = segment.columns.get(name);
  if (!col) throw new CorruptSegmentError(`segment lacks column '${name}' that its index lists`);
  const info = DTYPES[col.dtype];
  if (info.array === null || !(out instanceof info.array)) {
    throw new CorruptSegmentError(`segment stores column '${name}' as ${col.dtype}, unlike its index`);
  }
  return decodeColumnKept(k, col.block, col.dtype, segment.rows, keep, out, outOffset, from, to);
}

/**
 * Builds the dictionary codes of a string column filled piece by piece from several segments: each
 * piece's dictionary is mapped into one dictionary for the column. `finish` registers them on the
 * column, unless a piece came without codes (a segment of distinct strings is not dictionary-encoded).
 */
export class CodesBuilder {
  private readonly dict: string[] = [];
  private readonly where = new Map<string, number>();
  /** Made at the first piece that does not cover the whole column. */
  private codes: Int32Array | undefined;
  /** A single piece covering every row: its dictionary and codes are the column's, as they are. */
  private whole: StringCodes | undefined;
  private complete = true;
  /** Every piece was a whole segment's codes in which every entry occurs (see StringCodes.complete). */
  private covering = true;

  /**
   * `codesOnly`: the column's strings are not wanted, only its codes (a groupby key): segments not
   * dictionary-encoded are numbered here, so the codes are always complete. `gather`: codes only to look
   * some rows' strings up by, so whether every entry occurs is not found (nothing groups by them).
   */
  constructor(
    private readonly rows: number,
    readonly codesOnly = false,
    readonly gather = false,
  ) {}

  /**
   * Rows [from, to) of a segment's column land at `outOffset`: its codes if it had them, else its
   * `strings`, numbered here when only codes are wanted.
   */
  add(
    piece: StringCodes | undefined,
    outOffset: number,
    from: number,
    to: number,
    strings: StringArray,
  ): void {
    if (!this.complete) return;
    if (piece !== undefined && (piece.complete !== true || from !== 0 || to !== piece.codes.length)) {
      this.covering = false;
    }
    const whole = from === 0 && outOffset === 0 && to === this.rows && piece?.codes.length === to;
    if (whole && this.codes === undefined && this.whole === undefined) {
      this.whole = piece; // one segment's rows, the common chunk: no remapping
      return;
    }
    if (this.whole !== undefined) {
      // Another piece after all: the whole one goes through the renumbering like the rest.
      const first = this.whole;
      this.whole = undefined;
      this.mapInto(this.target(), first, 0, 0, this.rows);
    }
    const out = this.target();
    if (piece === undefined && this.codesOnly) {
      for (let i = from; i < to; i++) {
        const s = strings[i];
        out[outOffset + i - from] = s === null ? -1 : this.numberOf(s);
      }
      return;
    }
    if (piece === undefined) {
      this.complete = false;
      return;
    }
    this.mapInto(out, piece, outOffset, from, to);
  }

  /** Rows [from, to) of `piece`'s codes, renumbered into the column's dictionary, at `outOffset`. */
  private mapInto(out: Int32Array, piece: StringCodes, outOffset: number, from: number, to: number): void {
    const remap = new Int32Array(piece.dict.length);
    for (let c = 0; c < remap.length; c++) remap[c] = this.numberOf(piece.dict[c]);
    const src = piece.codes;
    for (let i = from; i < to; i++) {
      const code = src[i];
      out[outOffset + i - from] = code < 0 ? -1 : remap[code];
    }
  }

  /** The column's codes, made on first need (rows no segment holds, under dynamic schema, are null). */
  private target(): Int32Array {
    this.codes ??= new Int32Array(this.rows).fill(-1);
    return this.codes;
  }

  /** `s`'s number in the column's dictionary, added if new. */
  private numberOf(s: string): number {
    let at = this.where.get(s);
    if (at === undefined) {
      at = this.dict.length;
      this.where.set(s, at);
      this.dict.push(s);
    }
    return at;
  }

  /** Registers the codes on `column` when every piece had them. */
  finish(column: StringArray): void {
    if (!this.complete) return;
    if (this.whole !== undefined) setCodes(column, this.whole);
    else setCodes(column, { dict: this.dict, codes: this.target(), complete: this.covering });
  }
}

/** True when `bytes` views a SharedArrayBuffer. */
function isShared(bytes: Uint8Array): boolean {
  return typeof SharedArrayBuffer === "function" && bytes.buffer instanceof SharedArrayBuffer;
}
