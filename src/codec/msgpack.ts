import { decode, ExtensionCodec, encode } from "@msgpack/msgpack";
import { CorruptSegmentError, InvalidArgumentError } from "../errors.ts";
import { crc32c } from "./crc32c.ts";
import { prepareMetadata, TYPED_ARRAYS, UNDEFINED } from "./metadata-values.ts";

/** What every encode passes down to the extension encoders: the options its maps are written with. */
interface EncodeContext {
  ignoreUndefined: boolean;
}

/**
 * msgpack with bigints kept as bigints and numbers as numbers. The stock `useBigInt64` option would turn
 * every integer above 2^32 (say a millisecond timestamp) into a bigint on the way back, so bigints get
 * their own extension type instead: ext 1, the value as a decimal string.
 */
const BIGINT_EXT = 1;
/**
 * A map with a `__proto__` key (JSON.parse makes such objects): @msgpack/msgpack refuses to decode that
 * key, and assigning it would set the prototype rather than a key, so such a map is stored as ext 2, its
 * keys and values alternating in an array, and decoded with every key an own property. Other maps stay
 * plain msgpack maps (a key like `constructor` assigns as an own property already).
 */
const OWN_KEYS_EXT = 2;
/**
 * User metadata beyond JSON (see metadata-values.ts), each its own type so it comes back as given: a Map
 * (ext 3: keys and values alternating in an array), a Set (ext 4: its members in an array), a typed array
 * other than Uint8Array (ext 5: a byte naming its type in TYPED_ARRAYS, then its bytes, little-endian as
 * every runtime floe supports) and undefined (ext 6, no bytes). Metadata stored before these existed
 * holds none of them and reads as it did; a floe that predates them reads them as msgpack ExtData.
 */
const MAP_EXT = 3;
const SET_EXT = 4;
const TYPED_ARRAY_EXT = 5;
const UNDEFINED_EXT = 6;
const extensionCodec = new ExtensionCodec<EncodeContext>();
extensionCodec.register({
  type: BIGINT_EXT,
  encode: (value: unknown) => (typeof value === "bigint" ? new TextEncoder().encode(value.toString()) : null),
  decode: (data: Uint8Array) => BigInt(new TextDecoder().decode(data)),
});
extensionCodec.register({
  type: OWN_KEYS_EXT,
  encode: (value: unknown, context: EncodeContext) => {
    if (!hasProtoKey(value)) return null;
    const pairs: unknown[] = [];
    for (const key of Object.keys(value)) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined || !context.ignoreUndefined) pairs.push(key, v);
    }
    return encodeNested(pairs, context);
  },
  decode: (data: Uint8Array) => {
    const pairs = decode(data, limits(data));
    if (!Array.isArray(pairs) || pairs.length % 2 !== 0) throw new Error("a map of own keys is malformed");
    const out: Record<string, unknown> = {};
    for (let i = 0; i < pairs.length; i += 2) {
      if (typeof pairs[i] !== "string") throw new Error("a map of own keys has a key that is not a string");
      Object.defineProperty(out, pairs[i], {
        value: pairs[i + 1],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  },
});

/** `values` as msgpack, with the same extensions and options as the value they are part of. */
function encodeNested(values: unknown[], context: EncodeContext): Uint8Array {
  return encode(values, { extensionCodec, context, ignoreUndefined: context.ignoreUndefined });
}

/** The array an ext 3 or 4 holds. */
function decodeNested(data: Uint8Array, what: string): unknown[] {
  const values = decode(data, limits(data));
  if (!Array.isArray(values)) throw new Error(`${what} is malformed`);
  return values;
}

extensionCodec.register({
  type: MAP_EXT,
  encode: (value: unknown, context: EncodeContext) =>
    value instanceof Map ? encodeNested([...value].flat(), context) : null,
  decode: (data: Uint8Array) => {
    const pairs = decodeNested(data, "a Map");
    if (pairs.length % 2 !== 0) throw new Error("a Map is malformed");
    const out = new Map<unknown, unknown>();
    for (let i = 0; i < pairs.length; i += 2) out.set(pairs[i], pairs[i + 1]);
    return out;
  },
});
extensionCodec.register({
  type: SET_EXT,
  encode: (value: unknown, context: EncodeContext) =>
    value instanceof Set ? encodeNested([...value], context) : null,
  decode: (data: Uint8Array) => new Set(decodeNested(data, "a Set")),
});
extensionCodec.register({
  type: TYPED_ARRAY_EXT,
  encode: (value: unknown) => {
    const code = ArrayBuffer.isView(value)
      ? (TYPED_ARRAYS as readonly unknown[]).indexOf(value.constructor)
      : -1;
    if (code < 0) return null;
    const view = value as Int32Array;
    const out = new Uint8Array(1 + view.byteLength);
    out[0] = code;
    out.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), 1);
    return out;
  },
  decode: (data: Uint8Array) => {
    const type = TYPED_ARRAYS[data[0]];
    if (data.byteLength < 1 || type === undefined) throw new Error("a typed array has an unknown type");
    const bytes = data.slice(1); // a copy, aligned at offset 0 of its own buffer
    if (bytes.byteLength % type.BYTES_PER_ELEMENT !== 0) throw new Error(`a ${type.name} is malformed`);
    return new type(bytes.buffer, 0, bytes.byteLength / type.BYTES_PER_ELEMENT);
  },
});
extensionCodec.register({
  type: UNDEFINED_EXT,
  encode: (value: unknown) => (value === UNDEFINED ? new Uint8Array(0) : null),
  decode: () => undefined,
});

/** True for an object msgpack would write as a map that has an own `__proto__` key. */
function hasProtoKey(value: unknown): value is object {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    !ArrayBuffer.isView(value) &&
    Object.hasOwn(value, "__proto__")
  );
}

/**
 * Decode limits from the input's own size: no string, array or map can be longer than the bytes left.
 * Without them a five-byte array header claiming 2^24 elements makes the decoder allocate 128 MB first.
 */
function limits(bytes: Uint8Array) {
  const n = bytes.byteLength;
  return {
    extensionCodec,
    context: { ignoreUndefined: false },
    maxStrLength: n,
    maxBinLength: n,
    maxArrayLength: n,
    maxMapLength: n,
    maxExtLength: n,
  };
}

/** Decodes msgpack written by `packPlain` or `packMetadata`; malformed bytes become `CorruptSegmentError`. */
export function unpackPlain<T>(bytes: Uint8Array, what: string): T {
  try {
    // A copy: `bytes` may be a view into storage memory that the next read reuses, and bin fields alias it.
    return decode(bytes.slice(), limits(bytes)) as T;
  } catch (err) {
    throw new CorruptSegmentError(`Cannot decode ${what}: ${(err as Error).message}`, {}, { cause: err });
  }
}

/** Encodes a value as plain msgpack, for bytes that an outer checksum covers (segment headers). */
export function packPlain(value: unknown): Uint8Array {
  return encode(value, { extensionCodec, context: { ignoreUndefined: true }, ignoreUndefined: true });
}

// ---- stored records ------------------------------------------------------------------------------------
//
// A record stored on its own (version, index, symbol reference, library config, snapshot) is framed as
//     u8 0x70 | u32 LE CRC-32C of the msgpack | msgpack
// so a damaged record is an error, never a version pointing at the wrong index or an index listing wrong
// row counts. 0x70 is a msgpack fixint, which no unframed record starts with (records are maps), and it
// is 4 or more bits away from every map header, so a flipped bit cannot pass a framed record off as an
// unframed one. Unframed records (format-1 stores, before framing) are still read: a map and nothing else.

const FRAMED = 0x70;
const FRAME_BYTES = 5;

function isMapHeader(byte: number): boolean {
  return (byte >= 0x80 && byte <= 0x8f) || byte === 0xde || byte === 0xdf;
}

/** Encodes floe's own stored records, framed with a checksum (see above). */
export function packRecord(value: unknown): Uint8Array {
  const body = packPlain(value);
  const out = new Uint8Array(FRAME_BYTES + body.byteLength);
  out[0] = FRAMED;
  new DataView(out.buffer).setUint32(1, crc32c(body), true);
  out.set(body, FRAME_BYTES);
  return out;
}

/**
 * Decodes a record written by `packRecord` (or an unframed one from a format-1 store). A checksum
 * mismatch, malformed msgpack or an unframed value that is not a map throws `CorruptSegmentError`.
 */
export function unpackRecord<T>(bytes: Uint8Array, what: string): T {
  if (bytes.byteLength > 0 && isMapHeader(bytes[0])) return unpackPlain<T>(bytes, what);
  if (bytes.byteLength < FRAME_BYTES || bytes[0] !== FRAMED) {
    throw new CorruptSegmentError(`Cannot decode ${what}: it is not a floe record`);
  }
  const body = bytes.subarray(FRAME_BYTES);
  const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1, true);
  if (crc32c(body) !== stored) throw new CorruptSegmentError(`${what} fails its checksum`);
  return unpackPlain<T>(body, what);
}

/**
 * Encodes user metadata. Plain objects, arrays, Maps, Sets, strings, numbers, bigints, booleans, null,
 * undefined, Dates and typed arrays round-trip; anything else (class instances, functions, cycles, …) is
 * an `InvalidArgumentError` (see metadata-values.ts). The bytes are decoded once before they are
 * returned, so metadata a read could not decode is refused here, before anything commits, never stored
 * as a version no read can open.
 */
export function packMetadata(value: unknown): Uint8Array {
  const prepared = prepareMetadata(value);
  let bytes: Uint8Array;
  try {
    bytes = encode(prepared, { extensionCodec, context: { ignoreUndefined: false } });
  } catch (err) {
    throw new InvalidArgumentError(
      `metadata cannot be encoded as msgpack: ${(err as Error).message}. Use plain objects, arrays, ` +
        "strings, numbers, bigints, booleans, null, Dates or typed arrays.",
      { cause: err },
    );
  }
  try {
    decode(bytes, limits(bytes));
  } catch (err) {
    throw new InvalidArgumentError(
      `metadata encodes as msgpack that cannot be read back: ${(err as Error).message}. Use plain ` +
        "objects, arrays, strings, numbers, bigints, booleans, null, Dates or typed arrays.",
      { cause: err },
    );
  }
  return bytes;
}

/** Decodes user metadata written by `packMetadata`. */
export function unpackMetadata(bytes: Uint8Array): unknown {
  return unpackPlain(bytes, "metadata");
}
