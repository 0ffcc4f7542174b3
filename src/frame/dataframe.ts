import {
  type ColumnValues,
  DTYPES,
  type DType,
  isDType,
  type NumericArray,
  type StringArray,
} from "../dtypes.ts";
import { InvalidArgumentError } from "../errors.ts";
import { getOwn, ownRecord, setOwn } from "../own-keys.ts";
import { checkLikelyUnit, isTimeUnit, scaleToNanos, type TimeUnit } from "./index-units.ts";
import { checkAttached } from "./intact.ts";
import { formatFloatCells } from "./print.ts";
import { formatNanos, NAT, nanosToDate, timestampDigits, toNanos } from "./timestamps.ts";
import { checkZone, formatZoned } from "./zones.ts";

export type { TimeUnit } from "./index-units.ts";

/** Rows are numbered `start, start + 1, …` (a read with `rowRange` starts past 0). */
export interface RowIndex {
  /** Tells the two kinds of index apart. */
  readonly kind: "row";
  /** The number of the first row. */
  readonly start: number;
}

/** A named column of nanosecond timestamps that orders the rows. */
export interface TimestampIndex {
  /** Tells the two kinds of index apart. */
  readonly kind: "timestamp";
  /** The index column's name (`"index"` when none was given). */
  readonly name: string;
  /** One timestamp per row, in ns since the epoch (UTC). */
  readonly values: BigInt64Array;
  /**
   * The IANA time zone the index is shown in (`"America/New_York"`), as pandas' tz-aware index; absent
   * for a naive (UTC) index. The values are UTC instants either way; it is stored with the symbol.
   */
  readonly tz?: string;
}

/** A frame's index: row numbers or timestamps. */
export type FrameIndex = RowIndex | TimestampIndex;

/** What `new DataFrame(…, { index })` accepts for a timestamp index. */
export type IndexInput =
  | BigInt64Array
  | readonly (Date | string | bigint)[]
  | {
      /** The index column's name. */
      name: string;
      /**
       * Timestamps: `Date`s, ISO strings (UTC unless they carry an offset) or ns `bigint`s; with `unit`,
       * whole counts since the epoch (bigints or integer numbers, also a Float64Array, Int32Array or
       * Uint32Array of them) in that unit.
       */
      values:
        | BigInt64Array
        | readonly (Date | string | bigint)[]
        | readonly number[]
        | Float64Array
        | Int32Array
        | Uint32Array;
      /** The zone to show the index in (IANA name, e.g. `"America/New_York"`); values stay UTC instants. */
      tz?: string;
      /**
       * What `values` count since the epoch when they are numbers or bigints: `"s"`, `"ms"`, `"us"` or
       * `"ns"`. Without it bigints are ns, and ns that look like seconds, ms or µs (all within weeks of
       * 1970-01-01, but 1990–2100 in that unit) are refused as a likely mistake; `"ns"` keeps them.
       */
      unit?: TimeUnit;
    };

/** Options of `new DataFrame(columns, options)`. */
export interface DataFrameOptions {
  /** Timestamps that index the rows; without it rows are numbered from 0. */
  index?: IndexInput;
  /** Dtypes for columns whose plain-array values would infer otherwise (e.g. `int32`, or `string` when empty). */
  dtypes?: Record<string, DType>;
}

/** The name a timestamp index gets when given as bare values, as ArcticDB names it. */
export const DEFAULT_INDEX_NAME = "index";
const PRINT_ROWS = 60;
const PRINT_EDGE = 5;

/**
 * Columns of equal length, each a typed array (or an array of strings), with a row-number or timestamp
 * index. Columns are held as given: `column(name)` returns the array itself, so treat frames as immutable.
 */
export class DataFrame {
  /** The number of rows. */
  readonly numRows: number;
  /** The column names, in order (the index is not among them). */
  readonly columnNames: readonly string[];
  /** Each column's dtype, by name. */
  readonly dtypes: Readonly<Record<string, DType>>;
  /** Row numbers (`{ kind: "row", start }`) or timestamps (`{ kind: "timestamp", name, values }` in ns). */
  readonly index: FrameIndex;
  private readonly columns: Map<string, ColumnValues>;
  /** The dtypes again, keyed safely: `dtypes` is a plain object for callers, where `constructor` is inherited. */
  private readonly types: Map<string, DType>;

  /**
   * Builds a frame from a record of columns. Plain arrays infer their dtype (numbers → float64, bigints
   * → int64, booleans → bool, strings → string, `Date`s → timestamp) unless `options.dtypes` names one;
   * typed arrays keep theirs. Missing values (`null`, `undefined`) follow pandas: NaN in numbers, NaT in
   * timestamps, null in strings; bigints or booleans with a missing value become float64 (NaN for the
   * missing ones), as pandas widens ints and as `fromArrow` does. Throws `InvalidArgumentError` for mixed
   * values, unequal lengths, or a missing value in a column given an int or bool dtype.
   */
  constructor(columns: Record<string, unknown>, options: DataFrameOptions = {}) {
    if (columns === null || typeof columns !== "object" || Array.isArray(columns)) {
      throw new InvalidArgumentError(
        `DataFrame: columns must be a record such as { a: [1, 2, 3] }, got ${columns === null ? "null" : Array.isArray(columns) ? "an array" : typeof columns}.`,
      );
    }
    const dtypes = options.dtypes ?? {};
    for (const [name, dtype] of Object.entries(dtypes)) {
      if (!isDType(dtype)) {
        throw new InvalidArgumentError(
          `DataFrame: dtype ${JSON.stringify(dtype)} for column '${name}' is not one of ${Object.keys(DTYPES).join(", ")}.`,
        );
      }
      if (!Object.hasOwn(columns, name)) {
        throw new InvalidArgumentError(
          `DataFrame: dtypes names column '${name}', which is not among the columns.`,
        );
      }
    }
    const built = new Map<string, ColumnValues>();
    const types = new Map<string, DType>();
    for (const [name, values] of Object.entries(columns)) {
      const [dtype, array] = toColumn(name, values, getOwn(dtypes, name));
      built.set(name, array);
      types.set(name, dtype);
    }
    const index = options.index === undefined ? undefined : toIndex(options.index);
    let numRows = index ? index.values.length : -1;
    for (const [name, values] of built) {
      if (numRows === -1) numRows = values.length;
      else if (values.length !== numRows) {
        throw new InvalidArgumentError(
          `DataFrame: column '${name}' has ${values.length} rows but ${index ? "the index" : `'${built.keys().next().value}'`} has ${numRows}; all columns must have the same length.`,
        );
      }
    }
    if (index && built.has(index.name)) {
      throw new InvalidArgumentError(
        `DataFrame: the index is named '${index.name}', like a column; rename one.`,
      );
    }
    this.numRows = Math.max(numRows, 0);
    this.columns = built;
    this.types = types;
    this.columnNames = Object.freeze([...built.keys()]);
    this.dtypes = Object.freeze(ownRecord(types));
    this.index = index ?? { kind: "row", start: 0 };
  }

  /**
   * A frame over arrays already in their dtype's representation (as the version engine decodes them),
   * without inference or copying.
   */
  static fromColumns(
    columns: readonly { name: string; dtype: DType; values: ColumnValues }[],
    index: FrameIndex,
    numRows: number,
  ): DataFrame {
    const map = new Map<string, ColumnValues>();
    const types = new Map<string, DType>();
    for (const c of columns) {
      map.set(c.name, c.values);
      types.set(c.name, c.dtype);
    }
    // Skips the constructor: these arrays come from the decoder and are already typed.
    const frame = Object.create(DataFrame.prototype) as DataFrame;
    return Object.assign(frame, {
      numRows,
      columnNames: Object.freeze([...map.keys()]),
      dtypes: Object.freeze(ownRecord(types)),
      index,
      columns: map,
      types,
    });
  }

  /**
   * A frame from row objects: the column names are the keys of the first row, and `options.index` names
   * the key holding each row's timestamp (`options.tz`, `options.unit`: as `{ name, values, tz, unit }`).
   */
  static fromRecords(
    rows: readonly Record<string, unknown>[],
    options: { index?: string; dtypes?: Record<string, DType>; tz?: string; unit?: TimeUnit } = {},
  ): DataFrame {
    if (!Array.isArray(rows))
      throw new InvalidArgumentError("DataFrame.fromRecords: rows must be an array of objects.");
    const names = rows.length > 0 ? Object.keys(rows[0]) : [];
    // A Map, and own properties when handed on: a key like `__proto__` (JSON.parse makes one) is a column.
    const columns = new Map<string, unknown[]>();
    for (const name of names) columns.set(name, new Array(rows.length));
    rows.forEach((row, i) => {
      if (row === null || typeof row !== "object") {
        throw new InvalidArgumentError(`DataFrame.fromRecords: row ${i} is not an object.`);
      }
      for (const [name, values] of columns) values[i] = getOwn(row, name);
    });
    const indexName = options.index;
    if (indexName === undefined) return new DataFrame(ownRecord(columns), { dtypes: options.dtypes });
    if (!columns.has(indexName) && rows.length > 0) {
      throw new InvalidArgumentError(
        `DataFrame.fromRecords: the rows have no '${indexName}' key for the index.`,
      );
    }
    const indexValues = (columns.get(indexName) ?? []) as (Date | string | bigint)[];
    columns.delete(indexName);
    return new DataFrame(ownRecord(columns), {
      index: { name: indexName, values: indexValues, tz: options.tz, unit: options.unit },
      dtypes: options.dtypes,
    });
  }

  /** The column's array itself (no copy). Throws `InvalidArgumentError` for an unknown name. */
  column(name: string): ColumnValues {
    const values = this.columns.get(name);
    if (values === undefined) {
      throw new InvalidArgumentError(
        `DataFrame: no column '${name}'; the columns are ${this.columnNames.map((n) => `'${n}'`).join(", ") || "(none)"}.`,
      );
    }
    return values;
  }

  /** The dtype of column `name`. */
  dtype(name: string): DType {
    this.column(name);
    return this.types.get(name)!;
  }

  /**
   * One object per row, index first; timestamps come back as `Date`s (millisecond precision), NaT as
   * `null`, null strings as `null`, NaN as NaN.
   */
  toRecords(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = new Array(this.numRows);
    const index = this.index;
    for (let i = 0; i < this.numRows; i++) {
      const row: Record<string, unknown> = {};
      if (index.kind === "timestamp") setOwn(row, index.name, nanosToDate(index.values[i]));
      for (const name of this.columnNames)
        setOwn(row, name, cellValue(this.types.get(name)!, this.columns.get(name)!, i));
      out[i] = row;
    }
    return out;
  }

  /**
   * True when `other` has the same column names (in order), dtypes, index (its zone included) and values;
   * NaN equals NaN.
   */
  equals(other: unknown): boolean {
    if (!(other instanceof DataFrame)) return false;
    if (this.numRows !== other.numRows || this.columnNames.length !== other.columnNames.length) return false;
    const a = this.index;
    const b = other.index;
    if (a.kind !== b.kind) return false;
    if (a.kind === "row" && b.kind === "row" && a.start !== b.start) return false;
    if (
      a.kind === "timestamp" &&
      b.kind === "timestamp" &&
      (a.name !== b.name || a.tz !== b.tz || !sameValues(a.values, b.values))
    ) {
      return false;
    }
    for (let c = 0; c < this.columnNames.length; c++) {
      const name = this.columnNames[c];
      if (other.columnNames[c] !== name || other.dtype(name) !== this.types.get(name)) return false;
      if (!sameValues(this.columns.get(name)!, other.column(name))) return false;
    }
    return true;
  }

  /**
   * The frame as pandas prints it: a header of column names, then one line per row led by its index;
   * long frames show their first and last five rows and a `[N rows x M columns]` footer. An index with a
   * zone prints local times with their offset (`2024-01-02 09:30:00-05:00`), as pandas does.
   */
  toString(): string {
    const truncated = this.numRows > PRINT_ROWS;
    const rows = truncated
      ? [...range(0, PRINT_EDGE), -1, ...range(this.numRows - PRINT_EDGE, this.numRows)]
      : range(0, this.numRows);
    const index = this.index;
    const digits = index.kind === "timestamp" ? timestampDigits(index.values) : -1;
    const labels = rows.map((r) =>
      r < 0
        ? ".."
        : index.kind === "timestamp"
          ? index.tz === undefined
            ? formatNanos(index.values[r], digits)
            : formatZoned(index.values[r], digits, index.tz)
          : String(index.start + r),
    );
    const indexHeader = index.kind === "timestamp" ? index.name : "";
    const indexWidth = Math.max(indexHeader.length, ...labels.map((l) => l.length));
    const lines = [indexHeader.padEnd(indexWidth), ...labels.map((l) => l.padEnd(indexWidth))];
    for (const name of this.columnNames) {
      const cells = formatColumn(this.types.get(name)!, this.columns.get(name)!, rows);
      const width = Math.max(name.length, ...cells.map((c) => c.length));
      lines[0] += `  ${name.padStart(width)}`;
      for (let i = 0; i < cells.length; i++) lines[i + 1] += `  ${cells[i].padStart(width)}`;
    }
    const text = lines.map((l) => l.trimEnd()).join("\n");
    return truncated ? `${text}\n\n[${this.numRows} rows x ${this.columnNames.length} columns]` : text;
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

/** How to give an index as numbers, for the messages refusing numbers without a unit. */
const NUMBERS_AS_INDEX =
  'Numbers of milliseconds (or s, us, ns) since 1970 need their unit: { name: "time", values, unit: "ms" }; ' +
  "or give a BigInt64Array of nanoseconds, Dates or ISO strings.";

function toIndex(input: IndexInput): TimestampIndex {
  let name = DEFAULT_INDEX_NAME;
  let values: unknown = input;
  let tz: string | undefined;
  let unit: TimeUnit | undefined;
  if (ArrayBuffer.isView(input) && !(input instanceof BigInt64Array)) {
    throw new InvalidArgumentError(
      `DataFrame: the index must be timestamps, got a ${(input as object).constructor.name}. ${NUMBERS_AS_INDEX}`,
    );
  }
  if (
    input !== null &&
    typeof input === "object" &&
    !Array.isArray(input) &&
    !(input instanceof BigInt64Array)
  ) {
    const named = input as { name?: unknown; values?: unknown; tz?: unknown; unit?: unknown };
    if (!("values" in named)) {
      throw new InvalidArgumentError(
        "DataFrame: index must be timestamps (Date[], ISO strings or a BigInt64Array of nanoseconds) or " +
          `{ name, values }, got ${input instanceof Date ? "a single Date" : `an object with no 'values'`}.`,
      );
    }
    if (typeof named.name !== "string" || named.name === "") {
      throw new InvalidArgumentError("DataFrame: index.name must be a non-empty string.");
    }
    name = named.name;
    values = named.values;
    if (named.tz !== undefined) tz = checkZone(named.tz, "DataFrame index");
    if (named.unit !== undefined) {
      if (!isTimeUnit(named.unit)) {
        throw new InvalidArgumentError(
          `DataFrame: index.unit must be "s", "ms", "us" or "ns", got ${JSON.stringify(named.unit)}.`,
        );
      }
      unit = named.unit;
    }
  }
  const zoned = (v: BigInt64Array): TimestampIndex =>
    tz === undefined ? { kind: "timestamp", name, values: v } : { kind: "timestamp", name, values: v, tz };
  if (values instanceof BigInt64Array) {
    checkAttached(values, "the index");
    if (unit === undefined) checkLikelyUnit(values, "DataFrame index");
    return zoned(
      unit === undefined || unit === "ns" ? values : scaleToNanos(values, unit, "DataFrame index"),
    );
  }
  const typed = ArrayBuffer.isView(values) && !(values instanceof DataView);
  if (unit !== undefined && (Array.isArray(values) || typed)) {
    return zoned(scaleToNanos(values as ArrayLike<unknown>, unit, "DataFrame index"));
  }
  if (typed) {
    throw new InvalidArgumentError(
      `DataFrame: index.values must be timestamps, got a ${(values as object).constructor.name} without a ` +
        `unit. ${NUMBERS_AS_INDEX}`,
    );
  }
  if (!Array.isArray(values)) {
    throw new InvalidArgumentError(
      "DataFrame: index must be timestamps (Date[], ISO strings or a BigInt64Array of nanoseconds) or { name, values }.",
    );
  }
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    if (values[i] === null || values[i] === undefined) {
      throw new InvalidArgumentError(
        `DataFrame index[${i}] is missing (${values[i]}); the index must hold every row's time. Drop the row or give it a time.`,
      );
    }
    out[i] = toNanos(values[i], `DataFrame index[${i}]`);
  }
  if (values.some((v) => typeof v === "bigint")) checkLikelyUnit(out, "DataFrame index");
  return zoned(out);
}

const TYPED_DTYPE = new Map<unknown, DType>([
  [Float64Array, "float64"],
  [Float32Array, "float32"],
  [Int8Array, "int8"],
  [Int16Array, "int16"],
  [Int32Array, "int32"],
  [BigInt64Array, "int64"],
  [Uint8Array, "uint8"],
  [Uint16Array, "uint16"],
  [Uint32Array, "uint32"],
  [BigUint64Array, "uint64"],
]);

function toColumn(name: string, values: unknown, wanted: DType | undefined): [DType, ColumnValues] {
  if (ArrayBuffer.isView(values) && !(values instanceof DataView)) {
    checkAttached(values, `column '${name}'`);
    const own = TYPED_DTYPE.get(values.constructor);
    if (own === undefined) {
      throw new InvalidArgumentError(
        `DataFrame: column '${name}' is a ${values.constructor.name}, which floe does not store.`,
      );
    }
    if (wanted === undefined || wanted === own) return [own, values as NumericArray];
    if (wanted !== "string" && DTYPES[wanted].array === values.constructor)
      return [wanted, values as NumericArray];
    return [wanted, fromPlain(name, Array.from(values as unknown as ArrayLike<unknown>), wanted)];
  }
  if (!Array.isArray(values)) {
    throw new InvalidArgumentError(
      `DataFrame: column '${name}' must be a typed array or an array, got ${values === null ? "null" : typeof values}.`,
    );
  }
  if (wanted !== undefined) return [wanted, fromPlain(name, values, wanted)];
  const inferred = inferDType(name, values);
  if ((inferred === "int64" || inferred === "bool") && values.some(isMissing)) {
    // pandas' rule: an int or bool column with a missing value is float64 with NaN (fromArrow agrees).
    return ["float64", widenToFloat(name, values)];
  }
  return [inferred, fromPlain(name, values, inferred)];
}

function isMissing(v: unknown): boolean {
  return v === null || v === undefined;
}

/** Bigints or booleans with missing values as float64, NaN for the missing; refuses a bigint it would round. */
function widenToFloat(name: string, values: readonly unknown[]): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (isMissing(v)) out[i] = Number.NaN;
    else if (typeof v === "boolean") out[i] = v ? 1 : 0;
    else {
      out[i] = Number(v as bigint);
      if (BigInt(out[i]) !== v) {
        throw new InvalidArgumentError(
          `DataFrame: column '${name}' has missing values, so it is float64 with NaN for them (as pandas ` +
            `widens ints), but float64 cannot hold ${v}n (row ${i}) exactly. Give the missing rows a value ` +
            "and keep int64, or store the column as strings.",
        );
      }
    }
  }
  return out;
}

function kindOf(v: unknown): string {
  if (v === null || v === undefined) return "missing";
  if (v instanceof Date) return "Date";
  return typeof v;
}

function inferDType(name: string, values: readonly unknown[]): DType {
  let kind = "missing";
  for (let i = 0; i < values.length; i++) {
    const k = kindOf(values[i]);
    if (k === "missing" || k === kind) continue;
    if (kind !== "missing") {
      throw new InvalidArgumentError(
        `DataFrame: column '${name}' mixes ${kind} and ${k} values (row ${i}); a column holds one type.`,
      );
    }
    kind = k;
  }
  switch (kind) {
    case "number":
    case "missing":
      return "float64";
    case "bigint":
      return "int64";
    case "boolean":
      return "bool";
    case "string":
      return "string";
    case "Date":
      return "timestamp";
    default:
      throw new InvalidArgumentError(
        `DataFrame: column '${name}' holds ${kind} values, which floe does not store.`,
      );
  }
}

function fromPlain(name: string, values: readonly unknown[], dtype: DType): ColumnValues {
  const bad = (i: number): never => {
    const v = values[i];
    throw new InvalidArgumentError(
      `DataFrame: column '${name}' is ${dtype} but row ${i} holds ${typeof v === "string" ? JSON.stringify(v) : String(v)}.`,
    );
  };
  if (dtype === "string") {
    const out: StringArray = new Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === null || v === undefined) out[i] = null;
      else if (typeof v === "string") out[i] = v;
      else bad(i);
    }
    return out;
  }
  const info = DTYPES[dtype];
  const out = new info.array!(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (isMissing(v) && dtype !== "timestamp" && dtype !== "float64" && dtype !== "float32") {
      throw new InvalidArgumentError(
        `DataFrame: column '${name}' is ${dtype} but row ${i} is missing (${v}); ${dtype} has no missing ` +
          "value. Give it the float64 dtype (missing values become NaN, as pandas does) or fill the row.",
      );
    }
    if (dtype === "timestamp") {
      (out as BigInt64Array)[i] = isMissing(v) ? NAT : toNanos(v, `DataFrame column '${name}' row ${i}`);
    } else if (dtype === "bool") {
      if (typeof v !== "boolean" && v !== 0 && v !== 1) bad(i);
      out[i] = v ? 1 : 0;
    } else if (info.bigint) {
      const big = typeof v === "bigint" ? v : Number.isSafeInteger(v) ? BigInt(v as number) : bad(i);
      const fits = dtype === "int64" ? BigInt.asIntN(64, big) === big : BigInt.asUintN(64, big) === big;
      if (!fits) bad(i);
      (out as BigInt64Array)[i] = big;
    } else if (info.integer) {
      if (typeof v !== "number" || !Number.isInteger(v)) bad(i);
      out[i] = v as number;
      if (out[i] !== v) bad(i); // out of the dtype's range
    } else {
      if (v === null || v === undefined) out[i] = Number.NaN;
      else if (typeof v === "number") out[i] = v;
      else bad(i);
    }
  }
  return out;
}

function cellValue(dtype: DType, values: ColumnValues, i: number): unknown {
  if (dtype === "timestamp") {
    const ns = (values as BigInt64Array)[i];
    return ns === NAT ? null : nanosToDate(ns);
  }
  if (dtype === "bool") return values[i] === 1;
  return values[i];
}

function sameValues(a: ColumnValues, b: ColumnValues): boolean {
  if (a.length !== b.length) return false;
  if (a instanceof Float64Array || a instanceof Float32Array) {
    if (a.constructor !== b.constructor) return false;
    // Bitwise, so NaN equals NaN and -0 differs from 0, as stored.
    const width = a.BYTES_PER_ELEMENT;
    const x = new Uint8Array(a.buffer, a.byteOffset, a.length * width);
    const y = new Uint8Array((b as Float64Array).buffer, (b as Float64Array).byteOffset, a.length * width);
    const bothNaN = (i: number) => Number.isNaN(a[i]) && Number.isNaN(b[i] as number);
    for (let i = 0; i < x.length; i++) {
      if (x[i] !== y[i] && !bothNaN(Math.floor(i / width))) return false;
    }
    return true;
  }
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function formatColumn(dtype: DType, values: ColumnValues, rows: readonly number[]): string[] {
  if (dtype === "timestamp") {
    const ts = values as BigInt64Array;
    const digits = timestampDigits(ts);
    return rows.map((r) => (r < 0 ? ".." : formatNanos(ts[r], digits)));
  }
  if (dtype === "float64" || dtype === "float32") {
    return formatFloatCells(values as Float64Array, rows);
  }
  return rows.map((r) => {
    if (r < 0) return "..";
    const v = values[r];
    if (dtype === "bool") return v ? "true" : "false";
    if (v === null) return "null";
    return String(v);
  });
}
