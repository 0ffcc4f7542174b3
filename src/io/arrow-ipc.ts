import type { RecordBatch, Schema } from "apache-arrow";
import type { DataFrame, Library } from "../api/index.ts";
import { InvalidArgumentError } from "../api/index.ts";
import { checkName, checkOptions, describe } from "../api/validate.ts";
import { openArrowBytes } from "./arrow-framing.ts";
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
 * `symbol` as one new version. Record batches are read as the bytes arrive (a file too: its batches in
 * order, then its footer checked), gathered into chunks of `chunkRows` and handed to a stream write, so
 * memory holds about one chunk whatever the size of the source; column types map as `fromArrow` says.
 * A source cut short (no end-of-stream marker, a message or a file's footer incomplete) or damaged is an
 * `InvalidArgumentError` saying where, and the symbol stays as it was. Needs the optional peer
 * dependency `apache-arrow`.
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
  const { Table } = await apacheArrow();
  const { fromArrow } = await arrowModule();
  const meter = new TransferMeter(opts.onProgress, { bytes: opts.totalBytes ?? sizeOf(source) });
  async function* frames(): AsyncGenerator<DataFrame> {
    const opened = await openBatches(source, meter);
    try {
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
        for await (const batch of opened.reader) {
          batches.push(batch);
          rows += batch.numRows;
          if (rows >= chunkRows) yield take();
        }
        await opened.finish();
      } catch (err) {
        throw malformed(err, "the Arrow data is malformed");
      }
      if (batches.length > 0) yield take();
      else if (!any) yield fromArrow(new Table(opened.reader.schema), { index: opts.index });
      meter.finish();
    } finally {
      await opened.close();
    }
  }
  return importFrames(lib, symbol, frames(), { mode, metadata: opts.metadata, sort: opts.sort });
}

/** An Arrow reader over an import's bytes, and what to do when it is done or fails. */
interface OpenedBatches {
  reader: AsyncIterable<RecordBatch> & { schema: Schema };
  /** After the last batch: checks that the bytes ended as they should. */
  finish(): Promise<void>;
  /** Releases the source. */
  close(): Promise<void>;
}

/**
 * An Arrow reader over `source`, reading batches as the bytes arrive. A file-format source that can be
 * read at any offset (bytes, a `Blob` such as `fs.openAsBlob(path)`) is read by its footer, a batch at a
 * time; any other source is read in order with its framing checked (see `openArrowBytes`): a stream, or
 * a file that holds its schema in front (as pyarrow and arrow-rs write them). A file that keeps its
 * schema only in its footer (as apache-arrow's JS writer does) and comes as a stream of pieces is read
 * whole first, as nothing else can be done with it.
 */
async function openBatches(source: ByteSource, meter: TransferMeter): Promise<OpenedBatches> {
  const { RecordBatchReader } = await apacheArrow();
  const access = randomAccess(source);
  if (access && isArrowFile(await access.read(0, Math.min(8, access.size)))) {
    return openFile(access, meter);
  }
  const counted = (async function* () {
    for await (const piece of bytesOf(source, "importArrow")) {
      meter.addBytes(piece.byteLength);
      yield piece;
    }
  })();
  const bytes = await openArrowBytes(counted, "importArrow");
  if (bytes.layout === "footer") {
    try {
      const all = await bytes.whole();
      return openFile(bytesAccess(all), undefined);
    } finally {
      await bytes.close();
    }
  }
  try {
    const reader = await RecordBatchReader.from(bytes.pieces);
    await reader.open();
    return { reader, finish: bytes.finish, close: bytes.close };
  } catch (err) {
    await bytes.close();
    throw malformed(err, "the source is not Arrow IPC data");
  }
}

/** Bytes that can be read at any offset. */
interface RandomAccess {
  size: number;
  read(position: number, length: number): Promise<Uint8Array>;
}

function randomAccess(source: ByteSource): RandomAccess | undefined {
  if (source instanceof ArrayBuffer) return bytesAccess(new Uint8Array(source));
  if (source instanceof Uint8Array) return bytesAccess(source);
  if (typeof Blob !== "undefined" && source instanceof Blob) {
    return {
      size: source.size,
      read: async (position, length) =>
        new Uint8Array(await source.slice(position, position + length).arrayBuffer()),
    };
  }
  return undefined;
}

function bytesAccess(bytes: Uint8Array): RandomAccess {
  return {
    size: bytes.length,
    read: async (position, length) => bytes.subarray(position, position + length),
  };
}

const MAGIC = "ARROW1";

function isArrowFile(head: Uint8Array): boolean {
  return head.length >= 6 && [...MAGIC].every((c, i) => head[i] === c.charCodeAt(0));
}

/**
 * A file-format source read by its footer through apache-arrow's file reader, which reads the footer
 * and then each batch at its offset, so memory holds a batch. Its end is checked first: a file cut
 * short has no footer to read.
 */
async function openFile(access: RandomAccess, meter: TransferMeter | undefined): Promise<OpenedBatches> {
  const { RecordBatchReader } = await apacheArrow();
  const { size } = access;
  const tail = size >= 18 ? await access.read(size - 10, 10) : new Uint8Array(0);
  const footer = tail.length === 10 ? new DataView(tail.buffer, tail.byteOffset, 10).getInt32(0, true) : 0;
  if (!isArrowFile(tail.subarray(4)) || footer <= 0 || footer > size - 18) {
    throw new InvalidArgumentError(
      `importArrow: the Arrow file is cut short: its ${size.toLocaleString("en-US")} bytes do not end with ` +
        "a footer, its length and 'ARROW1' as a whole file does.",
    );
  }
  let read = 0;
  // A FileHandle as apache-arrow's reader takes it (fs.promises' shape): it reads at offsets.
  const handle = {
    fd: -1,
    stat: async () => ({ size }),
    read: async (buffer: Uint8Array, offset: number, length: number, position: number) => {
      const bytes = await access.read(position, Math.min(length, size - position));
      buffer.set(bytes, offset);
      read += bytes.length;
      meter?.addBytes(bytes.length);
      return { bytesRead: bytes.length, buffer };
    },
    close: async () => {},
  };
  try {
    // The last overload of `from` is the one for a FileHandle.
    const reader = await RecordBatchReader.from(
      handle as unknown as Parameters<typeof RecordBatchReader.from>[0],
    );
    await reader.open();
    return {
      reader,
      finish: async () => {
        if (read < size) meter?.addBytes(size - read);
      },
      close: async () => {},
    };
  } catch (err) {
    throw malformed(err, "the Arrow file is malformed");
  }
}

/** A floe error as it is; anything else (apache-arrow's own) as an `InvalidArgumentError` saying `what`. */
function malformed(err: unknown, what: string): unknown {
  if ((err as { code?: unknown })?.code !== undefined) return err;
  return new InvalidArgumentError(`importArrow: ${what} (${String(err)}).`, { cause: err });
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
