/**
 * Per-tile column statistics (index format 2): the least and greatest value of each numeric and
 * timestamp column of a tile, kept in its `SegmentRef` so a query can skip segments that cannot hold a
 * row it wants (query/prune.ts). They are computed while the tile is written, one tight loop per column
 * over its typed array; 64-bit columns are scanned as pairs of 32-bit words, since reading a
 * `BigInt64Array` element makes a bigint each time.
 */
import { DTYPES } from "../dtypes.ts";
import type { FrameData } from "./frame-data.ts";
import type { SegmentRef } from "./records.ts";
import type { Tile } from "./tiling.ts";

/** A column's least and greatest value (null: none but NaN/NaT, or not a numeric column). */
type Bound = number | bigint | null;

/**
 * The statistics of `tile` of `frame`, aligned with its columns, or undefined when it has no row or no
 * column could have any (bool and string columns only).
 */
export function tileStats(frame: FrameData, tile: Tile): Pick<SegmentRef, "min" | "max"> | undefined {
  if (tile.rows === 0) return undefined;
  const min: Bound[] = [];
  const max: Bound[] = [];
  let any = false;
  const end = tile.rowStart + tile.rows;
  for (let c = tile.colStart; c < tile.colStart + tile.cols; c++) {
    const { dtype, values } = frame.columns[c];
    let lo: Bound = null;
    let hi: Bound = null;
    if (values instanceof Float64Array) {
      [lo, hi] = floatRange(values, tile.rowStart, end);
    } else if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
      const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
      [lo, hi] = wordRange(words, tile.rowStart, end, dtype === "uint64", dtype === "timestamp");
    } else if (dtype !== "bool" && DTYPES[dtype].array !== null && !Array.isArray(values)) {
      [lo, hi] = numberRange(values as ArrayLike<number>, tile.rowStart, end);
    }
    if (lo !== null) any = true;
    min.push(lo);
    max.push(hi);
  }
  return any ? { min, max } : undefined;
}

/** Least and greatest of `v[from, to)`, NaN left out (it fails both tests). */
function floatRange(v: Float64Array, from: number, to: number): [Bound, Bound] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = from; i < to; i++) {
    const x = v[i];
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return lo > hi ? [null, null] : [lo, hi];
}

/** As `floatRange`, for the other typed arrays of numbers (float32 and the narrower integers). */
function numberRange(v: ArrayLike<number>, from: number, to: number): [Bound, Bound] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = from; i < to; i++) {
    const x = v[i];
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return lo > hi ? [null, null] : [lo, hi];
}

/**
 * Least and greatest of 64-bit values `[from, to)` held as little-endian 32-bit word pairs: compared by
 * high word (signed, or unsigned for uint64) then low word (unsigned). With `nat`, NaT (the int64
 * minimum: high word 0x80000000, low word 0) is left out.
 */
function wordRange(w: Int32Array, from: number, to: number, unsigned: boolean, nat: boolean): [Bound, Bound] {
  // Unsigned high words compare as signed ones once their top bit is flipped.
  const flip = unsigned ? -0x80000000 : 0;
  let loH = 0x7fffffff;
  let loL = 0xffffffff;
  let hiH = -0x80000000;
  let hiL = 0;
  let seen = false;
  for (let i = from; i < to; i++) {
    const h = w[2 * i + 1] ^ flip;
    const l = w[2 * i] >>> 0;
    if (nat && h === -0x80000000 && l === 0) continue;
    seen = true;
    if (h < loH || (h === loH && l < loL)) {
      loH = h;
      loL = l;
    }
    if (h > hiH || (h === hiH && l > hiL)) {
      hiH = h;
      hiL = l;
    }
  }
  if (!seen) return [null, null];
  const big = (h: number, l: number) => {
    const high = BigInt(h ^ flip);
    const v = (high << 32n) | BigInt(l);
    return unsigned ? BigInt.asUintN(64, v) : v;
  };
  return [big(loH, loL), big(hiH, hiL)];
}
