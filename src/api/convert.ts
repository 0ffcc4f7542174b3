import { DataFrame } from "../frame/dataframe.ts";
import { checkIntact } from "../frame/intact.ts";
import type { FrameData } from "../version/frame-data.ts";

/**
 * A `DataFrame` as the version engine takes it; columns are shared, not copied. Every write takes its
 * frame through here, so here its arrays are checked to still hold what the frame was built with.
 */
export function toFrameData(df: DataFrame): FrameData {
  checkIntact(df);
  const index = df.index;
  return {
    numRows: df.numRows,
    columns: df.columnNames.map((name) => ({ name, dtype: df.dtype(name), values: df.column(name) })),
    index:
      index.kind === "timestamp"
        ? { kind: "timestamp", name: index.name, values: index.values, tz: index.tz }
        : { kind: "row" },
  };
}

/** A frame read by the version engine as a `DataFrame`; `rowStart` numbers the rows of a row index. */
export function fromFrameData(frame: FrameData, rowStart: number): DataFrame {
  const index =
    frame.index.kind === "timestamp"
      ? frame.index.tz === undefined
        ? { kind: "timestamp" as const, name: frame.index.name, values: frame.index.values }
        : {
            kind: "timestamp" as const,
            name: frame.index.name,
            values: frame.index.values,
            tz: frame.index.tz,
          }
      : { kind: "row" as const, start: rowStart };
  return DataFrame.fromColumns(frame.columns, index, frame.numRows);
}
