/**
 * floe/arrow: Apache Arrow interop. Importing it adds `DataFrame.prototype.toArrow()` and
 * `DataFrame.fromArrow(table)`; `toArrow` and `fromArrow` are the same as functions. For data bigger
 * than memory, record-batch streams both ways: `readRecordBatches` (a version as an async iterable of
 * `RecordBatch`es, chunk by chunk), `pipeArrowStream` (a version written to a Node or web stream as an
 * Arrow IPC stream) and `writeRecordBatches` (one version from a stream of batches). `apache-arrow`
 * (version 15 or later) is an optional peer dependency of floe: install it to use this module.
 *
 * @module floe/arrow
 */
import type { RecordBatch, Table } from "apache-arrow";
import { DataFrame } from "../api/index.ts";
import { type FromArrowOptions, fromArrow, INDEX_METADATA_KEY, toArrow } from "./convert.ts";

export {
  type ArrowStreamSink,
  type NodeWritable,
  type PipeArrowStreamOptions,
  type PipeArrowStreamResult,
  pipeArrowStream,
} from "./pipe-arrow-stream.ts";
export {
  type RecordBatchReadOptions,
  type RecordBatchSource,
  type RecordBatchWriteOptions,
  readRecordBatches,
  writeRecordBatches,
} from "./record-batches.ts";
export { type FromArrowOptions, fromArrow, INDEX_METADATA_KEY, toArrow };

declare module "../frame/dataframe.ts" {
  interface DataFrame {
    /** This frame as an Apache Arrow `Table` (see `toArrow` in floe/arrow); available once floe/arrow is imported. */
    toArrow(): Table;
  }
  namespace DataFrame {
    /** A frame from an Apache Arrow `Table` (see `fromArrow` in floe/arrow); available once floe/arrow is imported. */
    function fromArrow(table: Table | RecordBatch, options?: FromArrowOptions): DataFrame;
  }
}

// The methods are plain properties on the one DataFrame class floe exports, so frames read from a
// store before this module was imported get them too.
Object.defineProperty(DataFrame.prototype, "toArrow", {
  value: function (this: DataFrame): Table {
    return toArrow(this);
  },
  writable: true,
  configurable: true,
});
Object.defineProperty(DataFrame, "fromArrow", {
  value: (table: Table | RecordBatch, options?: FromArrowOptions) => fromArrow(table, options),
  writable: true,
  configurable: true,
});
