/**
 * Column types, shared by every layer like errors.ts (the codec stores them, frames hold them); it sits
 * at the root so no layer imports from one above it.
 *
 * The one place that knows each dtype: its typed array, its byte width and whether it is numeric.
 * Everything else dispatches through `DTYPES` instead of switching on dtype names.
 */
export type DType =
  | "float64"
  | "float32"
  | "int8"
  | "int16"
  | "int32"
  | "int64"
  | "uint8"
  | "uint16"
  | "uint32"
  | "uint64"
  | "bool"
  | "timestamp"
  | "string";

/** A string column: `null` is a missing value, distinct from `""`. */
export type StringArray = (string | null)[];

/** The typed arrays that hold fixed-width columns (`BigInt64Array` also holds timestamps). */
export type NumericArray =
  | Float64Array
  | Float32Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

/** What a column holds: a typed array for fixed-width dtypes (bool is 0/1 bytes), strings otherwise. */
export type ColumnValues = NumericArray | StringArray;

export interface TypedArrayConstructor {
  new (length: number): NumericArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericArray;
  readonly BYTES_PER_ELEMENT: number;
}

export interface DTypeInfo {
  /** Bytes per value; 0 for strings. */
  readonly width: number;
  /** The typed array holding values of this dtype; `null` for strings. */
  readonly array: TypedArrayConstructor | null;
  /** True when values are bigints (int64, uint64, timestamp). */
  readonly bigint: boolean;
  /** True for signed or unsigned integers and timestamps (delta/bit-packing applies). */
  readonly integer: boolean;
}

export const DTYPES: Readonly<Record<DType, DTypeInfo>> = {
  float64: { width: 8, array: Float64Array, bigint: false, integer: false },
  float32: { width: 4, array: Float32Array, bigint: false, integer: false },
  int8: { width: 1, array: Int8Array, bigint: false, integer: true },
  int16: { width: 2, array: Int16Array, bigint: false, integer: true },
  int32: { width: 4, array: Int32Array, bigint: false, integer: true },
  int64: { width: 8, array: BigInt64Array, bigint: true, integer: true },
  uint8: { width: 1, array: Uint8Array, bigint: false, integer: true },
  uint16: { width: 2, array: Uint16Array, bigint: false, integer: true },
  uint32: { width: 4, array: Uint32Array, bigint: false, integer: true },
  uint64: { width: 8, array: BigUint64Array, bigint: true, integer: true },
  bool: { width: 1, array: Uint8Array, bigint: false, integer: false },
  timestamp: { width: 8, array: BigInt64Array, bigint: true, integer: true },
  string: { width: 0, array: null, bigint: false, integer: false },
};

export const DTYPE_NAMES = Object.keys(DTYPES) as DType[];

export function isDType(name: unknown): name is DType {
  return typeof name === "string" && Object.hasOwn(DTYPES, name);
}
