/**
 * `QueryBuilder`: an immutable list of clauses (plain data), applied in order by execute.ts. Every
 * argument is checked here, when the query is built, so a bad query fails before anything is read.
 */
import { InvalidArgumentError } from "../errors.ts";
import { toNanos } from "../frame/timestamps.ts";
import { describe, Expr, type ExprNode } from "./expr.ts";
import { ruleNanos } from "./rules.ts";

/** The aggregations of `groupby(…).agg` and `resample(…).agg`. */
export type AggName = "sum" | "mean" | "min" | "max" | "count" | "first" | "last";
export const AGG_NAMES: readonly AggName[] = ["sum", "mean", "min", "max", "count", "first", "last"];

/** `{ outName: aggregation }` on the column `outName`, or `{ outName: [column, aggregation] }`. */
export type AggSpec = Record<string, AggName | readonly [string, AggName]>;

/** One output column of an aggregation: `out = agg(column)`. */
export interface Aggregation {
  readonly out: string;
  readonly column: string;
  readonly agg: AggName;
}

/** `origin` of `resample`: a named anchor or a timestamp. */
export type ResampleOrigin = "epoch" | "start" | "start_day" | "end" | "end_day" | Date | string | bigint;

/** Options of `resample(rule, options)`, as pandas' `DataFrame.resample`. */
export interface ResampleOptions {
  /** Which side of each bucket is inside it (default "left"; "right" with origin "end" or "end_day", as pandas). */
  closed?: "left" | "right";
  /** Which edge labels each bucket (default as `closed`'s). */
  label?: "left" | "right";
  /** What the buckets are aligned to (default "start_day", as pandas). */
  origin?: ResampleOrigin;
  /** A rule (such as "15min", "-1h") added to the origin. */
  offset?: string | bigint;
  /**
   * Buckets with no rows: "keep" (pandas: count 0, sum 0, others NaN; the default) or "drop"
   * (ArcticDB's behaviour, and what sparse data wants).
   */
  emptyBuckets?: "keep" | "drop";
}

/** A resample as plain data: the rule and origin resolved to nanoseconds or a named anchor. */
export interface ResampleSpec {
  readonly rule: string;
  readonly ruleNs: bigint;
  readonly closed: "left" | "right";
  readonly label: "left" | "right";
  readonly origin: "epoch" | "start" | "start_day" | "end" | "end_day" | { readonly ns: bigint };
  readonly offsetNs: bigint;
  readonly emptyBuckets: "keep" | "drop";
}

/** One step of a query, as plain data. */
export type Clause =
  | { readonly kind: "filter"; readonly expr: ExprNode }
  | { readonly kind: "apply"; readonly name: string; readonly expr: ExprNode }
  | { readonly kind: "groupby"; readonly keys: readonly string[]; readonly aggs: readonly Aggregation[] }
  | { readonly kind: "resample"; readonly spec: ResampleSpec; readonly aggs: readonly Aggregation[] }
  | { readonly kind: "dateRange"; readonly start: bigint | null; readonly end: bigint | null }
  | { readonly kind: "rowRange"; readonly start: number | null; readonly end: number | null }
  | { readonly kind: "head"; readonly n: number }
  | { readonly kind: "tail"; readonly n: number };

/**
 * A query: clauses applied in order to a symbol's frame when it is read (`lib.read(symbol, { query })`)
 * or to a frame (`runQuery`). Each method returns a new `QueryBuilder`; the old one is unchanged.
 */
export class QueryBuilder {
  /** The clauses, in order, as frozen plain data. */
  readonly clauses: readonly Clause[];

  /**
   * An empty query. `clauses` rebuilds one from its plain data (`query.clauses` after a structured
   * clone, as a worker receives it); they are trusted as built by these methods.
   */
  constructor(clauses: readonly Clause[] = []) {
    this.clauses = Object.freeze([...clauses]);
  }

  /** Keeps the rows where `expr` (a boolean expression) is true. */
  filter(expr: Expr): QueryBuilder {
    if (!(expr instanceof Expr)) {
      throw new InvalidArgumentError(
        `filter: give an expression such as col("px").gt(100), got ${describe(expr)}.`,
      );
    }
    return this.with({ kind: "filter", expr: expr.node });
  }

  /** Adds (or replaces) the column `name` with the values of `expr`. */
  apply(name: string, expr: Expr): QueryBuilder {
    checkName("apply", name);
    if (!(expr instanceof Expr)) {
      throw new InvalidArgumentError(
        `apply: give an expression such as col("bid").add(col("ask")).div(2), got ${describe(expr)}.`,
      );
    }
    return this.with({ kind: "apply", name, expr: expr.node });
  }

  /** Groups the rows by one key column or several; finish with `.agg(spec)`. */
  groupby(keys: string | readonly string[]): GroupBy {
    const list = typeof keys === "string" ? [keys] : keys;
    if (!Array.isArray(list) || list.length === 0) {
      throw new InvalidArgumentError(
        `groupby: give a column name or a non-empty array of names, got ${describe(keys)}.`,
      );
    }
    for (const k of list) checkName("groupby", k);
    if (new Set(list).size !== list.length) {
      throw new InvalidArgumentError(`groupby: the keys ${JSON.stringify(list)} name a column twice.`);
    }
    return new GroupBy(this, Object.freeze([...list]));
  }

  /** Buckets the rows by their timestamp index, as pandas' `resample`; finish with `.agg(spec)`. */
  resample(rule: string, options: ResampleOptions = {}): Resample {
    return new Resample(this, resampleSpec(rule, options));
  }

  /** Keeps the rows whose timestamp is within `[start, end]` (inclusive; `null` leaves an end open). */
  dateRange(start: Date | string | bigint | null, end: Date | string | bigint | null): QueryBuilder {
    const s = start === null ? null : toNanos(start, "dateRange: start");
    const e = end === null ? null : toNanos(end, "dateRange: end");
    return this.with({ kind: "dateRange", start: s, end: e });
  }

  /**
   * Keeps rows `[start, end)` by position, as pandas' `iloc[start:end]`: negative bounds count from the
   * end, `null` leaves an end open.
   */
  rowRange(start: number | null, end: number | null): QueryBuilder {
    for (const [what, v] of [
      ["start", start],
      ["end", end],
    ] as const) {
      if (v !== null && !Number.isSafeInteger(v)) {
        throw new InvalidArgumentError(`rowRange: ${what} must be an integer or null, got ${describe(v)}.`);
      }
    }
    return this.with({ kind: "rowRange", start, end });
  }

  /** The first `n` rows; a negative `n` keeps all but the last `-n` (pandas). */
  head(n = 5): QueryBuilder {
    checkCount("head", n);
    return this.with({ kind: "head", n });
  }

  /** The last `n` rows; a negative `n` keeps all but the first `-n` (pandas). */
  tail(n = 5): QueryBuilder {
    checkCount("tail", n);
    return this.with({ kind: "tail", n });
  }

  /** The query as text, one clause per call, for messages and debugging. */
  toString(): string {
    return `QueryBuilder()${this.clauses.map(showClause).join("")}`;
  }

  /** @internal */
  with(clause: Clause): QueryBuilder {
    return new QueryBuilder([...this.clauses, Object.freeze(clause)]);
  }
}

/** A `groupby` waiting for its aggregations. */
export class GroupBy {
  /** @internal */
  constructor(
    private readonly query: QueryBuilder,
    /** The key columns. */
    readonly keys: readonly string[],
  ) {}

  /** The aggregations, one output column each; the result has the keys first, then these in order. */
  agg(spec: AggSpec): QueryBuilder {
    const aggs = aggregations("groupby", spec);
    for (const a of aggs) {
      if (this.keys.includes(a.out)) {
        throw new InvalidArgumentError(
          `groupby(…).agg: the output '${a.out}' has the name of a key column; name it differently.`,
        );
      }
    }
    return this.query.with({ kind: "groupby", keys: this.keys, aggs });
  }
}

/** A `resample` waiting for its aggregations. */
export class Resample {
  /** @internal */
  constructor(
    private readonly query: QueryBuilder,
    /** The rule and options, resolved. */
    readonly spec: ResampleSpec,
  ) {}

  /** The aggregations, one output column each, indexed by the bucket timestamps. */
  agg(spec: AggSpec): QueryBuilder {
    return this.query.with({ kind: "resample", spec: this.spec, aggs: aggregations("resample", spec) });
  }
}

const ORIGINS = ["epoch", "start", "start_day", "end", "end_day"];
const RESAMPLE_OPTIONS = ["closed", "label", "origin", "offset", "emptyBuckets"];

function resampleSpec(rule: string, options: ResampleOptions): ResampleSpec {
  const ruleNs = ruleNanos(rule, "resample: rule");
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new InvalidArgumentError(
      `resample: options must be an object such as { closed: "right" }, got ${describe(options)}.`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!RESAMPLE_OPTIONS.includes(key)) {
      throw new InvalidArgumentError(
        `resample: unknown option '${key}'; the options are ${RESAMPLE_OPTIONS.join(", ")}.`,
      );
    }
  }
  const o = options.origin ?? "start_day";
  // pandas closes and labels buckets on the right when they are anchored at the end.
  const fallback = o === "end" || o === "end_day" ? "right" : "left";
  const side = (what: "closed" | "label"): "left" | "right" => {
    const v = options[what] ?? fallback;
    if (v !== "left" && v !== "right") {
      throw new InvalidArgumentError(`resample: ${what} must be "left" or "right", got ${describe(v)}.`);
    }
    return v;
  };
  const emptyBuckets = options.emptyBuckets ?? "keep";
  if (emptyBuckets !== "keep" && emptyBuckets !== "drop") {
    throw new InvalidArgumentError(
      `resample: emptyBuckets must be "keep" or "drop", got ${describe(emptyBuckets)}.`,
    );
  }
  let origin: ResampleSpec["origin"];
  if (typeof o === "string" && ORIGINS.includes(o)) origin = o as ResampleSpec["origin"];
  else if (typeof o === "string" && !/^\d{4}-/.test(o.trim())) {
    throw new InvalidArgumentError(
      `resample: origin ${JSON.stringify(o)} is not one of ${ORIGINS.join(", ")} nor a timestamp.`,
    );
  } else origin = { ns: toNanos(o, "resample: origin") };
  const offsetNs = options.offset === undefined ? 0n : ruleNanos(options.offset, "resample: offset", true);
  return Object.freeze({
    rule,
    ruleNs,
    closed: side("closed"),
    label: side("label"),
    origin,
    offsetNs,
    emptyBuckets,
  });
}

function aggregations(what: string, spec: AggSpec): Aggregation[] {
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) {
    throw new InvalidArgumentError(
      `${what}(…).agg: give a record such as { px: "mean", n: ["px", "count"] }, got ${describe(spec)}.`,
    );
  }
  const out: Aggregation[] = [];
  for (const [name, value] of Object.entries(spec)) {
    checkName(`${what}(…).agg`, name);
    const [column, agg] = Array.isArray(value) ? value : [name, value];
    if (Array.isArray(value) && (value.length !== 2 || typeof column !== "string" || column === "")) {
      throw new InvalidArgumentError(
        `${what}(…).agg: '${name}' must be an aggregation or [column, aggregation], got ${JSON.stringify(value)}.`,
      );
    }
    if (!AGG_NAMES.includes(agg as AggName)) {
      throw new InvalidArgumentError(
        `${what}(…).agg: '${name}' asks for ${describe(agg)}, which is not one of ${AGG_NAMES.join(", ")}.`,
      );
    }
    out.push(Object.freeze({ out: name, column, agg: agg as AggName }));
  }
  if (out.length === 0) {
    throw new InvalidArgumentError(`${what}(…).agg: give at least one aggregation.`);
  }
  return out;
}

function checkName(what: string, name: unknown): asserts name is string {
  if (typeof name !== "string" || name === "") {
    throw new InvalidArgumentError(
      `${what}: a column name must be a non-empty string, got ${describe(name)}.`,
    );
  }
}

function checkCount(what: string, n: unknown): void {
  if (typeof n !== "number" || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`${what}: n must be an integer, got ${describe(n)}.`);
  }
}

function showClause(c: Clause): string {
  switch (c.kind) {
    case "filter":
      return `.filter(${new Expr(c.expr).toString()})`;
    case "apply":
      return `.apply(${JSON.stringify(c.name)}, ${new Expr(c.expr).toString()})`;
    case "groupby":
      return `.groupby(${JSON.stringify(c.keys)}).agg(${showAggs(c.aggs)})`;
    case "resample":
      return `.resample(${JSON.stringify(c.spec.rule)}).agg(${showAggs(c.aggs)})`;
    case "dateRange":
      return `.dateRange(${c.start ?? "null"}, ${c.end ?? "null"})`;
    case "rowRange":
      return `.rowRange(${c.start}, ${c.end})`;
    default:
      return `.${c.kind}(${c.n})`;
  }
}

function showAggs(aggs: readonly Aggregation[]): string {
  return `{ ${aggs.map((a) => `${a.out}: [${JSON.stringify(a.column)}, "${a.agg}"]`).join(", ")} }`;
}
