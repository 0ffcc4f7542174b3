import { InvalidArgumentError } from "../api/index.ts";
import type { ColumnValues, DType, StringArray } from "../dtypes.ts";
import { DTYPES } from "../dtypes.ts";
import { toNanos } from "../frame/timestamps.ts";

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

/** The missing timestamp (NaT), as floe and pandas store it. */
export const NAT = -(2n ** 63n);

const INT = /^[+-]?\d{1,19}$/;
const FLOAT = /^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|infinity|nan)$/i;
const BOOL = /^(true|false)$/i;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const INT64_MAX = 2n ** 63n - 1n;
/** The instants a nanosecond int64 holds, NaT (its lowest value) aside. */
const TIMESTAMP_RANGE = "1677-09-21T00:12:43.145224193Z … 2262-04-11T23:47:16.854775807Z";

/**
 * The dtype pandas would give a CSV column, from its cells: whole numbers → int64 (float64 when some
 * cells are empty, as pandas does), other numbers → float64, true/false → bool, ISO 8601 dates and
 * times → timestamp, anything else → string. A column of empty cells is float64 (all NaN).
 */
export function inferDType(cells: StringArray): DType {
  let empty = false;
  let int = true;
  let float = true;
  let bool = true;
  let time = true;
  let any = false;
  for (const cell of cells) {
    if (cell === null || cell === "") {
      empty = true;
      continue;
    }
    any = true;
    if (int && !(INT.test(cell) && (cell.length < 19 || fitsInt64(cell)))) int = false;
    if (float && !int && !FLOAT.test(cell)) float = false;
    if (bool && !BOOL.test(cell)) bool = false;
    if (time && !TIMESTAMP.test(cell)) time = false;
    if (!int && !float && !bool && !time) return "string";
  }
  if (!any) return "float64";
  if (int) return empty ? "float64" : "int64";
  if (float) return "float64";
  if (bool && !empty) return "bool";
  if (time) return "timestamp";
  return "string";
}

function fitsInt64(cell: string): boolean {
  const v = BigInt(cell);
  return v <= INT64_MAX && v >= -INT64_MAX - 1n;
}

/**
 * Cells of one column as `dtype`. Empty cells are NaN (floats), NaT (timestamps) or null (strings); in
 * other dtypes they are an error, as is a cell that does not parse. `where(i)` names cell `i` in errors.
 */
export function parseCells(
  name: string,
  cells: StringArray,
  dtype: DType,
  where: (i: number) => string,
): ColumnValues {
  const n = cells.length;
  const bad = (i: number, why = ""): never => {
    throw new InvalidArgumentError(
      `CSV column '${printable(name, 80)}' is ${dtype}, but ${where(i)} holds "${printable(cells[i] ?? "")}"${why}. ` +
        `Give the column's dtype (dtypes: { ${JSON.stringify(printable(name, 80))}: "string" }, or --dtype ${printable(name, 80)}=string), ` +
        "or fix the file.",
    );
  };
  if (dtype === "string") return cells.map((c) => (c === "" ? null : c));
  const out = new DTYPES[dtype].array!(n);
  switch (dtype) {
    case "float64":
    case "float32": {
      const f = out as Float64Array;
      for (let i = 0; i < n; i++) {
        const c = cells[i];
        if (c === null || c === "") f[i] = Number.NaN;
        else {
          const v = Number(c);
          if (!Number.isNaN(v) && c.trim() === c) f[i] = v;
          else if (FLOAT.test(c)) f[i] = specialFloat(c);
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
        if (c === null || c === "") t[i] = NAT;
        else {
          const v =
            fastNanos(c) ?? (TIMESTAMP.test(c) ? toNanos(c, `CSV column '${name}', ${where(i)}`) : bad(i));
          // A BigInt64Array would wrap a value outside int64 around (2300-01-01 became 1715-06-13).
          if (v > INT64_MAX || v <= NAT) {
            throw new InvalidArgumentError(
              `CSV column '${printable(name, 80)}', ${where(i)}: "${printable(c)}" is outside the timestamps floe ` +
                `can store (${TIMESTAMP_RANGE}, nanoseconds since 1970 in a signed 64-bit integer, as pandas).`,
            );
          }
          t[i] = v;
        }
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

function specialFloat(cell: string): number {
  const c = cell.toLowerCase();
  if (c.endsWith("nan")) return Number.NaN;
  return c.startsWith("-") ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
}

const FAST_TIME = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?Z?$/;
const dayCache = new Map<string, number>();

/**
 * Nanoseconds for the common UTC forms (`2024-01-31`, `2024-01-31T09:30:00.123Z`, space for T), as
 * `toNanos` gives them but without a Date per cell: a file's timestamps share few days, so each day's
 * epoch seconds are computed once. Other forms (offsets, odd values) return undefined for `toNanos`.
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
  const seconds = BigInt(day + h * 3600 + min * 60 + sec) * 1_000_000_000n;
  return m[5] === undefined ? seconds : seconds + BigInt(m[5].padEnd(9, "0"));
}
