/**
 * Which chunk queries run wholly on columns held in Wasm memory (src/version/query-resident.ts): a
 * groupby after an optional filter and applies, whose every step a Wasm kernel computes exactly as the
 * TypeScript evaluator does. `residentPlan` checks a query's per-chunk steps against that shape and says
 * which stored columns each stage reads; any other query runs the general chunk path.
 */
import type { DType } from "../dtypes.ts";
import type { ChunkSteps } from "./chunk.ts";
import { type ArithOp, type CompareOp, type ExprNode, isArithOp, isCompareOp } from "./expr.ts";
import type { AggName } from "./query-builder.ts";

/**
 * A filter or apply over resident columns: compares, and/or/xor/not, arithmetic, number literals (a
 * bigint: the literal an int64 column is compared with, as int64).
 */
export type ResidentExpr =
  | { readonly op: "col"; readonly name: string }
  | { readonly op: "lit"; readonly value: number | bigint }
  | {
      readonly op: CompareOp | ArithOp | "and" | "or" | "xor";
      readonly left: ResidentExpr;
      readonly right: ResidentExpr;
    }
  | { readonly op: "not"; readonly arg: ResidentExpr };

/** A chunk query the resident path runs; column names are stored columns unless an apply made them. */
export interface ResidentPlan {
  /** The leading filter (a 0/1 mask), or null: every row is kept. */
  readonly filter: ResidentExpr | null;
  /** Float64 columns computed, in order, from the kept rows. */
  readonly applies: readonly { readonly name: string; readonly expr: ResidentExpr }[];
  /** The groupby keys: string columns (by their dictionary codes) or int64 columns. */
  readonly keys: readonly { readonly name: string; readonly dtype: "string" | "int64" }[];
  /** The aggregations, each over a float64 or int64 column. */
  readonly aggs: readonly {
    readonly agg: AggName;
    readonly column: string;
    readonly dtype: "float64" | "int64";
  }[];
  /** Stored float64 and int64 columns the filter reads, decoded for every row. */
  readonly filterColumns: readonly string[];
  /** Stored float64 and int64 columns read after the filter, decoded for the kept rows only. */
  readonly keptColumns: readonly string[];
  /** Buffers of rows the filter and applies need for their intermediate results. */
  readonly temporaries: { readonly masks: number; readonly values: number };
}

/**
 * The resident plan of `steps`, or null when a step is outside its shape. `dtypeOf` gives a stored
 * column's dtype (undefined for a column the chunk does not hold).
 */
export function residentPlan(
  steps: ChunkSteps,
  dtypeOf: (name: string) => DType | undefined,
): ResidentPlan | null {
  const agg = steps.aggregate;
  if (agg?.kind !== "groupby") return null;
  let clauses = steps.prefix;
  const filterColumns = new Set<string>();
  let filter: ResidentExpr | null = null;
  let masks = 0;
  if (clauses[0]?.kind === "filter") {
    const found = maskExpr(clauses[0].expr, dtypeOf, filterColumns);
    if (found === null) return null;
    filter = found;
    masks = countNodes(found);
    clauses = clauses.slice(1);
  }
  // Names an apply made are float64 from then on; the others are stored columns read after the filter.
  const made = new Set<string>();
  const kept = new Set<string>();
  const stored = (name: string): DType | undefined => {
    if (made.has(name)) return "float64";
    const dtype = dtypeOf(name);
    if (dtype !== undefined) kept.add(name);
    return dtype;
  };
  const applies: { name: string; expr: ResidentExpr }[] = [];
  let values = 0;
  for (const c of clauses) {
    if (c.kind !== "apply") return null;
    const expr = arithExpr(c.expr, stored);
    if (expr === null || expr.op === "lit") return null;
    values += countNodes(expr);
    applies.push({ name: c.name, expr });
    made.add(c.name);
  }
  const keys: { name: string; dtype: "string" | "int64" }[] = [];
  for (const name of agg.keys) {
    if (made.has(name)) return null;
    const dtype = dtypeOf(name);
    if (dtype !== "string" && dtype !== "int64") return null;
    if (dtype === "int64") kept.add(name);
    keys.push({ name, dtype });
  }
  const aggs: { agg: AggName; column: string; dtype: "float64" | "int64" }[] = [];
  for (const a of agg.aggs) {
    const dtype = stored(a.column);
    if (dtype !== "float64" && dtype !== "int64") return null;
    aggs.push({ agg: a.agg, column: a.column, dtype });
  }
  return {
    filter,
    applies,
    keys,
    aggs,
    filterColumns: [...filterColumns],
    keptColumns: [...kept],
    temporaries: { masks, values },
  };
}

/**
 * A filter's expression when every comparison is of two float64 columns, a float64 column and a number,
 * or an int64 column and an integer (a safe-integer number or a bigint, compared as int64 as evaluate.ts
 * does; a fractional number would compare as floats there).
 */
function maskExpr(
  node: ExprNode,
  dtypeOf: (name: string) => DType | undefined,
  columns: Set<string>,
): ResidentExpr | null {
  if (node.op === "not") {
    const arg = maskExpr(node.arg, dtypeOf, columns);
    return arg === null ? null : { op: "not", arg };
  }
  if (node.op === "and" || node.op === "or" || node.op === "xor") {
    const left = maskExpr(node.left, dtypeOf, columns);
    const right = left === null ? null : maskExpr(node.right, dtypeOf, columns);
    return right === null || left === null ? null : { op: node.op, left, right };
  }
  if (!isCompareOp(node.op)) return null;
  const { left, right } = node as { left: ExprNode; right: ExprNode };
  const [col, lit] = left.op === "col" ? [left, right] : [right, left];
  if (col.op !== "col") return null;
  const dtype = dtypeOf(col.name);
  let value: number | bigint;
  if (lit.op === "col") {
    if (dtype !== "float64" || dtypeOf(lit.name) !== "float64") return null;
    columns.add(col.name).add(lit.name);
    return { op: node.op, left, right } as ResidentExpr;
  }
  if (lit.op !== "lit" || lit.timestamp) return null;
  const v = lit.value;
  if (dtype === "float64" && typeof v === "number") value = v;
  else if (dtype === "int64" && typeof v === "bigint") value = BigInt.asIntN(64, v);
  else if (dtype === "int64" && typeof v === "number" && Number.isSafeInteger(v)) value = BigInt(v);
  else return null;
  columns.add(col.name);
  const l: ResidentExpr = left.op === "col" ? col : { op: "lit", value };
  const r: ResidentExpr = left.op === "col" ? { op: "lit", value } : col;
  return { op: node.op, left: l, right: r };
}

/** An apply's expression when it is float64 arithmetic of float64 columns and number literals. */
function arithExpr(node: ExprNode, dtypeOf: (name: string) => DType | undefined): ResidentExpr | null {
  if (node.op === "col") return dtypeOf(node.name) === "float64" ? node : null;
  if (node.op === "lit") {
    return typeof node.value === "number" && !node.timestamp ? { op: "lit", value: node.value } : null;
  }
  if (!isArithOp(node.op)) return null;
  const { left, right } = node as { left: ExprNode; right: ExprNode };
  const l = arithExpr(left, dtypeOf);
  const r = l === null ? null : arithExpr(right, dtypeOf);
  if (l === null || r === null || (l.op === "lit" && r.op === "lit")) return null;
  return { op: node.op, left: l, right: r };
}

/** Operator nodes of an expression: the intermediate buffers evaluating it may take. */
function countNodes(e: ResidentExpr): number {
  if (e.op === "col" || e.op === "lit") return 0;
  if (e.op === "not") return 1 + countNodes(e.arg);
  return 1 + countNodes(e.left) + countNodes(e.right);
}
