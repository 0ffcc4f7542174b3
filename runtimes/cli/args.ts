/** Parsing of the CLI's option values; a malformed one is a `UsageError` (exit code 2). */
import { InvalidArgumentError } from "../node.ts";

/** A malformed command line: an `InvalidArgumentError` the CLI reports with exit code 2. */
export class UsageError extends InvalidArgumentError {}

/** `--as-of`: a version number (negative counts back), an ISO date or time, or a snapshot name. */
export function asOf(value: string | undefined): number | string | Date | undefined {
  if (value === undefined) return undefined;
  if (/^-?\d+$/.test(value)) return Number(value);
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+)?(Z|[+-]\d{2}:?\d{2})?$/.test(value)) {
    const date = new Date(/[Zz]|[+-]\d{2}:?\d{2}$/.test(value) || value.length === 10 ? value : `${value}Z`);
    if (Number.isNaN(date.getTime())) throw new UsageError(`--as-of: '${value}' is not a valid date.`);
    return date;
  }
  return value;
}

/**
 * `--date-range START..END` (ISO timestamps; either end may be left out). An END that is a date without
 * a time means the whole of that day (through 23:59:59.999999999), as a person reading
 * `2023-11-28..2023-11-28` means it; a START date is its midnight. (The API reads a bare date as midnight
 * at either end.)
 */
export function dateRange(value: string | undefined): [string | null, string | null] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split("..");
  if (parts.length !== 2 || (parts[0] === "" && parts[1] === "")) {
    throw new UsageError(
      `--date-range must be START..END with ISO timestamps, either end may be empty, an END date without a time means that whole day (e.g. 2024-01-01..2024-01-31 or 2024-01-02T09:30..2024-01-02T16:00), got '${value}'.`,
    );
  }
  const end = /^\d{4}-\d{2}-\d{2}$/.test(parts[1]) ? `${parts[1]}T23:59:59.999999999` : parts[1];
  return [parts[0] === "" ? null : parts[0], end === "" ? null : end];
}

/**
 * `--rows START:END`: a row range [START, END) as Python slices and `read`'s `rowRange` take it: either
 * end may be left out (open), a negative one counts back from the last row (`-10:` is the last ten).
 */
export function rowRange(value: string | undefined): [number | null, number | null] | undefined {
  if (value === undefined) return undefined;
  const m = /^(-?\d*):(-?\d*)$/.exec(value);
  if (!m || m[1] === "-" || m[2] === "-") {
    throw new UsageError(`--rows must be START:END (e.g. 100:200, :50, 1000:, -10:), got '${value}'.`);
  }
  return [m[1] === "" ? null : Number(m[1]), m[2] === "" ? null : Number(m[2])];
}

/** `--columns a,b,c`. */
export function columns(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const names = value.split(",").map((s) => s.trim());
  if (names.some((n) => n === ""))
    throw new UsageError(`--columns must be names separated by commas, got '${value}'.`);
  return names;
}

/** A whole number option such as `--rows 10`. */
export function integer(option: string, value: string, min = Number.MIN_SAFE_INTEGER): number {
  if (!/^-?\d+$/.test(value) || Number(value) < min) {
    throw new UsageError(
      `${option} must be a whole number${min > 0 ? ` of at least ${min}` : ""}, got '${value}'.`,
    );
  }
  return Number(value);
}

/** `--dtype col=type`, repeatable, into a record. */
export function dtypes(values: string[] | undefined): Record<string, string> | undefined {
  if (!values || values.length === 0) return undefined;
  const out: [string, string][] = [];
  for (const v of values) {
    const at = v.lastIndexOf("=");
    if (at <= 0 || at === v.length - 1)
      throw new UsageError(`--dtype must be COLUMN=DTYPE (e.g. qty=int64), got '${v}'.`);
    out.push([v.slice(0, at), v.slice(at + 1)]);
  }
  // fromEntries makes own keys, even of "__proto__" (an assignment would set the prototype).
  return Object.fromEntries(out);
}

/** `--metadata '{"k": 1}'`: any JSON value. */
export function metadata(value: string | undefined): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    throw new UsageError(`--metadata must be JSON, such as '{"source": "feed"}', got '${value}'.`);
  }
}

/** `--versions 1,2,3`. */
export function versions(value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  return value.split(",").map((v) => integer("--versions", v.trim(), 0));
}

/** An options object without the keys whose value is undefined (floe rejects unknown keys, even empty). */
export function defined<T extends object>(options: T): T {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as T;
}
