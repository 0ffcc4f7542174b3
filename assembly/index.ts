// floe's Wasm kernels. Every export works on pointers and lengths in linear memory; the JS side
// (src/codec/wasm.ts) owns the memory above heapBase(), grows it and copies data in and out.

export { checksum, hashFinal, hashInit, hashUpdate, xxh32 } from "./checksum";
export { lz4Bound, lz4Compress, lz4Decompress } from "./lz4";
export { shuffle, unshuffle } from "./shuffle";
export { codesCheck, codesInRange } from "./codes";
export { combineCodes, denseNumber, keyCodesI64 } from "./numbering";
export { decimalDecode, decimalEncode, intPack, intPackSize, intUnpack } from "./bitpack";
export { rangeF32, rangeF64, rangeI32, rangeI64, rangeSmall, rangeState } from "./range";
export {
  arithColumns,
  arithScalar,
  compareColumnsF64,
  compareF64,
  compareI32,
  compareI64,
  groupF64,
  groupI64,
  groupReset,
  maskCompact,
  maskLogic,
  maskSum,
} from "./query";

/** First free byte above the kernels' static data (hash tables, checksum state). */
export function heapBase(): usize {
  return __heap_base;
}
