import { DTYPES, type DType, type NumericArray, type StringArray } from "../dtypes.ts";
import { SchemaMismatchError } from "../errors.ts";
import type { ColumnData, FrameData } from "./frame-data.ts";

/** The missing timestamp, as ArcticDB and pandas store NaT. */
export const NAT = -(2n ** 63n);

const SIGNED: DType[] = ["int8", "int16", "int32", "int64"];
const UNSIGNED: DType[] = ["uint8", "uint16", "uint32", "uint64"];

/**
 * The narrowest dtype that holds every value of `a` and of `b`, following numpy's promotion (which
 * ArcticDB's dynamic schema follows); `undefined` when none does (e.g. string and a number).
 */
export function widerDtype(a: DType, b: DType): DType | undefined {
  if (a === b) return a;
  const wa = DTYPES[a].width;
  const wb = DTYPES[b].width;
  const signed = (t: DType) => SIGNED.includes(t);
  const unsigned = (t: DType) => UNSIGNED.includes(t);
  const float = (t: DType) => t === "float32" || t === "float64";
  if (signed(a) && signed(b)) return wa >= wb ? a : b;
  if (unsigned(a) && unsigned(b)) return wa >= wb ? a : b;
  if ((signed(a) && unsigned(b)) || (unsigned(a) && signed(b))) {
    const [u, s] = unsigned(a) ? [wa, wb] : [wb, wa];
    const need = Math.max(u * 2, s);
    return need > 8 ? "float64" : SIGNED[Math.log2(need)];
  }
  if (float(a) && float(b)) return "float64";
  if (float(a) || float(b)) {
    const [f, other] = float(a) ? [a, b] : [b, a];
    if (!signed(other) && !unsigned(other)) return undefined;
    return f === "float32" && DTYPES[other].width <= 2 ? "float32" : "float64";
  }
  return undefined;
}

/**
 * The schema after adding `next` columns to `stored` ones under dynamic schema: stored columns keep their
 * place (widened where `next` needs it), new ones follow in `next`'s order. `SchemaMismatchError` names
 * the first column whose dtypes have no common wider type.
 */
export function unionColumns(
  symbol: string,
  stored: readonly { name: string; dtype: DType }[],
  next: readonly { name: string; dtype: DType }[],
): { name: string; dtype: DType }[] {
  const out = stored.map((c) => ({ name: c.name, dtype: c.dtype }));
  const where = new Map(out.map((c, i) => [c.name, i]));
  for (const c of next) {
    const i = where.get(c.name);
    if (i === undefined) {
      where.set(c.name, out.length);
      out.push({ name: c.name, dtype: c.dtype });
      continue;
    }
    const wider = widerDtype(out[i].dtype, c.dtype);
    if (!wider) {
      throw new SchemaMismatchError(
        `Cannot combine column '${c.name}' of '${symbol}': stored as ${out[i].dtype}, new data has ${c.dtype}, ` +
          "and no dtype holds both. Convert the new column to the stored dtype, or write a new version.",
      );
    }
    out[i].dtype = wider;
  }
  return out;
}

/** An array of `rows` missing values of `dtype`: NaN, NaT, 0, false or null. */
export function missingColumn(dtype: DType, rows: number): NumericArray | StringArray {
  const info = DTYPES[dtype];
  if (!info.array) return new Array(rows).fill(null);
  const out = new info.array(rows);
  fillMissing(out, dtype, 0, rows);
  return out;
}

/** Sets rows [from, to) of `values` to the missing value of `dtype` (new arrays already hold 0 and null). */
export function fillMissing(
  values: NumericArray | StringArray,
  dtype: DType,
  from: number,
  to: number,
): void {
  if (dtype === "float64" || dtype === "float32") (values as Float64Array).fill(Number.NaN, from, to);
  else if (dtype === "timestamp") (values as BigInt64Array).fill(NAT, from, to);
  else if (dtype === "string") (values as StringArray).fill(null, from, to);
  else (values as Uint8Array).fill(0, from, to);
}

/** Copies `src` (of a narrower dtype) into `dst` at `offset`, converting each value. */
export function convertInto(src: NumericArray, dst: NumericArray, offset: number): void {
  const srcBig = typeof src[0] === "bigint" || src instanceof BigInt64Array || src instanceof BigUint64Array;
  const dstBig = dst instanceof BigInt64Array || dst instanceof BigUint64Array;
  if (srcBig === dstBig) {
    // biome-ignore lint/suspicious/noExplicitAny: same element kind, TS cannot see it
    (dst as any).set(src, offset);
  } else if (dstBig) {
    const out = dst as BigInt64Array;
    for (let i = 0; i < src.length; i++) out[offset + i] = BigInt(src[i] as number);
  } else {
    const out = dst as Float64Array;
    for (let i = 0; i < src.length; i++) out[offset + i] = Number(src[i]);
  }
}

/** `frame` with exactly `columns` (names, order, dtypes): missing ones filled, narrower ones widened. */
export function conformFrame(
  frame: FrameData,
  columns: readonly { name: string; dtype: DType }[],
): FrameData {
  const have = new Map(frame.columns.map((c) => [c.name, c]));
  const out: ColumnData[] = columns.map(({ name, dtype }) => {
    const c = have.get(name);
    if (!c) return { name, dtype, values: missingColumn(dtype, frame.numRows) };
    if (c.dtype === dtype) return c;
    const info = DTYPES[dtype];
    const values = new (info.array as NonNullable<typeof info.array>)(frame.numRows);
    convertInto(c.values as NumericArray, values, 0);
    return { name, dtype, values };
  });
  return { numRows: frame.numRows, columns: out, index: frame.index };
}
