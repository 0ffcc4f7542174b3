import type { AsOf, Library, ReadOptions } from "../api/index.ts";
import { DataFrame, InvalidArgumentError, UnsortedIndexError } from "../api/index.ts";
import { checkInteger, checkOptions, describe } from "../api/validate.ts";
import { toNanos } from "../frame/timestamps.ts";
import { firstAtOrAfter } from "../version/search.ts";
import { type OnTransferProgress, TransferMeter } from "./progress.ts";

/** Options every export takes: which version, rows and columns to write out. */
export interface ExportOptions {
  /** The version to export (see `Library.read`); the latest by default. */
  asOf?: AsOf;
  /** Only rows whose timestamps lie in this inclusive range (`null` leaves an end open). */
  dateRange?: ReadOptions["dateRange"];
  /** Only these columns, in this order (the index always comes along). */
  columns?: string[];
  /** Rows read from the store at a time (default 100,000); bounds memory. */
  chunkRows?: number;
  /** Called after each chunk with the bytes written and rows done of the symbol's rows. */
  onProgress?: OnTransferProgress;
}

export const EXPORT_KEYS = ["asOf", "dateRange", "columns", "chunkRows", "onProgress"] as const;

/** What an export reads: the frames, in order, and the meter counting them. */
export interface ExportChunks {
  frames: AsyncGenerator<DataFrame>;
  meter: TransferMeter;
  /** Rows per frame (the last may have fewer). */
  chunkRows: number;
}

/**
 * Reads a version of `symbol` as a sequence of frames of at most `chunkRows` rows, all from the one
 * version resolved when the export starts (a writer adding versions meanwhile changes nothing). A
 * `dateRange` keeps the rows inside it; chunks wholly before it are read and dropped, and reading stops
 * after it.
 */
export async function exportChunks(
  call: string,
  lib: Library,
  symbol: string,
  options: ExportOptions | undefined,
  extraKeys: readonly string[] = [],
): Promise<ExportChunks> {
  const opts = checkOptions(call, options, [...EXPORT_KEYS, ...extraKeys]);
  const chunkRows =
    opts.chunkRows === undefined ? 100_000 : checkInteger(`${call}: chunkRows`, opts.chunkRows, 1);
  if (opts.onProgress !== undefined && typeof opts.onProgress !== "function") {
    throw new InvalidArgumentError(
      `${call}: onProgress must be a function, got ${describe(opts.onProgress)}.`,
    );
  }
  const desc = await lib.getDescription(symbol, opts.asOf === undefined ? undefined : { asOf: opts.asOf });
  let range: [bigint | null, bigint | null] | undefined;
  if (opts.dateRange !== undefined) {
    if (!Array.isArray(opts.dateRange) || opts.dateRange.length !== 2) {
      throw new InvalidArgumentError(
        `${call}: dateRange must be [start, end] (each a Date, ISO string, ns bigint or null), got ${describe(opts.dateRange)}.`,
      );
    }
    if (desc.index.kind !== "timestamp") {
      throw new InvalidArgumentError(
        `${call}: '${symbol}' has a row-number index, so dateRange does not apply; export it whole.`,
      );
    }
    if (!desc.index.sorted) {
      throw new UnsortedIndexError(
        `${call}: '${symbol}' has unsorted timestamps, so a dateRange cannot be cut from it; export it whole.`,
      );
    }
    range = [
      opts.dateRange[0] == null ? null : toNanos(opts.dateRange[0], `${call}: dateRange start`),
      opts.dateRange[1] == null ? null : toNanos(opts.dateRange[1], `${call}: dateRange end`),
    ];
  }
  const meter = new TransferMeter(opts.onProgress, { rows: range ? undefined : desc.rowCount });
  const version = desc.version;
  const columns = opts.columns;
  async function* frames(): AsyncGenerator<DataFrame> {
    let yielded = false;
    for (let start = 0; start < desc.rowCount || !yielded; start += chunkRows) {
      const end = Math.min(start + chunkRows, desc.rowCount);
      const read = { asOf: version, rowRange: [start, end] as [number, number], columns };
      let frame = (await lib.read(symbol, read)).data!;
      if (range) {
        const cut = cutRange(frame, range);
        if (cut === "after") {
          if (!yielded) yield emptyLike(frame);
          return;
        }
        frame = cut === "before" ? emptyLike(frame) : cut;
        if (frame.numRows === 0 && yielded && end < desc.rowCount) continue;
      }
      yielded = true;
      yield frame;
      if (end >= desc.rowCount) return;
    }
  }
  return { frames: frames(), meter, chunkRows };
}

/** The rows of `frame` (sorted by time) inside `range`, or where the whole frame lies relative to it. */
function cutRange(frame: DataFrame, range: [bigint | null, bigint | null]): DataFrame | "before" | "after" {
  const index = frame.index;
  if (index.kind !== "timestamp") return frame;
  const ts = index.values;
  const n = ts.length;
  const [lo, hi] = range;
  if (n > 0 && lo !== null && ts[n - 1] < lo) return "before";
  if (n > 0 && hi !== null && ts[0] > hi) return "after";
  const from = lo === null ? 0 : firstAtOrAfter(ts, lo);
  const to = hi === null ? n : firstAtOrAfter(ts, hi + 1n);
  return from === 0 && to === n ? frame : sliceFrame(frame, from, to);
}

/** Rows [from, to) of `frame`, sharing its arrays. */
export function sliceFrame(frame: DataFrame, from: number, to: number): DataFrame {
  const columns = frame.columnNames.map((name) => {
    const values = frame.column(name);
    return {
      name,
      dtype: frame.dtypes[name],
      values: ArrayBuffer.isView(values) ? values.subarray(from, to) : values.slice(from, to),
    };
  });
  const index = frame.index;
  const sliced =
    index.kind === "timestamp"
      ? { kind: "timestamp" as const, name: index.name, values: index.values.subarray(from, to) }
      : { kind: "row" as const, start: index.start + from };
  return DataFrame.fromColumns(columns, sliced, to - from);
}

function emptyLike(frame: DataFrame): DataFrame {
  return sliceFrame(frame, 0, 0);
}
