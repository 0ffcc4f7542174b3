/**
 * What a query needs from storage, worked out from the query alone: the columns to read
 * (`requiredColumns`, for column push-down) and the timestamps any answer row can have
 * (`dateBounds`, for skipping segments by their index range or statistics).
 */
import { toNanos } from "../frame/timestamps.ts";
import { columnsOf, type ExprNode } from "./expr.ts";
import type { QueryBuilder } from "./query-builder.ts";

/**
 * The columns of `allColumns` (in that order) that must be read to answer `query`. With a groupby or
 * resample, only those the clauses up to it name (and not made by an earlier `apply`). Without one,
 * every column reaches the answer — or, when the read names its own `columns` (`wanted`), those and
 * the ones the query names. The timestamp index is always read and never listed.
 */
export function requiredColumns(
  query: QueryBuilder,
  allColumns: readonly string[],
  wanted?: readonly string[],
): string[] {
  const made = new Set<string>();
  const needed = new Set<string>();
  const need = (name: string): void => {
    if (!made.has(name)) needed.add(name);
  };
  for (const c of query.clauses) {
    if (c.kind === "filter") for (const name of columnsOf(c.expr)) need(name);
    else if (c.kind === "apply") {
      for (const name of columnsOf(c.expr)) need(name);
      made.add(c.name);
    } else if (c.kind === "groupby" || c.kind === "resample") {
      if (c.kind === "groupby") for (const k of c.keys) need(k);
      for (const a of c.aggs) need(a.column);
      // Later clauses see only the aggregation's output.
      return allColumns.filter((name) => needed.has(name));
    }
  }
  if (wanted === undefined) return [...allColumns];
  for (const name of wanted) needed.add(name);
  return allColumns.filter((name) => needed.has(name));
}

/** Inclusive nanosecond bounds on the timestamps of the rows a query keeps; `null` is open. */
export interface DateBounds {
  readonly start: bigint | null;
  readonly end: bigint | null;
}

/**
 * The timestamps rows must have to pass the query's leading row filters: its `dateRange` clauses and
 * comparisons of the index (`col(indexName)`) with a timestamp in `filter`s joined by `and`. Only the
 * clauses before the first positional or aggregating one (rowRange, head, tail, groupby, resample)
 * count: after `head(5)` a date filter picks among five rows, and skipping segments would change them.
 */
export function dateBounds(query: QueryBuilder, indexName = "index"): DateBounds {
  let start: bigint | null = null;
  let end: bigint | null = null;
  const lower = (v: bigint) => {
    if (start === null || v > start) start = v;
  };
  const upper = (v: bigint) => {
    if (end === null || v < end) end = v;
  };
  const visit = (node: ExprNode): void => {
    if (node.op === "and") {
      visit(node.left);
      visit(node.right);
      return;
    }
    if (!("left" in node) || !["gt", "ge", "lt", "le", "eq"].includes(node.op)) return;
    let op = node.op;
    let value: bigint | null = null;
    if (isIndex(node.left, indexName)) value = timestampOf(node.right);
    else if (isIndex(node.right, indexName)) {
      value = timestampOf(node.left);
      op = ({ gt: "lt", ge: "le", lt: "gt", le: "ge", eq: "eq" } as const)[op as "gt"];
    }
    if (value === null) return;
    if (op === "gt") lower(value + 1n);
    else if (op === "ge") lower(value);
    else if (op === "lt") upper(value - 1n);
    else if (op === "le") upper(value);
    else {
      lower(value);
      upper(value);
    }
  };
  for (const c of query.clauses) {
    if (c.kind === "dateRange") {
      if (c.start !== null) lower(c.start);
      if (c.end !== null) upper(c.end);
    } else if (c.kind === "filter") visit(c.expr);
    else if (c.kind !== "apply") break;
  }
  return { start, end };
}

function isIndex(node: ExprNode, indexName: string): boolean {
  return node.op === "col" && node.name === indexName;
}

function timestampOf(node: ExprNode): bigint | null {
  if (node.op !== "lit") return null;
  if (typeof node.value === "bigint") return node.value;
  if (typeof node.value === "string") {
    try {
      return toNanos(node.value, "dateBounds");
    } catch {
      return null; // evaluation reports the bad string
    }
  }
  return null;
}
