/**
 * Skipping by statistics: which row slices of a stored frame may hold a row that passes a query's
 * leading filters, judged from its index record alone (each tile's min/max per column, index format 2,
 * and each row slice's first/last timestamp). A slice is skipped only when that is proved: every
 * expression is evaluated over intervals in three values (some row may be true, some row may be false),
 * following evaluate.ts's rules exactly (which literals compare as doubles and which as bigints, NaN/NaT
 * and null false in every comparison but `ne`), and whatever it cannot bound counts as "maybe".
 */
import { DTYPES, type DType } from "../dtypes.ts";
import { DataFrame, type FrameIndex } from "../frame/dataframe.ts";
import { MAX_NANOS, MIN_NANOS, NAT, toNanos } from "../frame/timestamps.ts";
import type { IndexRecord, SegmentRef } from "../version/records.ts";
import { runQuery } from "./execute.ts";
import type { CompareOp, ExprNode, ScalarValue } from "./expr.ts";
import { type Clause, QueryBuilder } from "./query-builder.ts";

/** What `prunedRowRanges` found: the rows worth reading, and how many row slices it skipped. */
export interface PrunedRows {
  /** Rows `[start, end)` of the stored frame that may pass, in row order, adjacent ranges merged. */
  keep: [number, number][];
  /** Row slices (rows stored together, split by columns into tiles) proved to hold no passing row. */
  skipped: number;
  /** Row slices of the frame (with rows). */
  total: number;
}

/**
 * The row ranges of the frame `index` describes that may hold rows passing `query`'s leading row
 * filters: its `filter`, `apply` and `dateRange` clauses before the first `rowRange`, `head`, `tail`,
 * `groupby` or `resample` (rows a leading filter drops are dropped whatever comes next; after a
 * positional clause they are not, so nothing later counts). A filter on a column an earlier `apply`
 * made or replaced learns nothing about it. `null` when no row slice can be skipped: no leading filter,
 * an index without statistics (format 1) or without bounds that exclude anything, or a query that does
 * not fit the schema (its evaluation will report that). Rows outside `keep` hold no row of the answer,
 * so a reader may leave their segments unfetched; the query must still run on the rows it reads.
 */
export function prunedRowRanges(query: QueryBuilder, index: IndexRecord): PrunedRows | null {
  const leading = leadingClauses(query);
  if (!leading.some((c) => c.kind === "filter" || c.kind === "dateRange")) return null;
  if (index.rows === 0 || !fitsSchema(leading, index)) return null;
  const tests = rowTests(leading, index);
  const slices = rowSlices(index);
  const keep: [number, number][] = [];
  let skipped = 0;
  for (const slice of slices) {
    if (!tests.every((mayPass) => mayPass(slice))) {
      skipped++;
      continue;
    }
    const last = keep.at(-1);
    if (last && last[1] === slice.start) last[1] = slice.start + slice.rows;
    else keep.push([slice.start, slice.start + slice.rows]);
  }
  return skipped === 0 ? null : { keep, skipped, total: slices.length };
}

/** Rows stored together: the tiles (one per column range) of rows [start, start + rows). */
interface Slice {
  start: number;
  rows: number;
  tiles: SegmentRef[];
}

/** Some row may make it true (`t`); some row may make it false (`f`). */
interface Tri {
  t: boolean;
  f: boolean;
}

const MAYBE: Tri = { t: true, f: true };
const NEVER: Tri = { t: false, f: true };
const ALWAYS: Tri = { t: true, f: false };

/** What is known of a column's values in a slice: nothing, all missing (NaN/NaT), or bounds. */
type Bounds =
  | { readonly kind: "unknown" }
  | { readonly kind: "missing" }
  | { readonly kind: "range"; readonly lo: number | bigint; readonly hi: number | bigint };

const UNKNOWN: Bounds = { kind: "unknown" };

function leadingClauses(query: QueryBuilder): Clause[] {
  const out: Clause[] = [];
  for (const c of query.clauses) {
    if (c.kind !== "filter" && c.kind !== "apply" && c.kind !== "dateRange") break;
    out.push(c);
  }
  return out;
}

/**
 * True when the leading clauses run on an empty frame of the index's schema: a query that names an
 * unknown column or compares mismatched types fails on its evaluation, and skipping every segment must
 * not turn that error into an empty answer.
 */
function fitsSchema(leading: Clause[], index: IndexRecord): boolean {
  const frameIndex: FrameIndex =
    index.index.kind === "timestamp"
      ? { kind: "timestamp", name: index.index.name, values: new BigInt64Array(0) }
      : { kind: "row", start: 0 };
  const columns = index.columns.map(({ name, dtype }) => {
    const array = DTYPES[dtype].array;
    return { name, dtype, values: array ? new array(0) : [] };
  });
  try {
    runQuery(DataFrame.fromColumns(columns, frameIndex, 0), new QueryBuilder(leading));
    return true;
  } catch {
    return false;
  }
}

/** The index's tiles with rows, grouped by row slice, in row order. */
function rowSlices(index: IndexRecord): Slice[] {
  const byStart = new Map<number, Slice>();
  for (const seg of index.segments) {
    if (seg.rows === 0) continue;
    const slice = byStart.get(seg.rowStart);
    if (slice) {
      slice.rows = Math.max(slice.rows, seg.rows);
      slice.tiles.push(seg);
    } else byStart.set(seg.rowStart, { start: seg.rowStart, rows: seg.rows, tiles: [seg] });
  }
  return [...byStart.values()].sort((a, b) => a.start - b.start);
}

/** One test per leading filter or date range: false when a slice certainly holds no row passing it. */
function rowTests(leading: Clause[], index: IndexRecord): ((slice: Slice) => boolean)[] {
  const where = new Map(index.columns.map((c, i) => [c.name, i]));
  const made = new Set<string>();
  const tests: ((slice: Slice) => boolean)[] = [];
  for (const c of leading) {
    if (c.kind === "apply") made.add(c.name);
    else if (c.kind === "dateRange") {
      const lo = c.start ?? MIN_NANOS;
      const hi = c.end ?? MAX_NANOS;
      tests.push((slice) => {
        const b = indexBounds(slice, index);
        return b.kind !== "range" || (b.hi >= lo && b.lo <= hi);
      });
    } else if (c.kind === "filter") {
      const shadowed = new Set(made);
      const bounds = (slice: Slice, name: string): { dtype: DType; bounds: Bounds } | undefined => {
        if (shadowed.has(name)) return undefined;
        const i = where.get(name);
        if (i !== undefined) return { dtype: index.columns[i].dtype, bounds: columnBounds(slice, name, i) };
        if (index.index.kind === "timestamp" && index.index.name === name)
          return { dtype: "timestamp", bounds: indexBounds(slice, index) };
        return undefined;
      };
      tests.push((slice) => tri(c.expr, (name) => bounds(slice, name)).t);
    }
  }
  return tests;
}

/**
 * The bounds of data column `name` (at `position` in the index's columns) in `slice`, from the tile
 * that holds it. A tile without statistics, or no tile holding it (a column added later under dynamic
 * schema reads as filled-in values), tells nothing.
 */
function columnBounds(slice: Slice, name: string, position: number): Bounds {
  for (const tile of slice.tiles) {
    const at = tile.names
      ? tile.names.indexOf(name)
      : position >= tile.colStart && position < tile.colStart + tile.cols
        ? position - tile.colStart
        : -1;
    if (at < 0) continue;
    if (!tile.min || !tile.max) return UNKNOWN;
    const lo = tile.min[at];
    const hi = tile.max[at];
    if (lo === undefined || hi === undefined) return UNKNOWN;
    // null: no value but NaN/NaT (for a bool or string column the tests of the dtype say "maybe").
    if (lo === null || hi === null) return { kind: "missing" };
    return { kind: "range", lo, hi };
  }
  return UNKNOWN;
}

/** The timestamp index's bounds in `slice`: its first and last timestamp, when the index is sorted. */
function indexBounds(slice: Slice, index: IndexRecord): Bounds {
  if (index.index.kind !== "timestamp" || !index.index.sorted) return UNKNOWN;
  const tile = slice.tiles.find((t) => t.first !== undefined && t.last !== undefined);
  if (!tile) return UNKNOWN;
  return { kind: "range", lo: BigInt(tile.first as bigint), hi: BigInt(tile.last as bigint) };
}

type Lookup = (name: string) => { dtype: DType; bounds: Bounds } | undefined;

/** Three-valued evaluation of a boolean expression over a slice. */
function tri(node: ExprNode, lookup: Lookup): Tri {
  switch (node.op) {
    case "lit":
      return typeof node.value === "boolean" ? (node.value ? ALWAYS : NEVER) : MAYBE;
    case "and": {
      const a = tri(node.left, lookup);
      const b = tri(node.right, lookup);
      return { t: a.t && b.t, f: a.f || b.f };
    }
    case "or": {
      const a = tri(node.left, lookup);
      const b = tri(node.right, lookup);
      return { t: a.t || b.t, f: a.f && b.f };
    }
    case "xor": {
      const a = tri(node.left, lookup);
      const b = tri(node.right, lookup);
      return { t: (a.t && b.f) || (a.f && b.t), f: (a.t && b.t) || (a.f && b.f) };
    }
    case "not": {
      const a = tri(node.arg, lookup);
      return { t: a.f, f: a.t };
    }
    case "gt":
    case "ge":
    case "lt":
    case "le":
    case "eq":
    case "ne": {
      if (node.left.op === "col" && node.right.op === "lit") {
        return compareColumn(node.op, lookup(node.left.name), node.right);
      }
      if (node.left.op === "lit" && node.right.op === "col") {
        return compareColumn(FLIPPED[node.op], lookup(node.right.name), node.left);
      }
      return MAYBE;
    }
    case "isin":
      return node.arg.op === "col" ? isin(lookup(node.arg.name), node.values) : MAYBE;
    default:
      return MAYBE;
  }
}

/** `lit op col` as `col FLIPPED[op] lit`. */
const FLIPPED: Record<CompareOp, CompareOp> = { gt: "lt", ge: "le", lt: "gt", le: "ge", eq: "eq", ne: "ne" };

/**
 * `column op literal` over a slice. The literal is brought into the domain evaluate.ts compares in
 * (doubles, or bigints for 64-bit integers beside an integer), and so are the column's bounds: both
 * conversions are monotone, so the converted bounds still bound every converted value.
 */
function compareColumn(
  op: CompareOp,
  column: { dtype: DType; bounds: Bounds } | undefined,
  literal: { value: ScalarValue; timestamp: boolean },
): Tri {
  if (!column) return MAYBE;
  // pandas: a comparison with None is false everywhere, != None true everywhere.
  if (literal.value === null) return op === "ne" ? ALWAYS : NEVER;
  const domain = comparedAs(column.dtype, literal);
  if (!domain) return MAYBE;
  const { value: x, convert } = domain;
  const { dtype, bounds: b } = column;
  // A NaN or NaT literal: every comparison false, `ne` true.
  if ((dtype === "timestamp" && x === NAT) || (typeof x === "number" && Number.isNaN(x))) {
    return op === "ne" ? ALWAYS : NEVER;
  }
  if (b.kind === "unknown") return MAYBE;
  if (b.kind === "missing") return domain.missing ? (op === "ne" ? ALWAYS : NEVER) : MAYBE;
  const lo = convert(b.lo);
  const hi = convert(b.hi);
  if (lo === undefined || hi === undefined) return MAYBE;
  let t: boolean;
  let f: boolean;
  switch (op) {
    case "gt":
      [t, f] = [hi > x, lo <= x];
      break;
    case "ge":
      [t, f] = [hi >= x, lo < x];
      break;
    case "lt":
      [t, f] = [lo < x, hi >= x];
      break;
    case "le":
      [t, f] = [lo <= x, hi > x];
      break;
    case "eq":
      [t, f] = [lo <= x && x <= hi, !(lo === x && hi === x)];
      break;
    case "ne":
      [t, f] = [!(lo === x && hi === x), lo <= x && x <= hi];
      break;
  }
  // A NaN or NaT the statistics leave out is false in every comparison but `ne`, where it is true.
  if (domain.missing) {
    if (op === "ne") t = true;
    else f = true;
  }
  return { t, f };
}

/**
 * How evaluate.ts compares a column of `dtype` with `literal`: the literal's value there, how to
 * convert a bound (undefined when it cannot be), and whether the column may hold NaN/NaT. Undefined
 * where it would not compare them at all (then fitsSchema has already declined).
 */
function comparedAs(
  dtype: DType,
  literal: { value: ScalarValue; timestamp: boolean },
):
  | { value: number | bigint; convert: (v: number | bigint) => number | bigint | undefined; missing: boolean }
  | undefined {
  const v = literal.value;
  if (dtype === "timestamp") {
    const ns = nanosOf(v);
    return ns === undefined ? undefined : { value: ns, convert: toBig, missing: true };
  }
  if (dtype === "bool" || dtype === "string" || literal.timestamp) return undefined;
  if (typeof v !== "number" && typeof v !== "bigint" && typeof v !== "boolean") return undefined;
  const floatColumn = dtype === "float32" || dtype === "float64";
  const floatLiteral = typeof v === "number" && !Number.isSafeInteger(v);
  const literalFits = typeof v !== "bigint" || Number.isSafeInteger(Number(v));
  if (floatColumn || floatLiteral || (!DTYPES[dtype].bigint && literalFits)) {
    return { value: Number(v), convert: Number, missing: floatColumn };
  }
  return { value: BigInt(v), convert: toBig, missing: false };
}

/** A bound as a bigint (integers only: a fraction here means a damaged record, which tells nothing). */
function toBig(v: number | bigint): bigint | undefined {
  if (typeof v === "bigint") return v;
  return Number.isSafeInteger(v) ? BigInt(v) : undefined;
}

/** A timestamp literal (a bigint, a Date already made one, or an ISO string) as ns; undefined if none. */
function nanosOf(v: ScalarValue): bigint | undefined {
  if (typeof v === "bigint") return v;
  if (typeof v !== "string") return undefined;
  try {
    return toNanos(v, "prune");
  } catch {
    return undefined;
  }
}

/**
 * `column.isin(values)` over a slice, as evaluate.ts matches them: doubles where the column's values fit
 * one, else bigints (a fraction then matches nothing); NaN in the list matches a float column's NaN and
 * null a timestamp's NaT, which the bounds leave out, so those lists say "maybe".
 */
function isin(column: { dtype: DType; bounds: Bounds } | undefined, values: readonly ScalarValue[]): Tri {
  if (!column) return MAYBE;
  const { dtype, bounds } = column;
  if (dtype === "bool" || dtype === "string") return MAYBE;
  const members: (number | bigint)[] = [];
  let convert: (v: number | bigint) => number | bigint | undefined = toBig;
  if (dtype === "timestamp") {
    for (const x of values) {
      const ns = x === null ? NAT : nanosOf(x);
      if (ns === undefined || ns === NAT) return MAYBE;
      members.push(ns);
    }
  } else {
    const floatColumn = dtype === "float32" || dtype === "float64";
    const exact = !DTYPES[dtype].bigint;
    if (exact) convert = Number;
    for (const x of values) {
      if (x === null) continue; // a number is never null
      if (typeof x !== "number" && typeof x !== "bigint" && typeof x !== "boolean") return MAYBE;
      const num = typeof x === "boolean" ? Number(x) : x;
      if (exact) {
        const d = Number(num);
        if (Number.isNaN(d)) {
          if (floatColumn) return MAYBE;
          continue;
        }
        members.push(d);
      } else if (typeof num === "bigint") members.push(num);
      else if (Number.isInteger(num)) members.push(BigInt(num));
    }
  }
  if (bounds.kind === "unknown") return MAYBE;
  if (bounds.kind === "missing") return dtype === "timestamp" || dtype.startsWith("float") ? NEVER : MAYBE;
  const lo = convert(bounds.lo);
  const hi = convert(bounds.hi);
  if (lo === undefined || hi === undefined) return MAYBE;
  return { t: members.some((m) => lo <= m && m <= hi), f: true };
}
