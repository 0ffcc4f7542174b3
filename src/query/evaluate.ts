/**
 * Evaluates an expression over columns, one typed-array loop per node (no per-row objects). It sees
 * columns through `Columns`, not a `DataFrame`, so the same code runs over one decoded segment or a
 * whole frame. Type rules follow numpy/pandas: int op int → int64 (wrapping), anything with a float →
 * float64, `div` → float64; comparisons with NaN/NaT/null are false except `ne`, which is true.
 * Once the Wasm kernels are loaded (kernels.ts), a float64, int32, int64 or timestamp column compared
 * with a literal and the and/or/xor/not of masks run there, with the same answers; arithmetic stays here
 * (bench/query-kernels.mjs: copying its operands in costs what the kernel saves).
 */
import { type ColumnValues, DTYPES, type DType, type StringArray } from "../dtypes.ts";
import { InvalidArgumentError, SchemaMismatchError } from "../errors.ts";
import { NAT, toNanos } from "../frame/timestamps.ts";
import {
  type ArithOp,
  type CompareOp,
  type ExprNode,
  isArithOp,
  isCompareOp,
  type ScalarValue,
  SWAPPED,
  show,
} from "./expr.ts";
import { readyQueryKernels } from "./kernels.ts";

/** The columns an expression may read, and how many rows they have. */
export interface Columns {
  readonly numRows: number;
  /** The column, or undefined when there is none of that name. */
  get(name: string): Column | undefined;
  /** Every name `get` knows, for the message about an unknown column. */
  names(): readonly string[];
}

/** A column: its dtype and values. */
export interface Column {
  readonly dtype: DType;
  readonly values: ColumnValues;
}

/** An evaluated expression: a column, or a scalar not yet broadcast (its type decided by its neighbour). */
export type Value =
  | { readonly kind: "column"; readonly dtype: DType; readonly values: ColumnValues }
  | { readonly kind: "scalar"; readonly value: ScalarValue; readonly timestamp: boolean };

/** The missing timestamp (NaT), timestamps.ts's; resample.ts imports it from here. */

/** How a value takes part in arithmetic and comparisons. */
type Cls = "float" | "int" | "uint64" | "weakint" | "bool" | "timestamp" | "string" | "null";

/** Evaluates `node` over `cols`. Throws SchemaMismatchError where a column's dtype does not fit. */
export function evaluate(node: ExprNode, cols: Columns): Value {
  switch (node.op) {
    case "col": {
      const c = cols.get(node.name);
      if (c === undefined) throw unknownColumn(node.name, cols);
      return { kind: "column", dtype: c.dtype, values: c.values };
    }
    case "lit":
      return { kind: "scalar", value: node.value, timestamp: node.timestamp };
    case "not": {
      const mask = needBool(node.arg, cols);
      const q = readyQueryKernels();
      return boolColumn(q ? q.logic("not", mask, null) : logic("xor", mask, ones(cols.numRows)));
    }
    case "isnull":
    case "notnull":
      return boolColumn(nullMask(evaluate(node.arg, cols), cols.numRows, node.op === "notnull"));
    case "abs":
    case "neg":
      return negate(node as { op: "abs" | "neg"; arg: ExprNode }, evaluate(node.arg, cols), cols.numRows);
    case "isin":
    case "isnotin":
      return boolColumn(membership(node, evaluate(node.arg, cols), cols.numRows));
    case "regexMatch": {
      const v = evaluate(node.arg, cols);
      if (classOf(v) !== "string")
        throw mismatch(`regexMatch needs strings, but ${show(node.arg)} is ${typeName(v)}`);
      const strs = asStrings(v, cols.numRows);
      const re = new RegExp(node.pattern, node.flags);
      const out = new Uint8Array(strs.length);
      for (let i = 0; i < strs.length; i++) {
        const s = strs[i];
        out[i] = s !== null && re.test(s) ? 1 : 0;
      }
      return boolColumn(out);
    }
    default: {
      if (node.op === "and" || node.op === "or" || node.op === "xor") {
        return boolColumn(logic(node.op, needBool(node.left, cols), needBool(node.right, cols)));
      }
      const a = evaluate(node.left, cols);
      const b = evaluate(node.right, cols);
      if (isCompareOp(node.op)) return boolColumn(compare(node, node.op, a, b, cols.numRows));
      if (isArithOp(node.op)) return arithmetic(node, node.op, a, b, cols.numRows);
      throw new InvalidArgumentError(`Unknown expression operator ${JSON.stringify((node as ExprNode).op)}.`);
    }
  }
}

/** A boolean expression as a 0/1 mask (for `filter`). */
export function evaluateMask(node: ExprNode, cols: Columns): Uint8Array {
  return needBool(node, cols);
}

/** A value as a full column of `numRows` (for `apply`): scalars take numpy's default dtype. */
export function materialize(value: Value, numRows: number): Column {
  if (value.kind === "column") return value;
  const v = value.value;
  if (value.timestamp) return { dtype: "timestamp", values: new BigInt64Array(numRows).fill(v as bigint) };
  if (typeof v === "bigint") return { dtype: "int64", values: new BigInt64Array(numRows).fill(v) };
  if (typeof v === "number") {
    return Number.isInteger(v) && Number.isSafeInteger(v)
      ? { dtype: "int64", values: new BigInt64Array(numRows).fill(BigInt(v)) }
      : { dtype: "float64", values: new Float64Array(numRows).fill(v) };
  }
  if (typeof v === "boolean") return { dtype: "bool", values: new Uint8Array(numRows).fill(v ? 1 : 0) };
  return { dtype: "string", values: new Array<string | null>(numRows).fill(v) };
}

export function unknownColumn(name: string, cols: { names(): readonly string[] }): InvalidArgumentError {
  const names = cols.names();
  return new InvalidArgumentError(
    `query: there is no column '${name}'; the columns are ${names.map((n) => `'${n}'`).join(", ") || "(none)"}.`,
  );
}

function mismatch(text: string): SchemaMismatchError {
  return new SchemaMismatchError(`query: ${text}.`);
}

function boolColumn(values: Uint8Array): Value {
  return { kind: "column", dtype: "bool", values };
}

function ones(n: number): Uint8Array {
  return new Uint8Array(n).fill(1);
}

function needBool(node: ExprNode, cols: Columns): Uint8Array {
  const v = evaluate(node, cols);
  if (v.kind === "scalar" && typeof v.value === "boolean")
    return new Uint8Array(cols.numRows).fill(v.value ? 1 : 0);
  if (v.kind === "column" && v.dtype === "bool") return v.values as Uint8Array;
  throw mismatch(
    `${show(node)} is ${typeName(v)}, where a boolean is needed (a comparison, isin, isnull, …)`,
  );
}

function logic(op: "and" | "or" | "xor", a: Uint8Array, b: Uint8Array): Uint8Array {
  const q = readyQueryKernels();
  if (q) return q.logic(op, a, b);
  const n = a.length;
  const out = new Uint8Array(n);
  if (op === "and") for (let i = 0; i < n; i++) out[i] = a[i] & b[i];
  else if (op === "or") for (let i = 0; i < n; i++) out[i] = a[i] | b[i];
  else for (let i = 0; i < n; i++) out[i] = a[i] ^ b[i];
  return out;
}

function classOf(v: Value): Cls {
  if (v.kind === "scalar") {
    const x = v.value;
    if (v.timestamp) return "timestamp";
    if (x === null) return "null";
    if (typeof x === "string") return "string";
    if (typeof x === "boolean") return "bool";
    if (typeof x === "bigint") return "weakint";
    // An integer past 2^53 is already inexact as a number, so it counts as a float (numpy: too big for int64).
    return Number.isSafeInteger(x) ? "weakint" : "float";
  }
  const d = v.dtype;
  if (d === "float64" || d === "float32") return "float";
  if (d === "uint64") return "uint64";
  if (d === "bool" || d === "timestamp" || d === "string") return d;
  return "int";
}

function typeName(v: Value): string {
  if (v.kind === "column") return `a ${v.dtype} column`;
  const c = classOf(v);
  return c === "weakint" || c === "float" ? "a number" : c === "null" ? "null" : `a ${c}`;
}

/** True for dtypes whose values fit a float64 exactly (so comparisons may use doubles). */
function fitsDouble(v: Value): boolean {
  if (v.kind === "scalar") return typeof v.value !== "bigint" || Number.isSafeInteger(Number(v.value));
  return !DTYPES[v.dtype].bigint;
}

function asFloat(v: Value, n: number): Float64Array {
  if (v.kind === "scalar") return new Float64Array(n).fill(Number(v.value));
  if (v.values instanceof Float64Array) return v.values;
  const out = new Float64Array(n);
  const src = v.values as ArrayLike<number | bigint>;
  for (let i = 0; i < n; i++) out[i] = Number(src[i]);
  return out;
}

function asBig(v: Value, n: number): BigInt64Array | BigUint64Array {
  if (v.kind === "scalar") {
    const x = v.value;
    return new BigInt64Array(n).fill(typeof x === "bigint" ? x : BigInt(x as number | boolean));
  }
  if (v.values instanceof BigInt64Array || v.values instanceof BigUint64Array) return v.values;
  const out = new BigInt64Array(n);
  const src = v.values as ArrayLike<number>;
  for (let i = 0; i < n; i++) out[i] = BigInt(src[i]);
  return out;
}

function asStrings(v: Value, n: number): StringArray {
  if (v.kind === "scalar") return new Array<string | null>(n).fill(v.value as string | null);
  return v.values as StringArray;
}

/** A timestamp operand as nanoseconds: a timestamp column, a Date/bigint literal or an ISO string. */
function asNanos(v: Value, n: number, node: ExprNode): BigInt64Array {
  if (v.kind === "column") return v.values as BigInt64Array;
  return new BigInt64Array(n).fill(scalarNanos(v, node));
}

function scalarNanos(v: Value & { kind: "scalar" }, node: ExprNode): bigint {
  const x = v.value;
  const ns =
    typeof x === "bigint" ? x : typeof x === "string" ? toNanos(x, `query: ${show(node)}`) : undefined;
  if (ns === undefined) throw mismatch(`${show(node)} compares a timestamp with ${typeName(v)}`);
  // As the BigInt64Array that asNanos fills would hold it.
  return BigInt.asIntN(64, ns);
}

function compare(node: ExprNode, op: CompareOp, a: Value, b: Value, n: number): Uint8Array {
  const ca = classOf(a);
  const cb = classOf(b);
  // pandas: comparing with None is false everywhere, and != None true everywhere.
  if (ca === "null" || cb === "null") return new Uint8Array(n).fill(op === "ne" ? 1 : 0);
  if (ca === "timestamp" || cb === "timestamp") {
    const other = ca === "timestamp" ? cb : ca;
    if (other !== "timestamp" && other !== "weakint" && other !== "string") {
      throw mismatch(`${show(node)} compares a timestamp with ${typeName(ca === "timestamp" ? b : a)}`);
    }
    const otherValue = ca === "timestamp" ? b : a;
    // A plain number beside a timestamp is ambiguous (ms? ns?); only a bigint means nanoseconds.
    if (other === "weakint" && !(otherValue.kind === "scalar" && typeof otherValue.value === "bigint")) {
      throw mismatch(
        `${show(node)} compares a timestamp with a number; use a Date, an ISO string or nanoseconds as a bigint`,
      );
    }
    const fast = compareWithKernel(a, b, op, "timestamp", node);
    if (fast) return fast;
    const x = asNanos(a, n, node);
    const y = asNanos(b, n, node);
    const out = compareLoop(x, y, op, n);
    for (let i = 0; i < n; i++) if (x[i] === NAT || y[i] === NAT) out[i] = op === "ne" ? 1 : 0;
    return out;
  }
  if (ca === "string" || cb === "string") {
    if (ca !== cb) {
      throw mismatch(
        `${show(node)} compares ${typeName(a)} with ${typeName(b)}; compare strings with strings`,
      );
    }
    const x = asStrings(a, n);
    const y = asStrings(b, n);
    const out = compareLoop(x, y, op, n);
    for (let i = 0; i < n; i++) if (x[i] === null || y[i] === null) out[i] = op === "ne" ? 1 : 0;
    return out;
  }
  if (ca === "float" || cb === "float" || (fitsDouble(a) && fitsDouble(b))) {
    return compareWithKernel(a, b, op, "float", node) ?? compareLoop(asFloat(a, n), asFloat(b, n), op, n);
  }
  // 64-bit integers compare exactly as bigints (doubles would merge neighbours above 2^53).
  return compareWithKernel(a, b, op, "int", node) ?? compareLoop(asBig(a, n), asBig(b, n), op, n);
}

/**
 * A column compared with a scalar by a Wasm kernel, or undefined where there is none (kernels not
 * loaded, two columns, a dtype without a kernel) and `compare`'s loops run. `as` is how compare chose
 * to compare: as doubles (float64 and int32 columns), as int64 (int64 columns) or as timestamps.
 */
function compareWithKernel(
  a: Value,
  b: Value,
  op: CompareOp,
  as: "float" | "int" | "timestamp",
  node: ExprNode,
): Uint8Array | undefined {
  const q = readyQueryKernels();
  if (q === undefined) return undefined;
  let col = a;
  let lit = b;
  let o = op;
  if (a.kind === "scalar") {
    col = b;
    lit = a;
    o = SWAPPED[op];
  }
  if (col.kind !== "column" || lit.kind !== "scalar") return undefined;
  const values = col.values;
  if (as === "float") {
    if (!(values instanceof Float64Array || values instanceof Int32Array)) return undefined;
    return q.compare(values, o, Number(lit.value));
  }
  if (!(values instanceof BigInt64Array)) return undefined;
  if (as === "timestamp") {
    const ns = scalarNanos(lit, node);
    // NaT on the other side: every comparison is false, ne true.
    if (ns === NAT) return new Uint8Array(values.length).fill(op === "ne" ? 1 : 0);
    return q.compare(values, o, ns, true);
  }
  const x = lit.value as number | bigint | boolean;
  return q.compare(values, o, BigInt.asIntN(64, typeof x === "bigint" ? x : BigInt(x)));
}

function compareLoop<T>(x: ArrayLike<T>, y: ArrayLike<T>, op: CompareOp, n: number): Uint8Array {
  const out = new Uint8Array(n);
  switch (op) {
    case "gt":
      for (let i = 0; i < n; i++) out[i] = x[i] > y[i] ? 1 : 0;
      break;
    case "ge":
      for (let i = 0; i < n; i++) out[i] = x[i] >= y[i] ? 1 : 0;
      break;
    case "lt":
      for (let i = 0; i < n; i++) out[i] = x[i] < y[i] ? 1 : 0;
      break;
    case "le":
      for (let i = 0; i < n; i++) out[i] = x[i] <= y[i] ? 1 : 0;
      break;
    case "eq":
      for (let i = 0; i < n; i++) out[i] = x[i] === y[i] ? 1 : 0;
      break;
    case "ne":
      for (let i = 0; i < n; i++) out[i] = x[i] !== y[i] ? 1 : 0;
      break;
  }
  return out;
}

/** The dtype of `a op b`, numpy's promotion for the classes floe has. */
function arithmeticDtype(op: ArithOp, ca: Cls, cb: Cls): "float64" | "int64" | "uint64" {
  if (op === "div" || ca === "float" || cb === "float") return "float64";
  if (ca === "uint64" || cb === "uint64") {
    const other = ca === "uint64" ? cb : ca;
    // numpy: uint64 with a signed int64 has no common integer type, so it is float64.
    return other === "uint64" || other === "weakint" ? "uint64" : other === "int" ? "float64" : "uint64";
  }
  return "int64";
}

function arithmetic(node: ExprNode, op: ArithOp, a: Value, b: Value, n: number): Value {
  const ca = classOf(a);
  const cb = classOf(b);
  for (const [c, v] of [
    [ca, a],
    [cb, b],
  ] as const) {
    if (c === "string" || c === "timestamp" || c === "null") {
      throw mismatch(`${show(node)}: arithmetic needs numbers, but one side is ${typeName(v)}`);
    }
  }
  if (a.kind === "scalar" && b.kind === "scalar" && op !== "div" && ca !== "float" && cb !== "float") {
    // Two integer literals: keep the result a scalar so its type still adapts to a neighbour.
    const x = BigInt(a.value as number | bigint | boolean);
    const y = BigInt(b.value as number | bigint | boolean);
    const r = op === "add" ? x + y : op === "sub" ? x - y : x * y;
    return { kind: "scalar", value: BigInt.asIntN(64, r), timestamp: false };
  }
  const dtype = arithmeticDtype(op, ca, cb);
  if (dtype === "float64") {
    // No Wasm kernel: copying the operands in costs what it saves (see the file comment).
    const x = asFloat(a, n);
    const y = asFloat(b, n);
    const out = new Float64Array(n);
    if (op === "add") for (let i = 0; i < n; i++) out[i] = x[i] + y[i];
    else if (op === "sub") for (let i = 0; i < n; i++) out[i] = x[i] - y[i];
    else if (op === "mul") for (let i = 0; i < n; i++) out[i] = x[i] * y[i];
    else for (let i = 0; i < n; i++) out[i] = x[i] / y[i];
    return { kind: "column", dtype, values: out };
  }
  const x = asBig(a, n);
  const y = asBig(b, n);
  const out = dtype === "int64" ? new BigInt64Array(n) : new BigUint64Array(n);
  // Typed-array stores wrap to 64 bits, as numpy's integer overflow does.
  if (op === "add") for (let i = 0; i < n; i++) out[i] = x[i] + y[i];
  else if (op === "sub") for (let i = 0; i < n; i++) out[i] = x[i] - y[i];
  else for (let i = 0; i < n; i++) out[i] = x[i] * y[i];
  return { kind: "column", dtype, values: out };
}

function negate(node: { op: "abs" | "neg"; arg: ExprNode }, v: Value, n: number): Value {
  const c = classOf(v);
  if (c === "string" || c === "timestamp" || c === "null") {
    throw mismatch(`${node.op} needs a number, but ${show(node.arg)} is ${typeName(v)}`);
  }
  const abs = node.op === "abs";
  if (v.kind === "scalar") {
    const x = v.value as number | bigint | boolean;
    if (typeof x === "number") return { kind: "scalar", value: abs ? Math.abs(x) : -x, timestamp: false };
    const b = BigInt(x);
    return { kind: "scalar", value: BigInt.asIntN(64, abs && b < 0n ? -b : abs ? b : -b), timestamp: false };
  }
  if (c === "float") {
    const x = asFloat(v, n);
    const out = new Float64Array(n);
    if (abs) for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]);
    else for (let i = 0; i < n; i++) out[i] = -x[i];
    return { kind: "column", dtype: "float64", values: out };
  }
  if (c === "uint64") {
    if (abs) return v;
    const x = v.values as BigUint64Array;
    const out = new BigUint64Array(n);
    for (let i = 0; i < n; i++) out[i] = -x[i];
    return { kind: "column", dtype: "uint64", values: out };
  }
  const x = asBig(v, n);
  const out = new BigInt64Array(n);
  if (abs) for (let i = 0; i < n; i++) out[i] = x[i] < 0n ? -x[i] : x[i];
  else for (let i = 0; i < n; i++) out[i] = -x[i];
  return { kind: "column", dtype: "int64", values: out };
}

/** 1 where the value is missing (NaN, NaT, null), or the reverse when `invert`. */
export function nullMask(v: Value, n: number, invert = false): Uint8Array {
  const out = new Uint8Array(n);
  const hit = invert ? 0 : 1;
  const miss = invert ? 1 : 0;
  if (v.kind === "scalar") {
    const x = v.value;
    const missing = x === null || (typeof x === "number" && Number.isNaN(x)) || (v.timestamp && x === NAT);
    return out.fill(missing ? hit : miss);
  }
  const values = v.values;
  if (v.dtype === "float64" || v.dtype === "float32") {
    const f = values as Float64Array;
    for (let i = 0; i < n; i++) out[i] = Number.isNaN(f[i]) ? hit : miss;
  } else if (v.dtype === "timestamp") {
    const t = values as BigInt64Array;
    for (let i = 0; i < n; i++) out[i] = t[i] === NAT ? hit : miss;
  } else if (v.dtype === "string") {
    const s = values as StringArray;
    for (let i = 0; i < n; i++) out[i] = s[i] === null ? hit : miss;
  } else out.fill(miss);
  return out;
}

function membership(
  node: { op: "isin" | "isnotin"; arg: ExprNode; values: readonly ScalarValue[] },
  v: Value,
  n: number,
): Uint8Array {
  const c = classOf(v);
  const set = new Set<unknown>();
  const bad = (x: ScalarValue): never => {
    throw mismatch(
      `${show(node.arg)} is ${typeName(v)}, but ${node.op} was given ${typeof x === "string" ? JSON.stringify(x) : String(x)}`,
    );
  };
  let values: ArrayLike<unknown>;
  if (c === "string") {
    for (const x of node.values)
      if (typeof x === "string" || x === null) set.add(x);
      else bad(x);
    values = asStrings(v, n);
  } else if (c === "timestamp") {
    for (const x of node.values) {
      if (x === null) set.add(NAT);
      else if (typeof x === "bigint") set.add(x);
      else if (typeof x === "string") set.add(toNanos(x, `query: ${node.op}`));
      else bad(x);
    }
    values = asNanos(v, n, node.arg);
  } else if (c === "null") {
    values = new Array(n).fill(null);
    for (const x of node.values) set.add(x);
  } else {
    // Numbers: as doubles where exact, else as bigints; a fraction can never equal an integer column.
    const exact = fitsDouble(v) && c !== "uint64";
    for (const x of node.values) {
      if (typeof x === "string") bad(x);
      if (x === null) continue; // a number is never null
      const num = typeof x === "boolean" ? Number(x) : x;
      if (exact) set.add(Number(num));
      else if (typeof num === "bigint") set.add(num);
      else if (Number.isInteger(num)) set.add(BigInt(num));
    }
    values = exact ? asFloat(v, n) : asBig(v, n);
  }
  const out = new Uint8Array(n);
  const hit = node.op === "isin" ? 1 : 0;
  for (let i = 0; i < n; i++) out[i] = set.has(values[i]) ? hit : 1 - hit;
  return out;
}
