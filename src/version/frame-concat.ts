import { DTYPES, type StringArray } from "../dtypes.ts";
import type { FrameData } from "./frame-data.ts";

/**
 * The rows of `parts` one after another. All parts have the same columns (by name, in the first part's
 * order) and the same kind of index; used to rebuild the rows around a replaced range.
 */
export function concatFrames(parts: FrameData[]): FrameData {
  const first = parts[0];
  const numRows = parts.reduce((n, p) => n + p.numRows, 0);
  const columns = first.columns.map(({ name, dtype }) => {
    const pieces = parts.map((p) => p.columns.find((c) => c.name === name)!.values);
    const info = DTYPES[dtype];
    if (!info.array) return { name, dtype, values: ([] as StringArray).concat(...(pieces as StringArray[])) };
    const out = new info.array(numRows);
    let at = 0;
    for (const piece of pieces) {
      out.set(piece as never, at);
      at += piece.length;
    }
    return { name, dtype, values: out };
  });
  if (first.index.kind === "row") return { numRows, columns, index: { kind: "row" } };
  const values = new BigInt64Array(numRows);
  let at = 0;
  for (const p of parts) {
    if (p.index.kind !== "timestamp") continue;
    values.set(p.index.values, at);
    at += p.index.values.length;
  }
  return { numRows, columns, index: { ...first.index, values } };
}
