import type { ColumnValues } from "../dtypes.ts";
import type { FrameData } from "./frame-data.ts";

/** A tile's place in a frame. */
export interface Tile {
  rowStart: number;
  rows: number;
  colStart: number;
  cols: number;
}

/**
 * Cuts a frame of `numRows` × `numColumns` into tiles of at most `rowsPerSegment` × `columnsPerSegment`,
 * row slice by row slice. A frame with no rows or no columns still gets one tile per column slice (at
 * least one), so its schema is stored and reads back.
 */
export function planTiles(
  numRows: number,
  numColumns: number,
  rowsPerSegment: number,
  columnsPerSegment: number,
): Tile[] {
  const tiles: Tile[] = [];
  const rowStarts: number[] = [];
  for (let r = 0; r < numRows; r += rowsPerSegment) rowStarts.push(r);
  if (rowStarts.length === 0) rowStarts.push(0);
  const colStarts: number[] = [];
  for (let c = 0; c < numColumns; c += columnsPerSegment) colStarts.push(c);
  if (colStarts.length === 0) colStarts.push(0);
  for (const rowStart of rowStarts) {
    for (const colStart of colStarts) {
      tiles.push({
        rowStart,
        rows: Math.min(rowsPerSegment, numRows - rowStart),
        colStart,
        cols: Math.min(columnsPerSegment, numColumns - colStart),
      });
    }
  }
  return tiles;
}

/** Rows [start, end) of a column, as a view for typed arrays (no copy) and a slice for strings. */
export function sliceRows(values: ColumnValues, start: number, end: number): ColumnValues {
  if (Array.isArray(values)) return start === 0 && end === values.length ? values : values.slice(start, end);
  return values.subarray(start, end);
}

/** The columns of a tile, with the timestamp index first when there is one. */
export function tileColumns(frame: FrameData, tile: Tile) {
  const end = tile.rowStart + tile.rows;
  const out = frame.columns.slice(tile.colStart, tile.colStart + tile.cols).map((c) => ({
    name: c.name,
    dtype: c.dtype,
    values: sliceRows(c.values, tile.rowStart, end),
  }));
  if (frame.index.kind === "timestamp") {
    out.unshift({
      name: frame.index.name,
      dtype: "timestamp",
      values: frame.index.values.subarray(tile.rowStart, end),
    });
  }
  return out;
}
