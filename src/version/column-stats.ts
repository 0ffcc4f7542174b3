/**
 * Per-tile column statistics (index format 2): the least and greatest value of each numeric and
 * timestamp column of a tile, kept in its `SegmentRef` so a query can skip segments that cannot hold a
 * row it wants (query/prune.ts). They are computed as the tile is written, by the Wasm range kernels
 * (`Kernels.columnRange`), so a write pays a few percent for them rather than the third a JS loop cost.
 */
import type { Kernels } from "../codec/wasm.ts";
import type { NumericArray } from "../dtypes.ts";
import type { FrameData } from "./frame-data.ts";
import type { SegmentRef } from "./records.ts";
import type { Tile } from "./tiling.ts";

/**
 * The statistics of `tile` of `frame`, aligned with its columns: null for a bool or string column and
 * for one whose every value is NaN/NaT. Undefined when the tile has no row or no column has a range.
 */
export function tileStats(
  k: Kernels,
  frame: FrameData,
  tile: Tile,
): Pick<SegmentRef, "min" | "max"> | undefined {
  if (tile.rows === 0) return undefined;
  const min: (number | bigint | null)[] = [];
  const max: (number | bigint | null)[] = [];
  let any = false;
  const end = tile.rowStart + tile.rows;
  for (let c = tile.colStart; c < tile.colStart + tile.cols; c++) {
    const { dtype, values } = frame.columns[c];
    const range =
      dtype === "bool" || dtype === "string" || Array.isArray(values)
        ? null
        : k.columnRange((values as NumericArray).subarray(tile.rowStart, end), dtype);
    if (range) any = true;
    min.push(range ? range[0] : null);
    max.push(range ? range[1] : null);
  }
  return any ? { min, max } : undefined;
}
