import { InvalidArgumentError } from "../errors.ts";

/** The longest name stores have held: every name floe ever accepted fits (UTF-8 bytes). */
const MAX_STORED_NAME_BYTES = 255;
/** ArcticDB's limit for a new name (`MAX_SYMBOL_LENGTH` in name_validation.hpp: its keys hold < 255). */
const MAX_NEW_NAME_BYTES = 254;
/** Characters ArcticDB refuses in new names because S3 keys cannot hold them (name_validation.cpp). */
const UNSUPPORTED_CHARS = "*<>";
const utf8 = new TextEncoder();

/** What a name names, for messages. */
export type NameKind = "library" | "symbol" | "snapshot";

/**
 * Checks a library, symbol or snapshot name given to look up, read or delete something: a non-empty,
 * well-formed string of at most 255 UTF-8 bytes without NUL (the character storage keys use for the
 * `/` of a name). Every name any floe release stored passes, so what exists stays reachable; a new
 * name must also pass `checkNewName`.
 */
export function checkName(kind: NameKind, name: unknown): string {
  if (typeof name !== "string") {
    throw new InvalidArgumentError(`The ${kind} name must be a string, got ${describe(name)}.`);
  }
  if (name.length === 0) throw new InvalidArgumentError(`The ${kind} name must not be empty.`);
  if (/[\ud800-\udfff]/.test(name) && !isWellFormed(name)) {
    throw new InvalidArgumentError(
      `The ${kind} name '${name}' is not valid Unicode (it has a lone surrogate).`,
    );
  }
  if (name.includes("\0")) {
    throw new InvalidArgumentError(`The ${kind} name '${printable(name)}' must not contain a NUL character.`);
  }
  const bytes = utf8.encode(name).byteLength;
  if (bytes > MAX_STORED_NAME_BYTES) {
    throw new InvalidArgumentError(
      `The ${kind} name is ${bytes} bytes long in UTF-8; the limit is ${MAX_NEW_NAME_BYTES}. Use a shorter name.`,
    );
  }
  return name;
}

/**
 * Checks a name about to be created (a library, a symbol's first version, a snapshot) by ArcticDB's
 * rules (name_validation.cpp), so that names port both ways: at most 254 bytes, only printable ASCII
 * (32–126) and none of `* < >`; `/` and `\` are allowed. A library name also must not end with `.`, and
 * no `.`-separated part of it may be empty or start with `/`. As in ArcticDB the rules apply only to
 * new names: when `exists` says the name is already stored (written by an older release, or by a
 * release with laxer rules), it passes, so such symbols stay writable.
 */
export function checkNewName(kind: NameKind, name: unknown, exists?: () => boolean): string {
  checkName(kind, name);
  const s = name as string;
  const problem = newNameProblem(kind, s);
  if (problem === undefined || exists?.()) return s;
  throw new InvalidArgumentError(`The ${kind} name '${printable(s)}' ${problem}`);
}

function newNameProblem(kind: NameKind, name: string): string | undefined {
  for (const ch of name) {
    const c = ch.codePointAt(0) as number;
    if (c < 32 || c > 126) {
      return (
        `contains ${describeChar(ch)}; new ${kind} names may hold only printable ASCII characters ` +
        "(space to '~'), as in ArcticDB. Choose a name without it."
      );
    }
    if (UNSUPPORTED_CHARS.includes(ch)) {
      return (
        `contains ${describeChar(ch)}; new ${kind} names may not hold '*', '<' or '>' (ArcticDB refuses ` +
        "them: S3 keys cannot hold them). Choose a name without it."
      );
    }
  }
  if (name.length > MAX_NEW_NAME_BYTES) {
    return `is ${name.length} characters long; the limit is ${MAX_NEW_NAME_BYTES}, as in ArcticDB. Use a shorter name.`;
  }
  if (kind === "library") {
    // ArcticDB splits library names at '.' (its Mongo and LMDB backends store the parts as paths).
    if (name.endsWith("."))
      return "ends with '.'; library names may not, as in ArcticDB. Choose another name.";
    const parts = name.split(".");
    if (parts.some((p) => p === "")) {
      return "has an empty '.'-separated part (as in 'a..b' or '.a'); ArcticDB refuses those. Choose another name.";
    }
    const slashed = parts.find((p) => p.startsWith("/"));
    if (slashed !== undefined) {
      return `has a part '${slashed}' that starts with '/'; library names and their '.'-separated parts may not, as in ArcticDB. Choose another name.`;
    }
  }
  return undefined;
}

/** One character for a message: itself when printable, with its code point. */
function describeChar(ch: string): string {
  const code = `U+${(ch.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, "0")}`;
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch) ? `'${ch}' (${code})` : `the character ${code}`;
}

/** `name` with control characters escaped, so a message prints on one line. */
function printable(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters replaced
  return name.replace(/[\x00-\x1f\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
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
