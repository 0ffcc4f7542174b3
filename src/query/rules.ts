/**
 * pandas' fixed-length frequency strings ("30ms", "5min", "1h", "1D") as nanoseconds. Calendar rules
 * ("W", "M", "Q", "Y", business days) have no fixed length and are refused with a message naming them.
 */
import { InvalidArgumentError } from "../errors.ts";

const UNIT_NANOS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  N: 1n,
  us: 1_000n,
  U: 1_000n,
  µs: 1_000n,
  ms: 1_000_000n,
  L: 1_000_000n,
  s: 1_000_000_000n,
  S: 1_000_000_000n,
  min: 60_000_000_000n,
  T: 60_000_000_000n,
  h: 3_600_000_000_000n,
  H: 3_600_000_000_000n,
  D: 86_400_000_000_000n,
  d: 86_400_000_000_000n,
};

const RULE = /^([+-])?((?:\d*\s*[a-zA-Zµ]+)+)$/;
const PART = /(\d*)\s*([a-zA-Zµ]+)/g;

/**
 * The length of a pandas rule in nanoseconds; compound rules add up ("1h30min", as pandas'
 * `to_offset`). `signed` allows a leading minus (offsets may be negative; a bucket length may not).
 * `what` names the argument in the error.
 */
export function ruleNanos(rule: unknown, what: string, signed = false): bigint {
  if (typeof rule === "bigint" && signed) return rule;
  const m = typeof rule === "string" ? RULE.exec(rule.trim()) : null;
  let ns = 0n;
  let ok = m !== null && !(m[1] === "-" && !signed);
  for (const part of m ? m[2].matchAll(PART) : []) {
    if (!Object.hasOwn(UNIT_NANOS, part[2])) ok = false;
    else ns += BigInt(part[1] || "1") * UNIT_NANOS[part[2]];
  }
  if (!ok) {
    throw new InvalidArgumentError(
      `${what}: ${typeof rule === "string" ? JSON.stringify(rule) : String(rule)} is not a fixed-length ` +
        `frequency; use counts and units as pandas writes them, such as "30ms", "1s", "5min", "1h30min" or ` +
        `"1D" (units ns/N, us/U, ms/L, s/S, min/T, h/H, D)${signed ? ", optionally negative" : ""}; calendar ` +
        "rules (W, M, Q, Y, B) are not supported.",
    );
  }
  if (ns === 0n && !signed) {
    throw new InvalidArgumentError(
      `${what}: ${JSON.stringify(rule)} has length 0; give a count of at least 1.`,
    );
  }
  if (ns > 2n ** 63n - 1n) {
    throw new InvalidArgumentError(`${what}: ${JSON.stringify(rule)} is longer than floe's timestamp range.`);
  }
  return m![1] === "-" ? -ns : ns;
}
