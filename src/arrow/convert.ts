import {
  Bool,
  type DataType,
  Field,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampNanosecond,
  Type,
  Uint8,
  Uint16,
  Uint32,
  Uint64,
  Utf8,
  type Vector,
} from "apache-arrow";
import { DataFrame, InvalidArgumentError } from "../api/index.ts";
import type { ColumnValues, DType, NumericArray, StringArray } from "../dtypes.ts";
import { DTYPES } from "../dtypes.ts";
import { inRange } from "../frame/timestamps.ts";
import { checkZone } from "../frame/zones.ts";

/** Schema metadata key naming the column that is floe's timestamp index. */
export const INDEX_METADATA_KEY = "floe:index";
const NAT = -(2n ** 63n);

const ARROW_TYPE: Record<Exclude<DType, "string" | "bool" | "timestamp">, () => DataType> = {
  float64: () => new Float64(),
  float32: () => new Float32(),
  int8: () => new Int8(),
  int16: () => new Int16(),
  int32: () => new Int32(),
  int64: () => new Int64(),
  uint8: () => new Uint8(),
  uint16: () => new Uint16(),
  uint32: () => new Uint32(),
  uint64: () => new Uint64(),
};

/**
 * `df` as an Apache Arrow `Table` of one record batch. Numeric and timestamp columns (and a timestamp
 * index) share the frame's memory: the Arrow vectors are views of the same typed arrays, no copy. bool
 * columns are bit-packed and strings encoded to UTF-8, which copies. A timestamp index becomes the first
 * column, `timestamp[ns]` (with the index's time zone, if it has one), and its name is recorded in the
 * schema metadata (`floe:index`) so `fromArrow` restores it. NaT becomes null; NaN stays NaN; null
 * strings are null.
 */
export function toArrow(df: DataFrame): Table {
  if (!(df instanceof DataFrame)) {
    throw new InvalidArgumentError("toArrow: give a DataFrame.");
  }
  const fields: Field[] = [];
  const data = [];
  const metadata = new Map<string, string>();
  const index = df.index;
  if (index.kind === "timestamp") {
    // A zone is Arrow's timestamp timezone, as pyarrow writes a pandas tz-aware index.
    const type = new TimestampNanosecond(index.tz ?? null);
    fields.push(new Field(index.name, type, false));
    data.push(makeData({ type, data: index.values, length: df.numRows }));
    metadata.set(INDEX_METADATA_KEY, index.name);
  }
  for (const name of df.columnNames) {
    const dtype = df.dtype(name);
    const values = df.column(name);
    const column = arrowColumn(dtype, values, df.numRows);
    // Nullability follows the dtype, not the data, so every chunk of an export has the same schema.
    fields.push(new Field(name, column.type, dtype === "string" || dtype === "timestamp"));
    data.push(column);
  }
  const schema = new Schema(fields, metadata);
  const struct = makeData({ type: new Struct(fields), length: df.numRows, nullCount: 0, children: data });
  return new Table(schema, [new RecordBatch(schema, struct)]);
}

function arrowColumn(dtype: DType, values: ColumnValues, length: number) {
  if (dtype === "string") return utf8Column(values as StringArray, length);
  if (dtype === "bool") {
    const bytes = values as Uint8Array;
    const bits = new Uint8Array((length + 7) >> 3);
    for (let i = 0; i < length; i++) if (bytes[i]) bits[i >> 3] |= 1 << (i & 7);
    return makeData({ type: new Bool(), data: bits, length });
  }
  if (dtype === "timestamp") {
    const ts = values as BigInt64Array;
    let nulls = 0;
    for (let i = 0; i < length; i++) if (ts[i] === NAT) nulls++;
    const nullBitmap = nulls > 0 ? validity(length, (i) => ts[i] !== NAT) : undefined;
    return makeData({ type: new TimestampNanosecond(), data: ts, length, nullCount: nulls, nullBitmap });
  }
  const type = ARROW_TYPE[dtype]();
  // makeData keeps a typed array of the type's own kind as it is: a view, no copy.
  return makeData({ type: type as Float64, data: values as Float64Array, length });
}

const encoder = new TextEncoder();

/**
 * A string column as Arrow utf8 data. apache-arrow's `vectorFromArray` builds it value by value (about
 * 5 µs a string); here the strings are joined and encoded once, and when the text is ASCII (bytes ==
 * UTF-16 units) the offsets are the strings' lengths, so a million strings take tens of milliseconds.
 */
function utf8Column(values: StringArray, length: number) {
  const offsets = new Int32Array(length + 1);
  let nulls = 0;
  let units = 0;
  for (let i = 0; i < length; i++) {
    const v = values[i];
    if (v === null) nulls++;
    else units += v.length;
    offsets[i + 1] = units;
  }
  const nullBitmap = nulls > 0 ? validity(length, (i) => values[i] !== null) : undefined;
  let bytes = encoder.encode(nulls > 0 ? values.map((v) => v ?? "").join("") : (values as string[]).join(""));
  if (bytes.length !== units) {
    // Some text is not ASCII: encode each string to find its byte length.
    bytes = new Uint8Array(bytes.length);
    let at = 0;
    for (let i = 0; i < length; i++) {
      const v = values[i];
      if (v !== null) at += encoder.encodeInto(v, bytes.subarray(at)).written;
      offsets[i + 1] = at;
    }
  }
  return makeData({
    type: new Utf8(),
    length,
    nullCount: nulls,
    nullBitmap,
    valueOffsets: offsets,
    data: bytes,
  });
}

function validity(length: number, valid: (i: number) => boolean): Uint8Array {
  const bits = new Uint8Array((length + 7) >> 3);
  for (let i = 0; i < length; i++) if (valid(i)) bits[i >> 3] |= 1 << (i & 7);
  return bits;
}

/** Options of `fromArrow`. */
export interface FromArrowOptions {
  /**
   * The column to use as the timestamp index. By default the one the schema metadata `floe:index` names
   * (as `toArrow` writes), else none: rows are numbered.
   */
  index?: string | null;
}

/**
 * A `DataFrame` from an Apache Arrow `Table` (or `RecordBatch`). A numeric or `timestamp[ns]` column held
 * in one chunk without nulls becomes a view of the Arrow buffer, no copy; other columns are copied.
 * Types map as: floats, ints and uints to the floe dtype of the same width (float16 to float64); bool to
 * bool; utf8, large utf8 and dictionary-encoded strings to string; timestamps of any unit and dates to
 * timestamp (ns, UTC; the index column's time zone becomes the index's `tz`, a column's is dropped). Nulls become NaN in floats, NaT in timestamps, null in
 * strings; an integer or bool column with nulls becomes float64 with NaN for null, as pandas does.
 * Other types (lists, structs, binary, decimals, …) are an `InvalidArgumentError` naming the column.
 */
export function fromArrow(table: Table | RecordBatch, options: FromArrowOptions = {}): DataFrame {
  if (table instanceof RecordBatch) table = new Table([table]);
  if (!(table instanceof Table)) {
    throw new InvalidArgumentError(
      "fromArrow: give an apache-arrow Table or RecordBatch (from the same apache-arrow the program imports).",
    );
  }
  const indexName =
    options.index === undefined ? (table.schema.metadata.get(INDEX_METADATA_KEY) ?? null) : options.index;
  const columns: { name: string; dtype: DType; values: ColumnValues }[] = [];
  let index: BigInt64Array | undefined;
  let tz: string | undefined;
  const fieldNames = table.schema.fields.map((f) => f.name);
  if (indexName !== null && !fieldNames.includes(indexName)) {
    throw new InvalidArgumentError(
      `fromArrow: no column '${indexName}' for the index; the columns are ${fieldNames.map((n) => `'${n}'`).join(", ")}.`,
    );
  }
  table.schema.fields.forEach((field, i) => {
    const vector = table.getChildAt(i)!;
    const column = floeColumn(field.name, vector);
    if (field.name === indexName) {
      if (column.dtype !== "timestamp") {
        throw new InvalidArgumentError(
          `fromArrow: the index column '${indexName}' is ${field.type}; the index must be a timestamp column.`,
        );
      }
      index = column.values as BigInt64Array;
      tz = indexZone(field.type);
      if (index.includes(NAT)) {
        throw new InvalidArgumentError(`fromArrow: the index column '${indexName}' has nulls.`);
      }
    } else columns.push({ name: field.name, ...column });
  });
  if (new Set(fieldNames).size !== fieldNames.length) {
    throw new InvalidArgumentError("fromArrow: the table has two columns of the same name; rename one.");
  }
  return DataFrame.fromColumns(
    columns,
    index
      ? { kind: "timestamp", name: indexName!, values: index, ...(tz === undefined ? {} : { tz }) }
      : { kind: "row", start: 0 },
    table.numRows,
  );
}

/**
 * The time zone of an Arrow timestamp type, when this runtime knows it; the values are UTC either way,
 * so a zone it lacks (or a date type, which has none) leaves the index naive rather than failing.
 */
function indexZone(type: DataType): string | undefined {
  const tz = (type as { timezone?: unknown }).timezone;
  if (typeof tz !== "string" || tz === "") return undefined;
  try {
    return checkZone(tz, "fromArrow");
  } catch {
    return undefined;
  }
}

const INT_DTYPE: Record<string, DType> = {
  "8true": "int8",
  "16true": "int16",
  "32true": "int32",
  "64true": "int64",
  "8false": "uint8",
  "16false": "uint16",
  "32false": "uint32",
  "64false": "uint64",
};

/** One Arrow column as floe values, viewing the Arrow buffer when layouts allow. */
function floeColumn(name: string, vector: Vector): { dtype: DType; values: ColumnValues } {
  const type = vector.type as DataType & {
    bitWidth?: number;
    isSigned?: boolean;
    precision?: number;
    unit?: number;
  };
  const n = vector.length;
  const nulls = vector.nullCount;
  switch (type.typeId) {
    case Type.Float: {
      if (type.precision === 0) return { dtype: "float64", values: Float64Array.from(vector, nanForNull) };
      const dtype: DType = type.precision === 1 ? "float32" : "float64";
      return { dtype, values: numeric(vector, dtype, Number.NaN) };
    }
    case Type.Int: {
      const dtype = INT_DTYPE[`${type.bitWidth}${type.isSigned}`];
      if (nulls > 0) return { dtype: "float64", values: Float64Array.from(vector, nanForNull) };
      return { dtype, values: numeric(vector, dtype, 0) };
    }
    case Type.Bool: {
      if (nulls > 0) {
        return {
          dtype: "float64",
          values: Float64Array.from(vector, (v: unknown) => (v == null ? Number.NaN : v ? 1 : 0)),
        };
      }
      const out = new Uint8Array(n);
      let i = 0;
      for (const v of vector) out[i++] = v ? 1 : 0;
      return { dtype: "bool", values: out };
    }
    case Type.Utf8:
    case Type.LargeUtf8:
      return { dtype: "string", values: Array.from(vector, (v: unknown) => (v == null ? null : String(v))) };
    case Type.Dictionary: {
      const valueType = (type as unknown as { dictionary: DataType }).dictionary;
      if (valueType.typeId === Type.Utf8 || valueType.typeId === Type.LargeUtf8) {
        return {
          dtype: "string",
          values: Array.from(vector, (v: unknown) => (v == null ? null : String(v))),
        };
      }
      break;
    }
    case Type.Timestamp: {
      // TimeUnit: 0 s, 1 ms, 2 us, 3 ns.
      const unit = type.unit ?? 3;
      const scale = [1_000_000_000n, 1_000_000n, 1_000n, 1n][unit];
      return { dtype: "timestamp", values: timestamps(name, vector, scale, ["s", "ms", "us", "ns"][unit]) };
    }
    case Type.Date: {
      // DateUnit: 0 day (int32 days), 1 millisecond (int64 ms).
      const scale = type.unit === 0 ? 86_400_000_000_000n : 1_000_000n;
      return {
        dtype: "timestamp",
        values: timestamps(name, vector, scale, type.unit === 0 ? "days" : "ms"),
      };
    }
    case Type.Null:
      return { dtype: "float64", values: new Float64Array(n).fill(Number.NaN) };
  }
  throw new InvalidArgumentError(
    `fromArrow: column '${name}' is ${type}, which floe does not store; floe stores numbers, bools, strings and timestamps.`,
  );
}

function nanForNull(v: unknown): number {
  return v == null ? Number.NaN : Number(v);
}

/** A numeric column: the Arrow buffer itself when it is one chunk, else the chunks joined. */
function numeric(vector: Vector, dtype: DType, nullValue: number): NumericArray {
  const Array_ = DTYPES[dtype].array!;
  const chunks = vector.data;
  if (chunks.length === 1 && chunks[0].nullCount === 0 && chunks[0].values instanceof Array_) {
    return (chunks[0].values as NumericArray).subarray(0, chunks[0].length) as NumericArray;
  }
  const out = new Array_(vector.length);
  let at = 0;
  for (const chunk of chunks) {
    const values = (chunk.values as NumericArray).subarray(0, chunk.length);
    (out as Float64Array).set(values as Float64Array, at);
    if (chunk.nullCount > 0) {
      for (let i = 0; i < chunk.length; i++)
        if (!chunk.getValid(i)) (out as Float64Array)[at + i] = nullValue;
    }
    at += chunk.length;
  }
  return out;
}

/**
 * Timestamps in ns: the Arrow buffer itself for one chunk of ns without nulls, else converted; a coarser
 * unit's value past the int64 ns range is an `InvalidArgumentError` rather than a wrapped-round time.
 */
function timestamps(name: string, vector: Vector, scale: bigint, unit: string): BigInt64Array {
  const chunks = vector.data;
  if (
    scale === 1n &&
    chunks.length === 1 &&
    chunks[0].nullCount === 0 &&
    chunks[0].values instanceof BigInt64Array
  ) {
    return chunks[0].values.subarray(0, chunks[0].length);
  }
  const out = new BigInt64Array(vector.length);
  let at = 0;
  for (const chunk of chunks) {
    const values = chunk.values as BigInt64Array | Int32Array;
    for (let i = 0; i < chunk.length; i++) {
      if (!chunk.getValid(i)) out[at + i] = NAT;
      else {
        const raw = BigInt(values[i]);
        out[at + i] = inRange(
          raw * scale,
          `fromArrow: column '${name}' row ${at + i}`,
          `${raw} ${unit} since the epoch`,
        );
      }
    }
    at += chunk.length;
  }
  return out;
}
