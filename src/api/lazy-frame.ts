/**
 * `LazyFrame`: a read and a query built up a clause at a time (ArcticDB's `LazyDataFrame`), run by
 * `collect()`; `concat` stacks several into one. Nothing is read until `collect`.
 */
import type { ColumnValues, DType } from "../dtypes.ts";
import { InvalidArgumentError, SchemaMismatchError } from "../errors.ts";
import { DataFrame, type FrameIndex } from "../frame/dataframe.ts";
import { runQuery } from "../query/execute.ts";
import type { Expr } from "../query/expr.ts";
import { type AggSpec, QueryBuilder, type ResampleOptions } from "../query/query-builder.ts";
import type { Library, OnProgress, ReadOptions } from "./library.ts";
import type { ReadResult, VersionedItem } from "./types.ts";
import { checkName, checkOptions, describe } from "./validate.ts";

/** What `collect()` returns: a read's result; after `concat`, also each input's version. */
export interface CollectResult extends ReadResult {
  /**
   * After `concat`: the version each input was read from, in order (without `data`), as ArcticDB's
   * `versions`. Absent for a single symbol.
   */
  versions?: VersionedItem[];
}

/** Where a lazy frame's rows come from before its own clauses run. */
type Source =
  | {
      readonly kind: "read";
      readonly library: Library;
      readonly symbol: string;
      readonly options: ReadOptions & { onProgress?: OnProgress };
    }
  | { readonly kind: "concat"; readonly parts: readonly LazyFrame[] };

const READ_OPTIONS = ["asOf", "dateRange", "rowRange", "columns", "query", "onProgress"];

/**
 * A read not yet made: `lib.lazy(symbol, readOptions)` or `concat([…])`, then clauses chained as on a
 * `QueryBuilder` (each call returns a new `LazyFrame`), then `collect()`. The clauses go into the read's
 * query, so only the columns they name are read and decoded.
 */
export class LazyFrame {
  /** @internal use `lib.lazy(…)` or `concat([…])`. */
  constructor(
    private readonly source: Source,
    /** The clauses chained so far (after the source's own). */
    readonly query: QueryBuilder = new QueryBuilder(),
  ) {}

  /** Keeps the rows where `expr` is true. */
  filter(expr: Expr): LazyFrame {
    return this.chain(this.query.filter(expr));
  }
  /** Adds (or replaces) the column `name` with the values of `expr`. */
  apply(name: string, expr: Expr): LazyFrame {
    return this.chain(this.query.apply(name, expr));
  }
  /** Groups the rows by one key column or several; finish with `.agg(spec)`. */
  groupby(keys: string | readonly string[]): { agg(spec: AggSpec): LazyFrame } {
    const g = this.query.groupby(keys);
    return { agg: (spec) => this.chain(g.agg(spec)) };
  }
  /** Buckets the rows by their timestamp index, as pandas' `resample`; finish with `.agg(spec)`. */
  resample(rule: string, options?: ResampleOptions): { agg(spec: AggSpec): LazyFrame } {
    const r = this.query.resample(rule, options);
    return { agg: (spec) => this.chain(r.agg(spec)) };
  }
  /** Keeps the rows whose timestamp is within `[start, end]` (inclusive; `null` leaves an end open). */
  dateRange(start: Date | string | bigint | null, end: Date | string | bigint | null): LazyFrame {
    return this.chain(this.query.dateRange(start, end));
  }
  /** Keeps rows `[start, end)` by position, as `iloc`. */
  rowRange(start: number | null, end: number | null): LazyFrame {
    return this.chain(this.query.rowRange(start, end));
  }
  /** The first `n` rows. */
  head(n = 5): LazyFrame {
    return this.chain(this.query.head(n));
  }
  /** The last `n` rows. */
  tail(n = 5): LazyFrame {
    return this.chain(this.query.tail(n));
  }

  /**
   * Reads and runs the query: `lib.read(symbol, { ...readOptions, query })` for one symbol; after
   * `concat`, each input is collected, their rows stacked in the order given (as pandas' and ArcticDB's
   * `concat`: not re-sorted; a row-number index is renumbered from 0) and the later clauses run on them.
   * Throws `SchemaMismatchError` when the inputs' columns, dtypes or kinds of index differ.
   */
  async collect(): Promise<CollectResult> {
    const s = this.source;
    if (s.kind === "read") {
      const base = s.options.query;
      const clauses = [...(base?.clauses ?? []), ...this.query.clauses];
      const options = { ...s.options, query: clauses.length ? new QueryBuilder(clauses) : undefined };
      if (options.query === undefined) delete options.query;
      return s.library.read(s.symbol, options);
    }
    const items = await Promise.all(s.parts.map((p) => p.collect()));
    const stacked = stack(items.map((i) => i.data));
    const data = this.query.clauses.length ? runQuery(stacked, this.query) : stacked;
    const versions = items.flatMap((i) => i.versions ?? [withoutData(i)]);
    return {
      symbol: versions.map((v) => v.symbol).join(","),
      library: versions[0]!.library,
      version: -1,
      metadata: undefined,
      timestamp: new Date(Math.max(...versions.map((v) => v.timestamp.getTime()))),
      data,
      versions,
    };
  }

  /** The lazy frame as text: its source and clauses. */
  toString(): string {
    const s = this.source;
    const from =
      s.kind === "read"
        ? `lazy(${JSON.stringify(s.symbol)})`
        : `concat([${s.parts.map((p) => p.toString()).join(", ")}])`;
    return `${from}${this.query.toString().slice("QueryBuilder()".length)}`;
  }

  private chain(query: QueryBuilder): LazyFrame {
    return new LazyFrame(this.source, query);
  }
}

/** `lib.lazy(symbol, options)`: checked now so a typo fails before `collect`. */
export function lazyFrame(
  library: Library,
  symbol: string,
  options?: ReadOptions & { onProgress?: OnProgress },
): LazyFrame {
  checkName("symbol", symbol);
  const opts = checkOptions("lazy", options, READ_OPTIONS);
  if (opts.query !== undefined && !(opts.query instanceof QueryBuilder)) {
    throw new InvalidArgumentError(
      `lazy: query must be a QueryBuilder, got ${describe(opts.query)}; or chain the clauses on the LazyFrame.`,
    );
  }
  return new LazyFrame({ kind: "read", library, symbol, options: { ...opts } });
}

/**
 * One lazy frame of the rows of `frames`, stacked in order when collected, with the same clauses
 * chainable after it. The inputs must have the same columns (names and dtypes) and the same kind of
 * index, else `collect` throws `SchemaMismatchError`.
 */
export function concat(frames: readonly LazyFrame[]): LazyFrame {
  if (!Array.isArray(frames) || frames.length === 0 || frames.some((f) => !(f instanceof LazyFrame))) {
    throw new InvalidArgumentError(
      `concat: give a non-empty array of LazyFrames (from lib.lazy(symbol)), got ${describe(frames)}.`,
    );
  }
  return new LazyFrame({ kind: "concat", parts: Object.freeze([...frames]) });
}

function withoutData(item: ReadResult): VersionedItem {
  const { data: _data, ...rest } = item;
  return rest;
}

/** The frames' rows one after another; the schemas must agree. */
function stack(frames: readonly DataFrame[]): DataFrame {
  const first = frames[0]!;
  const names = first.columnNames;
  frames.forEach((f, i) => {
    const same =
      f.columnNames.length === names.length &&
      names.every((n) => f.columnNames.includes(n) && f.dtype(n) === first.dtype(n));
    if (!same || f.index.kind !== first.index.kind) {
      throw new SchemaMismatchError(
        `concat: input ${i} has ${schemaOf(f)} but input 0 has ${schemaOf(first)}; concat needs one schema.`,
      );
    }
  });
  const numRows = frames.reduce((n, f) => n + f.numRows, 0);
  let index: FrameIndex = { kind: "row", start: 0 };
  if (first.index.kind === "timestamp") {
    const idx = frames.map((f) => f.index as Extract<FrameIndex, { kind: "timestamp" }>);
    const values = joinArrays(idx.map((x) => x.values)) as BigInt64Array;
    // Differing index names give the default name, as ArcticDB gives an unnamed index.
    const name = idx.every((x) => x.name === idx[0]!.name) ? idx[0]!.name : "index";
    const tz = idx.every((x) => x.tz === idx[0]!.tz) ? idx[0]!.tz : undefined;
    index = tz === undefined ? { kind: "timestamp", name, values } : { kind: "timestamp", name, values, tz };
  }
  const columns = names.map((name) => ({
    name,
    dtype: first.dtype(name) as DType,
    values: joinArrays(frames.map((f) => f.column(name))),
  }));
  return DataFrame.fromColumns(columns, index, numRows);
}

function schemaOf(f: DataFrame): string {
  const cols = f.columnNames.map((n) => `${n}: ${f.dtype(n)}`).join(", ");
  return `{ ${cols} } with a ${f.index.kind === "row" ? "row-number" : "timestamp"} index`;
}

function joinArrays(parts: readonly ColumnValues[]): ColumnValues {
  if (parts.length === 1) return parts[0]!;
  if (Array.isArray(parts[0])) return (parts as (string | null)[][]).flat();
  const first = parts[0] as Exclude<ColumnValues, unknown[]>;
  const total = parts.reduce((n, p) => n + p.length, 0);
  const Ctor = first.constructor as new (n: number) => Exclude<ColumnValues, unknown[]>;
  const out = new Ctor(total);
  let at = 0;
  for (const p of parts) {
    (out as unknown as { set(a: ArrayLike<unknown>, o: number): void }).set(p as ArrayLike<unknown>, at);
    at += p.length;
  }
  return out;
}
