/**
 * Query expressions: immutable trees of plain data (`ExprNode`), wrapped in `Expr` for the chainable
 * methods. Plain data so a plan can be sent to a worker (structured clone) and later compiled to Wasm
 * kernels; nothing here touches a frame. Type errors that are certain from the literals alone are
 * refused here (`InvalidArgumentError`); those that depend on a column's dtype wait for evaluation
 * (`SchemaMismatchError`, in evaluate.ts).
 */
import { InvalidArgumentError } from "../errors.ts";
import { toNanos } from "../frame/timestamps.ts";

/** A value a literal may hold: a `Date` becomes a timestamp (ns), a `bigint` an int64 or a timestamp. */
export type LiteralValue = number | bigint | string | boolean | Date | null;

/** A literal's stored value: Dates are already nanoseconds (`timestamp: true`). */
export type ScalarValue = number | bigint | string | boolean | null;

export type CompareOp = "gt" | "ge" | "lt" | "le" | "eq" | "ne";
export type LogicOp = "and" | "or" | "xor";
export type ArithOp = "add" | "sub" | "mul" | "div";
export type UnaryOp = "not" | "abs" | "neg" | "isnull" | "notnull";

/** An expression as plain, frozen data. */
export type ExprNode =
  | { readonly op: "col"; readonly name: string }
  | { readonly op: "lit"; readonly value: ScalarValue; readonly timestamp: boolean }
  | { readonly op: CompareOp | LogicOp | ArithOp; readonly left: ExprNode; readonly right: ExprNode }
  | { readonly op: UnaryOp; readonly arg: ExprNode }
  | { readonly op: "isin" | "isnotin"; readonly arg: ExprNode; readonly values: readonly ScalarValue[] }
  | { readonly op: "regexMatch"; readonly arg: ExprNode; readonly pattern: string; readonly flags: string };

/** What an argument of an expression method may be: another expression or a plain value. */
export type ExprInput = Expr | LiteralValue;

/** What is certain about an expression's type before any column is seen. */
type StaticKind = "number" | "string" | "bool" | "timestamp" | "null" | "unknown";

const COMPARE_OPS = new Set<string>(["gt", "ge", "lt", "le", "eq", "ne"]);
const LOGIC_OPS = new Set<string>(["and", "or", "xor"]);
const ARITH_OPS = new Set<string>(["add", "sub", "mul", "div"]);

/** `a op b` with the operands swapped: `lit < col` is `col > lit`. */
export const SWAPPED: Readonly<Record<CompareOp, CompareOp>> = {
  gt: "lt",
  ge: "le",
  lt: "gt",
  le: "ge",
  eq: "eq",
  ne: "ne",
};

export function isCompareOp(op: string): op is CompareOp {
  return COMPARE_OPS.has(op);
}
export function isLogicOp(op: string): op is LogicOp {
  return LOGIC_OPS.has(op);
}
export function isArithOp(op: string): op is ArithOp {
  return ARITH_OPS.has(op);
}

/**
 * An expression over a frame's columns, built with `col` and `lit`. Every method returns a new
 * expression; the tree itself (`node`) is frozen plain data.
 */
export class Expr {
  /** The expression as plain data. */
  readonly node: ExprNode;

  /** @internal use `col` and `lit`. */
  constructor(node: ExprNode) {
    this.node = deepFreeze(node);
  }

  /** `this > other` (false where either side is NaN, NaT or null). */
  gt(other: ExprInput): Expr {
    return binary("gt", this, other);
  }
  /** `this >= other`. */
  ge(other: ExprInput): Expr {
    return binary("ge", this, other);
  }
  /** `this < other`. */
  lt(other: ExprInput): Expr {
    return binary("lt", this, other);
  }
  /** `this <= other`. */
  le(other: ExprInput): Expr {
    return binary("le", this, other);
  }
  /** `this == other` (false where either side is missing). */
  eq(other: ExprInput): Expr {
    return binary("eq", this, other);
  }
  /** `this != other` (true where either side is missing, as in pandas). */
  ne(other: ExprInput): Expr {
    return binary("ne", this, other);
  }
  /** Both booleans true. */
  and(other: ExprInput): Expr {
    return binary("and", this, other);
  }
  /** Either boolean true. */
  or(other: ExprInput): Expr {
    return binary("or", this, other);
  }
  /** Exactly one boolean true. */
  xor(other: ExprInput): Expr {
    return binary("xor", this, other);
  }
  /** The boolean negation. */
  not(): Expr {
    return unary("not", this);
  }
  /** `this + other`: int + int is int64, anything with a float is float64. */
  add(other: ExprInput): Expr {
    return binary("add", this, other);
  }
  /** `this - other`. */
  sub(other: ExprInput): Expr {
    return binary("sub", this, other);
  }
  /** `this * other`. */
  mul(other: ExprInput): Expr {
    return binary("mul", this, other);
  }
  /** True division, always float64 (as numpy's `/`). */
  div(other: ExprInput): Expr {
    return binary("div", this, other);
  }
  /** The absolute value. */
  abs(): Expr {
    return unary("abs", this);
  }
  /** The negated value. */
  neg(): Expr {
    return unary("neg", this);
  }
  /** True where the value is one of `values` (NaN matches NaN and null matches null, as pandas' `isin`). */
  isin(values: Iterable<LiteralValue>): Expr {
    return membership("isin", this, values);
  }
  /** True where the value is none of `values`. */
  isnotin(values: Iterable<LiteralValue>): Expr {
    return membership("isnotin", this, values);
  }
  /** True for NaN, NaT and null strings. */
  isnull(): Expr {
    return unary("isnull", this);
  }
  /** False for NaN, NaT and null strings. */
  notnull(): Expr {
    return unary("notnull", this);
  }
  /** True where a string contains a match of `pattern` (a search, as pandas' `str.contains`); null is false. */
  regexMatch(pattern: string | RegExp): Expr {
    const source = pattern instanceof RegExp ? pattern.source : pattern;
    // 'g' and 'y' make RegExp.test stateful (lastIndex), which would make rows depend on each other.
    const flags = pattern instanceof RegExp ? pattern.flags.replace(/[gy]/g, "") : "";
    if (typeof source !== "string") {
      throw new InvalidArgumentError(
        `regexMatch: the pattern must be a string or a RegExp, got ${describe(pattern)}.`,
      );
    }
    try {
      new RegExp(source, flags);
    } catch (err) {
      throw new InvalidArgumentError(
        `regexMatch: ${JSON.stringify(source)} is not a valid regular expression (${(err as Error).message}).`,
        { cause: err },
      );
    }
    requireKind("regexMatch", this, ["string"]);
    return new Expr({ op: "regexMatch", arg: this.node, pattern: source, flags });
  }

  /** The expression as text, for messages and debugging: `(col("px") > 100)`. */
  toString(): string {
    return show(this.node);
  }
}

/** The column named `name` (or the timestamp index, by its name). */
export function col(name: string): Expr {
  if (typeof name !== "string" || name === "") {
    throw new InvalidArgumentError(`col: the name must be a non-empty string, got ${describe(name)}.`);
  }
  return new Expr({ op: "col", name });
}

/**
 * A constant: a number (an integer keeps an int column int, a fraction makes float64), a `bigint`
 * (int64, or nanoseconds beside a timestamp), a string, a boolean, a `Date` (a timestamp) or `null`.
 */
export function lit(value: LiteralValue): Expr {
  return new Expr(literalNode(value, "lit"));
}

/** An argument as an expression node: an `Expr` as is, a plain value as a literal. */
export function toNode(input: ExprInput, what: string): ExprNode {
  if (input instanceof Expr) return input.node;
  return literalNode(input, what);
}

function literalNode(value: unknown, what: string): ExprNode {
  if (value instanceof Date) {
    return { op: "lit", value: toNanos(value, what), timestamp: true };
  }
  if (
    value === null ||
    typeof value === "number" ||
    typeof value === "bigint" ||
    typeof value === "string" ||
    typeof value === "boolean"
  ) {
    return { op: "lit", value, timestamp: false };
  }
  throw new InvalidArgumentError(
    `${what}: ${describe(value)} is not a value floe can compare or compute with; use an expression ` +
      "(col, lit), a number, a bigint, a string, a boolean, a Date or null.",
  );
}

function binary(op: CompareOp | LogicOp | ArithOp, left: Expr, right: ExprInput): Expr {
  const r = toNode(right, op);
  const a = staticKind(left.node);
  const b = staticKind(r);
  if (isCompareOp(op)) {
    const numeric = (k: StaticKind) => k === "number" || k === "bool";
    if ((a === "string" && numeric(b)) || (b === "string" && numeric(a))) {
      throw new InvalidArgumentError(
        `${op}: cannot compare a string with a number (${show(left.node)} ${op} ${show(r)}); compare ` +
          "strings with strings and numbers with numbers.",
      );
    }
  } else if (isLogicOp(op)) {
    for (const [k, n] of [
      [a, left.node],
      [b, r],
    ] as const) {
      if (k !== "bool" && k !== "unknown") {
        throw new InvalidArgumentError(
          `${op}: needs booleans (comparisons, isin, isnull, …), but ${show(n)} is a ${k}.`,
        );
      }
    }
  } else {
    for (const [k, n] of [
      [a, left.node],
      [b, r],
    ] as const) {
      if (k === "string" || k === "null" || k === "timestamp") {
        throw new InvalidArgumentError(
          `${op}: arithmetic needs numbers, but ${show(n)} is a ${k}; compute with numeric columns and number literals.`,
        );
      }
    }
  }
  return new Expr({ op, left: left.node, right: r });
}

function unary(op: UnaryOp, arg: Expr): Expr {
  if (op === "not") requireKind(op, arg, ["bool"]);
  if (op === "abs" || op === "neg") requireKind(op, arg, ["number", "bool"]);
  return new Expr({ op, arg: arg.node });
}

function membership(op: "isin" | "isnotin", arg: Expr, values: Iterable<LiteralValue>): Expr {
  if (
    values === null ||
    typeof values !== "object" ||
    !(Symbol.iterator in values) ||
    typeof values === "string"
  ) {
    throw new InvalidArgumentError(
      `${op}: give the values as an array, such as ["AAPL", "MSFT"], got ${describe(values)}.`,
    );
  }
  const out: ScalarValue[] = [];
  let strings = false;
  let numbers = false;
  for (const v of values) {
    const node = literalNode(v, `${op} value`) as { value: ScalarValue };
    if (typeof node.value === "string") strings = true;
    else if (typeof node.value === "number" || typeof node.value === "bigint") numbers = true;
    out.push(node.value);
  }
  const kind = staticKind(arg.node);
  // ISO strings beside numbers could only be meant for a timestamp column, and a list cannot hold both.
  if (strings && numbers && kind !== "timestamp" && kind !== "unknown") {
    throw new InvalidArgumentError(`${op}: the values mix strings and numbers; give one kind.`);
  }
  if ((kind === "string" && numbers) || ((kind === "number" || kind === "bool") && strings)) {
    throw new InvalidArgumentError(
      `${op}: ${show(arg.node)} is a ${kind} but the values are ${strings ? "strings" : "numbers"}.`,
    );
  }
  return new Expr({ op, arg: arg.node, values: out });
}

function requireKind(op: string, arg: Expr, kinds: StaticKind[]): void {
  const k = staticKind(arg.node);
  if (k !== "unknown" && !kinds.includes(k)) {
    throw new InvalidArgumentError(`${op}: needs a ${kinds.join(" or ")}, but ${show(arg.node)} is a ${k}.`);
  }
}

/** The type an expression certainly has, from its literals alone; `unknown` once a column is involved. */
function staticKind(node: ExprNode): StaticKind {
  switch (node.op) {
    case "col":
      return "unknown";
    case "lit": {
      const v = node.value;
      if (node.timestamp) return "timestamp";
      if (v === null) return "null";
      if (typeof v === "string") return "string";
      if (typeof v === "boolean") return "bool";
      return "number";
    }
    case "abs":
    case "neg":
      return staticKind(node.arg) === "unknown" ? "unknown" : "number";
    case "add":
    case "sub":
    case "mul":
    case "div": {
      const a = staticKind(node.left);
      const b = staticKind(node.right);
      return a === "unknown" || b === "unknown" ? "unknown" : "number";
    }
    default:
      return "bool";
  }
}

const SYMBOLS: Record<string, string> = {
  gt: ">",
  ge: ">=",
  lt: "<",
  le: "<=",
  eq: "==",
  ne: "!=",
  and: "&",
  or: "|",
  xor: "^",
  add: "+",
  sub: "-",
  mul: "*",
  div: "/",
};

/** An expression node as text. */
export function show(node: ExprNode): string {
  switch (node.op) {
    case "col":
      return `col(${JSON.stringify(node.name)})`;
    case "lit":
      return typeof node.value === "bigint"
        ? `${node.value}n`
        : typeof node.value === "string"
          ? JSON.stringify(node.value)
          : String(node.value);
    case "isin":
    case "isnotin":
      return `${show(node.arg)}.${node.op}([${node.values.map((v) => (typeof v === "string" ? JSON.stringify(v) : typeof v === "bigint" ? `${v}n` : String(v))).join(", ")}])`;
    case "regexMatch":
      return `${show(node.arg)}.regexMatch(/${node.pattern}/${node.flags})`;
    case "not":
    case "abs":
    case "neg":
    case "isnull":
    case "notnull":
      return `${show(node.arg)}.${node.op}()`;
    default:
      return `(${show(node.left)} ${SYMBOLS[node.op]} ${show(node.right)})`;
  }
}

/** The names of the columns an expression reads. */
export function columnsOf(node: ExprNode, into: Set<string> = new Set()): Set<string> {
  if (node.op === "col") into.add(node.name);
  else if ("arg" in node) columnsOf(node.arg, into);
  else if ("left" in node) {
    columnsOf(node.left, into);
    columnsOf(node.right, into);
  }
  return into;
}

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return `a ${value.constructor?.name ?? "object"}`;
  return String(value);
}

function deepFreeze<T>(node: T): T {
  if (node !== null && typeof node === "object" && !Object.isFrozen(node)) {
    for (const v of Object.values(node)) deepFreeze(v);
    Object.freeze(node);
  }
  return node;
}
