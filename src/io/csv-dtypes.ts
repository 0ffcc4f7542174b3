import { InvalidArgumentError } from "../api/index.ts";
import type { ColumnValues, DType, StringArray } from "../dtypes.ts";
import { DTYPES } from "../dtypes.ts";
import {
  MAX_NANOS,
  MIN_NANOS,
  NAT,
  RANGE as TIMESTAMP_RANGE,
  toNanos,
  ZONE_SUFFIX as ZONED,
} from "../frame/timestamps.ts";

/**
 * `text` for an error message: control characters and backslashes escaped as JSON escapes them (so
 * binary input never reaches a terminal raw), cut to `max` characters with "…" after.
 */
export function printable(text: string, max = 40): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping them is the point
  return cut.replace(/[\u0000-\u001f\u007f-\u009f\\\ufffd\u2028\u2029]/g, (c) =>
    c === "\\" ? "\\\\" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

const INT = /^[+-]?\d{1,19}$/;
const FLOAT = /^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|infinity|nan)$/i;
const BOOL = /^(true|false)$/i;
/** ISO 8601 as toNanos reads it, and offsets with seconds (`-04:56:02`, local mean time, as pandas writes it). */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2}(:\d{2})?)?$/;
const INT64_MAX = 2n ** 63n - 1n;

/**
 * The cells pandas 2.x reads as missing by default (`read_csv`'s `na_values` when `keep_default_na` is
 * true): in a numeric column they are NaN, in a timestamp column NaT, in a string column null.
 */
export const DEFAULT_NA_VALUES: readonly string[] = Object.freeze([
  "",
  "#N/A",
  "#N/A N/A",
  "#NA",
  "-1.#IND",
  "-1.#QNAN",
  "-NaN",
  "-nan",
  "1.#IND",
  "1.#QNAN",
  "<NA>",
  "N/A",
  "NA",
  "NULL",
  "NaN",
  "None",
  "n/a",
  "nan",
  "null",
]);

/**
 * The cells read as missing, with what lets the hot loops skip most lookups: a cell whose length or first
 * character no missing value has is not missing, and the number and timestamp parsers only look up a
 * cell that did not parse when no missing value is itself a number or a timestamp (`-999`, say).
 */
export class NaCells {
  private readonly set: ReadonlySet<string>;
  private readonly maxLength: number;
  private readonly firsts = new Uint8Array(128); // 1 where some missing value starts with that ASCII character
  private readonly otherFirst: boolean; // some missing value starts with a non-ASCII character
  /** Some missing value reads as a number: look every cell up before parsing it as one. */
  readonly numeric: boolean;
  /** Some missing value reads as a timestamp. */
  readonly time: boolean;

  constructor(values: Iterable<string>) {
    this.set = new Set(values);
    let max = 0;
    let other = false;
    for (const v of this.set) {
      max = Math.max(max, v.length);
      if (v.length > 0 && v.charCodeAt(0) < 128) this.firsts[v.charCodeAt(0)] = 1;
      else if (v.length > 0) other = true;
    }
    this.maxLength = max;
    this.otherFirst = other;
    this.numeric = [...this.set].some((v) => v.trim() !== "" && !Number.isNaN(Number(v)));
    this.time = [...this.set].some((v) => TIMESTAMP.test(v));
  }

  /** Whether `cell` is missing. */
  has(cell: string): boolean {
    const n = cell.length;
    if (n > this.maxLength) return false;
    if (n > 0) {
      const c = cell.charCodeAt(0);
      if (c < 128 ? this.firsts[c] === 0 : !this.otherFirst) return false;
    }
    return this.set.has(cell);
  }
}

const DEFAULT_NA = new NaCells(DEFAULT_NA_VALUES);

/** The missing-value cells for `naValues` and `keepDefaultNa` (as pandas' na_values and keep_default_na). */
export function naSet(naValues: readonly string[] | undefined, keepDefaultNa: boolean): NaCells {
  if (naValues === undefined || naValues.length === 0) return keepDefaultNa ? DEFAULT_NA : new NaCells([]);
  return new NaCells([...(keepDefaultNa ? DEFAULT_NA_VALUES : []), ...naValues]);
}

/** How a column's cells are read, as `inferColumn` found it. */
export interface Inferred {
  dtype: DType;
  /** true/false cells read as 1/0: a bool column with missing cells is float64 with NaN, as pandas. */
  bools: boolean;
  /**
   * Set when the column is `string` only because of a few odd cells among numbers, bools or timestamps:
   * the dtype the other cells have (`float64` for numbers and bools with missing cells, `timestamp`),
   * and the index of the first odd cell; `zoned` when that cell is a timestamp with a zone name.
   */
  odd?: { kind: "number" | "bool" | "timestamp"; dtype: DType; at: number; zoned: boolean };
}

/**
 * The dtype pandas would give a CSV column, from its cells: whole numbers → int64 (float64 when some
 * cells are missing, as pandas does), other numbers → float64, true/false → bool (float64 1/0/NaN when
 * some are missing), ISO 8601 dates and times → timestamp, anything else → string. Cells in `na` (and
 * null) are missing. A column of missing cells is float64 (all NaN).
 */
export function inferDType(cells: StringArray, naValues: readonly string[] = DEFAULT_NA_VALUES): DType {
  return inferColumn(cells, naSet(naValues, true)).dtype;
}

/** `inferDType`, saying also how bools are read and, for a string column, its odd cells. */
export function inferColumn(cells: StringArray, na: NaCells): Inferred {
  let empty = false;
  let int = true;
  let float = true;
  let bool = true;
  let time = true;
  let any = false;
  for (const cell of cells) {
    if (cell === null || na.has(cell)) {
      empty = true;
      continue;
    }
    any = true;
    if (int && !(INT.test(cell) && (cell.length < 19 || fitsInt64(cell)))) int = false;
    if (float && !int && !FLOAT.test(cell)) float = false;
    if (bool && !BOOL.test(cell)) bool = false;
    if (time && !TIMESTAMP.test(cell)) time = false;
    if (!int && !float && !bool && !time) return { dtype: "string", bools: false, odd: oddCells(cells, na) };
  }
  if (!any) return { dtype: "float64", bools: false };
  if (int) return { dtype: empty ? "float64" : "int64", bools: false };
  if (float) return { dtype: "float64", bools: false };
  if (bool) return empty ? { dtype: "float64", bools: true } : { dtype: "bool", bools: false };
  if (time) return { dtype: "timestamp", bools: false };
  return { dtype: "string", bools: false, odd: oddCells(cells, na) };
}

/**
 * For a column read as string: the kind most of its cells have when the rest are a few odd values (at
 * most 3 distinct, fewer cells than the fitting ones), e.g. numbers with a "-" for missing, and the first
 * odd cell. Undefined for a column of text.
 */
function oddCells(cells: StringArray, na: NaCells): Inferred["odd"] {
  const kinds = [
    { kind: "number" as const, fits: (c: string) => FLOAT.test(c), n: 0, odd: new Set<string>(), at: -1 },
    { kind: "bool" as const, fits: (c: string) => BOOL.test(c), n: 0, odd: new Set<string>(), at: -1 },
    {
      kind: "timestamp" as const,
      fits: (c: string) => TIMESTAMP.test(c) || ZONED.test(c),
      n: 0,
      odd: new Set<string>(),
      at: -1,
    },
  ];
  const oddCount = [0, 0, 0];
  let zonedAt = -1; // the first timestamp with a zone name
  let alive = kinds.length;
  for (let i = 0; i < cells.length && alive > 0; i++) {
    const c = cells[i];
    if (c === null || na.has(c)) continue;
    if (zonedAt < 0 && ZONED.test(c)) zonedAt = i;
    kinds.forEach((k, j) => {
      if (k.odd.size > 3) return;
      if (k.fits(c)) k.n++;
      else {
        if (k.at < 0) k.at = i;
        oddCount[j]++;
        k.odd.add(c);
        if (k.odd.size > 3) alive--;
      }
    });
  }
  let best: Inferred["odd"];
  let bestN = 0;
  kinds.forEach((k, j) => {
    if (k.odd.size > 3 || k.n <= oddCount[j] || k.n <= bestN) return;
    bestN = k.n;
    const zoned = k.kind === "timestamp" && zonedAt >= 0 && (k.at < 0 || zonedAt < k.at);
    best = {
      kind: k.kind,
      dtype: k.kind === "timestamp" ? "timestamp" : "float64",
      at: zoned ? zonedAt : k.at,
      zoned,
    };
  });
  return best;
}

function fitsInt64(cell: string): boolean {
  const v = BigInt(cell);
  return v <= INT64_MAX && v >= -INT64_MAX - 1n;
}

/**
 * Cells of one column as `dtype`. Missing cells (null, or in `na`) are NaN (floats), NaT (timestamps) or
 * null (strings); in other dtypes they are an error, as is a cell that does not parse. With `bools`, a
 * float column reads true/false as 1/0 (a bool column with missing cells). `where(i)` names cell `i`.
 */
export function parseCells(
  name: string,
  cells: StringArray,
  dtype: DType,
  where: (i: number) => string,
  na: NaCells,
  bools = false,
): ColumnValues {
  const n = cells.length;
  const bad = (i: number, why = ""): never => {
    const cell = cells[i] ?? "";
    throw new InvalidArgumentError(
      `CSV column '${printable(name, 80)}' is ${dtype}, but ${where(i)} holds "${printable(cell)}"${why}. ${fixFor(name, dtype, cell, na)}`,
    );
  };
  if (dtype === "string") return cells.map((c) => (c === null || na.has(c) ? null : c));
  const out = new DTYPES[dtype].array!(n);
  switch (dtype) {
    case "float64":
    case "float32": {
      const f = out as Float64Array;
      for (let i = 0; i < n; i++) {
        const c = cells[i];
        const v = c === null || na.numeric ? Number.NaN : Number(c);
        // A number is never missing unless some missing value is a number: no lookup for most cells.
        if (!Number.isNaN(v) && c !== "" && c!.trim() === c) f[i] = v;
        else if (c === null || na.has(c)) f[i] = Number.NaN;
        else {
          const v = Number(c);
          if (!Number.isNaN(v) && c !== "" && c.trim() === c) f[i] = v;
          else if (FLOAT.test(c)) f[i] = specialFloat(c);
          else if (bools && BOOL.test(c)) f[i] = c.length === 4 ? 1 : 0;
          else bad(i);
        }
      }
      return out;
    }
    case "bool": {
      for (let i = 0; i < n; i++) {
        const c = cells[i] ?? "";
        if (c.length === 4 && c.toLowerCase() === "true") out[i] = 1;
        else if (c.length === 5 && c.toLowerCase() === "false") out[i] = 0;
        else bad(i);
      }
      return out;
    }
    case "timestamp": {
      const t = out as BigInt64Array;
      for (let i = 0; i < n; i++) {
        const c = cells[i];
        // A cell in the common forms is never missing unless some missing value is a timestamp.
        let v = c === null || na.time ? undefined : fastNanos(c);
        if (v === undefined) {
          if (c === null || na.has(c)) {
            t[i] = NAT;
            continue;
          }
          // A zone name gets toNanos's own message (write the offset); other odd cells the CSV one.
          v =
            fastNanos(c) ??
            (TIMESTAMP.test(c) || ZONED.test(c)
              ? toNanos(c, `CSV column '${printable(name, 80)}', ${where(i)}`)
              : bad(i));
        }
        // A BigInt64Array would wrap a value outside int64 around (2300-01-01 became 1715-06-13).
        if (v < MIN_NANOS || v > MAX_NANOS) {
          throw new InvalidArgumentError(
            `CSV column '${printable(name, 80)}', ${where(i)}: "${printable(c ?? "")}" is outside the timestamps floe ` +
              `can store (${TIMESTAMP_RANGE}, nanoseconds since 1970 in a signed 64-bit integer, as pandas).`,
          );
        }
        t[i] = v;
      }
      return out;
    }
    default: {
      if (DTYPES[dtype].bigint) {
        const b = out as BigInt64Array;
        const unsigned = dtype === "uint64";
        for (let i = 0; i < n; i++) {
          const c = cells[i] ?? "";
          if (!INT.test(c) && !/^\+?\d{1,20}$/.test(c)) bad(i);
          const v = BigInt(c);
          if ((unsigned ? BigInt.asUintN(64, v) : BigInt.asIntN(64, v)) !== v) bad(i, " (out of range)");
          b[i] = v;
        }
        return out;
      }
      for (let i = 0; i < n; i++) {
        const c = cells[i] ?? "";
        if (!INT.test(c)) bad(i);
        const v = Number(c);
        out[i] = v;
        if (out[i] !== v) bad(i, " (out of range)");
      }
      return out;
    }
  }
}

/** What to do about `cell`, which a column of `dtype` cannot hold: the option (API and CLI) that fits. */
function fixFor(name: string, dtype: DType, cell: string, na: NaCells): string {
  const col = printable(name, 80);
  const give = (to: DType) => `dtypes: { ${JSON.stringify(col)}: "${to}" } (--dtype ${col}=${to})`;
  const missing = na.has(cell);
  const number = FLOAT.test(cell) && DTYPES[dtype].integer && dtype !== "timestamp";
  if (missing || number) {
    const what = missing ? "a missing value, which" : "a number which";
    const bool = dtype === "bool" ? ", true/false as 1/0" : "";
    return (
      `That is ${what} ${/^[aeiou]/.test(dtype) ? "an" : "a"} ${dtype} column cannot hold: give ${give("float64")} to read the column as float64` +
      `${missing ? ` with NaN for missing cells${bool}, as pandas does` : ""}, or fix the file.`
    );
  }
  const shown = printable(cell, 20);
  return (
    `If "${shown}" stands for a missing value, give naValues: [${JSON.stringify(shown)}] (--na-values ${shellWord(shown)}); ` +
    `to keep the column's text as it is, give ${give("string")}; or fix the file.`
  );
}

/** `word` as one shell word: quoted when empty or holding anything but plain characters. */
export function shellWord(word: string): string {
  return /^[\w@%+=:./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

function specialFloat(cell: string): number {
  const c = cell.toLowerCase();
  if (c.endsWith("nan")) return Number.NaN;
  return c.startsWith("-") ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
}

const FAST_TIME =
  /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(?:Z|([+-])(\d{2}):?(\d{2})(?::(\d{2}))?)?$/;
const dayCache = new Map<string, number>();

/**
 * Nanoseconds for the common forms (`2024-01-31`, `2024-01-31T09:30:00.123Z`, space for T, an offset
 * such as `-05:00`), as `toNanos` gives them but without a Date per cell: a file's timestamps share few
 * days, so each day's epoch seconds are computed once. Other forms return undefined for `toNanos`.
 */
function fastNanos(cell: string): bigint | undefined {
  const m = FAST_TIME.exec(cell);
  if (!m) return undefined;
  let day = dayCache.get(m[1]);
  if (day === undefined) {
    const ms = Date.parse(`${m[1]}T00:00:00Z`);
    if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== m[1]) return undefined;
    day = ms / 1000;
    if (dayCache.size > 100_000) dayCache.clear();
    dayCache.set(m[1], day);
  }
  const h = m[2] === undefined ? 0 : +m[2];
  const min = m[3] === undefined ? 0 : +m[3];
  const sec = m[4] === undefined ? 0 : +m[4];
  if (h > 23 || min > 59 || sec > 59) return undefined;
  // A date alone takes no offset (toNanos reads "2024-01-31+05:00" as Date.parse does).
  const offSec = m[9] === undefined ? 0 : +m[9];
  if (m[6] !== undefined && (m[2] === undefined || +m[7] > 23 || +m[8] > 59 || offSec > 59)) return undefined;
  const offset = m[6] === undefined ? 0 : (m[6] === "-" ? -1 : 1) * (+m[7] * 3600 + +m[8] * 60 + offSec);
  const seconds = BigInt(day + h * 3600 + min * 60 + sec - offset) * 1_000_000_000n;
  return m[5] === undefined ? seconds : seconds + BigInt(m[5].padEnd(9, "0"));
}
