// Counts what the fuzz tried and what came of it, and keeps the first few failures with the input that
// caused them, so a failing run says exactly what to replay.
import { CorruptSegmentError } from "../../src/errors.ts";

/** More than this much new memory for one input of at most 100 KB is an unbounded allocation. */
export const ALLOCATION_LIMIT = 16 << 20;
/** One decode taking this long, twice in a row, is a hang (decodes here take well under 50 ms). */
export const SLOW_MS = 1000;

export type Outcome = "right" | "different";

/** What one run gave, and what it cost in time and new memory (JS heap plus ArrayBuffers). */
interface Run {
  got: Outcome | null;
  err: unknown;
  ms: number;
  bytes: number;
}

function usage(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function measure(run: () => Outcome): Run {
  const bytes = usage();
  const start = performance.now();
  const out: Run = { got: null, err: null, ms: 0, bytes: 0 };
  try {
    out.got = run();
  } catch (err) {
    out.err = err;
  }
  return { ...out, ms: performance.now() - start, bytes: usage() - bytes };
}

async function measureAsync(run: () => Promise<Outcome>): Promise<Run> {
  const bytes = usage();
  const start = performance.now();
  const out: Run = { got: null, err: null, ms: 0, bytes: 0 };
  try {
    out.got = await run();
  } catch (err) {
    out.err = err;
  }
  return { ...out, ms: performance.now() - start, bytes: usage() - bytes };
}

const costly = (r: Run) => r.ms > SLOW_MS || r.bytes > ALLOCATION_LIMIT;

export interface Failure {
  what: string;
  input: string;
  error: string;
}

export class Tally {
  tried = 0;
  right = 0;
  corrupt = 0;
  /** Damage the checksums were forged to let through: decoding may legitimately return other values. */
  decoded = 0;
  readonly failures: Failure[] = [];

  constructor(readonly name: string) {}

  /**
   * Runs one decode of a damaged input. `run` returns "right" when the data came back exact; "different"
   * is a bug unless `forged` (checksums rewritten to match the damage). Any error but
   * CorruptSegmentError, a slow decode or a big allocation is a bug.
   */
  check(what: string, input: Uint8Array, forged: boolean, run: () => Outcome): void {
    const first = measure(run);
    // A pause of the machine (GC, a busy CI host) does not repeat; a slow or greedy decoder does.
    this.settle(what, input, forged, first, costly(first) ? measure(run) : first);
  }

  /** `check` for reads through the public API, which are async. */
  async checkAsync(what: string, input: Uint8Array, run: () => Promise<Outcome>): Promise<void> {
    const first = await measureAsync(run);
    this.settle(what, input, false, first, costly(first) ? await measureAsync(run) : first);
  }

  private settle(what: string, input: Uint8Array, forged: boolean, result: Run, cost: Run): void {
    const { got, err } = result;
    this.tried++;
    let bug: string | null = null;
    if (got === "right") this.right++;
    else if (got === "different") {
      if (forged) this.decoded++;
      else bug = "returned different data without an error";
    } else if (err instanceof CorruptSegmentError) {
      this.corrupt++;
    } else bug = `${(err as Error)?.constructor?.name}: ${(err as Error)?.message ?? err}`;
    if (cost.ms > SLOW_MS) bug = `${bug ?? ""} took ${cost.ms.toFixed(0)} ms`;
    if (cost.bytes > ALLOCATION_LIMIT) bug = `${bug ?? ""} allocated ${(cost.bytes / 2 ** 20).toFixed(0)} MB`;
    if (bug !== null && this.failures.length < 10) {
      this.failures.push({ what, input: hexOf(input), error: bug });
    }
  }

  summary(): string {
    const rest = this.tried - this.right - this.corrupt - this.decoded;
    const forged = this.decoded > 0 ? `, ${this.decoded} decoded (forged checksums)` : "";
    return (
      `${this.name}: ${this.tried} corrupted inputs: ${this.right} right data, ` +
      `${this.corrupt} CorruptSegmentError${forged}, ${rest} other (bugs)`
    );
  }
}

/** The input as hex, shortened in the middle when long. */
function hexOf(bytes: Uint8Array): string {
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  if (bytes.byteLength <= 96) return hex(bytes);
  return `${hex(bytes.subarray(0, 64))}…(${bytes.byteLength} bytes)…${hex(bytes.subarray(-16))}`;
}
