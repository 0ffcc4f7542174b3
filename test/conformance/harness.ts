/**
 * A test harness small enough to run unchanged in Node, Bun, Deno and a browser page: the conformance
 * cases register themselves on a `Suite` and assert with `expect`; each runtime's runner hands the cases
 * to its own test framework (vitest, `bun test`, `Deno.test`) or runs them itself (`runCases`, in the
 * browser). No imports: it must bundle for the browser as it is.
 */

export type CaseFn = () => Promise<void> | void;

/** One registered case: `skip` is the written reason it cannot run in this runtime, if so. */
export interface Case {
  name: string;
  fn: CaseFn;
  skip?: string;
}

/** The cases of one run, in registration order. */
export class Suite {
  readonly cases: Case[] = [];

  /** Registers a case. */
  test(name: string, fn: CaseFn): void {
    this.cases.push({ name, fn });
  }

  /** Registers a case that cannot run here, with the reason the runner prints. */
  skip(name: string, reason: string): void {
    this.cases.push({ name, fn: () => {}, skip: reason });
  }
}

/** Thrown by a failed `expect`. */
export class AssertionError extends Error {
  override name = "AssertionError";
}

/** Prints a value for a failure message: bigints, typed arrays, Dates and NaN readably, long ones cut. */
export function show(value: unknown): string {
  const text = (() => {
    if (typeof value === "bigint") return `${value}n`;
    if (typeof value === "string") return JSON.stringify(value);
    if (value instanceof Date)
      return `Date(${Number.isNaN(value.getTime()) ? "invalid" : value.toISOString()})`;
    if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
      const items = Array.from(value as unknown as ArrayLike<unknown>, show);
      return `${value.constructor.name}[${items.join(", ")}]`;
    }
    if (Array.isArray(value)) return `[${value.map(show).join(", ")}]`;
    if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
      return `{ ${Object.entries(value)
        .map(([k, v]) => `${k}: ${show(v)}`)
        .join(", ")} }`;
    }
    return String(value);
  })();
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/**
 * Structural equality as tests want it: NaN equals NaN, typed arrays compare by class and elements,
 * Dates by time, arrays and plain objects member by member.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === "number" && typeof b === "number") return Number.isNaN(a) && Number.isNaN(b);
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && Object.is(a.getTime(), b.getTime());
  }
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (a.constructor !== b.constructor) return false;
    const x = a as unknown as ArrayLike<unknown>;
    const y = b as unknown as ArrayLike<unknown>;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!deepEqual(x[i], y[i])) return false;
    return true;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false;
    if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

function fail(message: string): never {
  throw new AssertionError(message);
}

/** The assertions the conformance cases use, on one actual value. */
export interface Expectation {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toBeGreaterThan(n: number): void;
  toMatch(pattern: RegExp): void;
  toContain(item: unknown): void;
  toBeInstanceOf(cls: abstract new (...args: never[]) => unknown): void;
  /** `actual` is a function that must throw an error whose message matches `pattern`. */
  toThrow(pattern?: RegExp): void;
}

/** Starts an assertion on `actual`, as vitest's and bun's `expect` do. */
export function expect(actual: unknown): Expectation {
  return {
    toBe(expected) {
      if (!Object.is(actual, expected)) fail(`expected ${show(actual)} to be ${show(expected)}`);
    },
    toEqual(expected) {
      if (!deepEqual(actual, expected)) fail(`expected ${show(actual)} to equal ${show(expected)}`);
    },
    toBeGreaterThan(n) {
      if (!(typeof actual === "number" && actual > n)) fail(`expected ${show(actual)} to be > ${n}`);
    },
    toMatch(pattern) {
      if (typeof actual !== "string" || !pattern.test(actual))
        fail(`expected ${show(actual)} to match ${pattern}`);
    },
    toContain(item) {
      if (!Array.isArray(actual) || !actual.some((x) => deepEqual(x, item))) {
        fail(`expected ${show(actual)} to contain ${show(item)}`);
      }
    },
    toBeInstanceOf(cls) {
      if (!(actual instanceof cls)) fail(`expected ${show(actual)} to be an instance of ${cls.name}`);
    },
    toThrow(pattern) {
      if (typeof actual !== "function") fail("toThrow needs a function");
      try {
        (actual as () => unknown)();
      } catch (err) {
        const message = (err as Error)?.message ?? String(err);
        if (pattern && !pattern.test(message))
          fail(`expected the error ${show(message)} to match ${pattern}`);
        return;
      }
      fail("expected the call to throw, but it returned");
    },
  };
}

/**
 * Awaits `promise`, which must reject with a floe error whose `code` is `code` (and, if given, whose
 * message matches `pattern`); returns the error.
 */
export async function rejects(
  promise: Promise<unknown>,
  code: string,
  pattern?: RegExp,
): Promise<Error & { code: string }> {
  try {
    await promise;
  } catch (err) {
    const e = err as Error & { code: string };
    if (e?.code !== code) fail(`expected ${code}, got ${e?.code ?? e?.name}: ${e?.message}`);
    if (pattern && !pattern.test(e.message))
      fail(`expected the ${code} message ${show(e.message)} to match ${pattern}`);
    return e;
  }
  return fail(`expected ${code}, but the call succeeded`);
}

/** Counts of a run. */
export interface RunResult {
  passed: number;
  failed: number;
  skipped: number;
  failures: { name: string; error: string }[];
}

/**
 * Runs `cases` one after another (for runtimes without a test framework: the browser page), reporting
 * each through `log`.
 */
export async function runCases(cases: readonly Case[], log: (line: string) => void): Promise<RunResult> {
  const result: RunResult = { passed: 0, failed: 0, skipped: 0, failures: [] };
  for (const c of cases) {
    if (c.skip) {
      result.skipped++;
      log(`skip ${c.name}: ${c.skip}`);
      continue;
    }
    const started = performance.now();
    try {
      await c.fn();
      result.passed++;
      log(`ok   ${c.name} (${Math.round(performance.now() - started)} ms)`);
    } catch (err) {
      result.failed++;
      const error = err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ""}` : String(err);
      result.failures.push({ name: c.name, error });
      log(`FAIL ${c.name}: ${error}`);
    }
  }
  return result;
}
