import type { DType } from "../dtypes.ts";
import { InvalidArgumentError, SchemaMismatchError, UnsortedIndexError } from "../errors.ts";
import type { FrameData } from "./frame-data.ts";
import { INDEX_FORMAT, type IndexRecord, isNoData, type SegmentRef } from "./records.ts";
import { firstAtOrAfter } from "./search.ts";
import { sliceRows } from "./tiling.ts";
import { unionColumns } from "./widen.ts";

/** What an append must agree with the stored frame on: index kind and name, columns, first timestamp. */
export interface AppendShape {
  columns: readonly { name: string; dtype: DType }[];
  index: { kind: "row" } | { kind: "timestamp"; name: string };
  /** The first new timestamp, when there are rows and a timestamp index. */
  first?: bigint;
  /** False when the new rows' timestamps are out of order. */
  sorted: boolean;
}

/** The shape of a frame about to be appended. */
export function frameShape(frame: FrameData): AppendShape {
  return {
    columns: frame.columns,
    index: frame.index.kind === "timestamp" ? { kind: "timestamp", name: frame.index.name } : { kind: "row" },
    first: frame.index.kind === "timestamp" && frame.numRows > 0 ? frame.index.values[0] : undefined,
    sorted: frame.index.kind !== "timestamp" || isSorted(frame.index.values),
  };
}

/** The shape of a stored (or staged) frame, as the next thing appended after another. */
export function indexShape(index: IndexRecord): AppendShape {
  return {
    columns: index.columns,
    index: index.index.kind === "timestamp" ? { kind: "timestamp", name: index.index.name } : { kind: "row" },
    first: index.segments.find((s) => s.rows > 0)?.first,
    sorted: index.index.kind !== "timestamp" || index.index.sorted,
  };
}

/** The last stored timestamp, if any. */
export function lastTimestamp(index: IndexRecord): bigint | undefined {
  for (let i = index.segments.length - 1; i >= 0; i--) {
    if (index.segments[i].rows > 0) return index.segments[i].last;
  }
  return undefined;
}

/**
 * Checks that rows of `next` can follow `stored`: same kind and name of index; the same columns with the
 * same dtypes in the same order, or under `dynamic` schema any columns whose dtypes widen; and (for
 * timestamps) no new row before the last stored one.
 */
export function checkAppendable(
  symbol: string,
  stored: IndexRecord,
  next: AppendShape,
  dynamic: boolean,
): void {
  // A version without data (writeMetadata of a new symbol) takes any first rows, as long as they are sorted.
  if (isNoData(stored)) {
    if (!next.sorted) throw unsortedAppend(symbol);
    return;
  }
  const storedIndex =
    stored.index.kind === "timestamp" ? `timestamp index '${stored.index.name}'` : "row-number index";
  const newIndex =
    next.index.kind === "timestamp" ? `timestamp index '${next.index.name}'` : "row-number index";
  if (storedIndex !== newIndex) {
    throw new SchemaMismatchError(
      `Cannot append to '${symbol}': it has a ${storedIndex} but the new data has a ${newIndex}. ` +
        "Give the new rows the same kind of index.",
    );
  }
  if (dynamic) {
    unionColumns(symbol, stored.columns, next.columns);
  } else {
    const want = schemaOf(stored.columns);
    const got = schemaOf(next.columns);
    if (want !== got) {
      throw new SchemaMismatchError(
        `Cannot append to '${symbol}': stored columns are (${want}) but the new data has (${got}). ` +
          "Match the names, order and dtypes, write a new version with write(), or create the library with dynamicSchema: true.",
      );
    }
  }
  if (!next.sorted) throw unsortedAppend(symbol);
  const lastStored = lastTimestamp(stored);
  if (next.first !== undefined && lastStored !== undefined && next.first < lastStored) {
    throw new UnsortedIndexError(
      `Cannot append to '${symbol}': the new rows start at ${next.first} ns, before the last stored row ` +
        `(${lastStored} ns). Append only rows at or after the end, or use update() to replace a range.`,
    );
  }
}

function unsortedAppend(symbol: string): UnsortedIndexError {
  return new UnsortedIndexError(
    `Cannot append to '${symbol}': the new rows' timestamps are not in ascending order. Sort them first ` +
      "(or stage them and use sortAndFinalizeStagedData).",
  );
}

/**
 * The index of `prior`'s rows followed by `added`'s (whose segments are already stored). Under dynamic
 * schema the columns become the union and each added segment records the names it holds, since its
 * column positions no longer match the frame's.
 */
export function appendIndex(
  symbol: string,
  prior: IndexRecord,
  added: IndexRecord,
  dynamic: boolean,
): IndexRecord {
  checkAppendable(symbol, prior, indexShape(added), dynamic);
  if (isNoData(prior)) return added;
  const columns = dynamic ? unionColumns(symbol, prior.columns, added.columns) : prior.columns;
  const moved = added.segments.map((s): SegmentRef => {
    const seg = { ...s, rowStart: s.rowStart + prior.rows };
    if (dynamic && !s.names)
      seg.names = added.columns.slice(s.colStart, s.colStart + s.cols).map((c) => c.name);
    return seg;
  });
  const combined: IndexRecord = {
    ...prior,
    // Written now, so in this floe's format (the prior's tiles may lack statistics, which format 2 allows).
    f: INDEX_FORMAT,
    columns,
    rows: prior.rows + added.rows,
    index:
      prior.index.kind === "timestamp" && added.index.kind === "timestamp"
        ? { ...prior.index, sorted: prior.index.sorted && added.index.sorted }
        : prior.index,
    segments: [...prior.segments, ...moved],
  };
  // Zero-row tiles only carry the schema of an empty frame; drop them once there are rows.
  if (combined.rows > 0) combined.segments = combined.segments.filter((s) => s.rows > 0);
  return combined;
}

/** Column names and dtypes in order, as error messages show them and schema checks compare them. */
export function schemaOf(columns: readonly { name: string; dtype: string }[]): string {
  return columns.map((c) => `${c.name}: ${c.dtype}`).join(", ");
}

/**
 * `data` may replace rows of `stored` in `range`: the same index, the same schema (or, under `dynamic`
 * schema, one that widens with it), sorted, and inside the range.
 */
export function checkReplaceable(
  symbol: string,
  stored: IndexRecord,
  data: FrameData,
  range: [bigint | null, bigint | null],
  dynamic: boolean,
): void {
  const want = schemaOf(stored.columns);
  const got = schemaOf(data.columns);
  const sameIndex =
    stored.index.kind === "timestamp" &&
    data.index.kind === "timestamp" &&
    stored.index.name === data.index.name;
  if (!sameIndex || (!dynamic && want !== got)) {
    throw new SchemaMismatchError(
      `Cannot update '${symbol}': stored columns are (${want}) with index '${stored.index.kind === "timestamp" ? stored.index.name : "row number"}', ` +
        `but the new data has (${got}). Match names, order, dtypes and the index name, or write a new version.`,
    );
  }
  if (dynamic) unionColumns(symbol, stored.columns, data.columns);
  if (data.index.kind !== "timestamp") return;
  const values = data.index.values;
  if (!isSorted(values)) {
    throw new UnsortedIndexError(
      `Cannot update '${symbol}': the new rows' timestamps are not in order; sort them first.`,
    );
  }
  const [start, end] = range;
  if (
    values.length > 0 &&
    ((start !== null && values[0] < start) || (end !== null && values[values.length - 1] > end))
  ) {
    throw new InvalidArgumentError(
      `Cannot update '${symbol}': the new rows run from ${values[0]} to ${values[values.length - 1]} ns, outside dateRange; ` +
        "widen dateRange or drop those rows.",
    );
  }
}

/**
 * The rows of `frame` whose timestamps lie in `range` (inclusive, `null` for an open end), as views:
 * ArcticDB's update with a date range writes only the new rows inside it. A frame whose timestamps are
 * out of order comes back whole, for `checkReplaceable` to refuse.
 */
export function rowsInRange(frame: FrameData, [start, end]: [bigint | null, bigint | null]): FrameData {
  if (frame.index.kind !== "timestamp" || !isSorted(frame.index.values)) return frame;
  const values = frame.index.values;
  const from = start === null ? 0 : firstAtOrAfter(values, start);
  const to = end === null ? values.length : firstAtOrAfter(values, end + 1n);
  if (from === 0 && to === values.length) return frame;
  return {
    numRows: to - from,
    columns: frame.columns.map((c) => ({ ...c, values: sliceRows(c.values, from, to) })),
    index: { ...frame.index, values: values.subarray(from, to) },
  };
}

/**
 * A frame written as a version must have its timestamps in ascending order (equal ones allowed), as
 * ArcticDB's write refuses unsorted data (`validate_index`, `UnsortedDataException`): date-range reads,
 * appends and updates all rely on it. Staged chunks are exempt; `sortAndFinalizeStagedData` sorts them.
 */
export function checkSortedWrite(symbol: string, frame: FrameData): void {
  if (frame.index.kind !== "timestamp") return;
  const values = frame.index.values;
  for (let i = 1; i < values.length; i++) {
    if (values[i] < values[i - 1]) {
      throw new UnsortedIndexError(
        `Cannot write '${symbol}': its timestamps are not in ascending order (row ${i} is before row ${i - 1}). ` +
          "Sort the frame by its index first, or stage it with write(symbol, data, { staged: true }) and " +
          "call sortAndFinalizeStagedData(symbol).",
      );
    }
  }
}

export function isSorted(values: BigInt64Array): boolean {
  for (let i = 1; i < values.length; i++) if (values[i] < values[i - 1]) return false;
  return true;
}
