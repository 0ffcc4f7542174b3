import { Parser } from "csv-parse";
import type { Library } from "../api/index.ts";
import { DataFrame, FloeError, InvalidArgumentError } from "../api/index.ts";
import { checkName, checkOptions, describe } from "../api/validate.ts";
import { type ColumnValues, DTYPES, type DType, isDType, type StringArray } from "../dtypes.ts";
import { MAX_NANOS, MIN_NANOS, NAT, timestampDigits } from "../frame/timestamps.ts";
import { checkZone, formatZoned, offsetSeconds, offsetSuffix } from "../frame/zones.ts";
import {
  DEFAULT_NA_VALUES,
  type Inferred,
  inferColumn,
  naSet,
  parseCells,
  printable,
  shellWord,
} from "./csv-dtypes.ts";
import { type ExportOptions, exportChunks } from "./export-frames.ts";
import {
  IMPORT_KEYS,
  type ImportOptions,
  type ImportResult,
  importFrames,
  importSettings,
} from "./import-frames.ts";
import { type OnTransferProgress, TransferMeter } from "./progress.ts";
import { type ByteSource, bytesOf, sizeOf } from "./source.ts";

/** How to read a CSV file. */
export interface CsvReadOptions {
  /** The column whose values (ISO 8601 timestamps) become the timestamp index; rows are numbered without it. */
  index?: string;
  /** The field separator, one character (default `,`). */
  delimiter?: string;
  /** Dtypes for some columns, instead of inferring them from the first chunk of rows. */
  dtypes?: Record<string, DType>;
  /** Rows per frame (default 100,000). The first chunk decides the dtypes of columns not in `dtypes`. */
  chunkRows?: number;
  /** Called after each chunk with the bytes and rows read so far. */
  onProgress?: OnTransferProgress;
  /** The source's length in bytes, for progress, when the source does not tell. */
  totalBytes?: number;
  /**
   * Cells that mean a missing value, besides pandas' defaults (`DEFAULT_NA_VALUES`: "", "NA", "N/A",
   * "null", "NaN", "None", "#N/A", …), as pandas' `na_values`: NaN in a number column, NaT in a
   * timestamp column, null in a string column.
   */
  naValues?: string[];
  /** `false`: only `naValues` are missing, not pandas' defaults, not even "" (pandas' `keep_default_na`). Default true. */
  keepDefaultNa?: boolean;
  /**
   * The IANA zone of the timestamp index (`"America/New_York"`), as a pandas tz-aware index: the cells
   * are still read as instants (UTC unless they carry an offset); the zone is how the index prints.
   */
  tz?: string;
  /**
   * Called with a note when a column is read as `string` only because of a few odd cells among
   * numbers, bools or timestamps (naming the cell and the option that fixes it). Default: `console.warn`.
   */
  onNote?: (note: string) => void;
}

/** How to import a CSV file into a symbol (notes come back in the result's `notes`). */
export type CsvImportOptions = ImportOptions &
  Omit<CsvReadOptions, "chunkRows" | "onProgress" | "totalBytes" | "onNote">;

/** What a CSV import returns: the import's result, and the notes on columns read as string. */
export type CsvImportResult = ImportResult & {
  /** One line per column read as `string` because of a few odd cells, saying which and what to do. */
  notes: string[];
};

const CSV_KEYS = ["index", "delimiter", "dtypes", "naValues", "keepDefaultNa", "tz"] as const;
const READ_KEYS = [...CSV_KEYS, "chunkRows", "onProgress", "totalBytes", "onNote"] as const;

export { DEFAULT_NA_VALUES };

/** Rows converted from strings at a time once the dtypes are known. */
const SUB_CHUNK = 8192;

/**
 * Reads CSV text as a sequence of frames of `chunkRows` rows, streaming: memory holds one chunk of cells,
 * whatever the file's size. The first line names the columns. Each column's dtype is inferred from the
 * first chunk (see `inferDType`: int64, float64, bool, timestamp or string), unless `dtypes` gives it; a
 * later cell that does not fit is an `InvalidArgumentError` naming its row. Missing cells (empty, or one
 * of pandas' NA strings, or `naValues`) are NaN, NaT or null; an int column with missing cells is float64,
 * a bool column float64 1/0/NaN, as pandas reads them. Malformed CSV (unbalanced quotes, rows of the
 * wrong length) is an `InvalidArgumentError` too. `source` as a string is CSV text: a file path is refused
 * (read a file with `importFile`, or pass its bytes).
 */
export function readCsv(source: ByteSource, options?: CsvReadOptions): AsyncGenerator<DataFrame> {
  return csvFrames(source, options, {});
}

/** `readCsv`, with `hints`: dtypes for columns the CSV may or may not have (the stored ones, on append). */
async function* csvFrames(
  source: ByteSource,
  options: CsvReadOptions | undefined,
  hints: Record<string, DType>,
): AsyncGenerator<DataFrame> {
  const opts = checkOptions("readCsv", options, READ_KEYS);
  const delimiter = opts.delimiter ?? ",";
  if (typeof delimiter !== "string" || delimiter.length !== 1 || /["\r\n]/.test(delimiter)) {
    throw new InvalidArgumentError(
      `readCsv: delimiter must be one character other than a quote or newline, got ${describe(delimiter)}.`,
    );
  }
  const forced = opts.dtypes ?? {};
  if (forced === null || typeof forced !== "object" || Array.isArray(forced)) {
    throw new InvalidArgumentError(
      `readCsv: dtypes must be a record of column → dtype, got ${describe(forced)}.`,
    );
  }
  for (const [name, dtype] of Object.entries(forced)) {
    if (!isDType(dtype)) {
      throw new InvalidArgumentError(
        `readCsv: dtype ${describe(dtype)} for column '${name}' is not a floe dtype.`,
      );
    }
  }
  if (opts.index !== undefined && (typeof opts.index !== "string" || opts.index === "")) {
    throw new InvalidArgumentError(`readCsv: index must be a column name, got ${describe(opts.index)}.`);
  }
  if (typeof source === "string" && !/[\r\n]/.test(source) && /\.(csv|tsv|txt)$/i.test(source.trim())) {
    throw new InvalidArgumentError(
      `readCsv: the source is the string ${describe(source)}, which looks like a file path, but a string is ` +
        "read as CSV text. To read a file, use importFile(lib, symbol, path) from floe/io (Node, Bun, Deno), " +
        "or pass the file's contents: its text, bytes, a Blob or a stream.",
    );
  }
  const naValues = opts.naValues ?? [];
  if (!Array.isArray(naValues) || naValues.some((v) => typeof v !== "string")) {
    throw new InvalidArgumentError(
      `readCsv: naValues must be an array of strings (cells that mean a missing value), got ${describe(naValues)}.`,
    );
  }
  const keepDefaultNa = opts.keepDefaultNa ?? true;
  if (typeof keepDefaultNa !== "boolean") {
    throw new InvalidArgumentError(
      `readCsv: keepDefaultNa must be true or false, got ${describe(keepDefaultNa)}.`,
    );
  }
  const na = naSet(naValues, keepDefaultNa);
  if (opts.tz !== undefined) {
    checkZone(opts.tz, "readCsv");
    if (opts.index === undefined)
      throw new InvalidArgumentError(
        'readCsv: tz is the zone of the timestamp index; give the index column too (index: "time").',
      );
  }
  if (opts.onNote !== undefined && typeof opts.onNote !== "function") {
    throw new InvalidArgumentError(`readCsv: onNote must be a function, got ${describe(opts.onNote)}.`);
  }
  const onNote = opts.onNote ?? ((note: string) => console.warn(`floe: ${note}`));
  const chunkRows = opts.chunkRows ?? 100_000;
  if (!Number.isInteger(chunkRows) || chunkRows < 1) {
    throw new InvalidArgumentError(
      `readCsv: chunkRows must be a whole number of at least 1, got ${describe(chunkRows)}.`,
    );
  }
  const meter = new TransferMeter(opts.onProgress, { bytes: opts.totalBytes ?? sizeOf(source) });

  let header: string[] | undefined;
  let cells: StringArray[] = []; // raw cells not yet converted, per column
  let pending = 0; // rows in `cells`
  let parts: ColumnValues[][] = []; // converted pieces of the current chunk, per column
  let filled = 0; // rows converted in the current chunk
  let rowsBefore = 0; // rows of earlier chunks
  let dtypes: DType[] | undefined;
  let bools: boolean[] = []; // per column: true/false read as 1/0 (float64)
  let lines: number[] = []; // the line each row of the first chunk ends on, for notes
  const ready: DataFrame[] = [];

  // Cells go into per-column arrays. Until the dtypes are known (the first chunk decides) they are kept;
  // after that every SUB_CHUNK rows are converted to typed arrays, so few strings live long enough to
  // reach the old generation, where collecting them costs more than parsing them did.
  const onRecord = (record: string[]): void => {
    if (!header) {
      header = checkHeader(record, opts.index);
      const unknown = Object.keys(forced).filter((name) => !header!.includes(name));
      if (unknown.length > 0) {
        throw new InvalidArgumentError(
          `CSV: dtypes names ${unknown.map((n) => `'${printable(n, 80)}'`).join(", ")}, not in the header (${printable(header.join(", "), 400)}).`,
        );
      }
      cells = header.map(() => []);
      parts = header.map(() => []);
      return;
    }
    for (let c = 0; c < record.length; c++) cells[c].push(record[c]);
    if (dtypes === undefined) lines.push(api!.info.lines);
    pending++;
    if (filled + pending === chunkRows) {
      convert();
      emit();
    } else if (dtypes !== undefined && pending === SUB_CHUNK) convert();
  };
  const convert = () => {
    const names = header!;
    if (dtypes === undefined) {
      // Own keys only: a column may be named "constructor" or "__proto__".
      const plans = names.map((name, c): Inferred => {
        const given = Object.hasOwn(forced, name)
          ? forced[name]
          : Object.hasOwn(hints, name)
            ? hints[name]
            : undefined;
        // Floats given by the caller (or stored) take true/false as 1/0, as a bool column with missing cells is stored.
        if (given !== undefined) return { dtype: given, bools: given === "float64" || given === "float32" };
        const inferred = inferColumn(cells[c], na);
        // The index must be timestamps: a cell that is not says why (a zone name, say), with its row.
        if (name === opts.index && inferred.dtype === "string") return { dtype: "timestamp", bools: false };
        return inferred;
      });
      dtypes = plans.map((p) => p.dtype);
      bools = plans.map((p) => p.bools);
      plans.forEach((p, c) => {
        if (p.odd !== undefined)
          onNote(
            oddNote(
              names[c],
              cells[c][p.odd.at] ?? "",
              lines[p.odd.at],
              rowsBefore + filled + p.odd.at + 1,
              p.odd,
            ),
          );
      });
      lines = [];
    }
    const offset = rowsBefore + filled;
    const where = (i: number) => `data row ${offset + i + 1}`;
    for (let c = 0; c < names.length; c++)
      parts[c].push(parseCells(names[c], cells[c], dtypes[c], where, na, bools[c]));
    filled += pending;
    pending = 0;
    cells = names.map(() => []);
  };
  const emit = () => {
    const names = header!;
    const columns = names.map((_, c) => joinParts(parts[c], dtypes![c], filled));
    ready.push(toFrame(names, columns, dtypes!, rowsBefore, filled, opts.index, opts.tz));
    rowsBefore += filled;
    filled = 0;
    parts = names.map(() => []);
  };

  // csv-parse's parser state machine, driven directly: its stream wrappers hand records over one at a
  // time through a queue, or (with on_record) build an info object per record, which costs more than the
  // parsing itself. It works on Buffers, which Node, Bun and Deno have.
  const parser = new Parser({ delimiter, bom: true, skip_empty_lines: true }) as unknown as { api?: CsvApi };
  const api = parser.api;
  if (typeof api?.parse !== "function") throw new Error("csv-parse changed: its Parser has no api.parse");
  let failure: unknown;
  const push = (record: string[]) => {
    if (failure !== undefined) return;
    try {
      onRecord(record);
    } catch (err) {
      failure = err;
    }
  };
  const feed = (piece: Uint8Array | undefined, end: boolean) => {
    const buf = piece && Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    const err = api.parse(buf, end, push, () => undefined);
    if (failure !== undefined) throw failure;
    if (err !== undefined) throw csvError(err);
  };
  let offset = 0;
  for await (const piece of bytesOf(source, "readCsv")) {
    checkText(piece, offset);
    offset += piece.byteLength;
    feed(piece, false);
    meter.addBytes(piece.byteLength);
    while (ready.length > 0) {
      const frame = ready.shift()!;
      meter.add(0, frame.numRows);
      yield frame;
    }
  }
  feed(undefined, true);
  if (!header) throw new InvalidArgumentError("readCsv: the CSV is empty; it needs at least a header line.");
  if (pending > 0 || rowsBefore + filled === 0) convert();
  if (filled > 0 || rowsBefore === 0) emit();
  for (const frame of ready) {
    meter.add(0, frame.numRows);
    yield frame;
  }
  meter.finish();
}

function checkHeader(record: string[], index: string | undefined): string[] {
  const seen = new Set<string>();
  record.forEach((name, i) => {
    if (name === "") throw new InvalidArgumentError(`CSV header: column ${i + 1} has no name.`);
    if (seen.has(name))
      throw new InvalidArgumentError(`CSV header: column '${printable(name, 80)}' appears twice.`);
    seen.add(name);
  });
  if (index !== undefined && !seen.has(index)) {
    throw new InvalidArgumentError(
      `CSV: no column '${index}' for the index; the columns are ${printable(record.map((n) => `'${n}'`).join(", "), 400)}.`,
    );
  }
  return record;
}

/** Converted pieces of one column as one array of `rows` values. */
function joinParts(parts: ColumnValues[], dtype: DType, rows: number): ColumnValues {
  if (parts.length === 1) return parts[0];
  if (dtype === "string") return ([] as StringArray).concat(...(parts as StringArray[]));
  const out = new DTYPES[dtype].array!(rows);
  let at = 0;
  for (const part of parts) {
    (out as Float64Array).set(part as Float64Array, at);
    at += part.length;
  }
  return out;
}

function toFrame(
  names: string[],
  values: ColumnValues[],
  dtypes: DType[],
  rowsBefore: number,
  numRows: number,
  index: string | undefined,
  tz: string | undefined,
): DataFrame {
  const columns = names.map((name, c) => ({ name, dtype: dtypes[c], values: values[c] }));
  if (index === undefined) return DataFrame.fromColumns(columns, { kind: "row", start: rowsBefore }, numRows);
  const at = names.indexOf(index);
  if (dtypes[at] !== "timestamp") {
    throw new InvalidArgumentError(
      `CSV: the index column '${index}' holds ${dtypes[at]} values; it must hold ISO 8601 timestamps such as 2024-01-31T09:30:00Z.`,
    );
  }
  const stamps = columns[at].values as BigInt64Array;
  const nat = stamps.indexOf(NAT);
  if (nat >= 0) {
    throw new InvalidArgumentError(
      `CSV: the index column '${index}' is empty at data row ${rowsBefore + nat + 1}.`,
    );
  }
  columns.splice(at, 1);
  const frameIndex =
    tz === undefined
      ? { kind: "timestamp" as const, name: index, values: stamps }
      : { kind: "timestamp" as const, name: index, values: stamps, tz };
  return DataFrame.fromColumns(columns, frameIndex, numRows);
}

/**
 * The note for a column read as string because of `cell` (data row `row`, on `line`) among cells of
 * another kind: what it is, and the options that read it as that kind.
 */
function oddNote(
  name: string,
  cell: string,
  line: number,
  row: number,
  odd: NonNullable<Inferred["odd"]>,
): string {
  const col = printable(name, 80);
  const shown = printable(cell, 40);
  const others = odd.kind === "number" ? "numbers" : odd.kind === "bool" ? "true/false" : "timestamps";
  const at = `at data row ${row} (line ${line})`;
  if (odd.zoned) {
    return (
      `CSV column '${col}' was read as string: its timestamps name a time zone ("${shown}" ${at}), ` +
      "which floe does not guess; write the offset instead, such as -05:00 or Z (2024-01-02 09:30:00-05:00), " +
      "and give the index's zone with tz (--tz America/New_York)."
    );
  }
  const dtype = `dtypes: { ${JSON.stringify(col)}: "${odd.dtype}" } (--dtype ${col}=${odd.dtype})`;
  return (
    `CSV column '${col}' was read as string because of "${shown}" ${at}; its other cells are ${others}. ` +
    `If "${shown}" means a missing value, give naValues: [${JSON.stringify(shown)}] (--na-values ${shellWord(shown)}); ` +
    `to read the column as ${odd.dtype} and have each odd cell reported as an error, give ${dtype}.`
  );
}

/** The part of csv-parse's Parser used here: its synchronous parser of one piece of input. */
interface CsvApi {
  info: { lines: number };
  parse(
    buf: Uint8Array | undefined,
    end: boolean,
    push: (record: string[]) => void,
    close: () => void,
  ): Error | undefined;
}

/** csv-parse's errors as floe errors, saying the line and the problem in words; floe's own pass through. */
function csvError(err: unknown): Error {
  if (err instanceof FloeError) return err;
  const e = (err ?? {}) as {
    code?: unknown;
    lines?: unknown;
    column?: unknown;
    field?: unknown;
    message?: unknown;
  };
  const line = typeof e.lines === "number" ? `line ${e.lines}` : "";
  const field = typeof e.column === "number" ? `field ${e.column + 1}` : "a field";
  const problem = (() => {
    switch (e.code) {
      case "CSV_QUOTE_NOT_CLOSED":
        return (
          `a quote is never closed: the file ends (at ${line || "its end"}) inside a quoted field, so every line ` +
          'after the quote was read as one field. A quote inside a field must be doubled ("") and the field quoted'
        );
      case "INVALID_OPENING_QUOTE":
        return (
          `a quote in the middle of ${field}${typeof e.field === "string" ? `, after "${printable(e.field)}"` : ""}. ` +
          'Quote the whole field and double the quote inside it ("a ""b"" c")'
        );
      case "CSV_INVALID_CLOSING_QUOTE":
      case "CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE":
        return (
          "a quoted field goes on after its closing quote. Double a quote inside a quoted field " +
          '("a ""b"" c")'
        );
      case "CSV_RECORD_INCONSISTENT_FIELDS_LENGTH":
      case "CSV_RECORD_INCONSISTENT_COLUMNS":
        return `the row has ${/got (\d+)/.exec(String(e.message))?.[1] ?? "a different number of"} fields, the header ${/(?:expect|columns length is) (\d+)/.exec(String(e.message))?.[1] ?? "not as many"}`;
      default:
        return printable(String(e.message ?? err), 200);
    }
  })();
  const at = line && e.code !== "CSV_QUOTE_NOT_CLOSED" ? ` ${line}` : "";
  return new InvalidArgumentError(`CSV${at}: ${problem}.`, { cause: err });
}

/** A NUL byte in `piece`, which CSV text never holds: the source is binary (Parquet, Arrow, UTF-16, …). */
function checkText(piece: Uint8Array, offset: number): void {
  const nul = piece.indexOf(0);
  if (nul < 0) return;
  throw new InvalidArgumentError(
    `CSV: the source holds binary data (a zero byte at byte ${offset + nul}), not CSV text. ` +
      "If it is a Parquet or Arrow file, import it as one (name it .parquet or .arrow, or give its format); " +
      "CSV text must be UTF-8.",
  );
}

/**
 * Imports CSV text into `symbol` as one new version (see `readCsv` for how cells are read and typed, and
 * `ImportOptions` for `mode`, `metadata` and `chunkRows`). The rows are staged a chunk at a time and the
 * version is made at the end, so a file of any size imports in bounded memory and a failure leaves the
 * symbol as it was.
 */
export async function importCsv(
  lib: Library,
  symbol: string,
  source: ByteSource,
  options?: CsvImportOptions,
): Promise<CsvImportResult> {
  checkName("symbol", symbol);
  const opts = checkOptions("importCsv", options, [...IMPORT_KEYS, ...CSV_KEYS]);
  const { mode, chunkRows } = importSettings("importCsv", lib, opts);
  let hints: Record<string, DType> = {};
  if (mode === "append" && (await lib.hasSymbol(symbol))) {
    // Appended rows must match the stored dtypes, which say more than a guess from one chunk ("1" in a
    // float64 column is 1.0, not an int64).
    hints = Object.fromEntries((await lib.getDescription(symbol)).columns.map((c) => [c.name, c.dtype]));
  }
  const notes: string[] = [];
  const options_: CsvReadOptions = {
    index: opts.index,
    delimiter: opts.delimiter,
    dtypes: opts.dtypes,
    naValues: opts.naValues,
    keepDefaultNa: opts.keepDefaultNa,
    tz: opts.tz,
    chunkRows,
    onProgress: opts.onProgress,
    totalBytes: opts.totalBytes,
    onNote: (note) => notes.push(note),
  };
  const frames = csvFrames(source, options_, hints);
  const item = await importFrames(lib, symbol, frames, { mode, metadata: opts.metadata, sort: opts.sort });
  return { ...item, notes };
}

/** How to export a symbol as CSV. */
export interface CsvExportOptions extends ExportOptions {
  /** The field separator, one character (default `,`). */
  delimiter?: string;
}

/**
 * A version of `symbol` as CSV (UTF-8 bytes, read from the store a chunk at a time): a header line, then
 * one line per row, the timestamp index first. Floats are written exactly (shortest round-trip form), NaN
 * and NaT as empty cells, timestamps as `2024-01-31 09:30:00.000000001` (UTC) with as many fraction digits
 * as the chunk needs (an index with a zone as local time with its offset, `2024-01-31 04:30:00-05:00`,
 * as pandas' to_csv writes a tz-aware index), and strings quoted when they hold the delimiter, a quote or a line break. `null`
 * strings become empty cells, so an empty string reads back as null.
 */
export async function* exportCsv(
  lib: Library,
  symbol: string,
  options?: CsvExportOptions,
): AsyncGenerator<Uint8Array> {
  checkName("symbol", symbol);
  const delimiter = options?.delimiter ?? ",";
  if (typeof delimiter !== "string" || delimiter.length !== 1 || /["\r\n]/.test(delimiter)) {
    throw new InvalidArgumentError(
      `exportCsv: delimiter must be one character other than a quote or newline, got ${describe(delimiter)}.`,
    );
  }
  const { delimiter: _, ...rest } = options ?? {};
  const { frames, meter } = await exportChunks("exportCsv", lib, symbol, rest, []);
  let first = true;
  for await (const frame of frames) {
    const bytes = csvBytes(frame, delimiter, first);
    first = false;
    meter.add(bytes.byteLength, frame.numRows);
    yield bytes;
  }
  meter.finish();
}

/** `frame` as CSV text, with a header line when `header`; each line ends in `\n`. */
export function csvText(frame: DataFrame, delimiter = ",", header = true): string {
  return new TextDecoder().decode(csvBytes(frame, delimiter, header));
}

/**
 * `frame` as CSV in UTF-8, with a header line when `header`. The bytes are written row by row straight
 * into one buffer (ASCII a character at a time, the rest through `encodeInto`), not built as a string per
 * cell and per line and encoded after: those strings, a million of each per chunk, lived long enough to
 * be promoted and collecting them took more time than formatting them.
 */
function csvBytes(frame: DataFrame, delimiter: string, header: boolean): Uint8Array {
  const index = frame.index;
  const out = new CsvWriter(frame.numRows * 16 * (frame.columnNames.length + 1) + 1024, delimiter);
  const cells: ((r: number) => void)[] = [];
  const heads: string[] = [];
  if (index.kind === "timestamp") {
    heads.push(index.name);
    const stamps = formatTimestamps(index.values, index.tz);
    cells.push((r) => out.ascii(stamps[r]));
  }
  for (const name of frame.columnNames) {
    heads.push(name);
    cells.push(cellWriter(out, frame.dtypes[name], frame.column(name)));
  }
  if (header) {
    heads.forEach((h, c) => {
      if (c > 0) out.byte(out.delimiter);
      out.text(h);
    });
    out.byte(NEWLINE);
  }
  const n = cells.length;
  if (n === 0) return out.bytes();
  const first = cells[0];
  for (let r = 0; r < frame.numRows; r++) {
    first(r);
    for (let c = 1; c < n; c++) {
      out.byte(out.delimiter);
      cells[c](r);
    }
    out.byte(NEWLINE);
  }
  return out.bytes();
}

const NEWLINE = 10;
const QUOTE = 34;
const utf8 = new TextEncoder();

/** The writer of one column's cell `r` into `out`. */
function cellWriter(out: CsvWriter, dtype: DType, values: ColumnValues): (r: number) => void {
  if (dtype === "timestamp") {
    const stamps = formatTimestamps(values as BigInt64Array);
    return (r) => out.ascii(stamps[r]);
  }
  if (dtype === "bool") {
    const v = values as Uint8Array;
    return (r) => out.ascii(v[r] ? "true" : "false");
  }
  if (dtype === "string") {
    const v = values as StringArray;
    return (r) => {
      const s = v[r];
      if (s !== null && s !== "") out.text(s);
    };
  }
  if (DTYPES[dtype].bigint) {
    const v = values as BigInt64Array;
    return (r) => out.ascii(String(v[r]));
  }
  if (DTYPES[dtype].integer) {
    const v = values as Int32Array;
    return (r) => out.integer(v[r]);
  }
  const v = values as Float64Array;
  return (r) => {
    const x = v[r];
    if (x === Math.trunc(x) && Math.abs(x) < 1e15 && !Object.is(x, -0)) out.integer(x);
    else if (!Number.isNaN(x)) out.ascii(formatNumber(x)); // NaN is an empty cell
  };
}

/** A growing buffer of UTF-8 bytes of CSV. */
class CsvWriter {
  private buf: Uint8Array;
  private at = 0;
  readonly delimiter: number;
  private readonly delimiterText: string;

  constructor(size: number, delimiter: string) {
    this.buf = new Uint8Array(size);
    this.delimiterText = delimiter;
    // A non-ASCII delimiter is written as text; its first code unit is never a byte of the output.
    this.delimiter = delimiter.charCodeAt(0) < 0x80 ? delimiter.charCodeAt(0) : -1;
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.at + n));
    bigger.set(this.buf.subarray(0, this.at));
    this.buf = bigger;
  }

  byte(b: number): void {
    if (b < 0) {
      this.utf8(this.delimiterText);
      return;
    }
    if (this.at === this.buf.length) this.room(1);
    this.buf[this.at++] = b;
  }

  /** `s`, known to be ASCII that needs no quotes (numbers, timestamps, true/false). */
  ascii(s: string): void {
    const n = s.length;
    this.room(n);
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < n; i++) buf[at++] = s.charCodeAt(i);
    this.at = at;
  }

  /** A whole number, its digits written without a string. */
  integer(x: number): void {
    this.room(24);
    const buf = this.buf;
    if (x < 0) {
      buf[this.at++] = 45; // "-"
      x = -x;
    }
    if (x < 10) {
      buf[this.at++] = 48 + x;
      return;
    }
    let digits = 1;
    for (let p = 10; p <= x; p *= 10) digits++;
    let at = this.at + digits;
    this.at = at;
    while (x >= 10) {
      const q = Math.floor(x / 10);
      buf[--at] = 48 + (x - q * 10);
      x = q;
    }
    buf[--at] = 48 + x;
  }

  /** Text, quoted when it holds the delimiter, a quote or a line break, or starts or ends with a space. */
  text(s: string): void {
    const n = s.length;
    const start = this.at;
    this.room(n);
    const buf = this.buf;
    let at = start;
    const d = this.delimiter;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80 || c === QUOTE || c === d || c === NEWLINE || c === 13) {
        this.at = start;
        this.slowText(s);
        return;
      }
      buf[at++] = c;
    }
    this.at = at;
    // Spaces at either end would be trimmed by some readers: quote them (as before).
    if (s.charCodeAt(0) <= 32 || s.charCodeAt(n - 1) <= 32) {
      this.at = start;
      this.slowText(s);
    }
  }

  private slowText(s: string): void {
    const d = this.delimiterText;
    const needs = s.includes(d) || s.includes('"') || s.includes("\n") || s.includes("\r") || s !== s.trim();
    this.utf8(needs ? `"${s.replaceAll('"', '""')}"` : s);
  }

  private utf8(s: string): void {
    this.room(s.length * 3);
    this.at += utf8.encodeInto(s, this.buf.subarray(this.at)).written;
  }

  /** The bytes written, in a buffer of their own length when that saves much memory. */
  bytes(): Uint8Array {
    return this.at < this.buf.length / 2 ? this.buf.slice(0, this.at) : this.buf.subarray(0, this.at);
  }
}

/** Timestamps as pandas' to_csv writes them: UTC, or local time with its offset in zone `tz`. */
function formatTimestamps(values: BigInt64Array, tz?: string): string[] {
  return tz === undefined ? utcTimestamps(values) : zonedTimestamps(values, tz);
}

/** Seconds in the spans over which a zone's offset is looked up once (no zone changes twice in one). */
const SPAN = 900;

/**
 * `formatZoned` of each value (NaT as ""): the offset is looked up (with `offsetSeconds`, as `formatZoned`
 * does) once per 15-minute span when it is the same at both ends of the span, else per value;
 * the local times are then written as UTC ones are, with the offset after.
 */
function zonedTimestamps(values: BigInt64Array, tz: string): string[] {
  const offsetAt = (sec: number): number => offsetSeconds(sec * 1000, tz);
  const n = values.length;
  const local = new BigInt64Array(n);
  const offsets = new Float64Array(n);
  let span = Number.NaN;
  let spanOffset: number | undefined;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === NAT) {
      local[i] = NAT;
      continue;
    }
    const sec = Number((v < 0n ? v - NS_PER_SECOND + 1n : v) / NS_PER_SECOND); // floor
    const at = Math.floor(sec / SPAN);
    if (at !== span) {
      span = at;
      const first = offsetAt(at * SPAN);
      spanOffset = first === offsetAt(at * SPAN + SPAN - 1) ? first : undefined;
    }
    const offset = spanOffset ?? offsetAt(sec);
    offsets[i] = offset;
    const shifted = v + BigInt(offset) * NS_PER_SECOND;
    if (shifted < MIN_NANOS || shifted > MAX_NANOS) {
      // Within a day of the ends of the range local time leaves int64: write the chunk value by value.
      const digits = timestampDigits(values);
      return Array.from(values, (x) => (x === NAT ? "" : formatZoned(x, digits, tz)));
    }
    local[i] = shifted;
  }
  const texts = utcTimestamps(local, 0);
  const suffixes = new Map<number, string>();
  for (let i = 0; i < n; i++) {
    if (values[i] === NAT) continue;
    const offset = offsets[i];
    let suffix = suffixes.get(offset);
    if (suffix === undefined) {
      suffix = offsetSuffix(offset);
      suffixes.set(offset, suffix);
    }
    texts[i] += suffix;
  }
  return texts;
}

const NS_PER_SECOND = 1_000_000_000n;
const PAD2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, "0"));

/**
 * `formatNanos` of each value with the digits `timestampDigits` would choose, at least `fewest` (0: never
 * a bare date), NaT as "", without a Date,
 * an ISO string and a handful of bigints per value: each value is split once into whole seconds and
 * nanoseconds (plain numbers), the date part is made once per day (a chunk's rows share few days).
 */
function utcTimestamps(values: BigInt64Array, fewest: -1 | 0 = -1): string[] {
  const n = values.length;
  const seconds = new Float64Array(n);
  const nanos = new Float64Array(n);
  let digits: -1 | 0 | 3 | 6 | 9 = fewest;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === NAT) continue;
    let sec = Number(v / NS_PER_SECOND);
    let sub = Number(v % NS_PER_SECOND);
    if (sub < 0) {
      sec -= 1;
      sub += 1e9;
    }
    seconds[i] = sec;
    nanos[i] = sub;
    if (digits < 9) {
      const need = sub % 1000 !== 0 ? 9 : sub % 1e6 !== 0 ? 6 : sub !== 0 ? 3 : sec % 86_400 !== 0 ? 0 : -1;
      if (need > digits) digits = need;
    }
  }
  const out: string[] = new Array(n);
  let dayNumber = Number.NaN;
  let dayText = "";
  for (let i = 0; i < n; i++) {
    if (values[i] === NAT) {
      out[i] = "";
      continue;
    }
    const s = seconds[i];
    const day = Math.floor(s / 86_400);
    if (day !== dayNumber) {
      dayNumber = day;
      dayText = new Date(day * 86_400_000).toISOString().slice(0, 10);
    }
    if (digits === -1) {
      out[i] = dayText;
      continue;
    }
    const r = s - day * 86_400;
    const text = `${dayText} ${PAD2[Math.floor(r / 3600)]}:${PAD2[Math.floor(r / 60) % 60]}:${PAD2[r % 60]}`;
    out[i] = digits === 0 ? text : `${text}.${String(nanos[i]).padStart(9, "0").slice(0, digits)}`;
  }
  return out;
}

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return "";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  return Object.is(v, -0) ? "-0" : String(v);
}
