// Structured damage to segment headers (fast-check): fields set to lies a parser must survive (huge or
// negative sizes, wrong dtypes and codecs, names from other columns, non-objects), re-encoded under a
// valid header checksum so nothing stops them before the header parser and the codecs.
import fc from "fast-check";
import { packPlain, unpackPlain } from "../../src/codec/msgpack.ts";
import type { Kernels } from "../../src/codec/wasm.ts";
import { DTYPE_NAMES } from "../../src/dtypes.ts";
import { forgeChecksums } from "./read-segment.ts";

type Col = Record<string, unknown>;
interface Header {
  f: unknown;
  rows: unknown;
  cols: Col[];
}

const size = fc.oneof(
  fc.integer({ min: -2, max: 70_000 }),
  fc.constantFrom(2 ** 24, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 1e300),
  fc.constantFrom(-1, -(2 ** 31), 0.5, Number.NaN, Number.POSITIVE_INFINITY, "12", null),
);
const dtype = fc.constantFrom(...DTYPE_NAMES, "constructor", "__proto__", "toString", "valueOf", "", "f64");
const codec = fc.oneof(fc.integer({ min: -1, max: 9 }), fc.constantFrom(0.5, "1", null, 2 ** 32));

/** One change to a header: a field of the segment, or of one column (by index, modulo the count). */
export type Edit =
  | { on: "segment"; field: "f" | "rows"; value: unknown }
  | { on: "column"; at: number; field: "n" | "t" | "c" | "r" | "l" | "s"; value: unknown }
  | { on: "cols"; how: "drop" | "duplicate" | "reverse" | "replace"; value: unknown }
  | { on: "whole"; value: unknown };

export const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    on: fc.constant("segment" as const),
    field: fc.constant("f" as const),
    value: fc.oneof(fc.constant(2), fc.anything()),
  }),
  fc.record({ on: fc.constant("segment" as const), field: fc.constant("rows" as const), value: size }),
  fc.record({
    on: fc.constant("column" as const),
    at: fc.nat(),
    field: fc.constant("n" as const),
    value: fc.oneof(fc.string(), fc.anything()),
  }),
  fc.record({
    on: fc.constant("column" as const),
    at: fc.nat(),
    field: fc.constant("t" as const),
    value: fc.oneof(dtype, fc.anything()),
  }),
  fc.record({
    on: fc.constant("column" as const),
    at: fc.nat(),
    field: fc.constant("c" as const),
    value: codec,
  }),
  fc.record({
    on: fc.constant("column" as const),
    at: fc.nat(),
    field: fc.constantFrom("r" as const, "l" as const),
    value: size,
  }),
  fc.record({
    on: fc.constant("column" as const),
    at: fc.nat(),
    field: fc.constant("s" as const),
    value: fc.oneof(fc.nat(), fc.anything()),
  }),
  fc.record({
    on: fc.constant("cols" as const),
    how: fc.constantFrom("drop" as const, "duplicate" as const, "reverse" as const, "replace" as const),
    value: fc.anything(),
  }),
  fc.record({ on: fc.constant("whole" as const), value: fc.anything() }),
);

/**
 * `good` with `edits` applied to its header, the header re-encoded and its checksum fixed. Block checksums
 * are recomputed for the new block boundaries unless an edit set one (then it stays the lie it is).
 */
export function editHeader(k: Kernels, good: Uint8Array, edits: Edit[]): Uint8Array {
  const view = new DataView(good.buffer, good.byteOffset, good.byteLength);
  const headLen = view.getUint32(4, true);
  let header: unknown = unpackPlain(good.subarray(12, 12 + headLen), "header");
  let forge = true;
  for (const e of edits) {
    const h = header as Header;
    if (e.on === "whole") header = e.value;
    else if (typeof h !== "object" || h === null || !Array.isArray(h.cols)) continue;
    else if (e.on === "segment") h[e.field] = e.value;
    else if (e.on === "cols") {
      if (e.how === "drop") h.cols.pop();
      else if (e.how === "duplicate" && h.cols.length > 0) h.cols.push({ ...h.cols[0] });
      else if (e.how === "reverse") h.cols.reverse();
      else h.cols = e.value as Col[];
    } else if (h.cols.length > 0) {
      const col = h.cols[e.at % h.cols.length];
      if (typeof col !== "object" || col === null) continue;
      col[e.field] = e.value;
      if (e.field === "s") forge = false;
    }
  }
  let head: Uint8Array;
  try {
    head = packPlain(header);
  } catch {
    head = new Uint8Array([0xc1]); // a value msgpack cannot hold: the never-used byte
  }
  const out = new Uint8Array(12 + head.byteLength + good.byteLength - 12 - headLen);
  const outView = new DataView(out.buffer);
  out.set(good.subarray(0, 4));
  outView.setUint32(4, head.byteLength, true);
  outView.setUint32(8, k.checksum(head), true);
  out.set(head, 12);
  out.set(good.subarray(12 + headLen), 12 + head.byteLength);
  return forge ? forgeChecksums(k, out) : out;
}
