import { InvalidArgumentError } from "../errors.ts";
import type { IndexRecord, SegmentRef } from "./records.ts";

/** What a read asks for, already normalised by the API layer. */
export interface ReadRequest {
  /**
   * Rows [start, end) of the stored frame, as pandas' `iloc[start:end]` takes them: a negative bound
   * counts from the end, `null` leaves that end open, bounds past either end are clamped to it, and an
   * end at or before the start selects no rows (see `resolveRowRange`).
   */
  rowRange?: [number | null, number | null];
  /** Column names to return, in this order; all when absent. */
  columns?: string[];
  /** Timestamps [start, end] in ns, inclusive, `null` for an open end; needs a sorted timestamp index. */
  dateRange?: [bigint | null, bigint | null];
  /** Leave out the timestamp index (a worker decoding some columns while another decodes the index). */
  withoutIndex?: boolean;
  /** Give string columns their dictionary codes (string-codes.ts), for a query to group and compare by. */
  codes?: boolean;
  /** String columns wanted only as codes (a groupby's keys): returned as empty arrays carrying codes. */
  codesOnly?: string[];
}

/** The segments a read must fetch, and which of their rows land where in the result. */
export interface ReadPlan {
  rowStart: number;
  rows: number;
  /** Indices into `index.columns` of the columns to return, in result order. */
  columns: number[];
  /** Per segment: which rows of it [from, to) land at result row `outRow`. */
  pieces: { segment: SegmentRef; from: number; to: number; outRow: number }[];
  /** Result rows [outRow, outRow + rows) of `column` that no segment holds (dynamic schema): missing values. */
  gaps: { column: number; outRow: number; rows: number }[];
}

/**
 * The rows [start, end) of a frame of `rows` rows that `range` selects, with `iloc`'s rules (ArcticDB's
 * `row_range` follows them, test_row_range.py): a negative bound counts back from the end, `null` or an
 * absent range is an open end, each bound is clamped to [0, rows], and an end before the start gives no
 * rows (start = end), never an error.
 */
export function resolveRowRange(
  range: [number | null, number | null] | undefined,
  rows: number,
): [number, number] {
  const at = (bound: number | null | undefined, open: number) =>
    bound === null || bound === undefined
      ? open
      : Math.max(0, Math.min(bound < 0 ? rows + bound : bound, rows));
  const start = at(range?.[0], 0);
  return [start, Math.max(start, at(range?.[1], rows))];
}

/** Indices into `index.columns` of the columns a segment holds. */
export function segmentColumns(seg: SegmentRef, where: Map<string, number>): number[] {
  if (!seg.names) return Array.from({ length: seg.cols }, (_, i) => seg.colStart + i);
  return seg.names.map((name) => where.get(name)).filter((i): i is number => i !== undefined);
}

/**
 * Indices into `index.columns` of the columns `names` asks for, in that order; all columns when `names`
 * is absent. An unknown name is refused with the stored columns listed.
 */
export function columnPositions(index: IndexRecord, names?: string[]): number[] {
  if (!names) return index.columns.map((_, i) => i);
  const where = new Map(index.columns.map((c, i) => [c.name, i]));
  return names.map((name) => {
    const i = where.get(name);
    if (i === undefined) {
      throw new InvalidArgumentError(
        `column '${name}' is not stored; the stored columns are ${index.columns.map((c) => `'${c.name}'`).join(", ") || "(none)"}`,
      );
    }
    return i;
  });
}

/**
 * Plans a read from a version's index: keeps only the segments whose rows overlap the requested range
 * and whose column slice holds a requested column, so a narrow read fetches and decodes little.
 */
export function planRead(index: IndexRecord, request: ReadRequest): ReadPlan {
  const [start, end] = resolveRowRange(request.rowRange, index.rows);
  const where = new Map(index.columns.map((c, i) => [c.name, i]));
  const columns = columnPositions(index, request.columns);
  const wanted = new Set(columns);
  const pieces: ReadPlan["pieces"] = [];
  // Per row slice (keyed by its first row), the wanted columns its tiles hold, to find gaps.
  const held = new Map<number, { outRow: number; rows: number; columns: Set<number> }>();
  // The index column lives in every tile; take it from the first tile of each row slice that is fetched.
  const needIndex = index.index.kind === "timestamp";
  for (const seg of index.segments) {
    const segEnd = seg.rowStart + seg.rows;
    if (seg.rows > 0 && (segEnd <= start || seg.rowStart >= end)) continue;
    const from = Math.max(start, seg.rowStart) - seg.rowStart;
    const to = Math.min(end, segEnd) - seg.rowStart;
    const outRow = seg.rowStart + from - start;
    const cols = segmentColumns(seg, where).filter((c) => wanted.has(c));
    let slice = held.get(seg.rowStart);
    if (!slice) {
      slice = { outRow, rows: to - from, columns: new Set() };
      held.set(seg.rowStart, slice);
    }
    for (const c of cols) slice.columns.add(c);
    if (cols.length === 0 && !(needIndex && columns.length === 0 && seg.colStart === 0)) continue;
    pieces.push({ segment: seg, from, to, outRow });
  }
  const gaps: ReadPlan["gaps"] = [];
  for (const slice of held.values()) {
    if (slice.columns.size === columns.length || slice.rows === 0) continue;
    for (const c of columns)
      if (!slice.columns.has(c)) gaps.push({ column: c, outRow: slice.outRow, rows: slice.rows });
  }
  return { rowStart: start, rows: end - start, columns, pieces, gaps };
}

/** True when `seg` may hold rows of [from, to) for `planRead` (a segment of no rows always may). */
export function overlapsRows(seg: SegmentRef, from: number, to: number): boolean {
  return seg.rows === 0 || (seg.rowStart < to && seg.rowStart + seg.rows > from);
}

/**
 * `index` with only the segments that may hold rows of [from, to): what a worker job reading those rows
 * needs, so it does not carry (and clone) the whole index.
 */
export function indexForRows(index: IndexRecord, from: number, to: number): IndexRecord {
  return { ...index, segments: index.segments.filter((seg) => overlapsRows(seg, from, to)) };
}

/**
 * The chunks of a version, in index order: row ranges [start, end) of about `chunkRows` rows each, cut
 * at the version's segment boundaries where they fall inside (a segment bigger than a chunk is cut into
 * chunks of exactly `chunkRows`), so a chunk reads whole segments where it can.
 */
export function chunkRanges(
  index: IndexRecord,
  [start, end]: [number, number],
  chunkRows: number,
): [number, number][] {
  const bounds = [...new Set(index.segments.filter((s) => s.rows > 0).map((s) => s.rowStart + s.rows))].sort(
    (a, b) => a - b,
  );
  const out: [number, number][] = [];
  let from = start;
  let b = 0;
  while (from < end) {
    while (b < bounds.length && bounds[b] <= from) b++;
    // The furthest segment end at most chunkRows on; without one, exactly chunkRows.
    let to = Math.min(end, from + chunkRows);
    let best = -1;
    for (let i = b; i < bounds.length && bounds[i] <= from + chunkRows; i++) best = bounds[i];
    if (best > from && best < to) to = best;
    out.push([from, to]);
    from = to;
  }
  return out;
}
