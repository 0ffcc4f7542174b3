import { DTYPES, type DType, type StringArray } from "../dtypes.ts";
import { CorruptSegmentError, InvalidArgumentError } from "../errors.ts";
import { setCodes } from "../string-codes.ts";
import type { Kernels, Packed } from "./wasm.ts";

/**
 * The codec registry: codec id (stored in segment headers) -> implementation. Ids are part of the file
 * format: never renumber or reuse one; a new codec takes the next free id. Every codec's checksum covers
 * exactly its stored bytes.
 *
 * | id | name        | dtypes              | stored bytes                                                   |
 * |----|-------------|---------------------|----------------------------------------------------------------|
 * | 0  | raw         | numeric, bool       | the values' little-endian bytes                                 |
 * | 1  | lz4         | numeric, bool       | block container (wasm.ts) of the bytes                          |
 * | 2  | shuffle-lz4 | numeric             | block container of the bytes, byte-shuffled by dtype width      |
 * | 3  | int-pack    | integers, bool      | frame of reference + bit-packing of values or deltas (bitpack.ts) |
 * | 4  | strings     | string              | lengths + characters, see `encodePlain`                         |
 * | 5  | string-dict | string              | dictionary + codes, see `encodeDict`                            |
 * | 6  | decimal     | float64             | u8 k + int-pack of v * 10^k (wasm.ts, packDecimals)             |
 *
 * Numbers are stored little-endian, as typed arrays hold them on every current JS platform.
 */
export const CODEC = {
  raw: 0,
  lz4: 1,
  shuffleLz4: 2,
  intPack: 3,
  strings: 4,
  stringDict: 5,
  decimal: 6,
} as const;

/** A codec of fixed-width columns; it sees the column as its raw little-endian bytes. */
export interface NumericCodec {
  readonly kind: "numeric";
  readonly id: number;
  readonly name: string;
  /** Whether this codec can hold columns of `dtype`. */
  accepts(dtype: DType): boolean;
  /** Encodes the column's bytes, or returns null when the codec cannot represent them. */
  encode(k: Kernels, raw: Uint8Array, dtype: DType): Packed | null;
  /**
   * Decodes into `out` the column's raw bytes (`rawBytes` of them) from byte `skip` on, as many as `out`
   * holds, verifying `checksum` against `stored`. A read of part of a segment decodes only that part
   * where the codec can, and copies only that part out of Wasm memory.
   */
  decodeInto(
    k: Kernels,
    stored: Uint8Array,
    checksum: number,
    dtype: DType,
    out: Uint8Array,
    skip: number,
    rawBytes: number,
  ): void;
  /**
   * As `decodeInto` over the window of `keep.length` elements from byte `skip` on, copying out only the
   * elements whose byte in `keep` is 1 (compacted in Wasm memory) to the start of `out`; returns how
   * many (late materialisation of a filtered read: src/version/read-path.ts `readRowsWhere`).
   */
  decodeKept(
    k: Kernels,
    stored: Uint8Array,
    checksum: number,
    dtype: DType,
    out: Uint8Array,
    skip: number,
    rawBytes: number,
    keep: Uint8Array,
  ): number;
}

/**
 * What a string decode gives besides the strings: their dictionary codes, or the codes alone; "gather",
 * the codes alone for looking some rows' strings up, without finding whether every entry occurs.
 */
export type CodesWanted = "with" | "only" | "gather";

/** A codec of string columns. */
export interface StringCodec {
  readonly kind: "string";
  readonly id: number;
  readonly name: string;
  /** Encodes, or returns null when the codec does not suit the values; rawBytes is the character bytes. */
  encode(k: Kernels, values: StringArray): { packed: Packed; rawBytes: number } | null;
  /**
   * Decodes `stored`, whose checksum the caller has verified, into rowCount strings or nulls. A
   * dictionary codec gives the array its codes too (string-codes.ts) when `codes` is "with", or returns
   * an empty array carrying only its codes when it is "only"; plain reads ask for neither.
   */
  decode(
    k: Kernels,
    stored: Uint8Array,
    rawBytes: number,
    rowCount: number,
    codes?: CodesWanted,
  ): StringArray;
  /**
   * A dictionary codec's codes alone, unpacked into Wasm memory at `dst` (rowCount int32, checked), and
   * its dictionary; absent for a codec without one. `stored`'s checksum is verified by the caller.
   */
  codesAt?(
    k: Kernels,
    stored: Uint8Array,
    rawBytes: number,
    rowCount: number,
    dst: number,
  ): readonly string[];
}

export type Codec = NumericCodec | StringCodec;

const SIGNED: ReadonlySet<DType> = new Set<DType>(["int8", "int16", "int32", "int64", "timestamp"]);
const numeric = (dtype: DType) => DTYPES[dtype].array !== null;

const raw: NumericCodec = {
  kind: "numeric",
  id: CODEC.raw,
  name: "raw",
  accepts: numeric,
  // The stored bytes are the values' own memory: no copy here (the segment writer copies them once).
  encode: (k, bytes) => ({ bytes, checksum: k.checksum(bytes) }),
  decodeInto: (k, stored, checksum, _dtype, out, skip, rawBytes) =>
    k.copyRawInto(stored, out, checksum, skip, rawBytes),
  decodeKept: (k, stored, checksum, dtype, out, skip, rawBytes, keep) =>
    k.copyRawKept(stored, DTYPES[dtype].width, out, checksum, skip, rawBytes, keep),
};

const lz4: NumericCodec = {
  kind: "numeric",
  id: CODEC.lz4,
  name: "lz4",
  accepts: numeric,
  encode: (k, bytes) => k.compressBlocks(bytes, 1),
  decodeInto: (k, stored, checksum, _dtype, out, skip, rawBytes) =>
    k.decompressBlocksInto(stored, 1, out, checksum, skip, rawBytes),
  decodeKept: (k, stored, checksum, _dtype, out, skip, rawBytes, keep) =>
    k.decompressBlocksInto(stored, 1, out, checksum, skip, rawBytes, keep),
};

const shuffleLz4: NumericCodec = {
  kind: "numeric",
  id: CODEC.shuffleLz4,
  name: "shuffle-lz4",
  accepts: numeric,
  encode: (k, bytes, dtype) => k.compressBlocks(bytes, DTYPES[dtype].width),
  decodeInto: (k, stored, checksum, dtype, out, skip, rawBytes) =>
    k.decompressBlocksInto(stored, DTYPES[dtype].width, out, checksum, skip, rawBytes),
  decodeKept: (k, stored, checksum, dtype, out, skip, rawBytes, keep) =>
    k.decompressBlocksInto(stored, DTYPES[dtype].width, out, checksum, skip, rawBytes, keep),
};

const intPack: NumericCodec = {
  kind: "numeric",
  id: CODEC.intPack,
  name: "int-pack",
  accepts: (dtype) => DTYPES[dtype].integer || dtype === "bool",
  encode: (k, bytes, dtype) => k.packInts(bytes, DTYPES[dtype].width, SIGNED.has(dtype)),
  decodeInto: (k, stored, checksum, dtype, out, skip, rawBytes) => {
    k.unpackIntsInto(stored, DTYPES[dtype].width, out, checksum, skip, rawBytes);
  },
  decodeKept: (k, stored, checksum, dtype, out, skip, rawBytes, keep) =>
    k.unpackIntsInto(stored, DTYPES[dtype].width, out, checksum, skip, rawBytes, keep),
};

const decimal: NumericCodec = {
  kind: "numeric",
  id: CODEC.decimal,
  name: "decimal",
  accepts: (dtype) => dtype === "float64",
  encode: (k, bytes) => k.packDecimals(bytes),
  decodeInto: (k, stored, checksum, _dtype, out, skip, rawBytes) => {
    k.unpackDecimalsInto(stored, out, checksum, skip, rawBytes);
  },
  decodeKept: (k, stored, checksum, _dtype, out, skip, rawBytes, keep) =>
    k.unpackDecimalsInto(stored, out, checksum, skip, rawBytes, keep),
};

// ---- strings -----------------------------------------------------------------------------------------
//
// Strings are stored as their characters, all concatenated, plus per string its length in UTF-16 code
// units (JS string length; -1 for null). Characters are UTF-8, or UTF-16LE when the text holds a lone
// surrogate (UTF-8 cannot carry one), so every JS string round-trips exactly. Lengths and dictionary codes
// are int-packed; characters go into a block container (LZ4), whose raw size is the column's rawBytes.

const FLAG_UTF16 = 1;
const utf8Encoder = new TextEncoder();

function isWellFormed(text: string): boolean {
  const native = (text as { isWellFormed?: () => boolean }).isWellFormed;
  return native ? native.call(text) : !/\p{Cs}/u.test(text);
}

function encodeChars(text: string): { bytes: Uint8Array; flags: number } {
  if (isWellFormed(text)) return { bytes: utf8Encoder.encode(text), flags: 0 };
  const bytes = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    bytes[2 * i] = c & 0xff;
    bytes[2 * i + 1] = c >>> 8;
  }
  return { bytes, flags: FLAG_UTF16 };
}

function decodeChars(bytes: Uint8Array, flags: number): string {
  if ((flags & FLAG_UTF16) === 0) {
    try {
      // ignoreBOM: a leading U+FEFF is data, not a byte-order mark.
      // Browsers' TextDecoder refuses views of shared memory (mem:// keeps large segments there).
      const plain = typeof SharedArrayBuffer === "function" && bytes.buffer instanceof SharedArrayBuffer;
      return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(plain ? bytes.slice() : bytes);
    } catch (err) {
      throw new CorruptSegmentError("string column holds invalid UTF-8", {}, { cause: err });
    }
  }
  if (bytes.byteLength % 2 !== 0) throw new CorruptSegmentError("string column has odd UTF-16 data");
  // TextDecoder("utf-16le") would replace lone surrogates, which is why this data is UTF-16.
  const parts: string[] = [];
  const units = new Uint16Array(4096);
  for (let at = 0; at < bytes.byteLength; at += 2 * units.length) {
    const count = Math.min(units.length, (bytes.byteLength - at) / 2);
    for (let i = 0; i < count; i++) units[i] = bytes[at + 2 * i] | (bytes[at + 2 * i + 1] << 8);
    parts.push(String.fromCharCode.apply(null, units.subarray(0, count) as unknown as number[]));
  }
  return parts.join("");
}

/** Per value its length in code units, -1 for null; rejects anything that is not a string or null. */
function lengthsOf(values: StringArray): Int32Array {
  const lengths = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === "string") lengths[i] = v.length;
    else if (v === null || v === undefined) lengths[i] = -1;
    else
      throw new InvalidArgumentError(`a string column holds a ${typeof v} at row ${i}; use strings or null`);
  }
  return lengths;
}

const bytesOf = (a: Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Cuts `text` into strings of the given lengths (-1: null when allowed); all of it must be used. */
function split(text: string, lengths: Int32Array, nulls: boolean): StringArray {
  const out: StringArray = new Array(lengths.length);
  let pos = 0;
  for (let i = 0; i < lengths.length; i++) {
    const len = lengths[i];
    if (len === -1 && nulls) {
      out[i] = null;
      continue;
    }
    if (len < 0 || len > text.length - pos) throw new CorruptSegmentError("string column has bad lengths");
    out[i] = text.substring(pos, pos + len);
    pos += len;
  }
  if (pos !== text.length) throw new CorruptSegmentError("string column has unused characters");
  return out;
}

/** Reads the fields of a string block in order, each bounds-checked. */
class Reader {
  at = 0;
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.at++];
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }
  take(len: number): Uint8Array {
    this.need(len);
    const out = this.bytes.subarray(this.at, this.at + len);
    this.at += len;
    return out;
  }
  rest(): Uint8Array {
    return this.take(this.bytes.byteLength - this.at);
  }
  need(len: number): void {
    if (len > this.bytes.byteLength - this.at) throw new CorruptSegmentError("string column is truncated");
  }
}

/** Joins parts (u8 flags, u32 words and byte runs) into one block. */
function assemble(parts: (Uint8Array | { u8: number } | { u32: number })[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p instanceof Uint8Array ? p.byteLength : "u8" in p ? 1 : 4;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const p of parts) {
    if (p instanceof Uint8Array) {
      out.set(p, at);
      at += p.byteLength;
    } else if ("u8" in p) {
      out[at++] = p.u8;
    } else {
      view.setUint32(at, p.u32, true);
      at += 4;
    }
  }
  return out;
}

/** Decodes the character container into text, refusing sizes it cannot hold before allocating. */
function readChars(k: Kernels, container: Uint8Array, rawBytes: number, flags: number): string {
  if (!Number.isSafeInteger(rawBytes) || rawBytes < 0 || rawBytes > container.byteLength * 255) {
    throw new CorruptSegmentError(`string column cannot hold ${rawBytes} character bytes`);
  }
  const chars = new Uint8Array(rawBytes);
  k.decompressBlocksInto(container, 1, chars, null);
  return decodeChars(chars, flags);
}

function unpackInt32(k: Kernels, packed: Uint8Array, count: number): Int32Array {
  const bytes = k.unpackInts(packed, count, 4);
  return new Int32Array(bytes.buffer, bytes.byteOffset, count);
}

/**
 * Codec 4, strings: u8 flags (bit 0: UTF-16LE) | u32 L | L bytes: int-packed lengths (int32, -1 null) |
 * block container of the characters.
 */
const strings: StringCodec = {
  kind: "string",
  id: CODEC.strings,
  name: "strings",
  encode(k, values) {
    const lengths = lengthsOf(values);
    const { bytes: chars, flags } = encodeChars(values.join(""));
    const packedLengths = k.packInts(bytesOf(lengths), 4, true).bytes;
    const container = k.compressBlocks(chars, 1).bytes;
    const bytes = assemble([{ u8: flags }, { u32: packedLengths.byteLength }, packedLengths, container]);
    return { packed: { bytes, checksum: k.checksum(bytes) }, rawBytes: chars.byteLength };
  },
  decode(k, stored, rawBytes, rowCount) {
    const r = new Reader(stored);
    const flags = r.u8();
    if (flags > FLAG_UTF16) throw new CorruptSegmentError(`string column has unknown flags ${flags}`);
    const lengths = unpackInt32(k, r.take(r.u32()), rowCount);
    return split(readChars(k, r.rest(), rawBytes, flags), lengths, true);
  },
};

/** Columns whose first SAMPLE values hold more than a quarter distinct ones skip the dictionary. */
const DICT_SAMPLE = 1024;

/**
 * Codec 5, string dictionary: u8 flags | u32 D (entries) | u32 L1 | L1 bytes: int-packed entry lengths |
 * u32 L2 | L2 bytes: int-packed codes (int32 per row: entry index, -1 null) | block container of the
 * entries' characters. Decoding builds each distinct string once, so repetitive columns decode fast.
 */
const stringDict: StringCodec = {
  kind: "string",
  id: CODEC.stringDict,
  name: "string-dict",
  encode(k, values) {
    const n = values.length;
    if (n < 8) return null;
    const sample = new Set<string>();
    const probe = Math.min(n, DICT_SAMPLE);
    for (let i = 0; i < probe; i++) {
      const v = values[i];
      if (typeof v === "string") sample.add(v);
    }
    if (sample.size > probe / 4) return null;
    const codes = new Int32Array(n);
    const index = new Map<string, number>();
    const limit = Math.max(16, n >>> 1);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v !== "string") {
        if (v !== null && v !== undefined) {
          throw new InvalidArgumentError(
            `a string column holds a ${typeof v} at row ${i}; use strings or null`,
          );
        }
        codes[i] = -1;
        continue;
      }
      let code = index.get(v);
      if (code === undefined) {
        code = index.size;
        if (code >= limit) return null; // too many distinct values to pay off
        index.set(v, code);
      }
      codes[i] = code;
    }
    const entries = [...index.keys()];
    const lengths = lengthsOf(entries);
    const { bytes: chars, flags } = encodeChars(entries.join(""));
    const packedLengths = k.packInts(bytesOf(lengths), 4, true).bytes;
    const packedCodes = k.packInts(bytesOf(codes), 4, true).bytes;
    const container = k.compressBlocks(chars, 1).bytes;
    const bytes = assemble([
      { u8: flags },
      { u32: entries.length },
      { u32: packedLengths.byteLength },
      packedLengths,
      { u32: packedCodes.byteLength },
      packedCodes,
      container,
    ]);
    return { packed: { bytes, checksum: k.checksum(bytes) }, rawBytes: chars.byteLength };
  },
  decode(k, stored, rawBytes, rowCount, wanted) {
    const { r, flags, size, lengths } = dictHeader(k, stored, rowCount);
    if (wanted !== undefined) {
      // Codes checked in Wasm memory, where they are unpacked: no pass over them here.
      const { codes, complete } = k.unpackCodes(r.take(r.u32()), rowCount, size, wanted !== "gather");
      const entries = split(readChars(k, r.rest(), rawBytes, flags), lengths, false);
      const out: StringArray = wanted === "with" ? stringsOf(codes, entries) : [];
      setCodes(out, { dict: entries as string[], codes, complete });
      return out;
    }
    const codes = unpackInt32(k, r.take(r.u32()), rowCount);
    const entries = split(readChars(k, r.rest(), rawBytes, flags), lengths, false);
    return stringsOf(codes, entries);
  },
  codesAt(k, stored, rawBytes, rowCount, dst) {
    const { r, flags, size, lengths } = dictHeader(k, stored, rowCount);
    k.unpackCodesAt(r.take(r.u32()), rowCount, size, dst);
    return split(readChars(k, r.rest(), rawBytes, flags), lengths, false) as string[];
  },
};

/** A string-dict block read up to its codes: flags, dictionary size and entry lengths. */
function dictHeader(k: Kernels, stored: Uint8Array, rowCount: number) {
  const r = new Reader(stored);
  const flags = r.u8();
  if (flags > FLAG_UTF16) throw new CorruptSegmentError(`string column has unknown flags ${flags}`);
  const size = r.u32();
  if (size > rowCount)
    throw new CorruptSegmentError(`string dictionary of ${size} entries for ${rowCount} rows`);
  return { r, flags, size, lengths: unpackInt32(k, r.take(r.u32()), size) };
}

/** Each row's string (null for code -1); throws `CorruptSegmentError` for a code outside `entries`. */
function stringsOf(codes: Int32Array, entries: readonly (string | null)[]): StringArray {
  const size = entries.length;
  const out: StringArray = new Array(codes.length);
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i];
    if (code === -1) out[i] = null;
    else if (code >= 0 && code < size) out[i] = entries[code];
    else throw new CorruptSegmentError(`string column has code ${code} outside its dictionary`);
  }
  return out;
}

/** All codecs, indexed by id. */
const CODECS: readonly Codec[] = [raw, lz4, shuffleLz4, intPack, strings, stringDict, decimal];

CODECS.forEach((c, i) => {
  if (c.id !== i) throw new Error(`codec table out of order: ${c.name} has id ${c.id} at ${i}`);
});

/** The codec stored under `id`, or undefined for an id this floe does not know. */
export function codecById(id: number): Codec | undefined {
  return Number.isInteger(id) ? CODECS[id] : undefined;
}

/** The numeric codec with this id (typed access for the encoder). */
export const NUMERIC_CODECS = { raw, lz4, shuffleLz4, intPack, decimal } as const;
/** The string codecs (typed access for the encoder). */
export const STRING_CODECS = { strings, stringDict } as const;
