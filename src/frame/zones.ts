/**
 * Time zones of a timestamp index, as pandas' tz-aware index: the values stay UTC instants and the zone
 * only changes how they print (local time with its offset). Zone rules come from Intl.DateTimeFormat,
 * which Node, Bun, Deno and browsers all carry with the IANA database, so floe ships no zone data.
 */
import { InvalidArgumentError } from "../errors.ts";
import { formatNanos, NAT, nanosToDate } from "./timestamps.ts";

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The formatter giving wall-clock fields in `tz`; an unknown zone is an `InvalidArgumentError`. */
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat("en-US", {
        timeZone: tz,
        hourCycle: "h23",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
      });
    } catch (err) {
      throw new InvalidArgumentError(
        `'${tz}' is not a time zone this runtime knows; give an IANA name such as 'America/New_York', ` +
          "'Europe/London' or 'UTC'.",
        { cause: err },
      );
    }
    formatters.set(tz, f);
  }
  return f;
}

/** `tz` when it names a zone, else an `InvalidArgumentError` saying what to give. */
export function checkZone(tz: unknown, what: string): string {
  if (typeof tz !== "string" || tz === "") {
    throw new InvalidArgumentError(
      `${what}: tz must be a time zone name such as 'America/New_York', got ${typeof tz === "string" ? "''" : String(tz)}.`,
    );
  }
  formatter(tz);
  return tz;
}

/** The offset of `tz` from UTC at instant `ms`, in seconds (east positive). */
export function offsetSeconds(ms: number, tz: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(ms)) if (p.type !== "literal") parts[p.type] = Number(p.value);
  const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  // Intl shows whole seconds: compare with the instant's whole second (floor, also before 1970).
  return (wall - Math.floor(ms / 1000) * 1000) / 1000;
}

/**
 * A timestamp as pandas prints one of a tz-aware index: local time in `tz`, with as many fractional
 * digits as `digits` asks for (at least the seconds: a zoned timestamp never prints as a bare date),
 * then the offset, `2024-01-02 09:30:00-05:00`. NaT prints `NaT`.
 */
export function formatZoned(ns: bigint, digits: -1 | 0 | 3 | 6 | 9, tz: string): string {
  if (ns === NAT) return "NaT";
  const offset = offsetSeconds(nanosToDate(ns).getTime(), tz);
  const local = formatNanos(ns + BigInt(offset) * 1_000_000_000n, digits === -1 ? 0 : digits);
  return `${local}${offsetSuffix(offset)}`;
}

/**
 * An offset in seconds (east positive) as a timestamp's suffix: `+05:30`, `-05:00`, and with seconds when
 * it has some (`-04:56:02`, local mean time before 1900).
 */
export function offsetSuffix(offset: number): string {
  const abs = Math.abs(offset);
  const hhmm = `${String(Math.floor(abs / 3600)).padStart(2, "0")}:${String(Math.floor(abs / 60) % 60).padStart(2, "0")}`;
  const ss = abs % 60 === 0 ? "" : `:${String(abs % 60).padStart(2, "0")}`;
  return `${offset < 0 ? "-" : "+"}${hhmm}${ss}`;
}
