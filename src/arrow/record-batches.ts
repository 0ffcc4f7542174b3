import { RecordBatch, type Schema, Table } from "apache-arrow";
import {
  type DataFrame,
  InvalidArgumentError,
  Library,
  type OnProgress,
  type ReadOptions,
  type VersionedItem,
} from "../api/index.ts";
import { readerFrames } from "../api/streams.ts";
import { checkOptions, describe } from "../api/validate.ts";
import { fromArrow, toArrow } from "./convert.ts";

/**
 * Record-batch streams both ways: `readRecordBatches` reads a version chunk by chunk as Arrow record
 * batches (over `Library.iterate`), and `writeRecordBatches` makes one version from a stream of them
 * (over a stream write), so Arrow data of any size moves in and out holding about one chunk.
 */

/** Options of `readRecordBatches`: those of `Library.iterate`. */
export type RecordBatchReadOptions = ReadOptions & {
  /** Rows per batch, about (default: the library's `rowsPerSegment`); see `Library.iterate`. */
  chunkRows?: number;
  /** Raw bytes per batch, about; see `Library.iterate`. */
  chunkBytes?: number;
};

/**
 * A version of `symbol` as Apache Arrow `RecordBatch`es, one per chunk of `lib.iterate(symbol, options)`
 * (same options: `asOf`, `dateRange`, `rowRange`, `columns`, `query` with filter/apply clauses,
 * `chunkRows`, `chunkBytes`), in index order, read in bounded memory with the next chunk read ahead.
 * Columns map as `toArrow` says (a timestamp index is the first column, named in the schema metadata
 * `floe:index`), and every batch has the same schema (fields, types, time zones, nullability and
 * metadata; checked), so the batches go straight into a `RecordBatchStreamWriter` or a `Table`. With no rows selected there is one batch of no rows, which
 * carries the schema. Breaking out of the loop reads nothing more. Bad options throw at the call, as
 * `iterate`'s do.
 */
export function readRecordBatches(
  lib: Library,
  symbol: string,
  options?: RecordBatchReadOptions,
): AsyncGenerator<RecordBatch, void, undefined> {
  checkLibrary("readRecordBatches", lib);
  const chunks = lib.iterate(symbol, options);
  return batchesOf(lib, symbol, chunks, options ?? {});
}

async function* batchesOf(
  lib: Library,
  symbol: string,
  chunks: AsyncGenerator<DataFrame, void, undefined>,
  options: RecordBatchReadOptions,
): AsyncGenerator<RecordBatch, void, undefined> {
  let schema: Schema | undefined;
  let key = "";
  for await (const frame of chunks) {
    const batch = toArrow(frame).batches[0];
    if (schema === undefined) {
      schema = batch.schema;
      key = schemaKey(schema);
      yield batch;
      continue;
    }
    if (schemaKey(batch.schema) !== key) {
      throw new InvalidArgumentError(
        `readRecordBatches: a chunk of '${symbol}' has the columns ${schemaKey(batch.schema)}, unlike the first chunk's ` +
          `${key}; one Arrow stream needs one schema, so read the symbol whole (read, then toArrow).`,
      );
    }
    yield batch;
  }
  if (schema === undefined) {
    // No rows: one empty batch, so the reader still learns the schema.
    const read: ReadOptions = { rowRange: [0, 0] };
    if (options.asOf !== undefined) read.asOf = options.asOf;
    if (options.columns !== undefined) read.columns = options.columns;
    if (options.query !== undefined) read.query = options.query;
    yield toArrow((await lib.read(symbol, read)).data!).batches[0];
  }
}

/** A schema's fields in words, to compare two: names, types (time zones included) and nullability. */
function schemaKey(schema: Schema): string {
  return schema.fields
    .map((f) => {
      const tz = (f.type as { timezone?: unknown }).timezone;
      return `'${f.name}' ${f.type}${typeof tz === "string" ? ` ${tz}` : ""}${f.nullable ? "" : " not null"}`;
    })
    .join(", ");
}

/** What `writeRecordBatches` reads: record batches one at a time, however they come. */
export type RecordBatchSource =
  | AsyncIterable<RecordBatch>
  | Iterable<RecordBatch>
  | ReadableStream<RecordBatch>
  | Table;

/** Options of `writeRecordBatches`. */
export interface RecordBatchWriteOptions {
  /** `"write"` (default): a new version holding exactly these rows. `"append"`: after the latest version's rows. */
  mode?: "write" | "append";
  /** The timestamp index column (default: the one the schema metadata `floe:index` names, else none). */
  index?: string | null;
  /** Metadata stored with the new version (any msgpack-able value). */
  metadata?: unknown;
  /** Delete the older versions once the new one is in place. */
  prunePreviousVersions?: boolean;
  /** Called as segments are stored (see `Library.write`). */
  onProgress?: OnProgress;
}

/**
 * Stores a stream of Apache Arrow record batches as ONE new version of `symbol`: an
 * `AsyncRecordBatchStreamReader` (e.g. `await RecordBatchReader.from(response.body)`), any (async)
 * iterable or web `ReadableStream` of `RecordBatch`es, or a `Table`. Each batch becomes a frame as
 * `fromArrow` makes it (a view of the batch's buffers where the layout allows) and goes to a stream
 * write, which gathers rows into full segments and commits once at the end: memory holds about a batch
 * and a segment, and if the source throws or a batch cannot be stored (a type floe does not store,
 * columns that change, time going back) nothing is committed and the symbol stays as it was. A source
 * with no batches but a schema (a reader of an empty stream) stores no rows with those columns.
 */
export async function writeRecordBatches(
  lib: Library,
  symbol: string,
  batches: RecordBatchSource,
  options?: RecordBatchWriteOptions,
): Promise<VersionedItem & { rows: number }> {
  checkLibrary("writeRecordBatches", lib);
  const opts = checkOptions("writeRecordBatches", options, [
    "mode",
    "index",
    "metadata",
    "prunePreviousVersions",
    "onProgress",
  ]);
  const mode = opts.mode ?? "write";
  if (mode !== "write" && mode !== "append") {
    throw new InvalidArgumentError(
      `writeRecordBatches: mode must be "write" or "append", got ${describe(mode)}.`,
    );
  }
  if (opts.index !== undefined && opts.index !== null && typeof opts.index !== "string") {
    throw new InvalidArgumentError(
      `writeRecordBatches: index must be a column name or null, got ${describe(opts.index)}.`,
    );
  }
  const iterable = batchIterable(batches);
  let rows = 0;
  async function* frames(): AsyncGenerator<DataFrame> {
    let n = 0;
    for await (const batch of iterable) {
      if (!(batch instanceof RecordBatch)) {
        throw new InvalidArgumentError(
          `writeRecordBatches: item ${n} of the source is ${describe(batch)}, not an apache-arrow RecordBatch ` +
            "(from the same apache-arrow the program imports).",
        );
      }
      const frame = fromArrow(batch, { index: opts.index });
      rows += frame.numRows;
      n++;
      yield frame;
    }
    if (n > 0) return;
    const schema = (batches as { schema?: unknown }).schema;
    if (schema === undefined || schema === null) {
      throw new InvalidArgumentError(
        `writeRecordBatches: the source gave no record batches and has no schema, so there is nothing to store in '${symbol}'.`,
      );
    }
    yield fromArrow(new Table(schema as Schema), { index: opts.index });
  }
  const write = mode === "append" ? lib.append : lib.write;
  const item = await write.call(lib, symbol, frames(), {
    metadata: opts.metadata,
    prunePreviousVersions: opts.prunePreviousVersions,
    onProgress: opts.onProgress,
  });
  return { ...item, rows };
}

/** `source` as an async iterable of whatever it holds (a `Table`'s batches, not its rows). */
function batchIterable(source: RecordBatchSource): AsyncIterable<unknown> | Iterable<unknown> {
  if (source instanceof Table) return source.batches;
  if (source !== null && typeof source === "object") {
    if (Symbol.asyncIterator in source) return source as AsyncIterable<unknown>;
    if (Symbol.iterator in source) return source as Iterable<unknown>;
    if (typeof (source as ReadableStream).getReader === "function") {
      return readerFrames(source as ReadableStream<unknown>);
    }
  }
  throw new InvalidArgumentError(
    "writeRecordBatches: give record batches as an apache-arrow RecordBatchReader, an (async) iterable or " +
      `ReadableStream of RecordBatch, or a Table; got ${describe(source)}.`,
  );
}

export function checkLibrary(call: string, lib: unknown): asserts lib is Library {
  if (!(lib instanceof Library)) {
    throw new InvalidArgumentError(
      `${call}: the first argument must be a floe Library (from arctic.getLibrary), got ${describe(lib)}.`,
    );
  }
}
