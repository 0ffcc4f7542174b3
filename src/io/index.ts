/**
 * floe/io, the portable part: import CSV, Arrow IPC and Parquet into a symbol and export a symbol to
 * them, from and to bytes, strings, Blobs, web streams and async iterables, in bounded memory. Arrow and
 * Parquet need the optional peer dependencies `apache-arrow` and `parquet-wasm`; CSV needs nothing.
 */
export { type ArrowExportOptions, type ArrowImportOptions, exportArrow, importArrow } from "./arrow-ipc.ts";
export {
  type CsvExportOptions,
  type CsvImportOptions,
  type CsvImportResult,
  type CsvReadOptions,
  csvText,
  DEFAULT_NA_VALUES,
  exportCsv,
  importCsv,
  readCsv,
} from "./csv.ts";
export { inferDType } from "./csv-dtypes.ts";
export type { ExportOptions } from "./export-frames.ts";
export type { ImportOptions, ImportResult } from "./import-frames.ts";
export {
  exportParquet,
  importParquet,
  type ParquetExportOptions,
  type ParquetImportOptions,
} from "./parquet.ts";
export type { OnTransferProgress, TransferProgress } from "./progress.ts";
export type { ByteSource } from "./source.ts";
