/**
 * Index values given as counts since the epoch: their unit, and the check for a unit mistake. A
 * BigInt64Array is read as nanoseconds, so one filled with milliseconds (`Date.now()`, most exchange
 * feeds) would be stored as a few minutes after midnight on 1970-01-01, silently and for good: versions
 * are never changed. Such values are stored as given (nanoseconds are the documented input, and tests and
 * simulations use small ones on purpose) with a console warning, once per process, unless the caller
 * names their unit.
 */
import { InvalidArgumentError } from "../errors.ts";
import { formatNanos, inRange } from "./timestamps.ts";

/** What `unit` an index given as numbers or bigints counts in. */
export type TimeUnit = "s" | "ms" | "us" | "ns";

const NS_PER: Record<TimeUnit, bigint> = { s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, ns: 1n };
const UNIT_NAMES: Record<TimeUnit, string> = {
  s: "seconds",
  ms: "milliseconds",
  us: "microseconds",
  ns: "nanoseconds",
};
/** Plausible instants for data: 1990-01-01 to 2100-01-01, in ns. */
const PLAUSIBLE_FROM = 631_152_000_000_000_000n;
const PLAUSIBLE_TO = 4_102_444_800_000_000_000n;

/** True when `unit` is one of the units an index may count in. */
export function isTimeUnit(unit: unknown): unit is TimeUnit {
  return typeof unit === "string" && Object.hasOwn(NS_PER, unit);
}

/** Counts in `unit` (bigints or integer numbers) as ns; a fraction or a value out of range is refused. */
export function scaleToNanos(values: ArrayLike<unknown>, unit: TimeUnit, what: string): BigInt64Array {
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    let count: bigint;
    if (typeof v === "bigint") count = v;
    else if (typeof v === "number" && Number.isSafeInteger(v)) count = BigInt(v);
    else {
      throw new InvalidArgumentError(
        `${what}[${i}] is ${typeof v === "string" ? JSON.stringify(v) : String(v)}; with unit "${unit}" the ` +
          `values must be whole ${UNIT_NAMES[unit]} since the epoch (bigints or integer numbers). Give ` +
          "Dates or ISO strings without a unit.",
      );
    }
    out[i] = inRange(count * NS_PER[unit], `${what}[${i}]`, `${v} ${unit}`);
  }
  return out;
}

/** The unit mistakes already warned about in this process: each is said once, not per frame. */
const warned = new Set<TimeUnit>();

/**
 * Warns (console.warn, once per process and unit) when every value of a nanosecond index would be an
 * instant of 1990–2100 if it counted seconds, milliseconds or microseconds instead: such an index lies
 * within 47 days of the epoch as ns, which real data rarely does. The message says how to give the unit
 * (`unit: "ns"` silences it). An index of whole seconds is left alone: that is how ns near 1970 are made
 * on purpose (ArcticDB's own tests index days from 1970-01-01). Returns the warning, or undefined.
 */
export function checkLikelyUnit(values: BigInt64Array, what: string): string | undefined {
  if (values.length === 0) return undefined;
  for (const unit of ["ms", "us", "s"] as const) {
    const scale = NS_PER[unit];
    // The range test first: for real data it stops at the first value, where the whole-seconds scan
    // would read the whole index. That scan does not depend on the unit, so it is made once, here.
    if (!values.every((v) => v * scale >= PLAUSIBLE_FROM && v * scale < PLAUSIBLE_TO)) continue;
    if (values.every((v) => v % 1_000_000_000n === 0n)) return undefined;
    const message =
      `floe: ${what}: ${values[0]}n read as nanoseconds is ${formatNanos(values[0], 9)} UTC, but as ` +
      `${UNIT_NAMES[unit]} it is ${formatNanos(values[0] * scale, 0)}; the values look like ` +
      `${UNIT_NAMES[unit]}. Give the unit: { name, values, unit: "${unit}" } (floe converts to ns), or ` +
      `multiply by ${scale}n. If they really are nanoseconds near 1970, say so with unit: "ns".`;
    if (!warned.has(unit)) {
      warned.add(unit);
      console.warn(message);
    }
    return message;
  }
  return undefined;
}
