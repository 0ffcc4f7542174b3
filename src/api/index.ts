export type { ColumnValues, DType, NumericArray, StringArray } from "../dtypes.ts";
export * from "../errors.ts";
export {
  DataFrame,
  type DataFrameOptions,
  type FrameIndex,
  type IndexInput,
  type RowIndex,
  type TimestampIndex,
  type TimeUnit,
} from "../frame/dataframe.ts";
export {
  type AggName,
  type AggSpec,
  applyReadQuery,
  col,
  type DateBounds,
  dateBounds,
  Expr,
  type ExprInput,
  GroupBy,
  type LiteralValue,
  lit,
  parseExpr,
  QueryBuilder,
  Resample,
  type ResampleOptions,
  type ResampleOrigin,
  requiredColumns,
  runQuery,
} from "../query/index.ts";
export type { Progress } from "../version/progress.ts";
export type { VerifyReport } from "../version/verify.ts";
export { Arctic } from "./arctic.ts";
export { DataError } from "./data-error.ts";
export { type CollectResult, concat, LazyFrame } from "./lazy-frame.ts";
export { Library, type OnProgress, type ReadOptions } from "./library.ts";
export type {
  DeleteRequest,
  ReadInfoRequest,
  UpdatePayload,
  WriteMetadataPayload,
} from "./library-batch.ts";
export type { Runtime } from "./runtime.ts";
export type { FrameSource } from "./streams.ts";
export type {
  ArcticOptions,
  AsOf,
  LibraryOptions,
  ReadResult,
  SymbolDescription,
  VersionedItem,
  VersionInfo,
} from "./types.ts";
