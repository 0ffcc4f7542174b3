import { decode, ExtensionCodec, encode } from "@msgpack/msgpack";
import { CorruptSegmentError, InvalidArgumentError } from "../errors.ts";

/**
 * msgpack with bigints kept as bigints and numbers as numbers. The stock `useBigInt64` option would turn
 * every integer above 2^32 (say a millisecond timestamp) into a bigint on the way back, so bigints get
 * their own extension type instead: ext 1, the value as a decimal string.
 */
const BIGINT_EXT = 1;
const extensionCodec = new ExtensionCodec();
extensionCodec.register({
  type: BIGINT_EXT,
  encode: (value: unknown) => (typeof value === "bigint" ? new TextEncoder().encode(value.toString()) : null),
  decode: (data: Uint8Array) => BigInt(new TextDecoder().decode(data)),
});

/** Encodes floe's own records (headers, indexes, versions). */
export function packRecord(value: unknown): Uint8Array {
  return encode(value, { extensionCodec, ignoreUndefined: true });
}

/** Decodes a record written by `packRecord`; malformed bytes become `CorruptSegmentError`. */
export function unpackRecord<T>(bytes: Uint8Array, what: string): T {
  try {
    // A copy: `bytes` may be a view into storage memory that the next read reuses, and bin fields alias it.
    return decode(bytes.slice(), { extensionCodec }) as T;
  } catch (err) {
    throw new CorruptSegmentError(`Cannot decode ${what}: ${(err as Error).message}`, {}, { cause: err });
  }
}

/**
 * Encodes user metadata. Anything msgpack can hold round-trips (plus bigints and Dates); anything else
 * (functions, symbols, class instances msgpack cannot map) is an `InvalidArgumentError`.
 */
export function packMetadata(value: unknown): Uint8Array {
  try {
    return encode(value, { extensionCodec });
  } catch (err) {
    throw new InvalidArgumentError(
      `metadata cannot be encoded as msgpack: ${(err as Error).message}. Use plain objects, arrays, ` +
        "strings, numbers, bigints, booleans, null, Dates or Uint8Arrays.",
      { cause: err },
    );
  }
}

/** Decodes user metadata written by `packMetadata`. */
export function unpackMetadata(bytes: Uint8Array): unknown {
  return unpackRecord(bytes, "metadata");
}
