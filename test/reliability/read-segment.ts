// Reads a (possibly damaged) segment the way the version engine does, and the checksum forger that lets
// damage past the checksums so the parsers behind them are fuzzed too.
import { packPlain, unpackPlain } from "../../src/codec/msgpack.ts";
import { decodeSegmentColumn, parseSegment } from "../../src/codec/segment.ts";
import type { Kernels } from "../../src/codec/wasm.ts";
import { DTYPES, type NumericArray, type StringArray } from "../../src/dtypes.ts";
import { CorruptSegmentError } from "../../src/errors.ts";
import { firstDifference } from "../codec/test-data.ts";
import type { Mutator } from "./mutate.ts";
import type { Seed } from "./segment-seeds.ts";

const bytesOf = (a: NumericArray) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * Decodes every column of `bytes` into arrays sized by the seed (the index's view of the tile, as the
 * version engine sizes them), whole and then as a row slice, and says whether that gave the seed's
 * values back. Like the version engine, a segment whose row count differs from its index is corrupt.
 */
export function readSegment(k: Kernels, bytes: Uint8Array, seed: Seed, m: Mutator): "right" | "different" {
  const segment = parseSegment(k, bytes);
  if (segment.rows !== seed.rows) throw new CorruptSegmentError("segment row count differs from its index");
  let same = true;
  for (const col of seed.columns) {
    const info = DTYPES[col.dtype];
    const out = info.array ? new info.array(seed.rows) : (new Array(seed.rows).fill(null) as StringArray);
    decodeSegmentColumn(k, segment, col.name, out, 0);
    same &&= equal(out, col.values, 0);
    // A row slice goes through the codec's temporary: decode one and check it lands where it should.
    const from = m.int(seed.rows + 1);
    const to = from + m.int(seed.rows - from + 1);
    const part = info.array ? new info.array(to - from) : (new Array(to - from).fill(null) as StringArray);
    decodeSegmentColumn(k, segment, col.name, part, 0, from, to);
    same &&= equal(part, col.values, from);
  }
  return same ? "right" : "different";
}

/** Whether `got` equals `want[from, from + got.length)`, bit for bit (strings: exactly, null apart). */
function equal(got: NumericArray | StringArray, want: NumericArray | StringArray, from: number): boolean {
  if (Array.isArray(want)) {
    if (!Array.isArray(got)) return false;
    for (let i = 0; i < got.length; i++) if (got[i] !== want[from + i]) return false;
    return true;
  }
  if (Array.isArray(got) || got.constructor !== want.constructor) return false;
  const w = want.BYTES_PER_ELEMENT;
  return firstDifference(bytesOf(got), bytesOf(want).subarray(from * w, (from + got.length) * w)) === -1;
}

interface Header {
  cols?: { l?: unknown; s?: unknown }[];
}

/**
 * Rewrites the header and block checksums of a damaged segment so they match the damaged bytes, which
 * sends the damage on into the header parser and the codecs. Where the damage left no header to parse,
 * only the header checksum is fixed; with no prefix at all, nothing can be fixed.
 */
export function forgeChecksums(k: Kernels, bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength < 12) return bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headLen = Math.min(view.getUint32(4, true), bytes.byteLength - 12);
  let head = bytes.subarray(12, 12 + headLen);
  let blocks = bytes.subarray(12 + headLen);
  let header: Header | undefined;
  try {
    header = unpackPlain<Header>(head, "header");
  } catch {
    header = undefined;
  }
  if (header && typeof header === "object" && Array.isArray(header.cols)) {
    let at = 0;
    for (const c of header.cols) {
      if (!c || typeof c !== "object" || typeof c.l !== "number" || c.l < 0) break;
      const block = blocks.subarray(at, at + c.l);
      c.s = k.checksum(block);
      at += c.l;
    }
    head = packPlain(header);
    blocks = blocks.slice();
  }
  const out = new Uint8Array(12 + head.byteLength + blocks.byteLength);
  const outView = new DataView(out.buffer);
  out.set(bytes.subarray(0, 4));
  outView.setUint32(4, head.byteLength, true);
  outView.setUint32(8, k.checksum(head), true);
  out.set(head, 12);
  out.set(blocks, 12 + head.byteLength);
  return out;
}
