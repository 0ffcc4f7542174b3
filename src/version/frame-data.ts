import type { ColumnValues, DType } from "../dtypes.ts";

/** One column as the version engine sees it. */
export interface ColumnData {
  name: string;
  dtype: DType;
  values: ColumnValues;
}

/**
 * Row numbers (nothing stored) or a timestamp column in ns since the epoch; `tz`, the zone the index is
 * shown in, is stored with the index name and changes no value.
 */
export type IndexData =
  | { kind: "row" }
  | { kind: "timestamp"; name: string; values: BigInt64Array; tz?: string };

/**
 * A frame reduced to what storage needs: columns and an index. The API layer converts `DataFrame`s to and
 * from this shape, which keeps the version engine free of the frame layer above it.
 */
export interface FrameData {
  numRows: number;
  columns: ColumnData[];
  index: IndexData;
}
