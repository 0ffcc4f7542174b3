import {
  type ColumnValues,
  DTYPES,
  type DType,
  isDType,
  type NumericArray,
  type StringArray,
} from "../dtypes.ts";
import { CorruptSegmentError, InvalidArgumentError } from "../errors.ts";
import {
  CODEC,
  type CodesWanted,
  codecById,
  NUMERIC_CODECS,
  type NumericCodec,
  STRING_CODECS,
  type StringCodec,
} from "./codecs.ts";
import type { Kernels, Packed } from "./wasm.ts";

/**
 * One encoded column block. The segment header must store, per column: `codec`, `rawBytes`, the byte
 * length of `bytes` and `checksum`; with the dtype and the segment's row count that is all decoding needs.
 *
 * For codec 0 (raw) `bytes` is a view of the encoded values' own memory, not a copy: copy it (as the
 * segment writer does) before those values change or their buffer is transferred.
 */
export interface EncodedColumn {
  /** Codec id (`CODEC` in codecs.ts); part of the file format. */
  codec: number;
  /** Size of the data before encoding: rows x width for numbers, character bytes for strings. */
  rawBytes: number;
  /** The stored block. */
  bytes: Uint8Array;
  /** floe checksum v1 (assembly/checksum.ts) of `bytes`, unsigned 32-bit. */
  checksum: number;
}

/** Columns this small stay raw: codec headers would eat any gain. */
const SMALL = 64;
/** A specialised codec this good is taken without trying LZ4. */
const GOOD_ENOUGH = 1 / 8;
/** Compression must save at least this share to beat storing raw (decoding raw is a memcpy). */
const MIN_SAVING = 0.3;
/** LZ4 must beat a specialised codec's size by this factor: the specialised ones decode faster. */
const LZ4_MARGIN = 0.8;
/** Bytes compressed as a probe before committing to LZ4 (more for big columns, at most one chunk). */
const SAMPLE_MIN = 16 << 10;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function checkHost(): void {
  if (!LITTLE_ENDIAN) throw new Error("floe's codecs need a little-endian host");
}

function bytesOf(values: NumericArray): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/**
 * Picks the cheapest good codec for this column and encodes it. `values` is rows [0, n) of the column: a
 * typed array of the dtype's kind (bool as 0/1 bytes), or for strings an array of strings and nulls.
 * Numbers: integers and timestamps try int-pack (frame of reference + bit-packing of values or deltas),
 * float64 tries exact decimals; then an LZ4 probe of the first 16-64 KB decides between LZ4 (byte-shuffled
 * for multi-byte types) and raw, so incompressible data costs one checksum pass. Strings use a dictionary
 * when values repeat, otherwise lengths + LZ4-compressed UTF-8.
 */
export function encodeColumn(k: Kernels, values: ColumnValues, dtype: DType): EncodedColumn {
  checkHost();
  if (!isDType(dtype)) throw new InvalidArgumentError(`unknown dtype '${String(dtype)}'`);
  const info = DTYPES[dtype];
  if (info.array === null) {
    if (!Array.isArray(values)) throw new InvalidArgumentError("a string column must be an array of strings");
    const dict = STRING_CODECS.stringDict.encode(k, values);
    const chosen = dict
      ? { codec: CODEC.stringDict, ...dict }
      : { codec: CODEC.strings, ...STRING_CODECS.strings.encode(k, values)! };
    return {
      codec: chosen.codec,
      rawBytes: chosen.rawBytes,
      bytes: chosen.packed.bytes,
      checksum: chosen.packed.checksum,
    };
  }
  if (!(values instanceof info.array)) {
    throw new InvalidArgumentError(`a ${dtype} column must be a ${info.array.name}`);
  }
  const raw = bytesOf(values);
  const [codec, packed] = chooseNumeric(k, raw, dtype);
  return { codec: codec.id, rawBytes: raw.byteLength, bytes: packed.bytes, checksum: packed.checksum };
}

function chooseNumeric(k: Kernels, raw: Uint8Array, dtype: DType): [NumericCodec, Packed] {
  const { raw: rawCodec, lz4, shuffleLz4, intPack, decimal } = NUMERIC_CODECS;
  const n = raw.byteLength;
  const width = DTYPES[dtype].width;
  const keepRaw = (): [NumericCodec, Packed] => [rawCodec, rawCodec.encode(k, raw, dtype)!];
  if (n <= SMALL) return keepRaw();

  let best: [NumericCodec, Packed] | null = null;
  for (const special of [intPack, decimal]) {
    if (!special.accepts(dtype)) continue;
    const packed = special.encode(k, raw, dtype);
    if (packed) best = [special, packed];
  }
  if (best && best[1].bytes.byteLength <= n * GOOD_ENOUGH) return best;

  const general = width > 1 ? shuffleLz4 : lz4;
  const sampleLen = Math.min(n, Math.max(SAMPLE_MIN, Math.floor(n / 64)));
  const estimate = (k.sampleBlocks(raw, width, sampleLen) / sampleLen) * n;
  const limit = n * (1 - MIN_SAVING);
  const bestSize = best ? best[1].bytes.byteLength : Number.POSITIVE_INFINITY;
  if (estimate <= limit && estimate < bestSize * LZ4_MARGIN) {
    const packed = general.encode(k, raw, dtype)!;
    if (packed.bytes.byteLength < Math.min(bestSize, limit)) return [general, packed];
  }
  if (best && best[1].bytes.byteLength <= limit) return best;
  return keepRaw();
}

function numericCodecFor(enc: EncodedColumn, dtype: DType): NumericCodec {
  const codec = codecById(enc.codec);
  if (codec === undefined) {
    throw new CorruptSegmentError(
      `column uses codec ${enc.codec}, unknown to this floe (written by a newer one?)`,
    );
  }
  if (codec.kind !== "numeric" || !codec.accepts(dtype)) {
    throw new CorruptSegmentError(`column of dtype ${dtype} claims codec ${codec.name}`);
  }
  return codec;
}

/**
 * Verifies the checksum and decodes rows [from, to) (default: all `rowCount`) of numeric data straight
 * into out[rowOffset ..]. `enc.bytes` may be a view into storage memory valid only during this call:
 * nothing keeps it. A bad checksum, impossible sizes or malformed data throw `CorruptSegmentError`
 * (message only; the caller adds symbol, version and segment). On such an error the target rows may hold
 * partial data.
 */
export function decodeColumnInto(
  k: Kernels,
  enc: EncodedColumn,
  dtype: DType,
  rowCount: number,
  out: NumericArray,
  rowOffset: number,
  from = 0,
  to = rowCount,
): void {
  checkHost();
  const info = DTYPES[dtype];
  if (info === undefined || info.array === null) {
    throw new InvalidArgumentError(`decodeColumnInto needs a fixed-width dtype, not '${dtype}'`);
  }
  const { codec, width } = numericColumn(enc, dtype, rowCount);
  if (
    out.BYTES_PER_ELEMENT !== width ||
    !Number.isSafeInteger(rowOffset) ||
    !Number.isSafeInteger(from) ||
    !Number.isSafeInteger(to) ||
    rowOffset < 0 ||
    from < 0 ||
    to < from ||
    to > rowCount ||
    rowOffset + (to - from) > out.length
  ) {
    throw new InvalidArgumentError(
      `cannot decode rows ${from}..${to} of ${rowCount} ${dtype} rows at ${rowOffset} into an array of ` +
        `${out.length} ${out.BYTES_PER_ELEMENT}-byte elements`,
    );
  }
  const target = new Uint8Array(out.buffer, out.byteOffset + rowOffset * width, (to - from) * width);
  codec.decodeInto(k, enc.bytes, enc.checksum, dtype, target, from * width, rowCount * width);
}

/**
 * As `decodeColumnInto` for rows [from, to), keeping only the rows whose byte in `keep` (one per row of
 * [from, to)) is 1: they land, in order, at out[rowOffset ..]. Every codec compacts them in Wasm memory,
 * so only the kept rows are copied out. Returns how many rows were kept.
 */
export function decodeColumnKept(
  k: Kernels,
  enc: EncodedColumn,
  dtype: DType,
  rowCount: number,
  keep: Uint8Array,
  out: NumericArray,
  rowOffset: number,
  from: number,
  to: number,
): number {
  checkHost();
  const info = DTYPES[dtype];
  if (info === undefined || info.array === null || keep.length !== to - from) {
    throw new InvalidArgumentError(
      `decodeColumnKept needs a fixed-width dtype and a mask of rows ${from}..${to}`,
    );
  }
  const { codec, width } = numericColumn(enc, dtype, rowCount);
  if (
    out.BYTES_PER_ELEMENT !== width ||
    !Number.isSafeInteger(rowOffset) ||
    rowOffset < 0 ||
    from < 0 ||
    to < from ||
    to > rowCount ||
    rowOffset > out.length
  ) {
    throw new InvalidArgumentError(
      `cannot decode rows ${from}..${to} of ${rowCount} ${dtype} rows at ${rowOffset}`,
    );
  }
  const target = new Uint8Array(
    out.buffer,
    out.byteOffset + rowOffset * width,
    (out.length - rowOffset) * width,
  );
  return codec.decodeKept(k, enc.bytes, enc.checksum, dtype, target, from * width, rowCount * width, keep);
}

/** The codec of a fixed-width column and its width, once its stored size is checked against `rowCount`. */
function numericColumn(enc: EncodedColumn, dtype: DType, rowCount: number) {
  const codec = numericCodecFor(enc, dtype);
  const width = DTYPES[dtype].width;
  if (!Number.isSafeInteger(rowCount) || rowCount < 0 || enc.rawBytes !== rowCount * width) {
    throw new CorruptSegmentError(`column holds ${enc.rawBytes} bytes, not ${rowCount} rows of ${dtype}`);
  }
  return { codec, width };
}

/**
 * Verifies the checksum and decodes a string column into a new array of rowCount strings or nulls
 * (with `codes`, a dictionary-encoded column's codes too, or alone: `StringCodec.decode`). Errors as for
 * `decodeColumnInto`.
 */
export function decodeStrings(
  k: Kernels,
  enc: EncodedColumn,
  rowCount: number,
  codes?: CodesWanted,
): StringArray {
  return verifiedStringCodec(k, enc, rowCount).decode(k, enc.bytes, enc.rawBytes, rowCount, codes);
}

/**
 * A dictionary-encoded string column's rowCount codes, verified and unpacked into Wasm memory at `dst`
 * (see `StringCodec.codesAt`), and its dictionary; null for a column stored without a dictionary.
 */
export function decodeCodesAt(
  k: Kernels,
  enc: EncodedColumn,
  rowCount: number,
  dst: number,
): readonly string[] | null {
  const codec = codecById(enc.codec);
  if (codec?.kind !== "string" || codec.codesAt === undefined) return null;
  verifiedStringCodec(k, enc, rowCount);
  return codec.codesAt(k, enc.bytes, enc.rawBytes, rowCount, dst);
}

/** The string codec of `enc`, its checksum verified. */
function verifiedStringCodec(k: Kernels, enc: EncodedColumn, rowCount: number): StringCodec {
  const codec = codecById(enc.codec);
  if (codec === undefined) {
    throw new CorruptSegmentError(
      `column uses codec ${enc.codec}, unknown to this floe (written by a newer one?)`,
    );
  }
  if (codec.kind !== "string") throw new CorruptSegmentError(`string column claims codec ${codec.name}`);
  if (!Number.isSafeInteger(rowCount) || rowCount < 0) {
    throw new InvalidArgumentError(`cannot decode ${rowCount} rows`);
  }
  const actual = k.checksum(enc.bytes);
  if (actual !== enc.checksum >>> 0) {
    throw new CorruptSegmentError(
      `column block fails its checksum (stored 0x${(enc.checksum >>> 0).toString(16)}, computed 0x${actual.toString(16)})`,
    );
  }
  return codec;
}
