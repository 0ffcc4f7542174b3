import { InvalidArgumentError } from "../errors.ts";

const NS_PER_MS = 1_000_000n;
/**
 * The earliest and latest instants floe stores: a signed 64-bit count of nanoseconds, less its lowest
 * value, which is NaT (missing), as in pandas and ArcticDB.
 */
export const MIN_NANOS = -(2n ** 63n) + 1n;
export const MAX_NANOS = 2n ** 63n - 1n;
/** The missing timestamp (NaT): the lowest signed 64-bit value, as pandas and ArcticDB store it. */
export const NAT = -(2n ** 63n);
/** The instants floe stores, MIN_NANOS … MAX_NANOS, as error messages write them. */
export const RANGE = "1677-09-21T00:12:43.145224193Z … 2262-04-11T23:47:16.854775807Z";
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * Nanoseconds since the Unix epoch for a `Date`, an ISO 8601 string (up to nanosecond digits; no zone
 * means UTC) or a `bigint` already in nanoseconds. `what` names the value in the error for bad input.
 */
export function toNanos(value: unknown, what: string): bigint {
  if (typeof value === "bigint") return inRange(value, what, show(value));
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) fail(value, what);
    return inRange(BigInt(ms) * NS_PER_MS, what, show(value));
  }
  if (typeof value === "string") {
    const m = ISO_DATE.exec(value.trim());
    if (!m) fail(value, what);
    const fraction = m[4] ?? "";
    // Date.parse keeps milliseconds only, so the sub-millisecond digits are added back exactly.
    const withoutFraction = value.trim().replace(/\.\d+/, "");
    const iso = m[5] || !m[1] ? withoutFraction : `${withoutFraction}Z`;
    const ms = Date.parse(iso.replace(" ", "T"));
    if (Number.isNaN(ms)) fail(value, what);
    return inRange(BigInt(ms) * NS_PER_MS + BigInt(fraction.padEnd(9, "0") || "0"), what, show(value));
  }
  return fail(value, what);
}

/**
 * `ns` when a `BigInt64Array` can hold it, else an `InvalidArgumentError` naming the value as the caller
 * gave it (`shown`) and the range. Every conversion into nanoseconds ends here: a value past the
 * range would otherwise wrap round when stored (2300-01-01 read back as 1715-06-13).
 */
export function inRange(ns: bigint, what: string, shown: string): bigint {
  if (ns >= MIN_NANOS && ns <= MAX_NANOS) return ns;
  throw new InvalidArgumentError(
    `${what}: ${shown} is outside the timestamps floe can store, ${RANGE} (nanoseconds since ` +
      "the epoch in a signed 64-bit integer, as in pandas and ArcticDB); give a time within that range.",
  );
}

/** A timestamp input as an error message shows it. */
function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString();
  return String(value);
}

/** An ISO date-time followed by a zone name or abbreviation (`… EST`, `…[America/New_York]`). */
export const ZONE_SUFFIX = /^\d{4}-\d{2}-\d{2}[T ][\d:.]+\s*\[?[A-Za-z][A-Za-z_/+-]*\]?$/;

function fail(value: unknown, what: string): never {
  if (typeof value === "string" && ZONE_SUFFIX.test(value.trim())) {
    // "EST" or "CST" name different offsets in different places, and the JS runtimes parse them
    // differently or not at all, so floe takes offsets only.
    throw new InvalidArgumentError(
      `${what}: ${show(value)} names a time zone; write the offset instead, such as -05:00 or Z ` +
        '("2024-01-02T09:30:00-05:00"). To print an index in a zone, give UTC instants and the index\'s ' +
        'tz option: { name, values, tz: "America/New_York" }.',
    );
  }
  if (typeof value === "number") {
    throw new InvalidArgumentError(
      `${what}: ${value} is a number, and floe does not guess its unit. For an index give the unit, ` +
        '{ name, values, unit: "ms" } ("s", "ms", "us" or "ns"); elsewhere give new Date(ms), or ' +
        "nanoseconds as a bigint: BigInt(ms) * 1_000_000n.",
    );
  }
  throw new InvalidArgumentError(
    `${what}: ${show(value)} is not a timestamp; use a Date, an ISO 8601 string such as "2024-01-31T09:30:00Z", ` +
      "or nanoseconds since the epoch as a bigint.",
  );
}

/** A `Date` for a nanosecond timestamp; sub-millisecond digits are dropped (floor). */
export function nanosToDate(ns: bigint): Date {
  const ms = ns / NS_PER_MS - (ns % NS_PER_MS < 0n ? 1n : 0n);
  return new Date(Number(ms));
}

/**
 * A timestamp as pandas prints one: `2024-01-31` when the whole column is at midnight, else
 * `2024-01-31 09:30:00` with as many fractional digits (3, 6 or 9) as `digits` asks for; NaT as `NaT`.
 */
export function formatNanos(ns: bigint, digits: -1 | 0 | 3 | 6 | 9): string {
  if (ns === NAT) return "NaT";
  const date = nanosToDate(ns).toISOString();
  if (digits === -1) return date.slice(0, 10);
  const seconds = `${date.slice(0, 10)} ${date.slice(11, 19)}`;
  if (digits === 0) return seconds;
  let sub = ns % 1_000_000_000n;
  if (sub < 0n) sub += 1_000_000_000n;
  return `${seconds}.${sub.toString().padStart(9, "0").slice(0, digits)}`;
}

/** The fewest digits (see `formatNanos`) that print every value of `values` exactly; NaT needs none. */
export function timestampDigits(values: ArrayLike<bigint>): -1 | 0 | 3 | 6 | 9 {
  let digits: -1 | 0 | 3 | 6 | 9 = -1;
  for (let i = 0; i < values.length && digits < 9; i++) {
    const v = values[i];
    if (v === NAT) continue;
    const need =
      v % 1_000n !== 0n
        ? 9
        : v % 1_000_000n !== 0n
          ? 6
          : v % 1_000_000_000n !== 0n
            ? 3
            : v % 86_400_000_000_000n !== 0n
              ? 0
              : -1;
    if (need > digits) digits = need;
  }
  return digits;
}
