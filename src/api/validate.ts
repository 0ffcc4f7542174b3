import { InvalidArgumentError } from "../errors.ts";

const MAX_NAME_BYTES = 255;
const utf8 = new TextEncoder();

/**
 * Checks a library, symbol or snapshot name: a non-empty, well-formed string of at most 255 UTF-8
 * bytes without `/` or NUL (both are separators in storage keys).
 */
export function checkName(kind: "library" | "symbol" | "snapshot", name: unknown): string {
  if (typeof name !== "string") {
    throw new InvalidArgumentError(`The ${kind} name must be a string, got ${describe(name)}.`);
  }
  if (name.length === 0) throw new InvalidArgumentError(`The ${kind} name must not be empty.`);
  if (/[\ud800-\udfff]/.test(name) && !isWellFormed(name)) {
    throw new InvalidArgumentError(
      `The ${kind} name '${name}' is not valid Unicode (it has a lone surrogate).`,
    );
  }
  if (name.includes("/") || name.includes("\0")) {
    throw new InvalidArgumentError(`The ${kind} name '${name}' must not contain '/' or NUL characters.`);
  }
  const bytes = utf8.encode(name).byteLength;
  if (bytes > MAX_NAME_BYTES) {
    throw new InvalidArgumentError(
      `The ${kind} name is ${bytes} bytes long in UTF-8; the limit is ${MAX_NAME_BYTES}. Use a shorter name.`,
    );
  }
  return name;
}

function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}

/** Rejects option keys a call does not know, so a typo is an error rather than silently ignored. */
export function checkOptions<T extends object>(
  call: string,
  options: T | undefined,
  known: readonly string[],
): T {
  if (options === undefined || options === null) return {} as T;
  if (typeof options !== "object" || Array.isArray(options)) {
    throw new InvalidArgumentError(`${call}: options must be an object, got ${describe(options)}.`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new InvalidArgumentError(
        `${call}: unknown option '${key}'; known options are ${known.map((k) => `'${k}'`).join(", ")}.`,
      );
    }
  }
  return options;
}

/** Checks that `value` is a whole number in [min, max]. */
export function checkInteger(
  what: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(
      `${what} must be a whole number from ${min} to ${max}, got ${describe(value)}.`,
    );
  }
  return value;
}

/**
 * `pattern` as a RegExp to test names with: a string is compiled (`InvalidArgumentError` naming it when
 * it does not compile); a RegExp loses its `g` and `y` flags, whose `lastIndex` would make `test` skip
 * every other match.
 */
export function checkRegex(call: string, pattern: unknown): RegExp {
  if (pattern instanceof RegExp) {
    return pattern.global || pattern.sticky
      ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ""))
      : pattern;
  }
  if (typeof pattern !== "string") {
    throw new InvalidArgumentError(`${call}: regex must be a string or a RegExp, got ${describe(pattern)}.`);
  }
  try {
    return new RegExp(pattern);
  } catch (err) {
    throw new InvalidArgumentError(
      `${call}: regex '${pattern}' is not a valid regular expression (${(err as Error).message}); ` +
        "escape characters such as ( [ * + ? with a backslash to match them literally.",
      { cause: err },
    );
  }
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  if (typeof value === "object") return value.constructor?.name ? `a ${value.constructor.name}` : "an object";
  return `${typeof value} ${String(value)}`;
}
