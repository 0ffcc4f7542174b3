import type { RecordBatch, Schema } from "apache-arrow";
import type { DataFrame, Library } from "../api/index.ts";
import { InvalidArgumentError } from "../api/index.ts";
import { checkName, checkOptions, describe } from "../api/validate.ts";
import { type ExportOptions, exportChunks } from "./export-frames.ts";
import {
  IMPORT_KEYS,
  type ImportOptions,
  type ImportResult,
  importFrames,
  importSettings,
} from "./import-frames.ts";
import { apacheArrow, arrowModule } from "./optional.ts";
import { TransferMeter } from "./progress.ts";
import { type ByteSource, bytesOf, sizeOf } from "./source.ts";

/** How to import an Arrow IPC file or stream. */
export interface ArrowImportOptions extends ImportOptions {
  /** The timestamp index column (default: the one the schema's `floe:index` metadata names, else none). */
  index?: string | null;
}

/**
 * Imports Apache Arrow IPC data (the file format, `.arrow` / `.feather` v2, or the stream format) into
 * `symbol` as one new version. Record batches are read as they arrive, gathered into chunks of
 * `chunkRows` and staged, so memory holds about one chunk; column types map as `fromArrow` says. Needs
 * the optional peer dependency `apache-arrow`.
 */
export async function importArrow(
  lib: Library,
  symbol: string,
  source: ByteSource,
  options?: ArrowImportOptions,
): Promise<ImportResult> {
  checkName("symbol", symbol);
  const opts = checkOptions("importArrow", options, [...IMPORT_KEYS, "index"]);
  const { mode, chunkRows } = importSettings("importArrow", lib, opts);
  const { RecordBatchReader, Table } = await apacheArrow();
  const { fromArrow } = await arrowModule();
  const meter = new TransferMeter(opts.onProgress, { bytes: opts.totalBytes ?? sizeOf(source) });
  const counted = (async function* () {
    for await (const piece of bytesOf(source, "importArrow")) {
      meter.addBytes(piece.byteLength);
      yield piece;
    }
  })();
  async function* frames(): AsyncGenerator<DataFrame> {
    let reader: AsyncIterable<RecordBatch>;
    try {
      reader = await RecordBatchReader.from(counted);
    } catch (err) {
      throw new InvalidArgumentError(`importArrow: the source is not Arrow IPC data (${String(err)}).`, {
        cause: err,
      });
    }
    let batches: RecordBatch[] = [];
    let rows = 0;
    let any = false;
    const take = () => {
      const table = new Table(batches);
      batches = [];
      rows = 0;
      any = true;
      const frame = fromArrow(table, { index: opts.index });
      meter.add(0, frame.numRows);
      return frame;
    };
    try {
      for await (const batch of reader) {
        batches.push(batch);
        rows += batch.numRows;
        if (rows >= chunkRows) yield take();
      }
    } catch (err) {
      if ((err as { code?: unknown }).code !== undefined) throw err;
      throw new InvalidArgumentError(`importArrow: the Arrow data is malformed (${String(err)}).`, {
        cause: err,
      });
    }
    if (batches.length > 0) yield take();
    else if (!any)
      yield fromArrow(new Table((reader as unknown as { schema: Schema }).schema), { index: opts.index });
    meter.finish();
  }
  return importFrames(lib, symbol, frames(), { mode, metadata: opts.metadata, sort: opts.sort });
}

/** How to export a symbol as Arrow IPC. */
export interface ArrowExportOptions extends ExportOptions {
  /** `"file"` (default): the random-access file format (`.arrow`, Feather v2). `"stream"`: the IPC stream format. */
  format?: "file" | "stream";
}

/**
 * A version of `symbol` as Apache Arrow IPC bytes, one record batch per chunk of `chunkRows` rows, read
 * from the store a chunk at a time. Columns map as `toArrow` says: a timestamp index comes first and its
 * name is kept in the schema metadata. Needs the optional peer dependency `apache-arrow`.
 */
export async function* exportArrow(
  lib: Library,
  symbol: string,
  options?: ArrowExportOptions,
): AsyncGenerator<Uint8Array> {
  checkName("symbol", symbol);
  const format = options?.format ?? "file";
  if (format !== "file" && format !== "stream") {
    throw new InvalidArgumentError(
      `exportArrow: format must be "file" or "stream", got ${describe(format)}.`,
    );
  }
  const { format: _, ...rest } = options ?? {};
  const { AsyncByteQueue, RecordBatchFileWriter, RecordBatchStreamWriter } = await apacheArrow();
  const { toArrow } = await arrowModule();
  const { frames, meter } = await exportChunks("exportArrow", lib, symbol, rest);
  // The writer puts its bytes in a queue; this one hands them out as soon as each batch is written,
  // so no more than a batch is ever held.
  const pending: Uint8Array[] = [];
  class Sink extends AsyncByteQueue {
    override write(value: unknown) {
      const bytes = value as ArrayBufferView;
      if (bytes.byteLength > 0)
        pending.push(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    }
  }
  const writer = format === "file" ? new RecordBatchFileWriter() : new RecordBatchStreamWriter();
  writer.reset(new Sink());
  const out = function* () {
    let bytes = 0;
    for (const p of pending) bytes += p.byteLength;
    yield* pending.splice(0);
    return bytes;
  };
  for await (const frame of frames) {
    for (const batch of toArrow(frame).batches) writer.write(batch);
    meter.add(yield* out(), frame.numRows);
  }
  writer.finish();
  meter.addBytes(yield* out());
  meter.finish();
}
