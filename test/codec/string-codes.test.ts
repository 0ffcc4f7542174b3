import { beforeAll, describe, expect, it } from "vitest";
import { STRING_CODECS } from "../../src/codec/codecs.ts";
import { createKernels, type Kernels } from "../../src/codec/wasm.ts";
import { CorruptSegmentError } from "../../src/errors.ts";
import { codesOf } from "../../src/string-codes.ts";

let k: Kernels;
beforeAll(async () => {
  k = await createKernels();
});

/** A dictionary-coded string column's bytes, with `entries` and `codes` as given (floe's layout). */
function crafted(entries: string[], codes: number[]): { bytes: Uint8Array; rawBytes: number } {
  const chars = new TextEncoder().encode(entries.join(""));
  const lengths = k.packInts(new Uint8Array(Int32Array.from(entries, (e) => e.length).buffer), 4, true).bytes;
  const packed = k.packInts(new Uint8Array(Int32Array.from(codes).buffer), 4, true).bytes;
  const container = k.compressBlocks(chars, 1).bytes;
  const out = new Uint8Array(1 + 4 + 4 + lengths.length + 4 + packed.length + container.length);
  const view = new DataView(out.buffer);
  // flags 0 (one byte per character) | u32 entries | u32 L1 | lengths | u32 L2 | codes | characters
  const atCodes = 9 + lengths.length;
  view.setUint32(1, entries.length, true);
  view.setUint32(5, lengths.length, true);
  out.set(lengths, 9);
  view.setUint32(atCodes, packed.length, true);
  out.set(packed, atCodes + 4);
  out.set(container, atCodes + 4 + packed.length);
  return { bytes: out, rawBytes: chars.length };
}

describe("a dictionary-coded string column's codes", () => {
  it("say they number the distinct values when every entry occurs", () => {
    const values = Array.from({ length: 200 }, (_, i) => (i % 9 === 4 ? null : ["b", "a", "c"][(i * 7) % 3]));
    const enc = STRING_CODECS.stringDict.encode(k, values)!;
    for (const wanted of ["only", "with"] as const) {
      const got = STRING_CODECS.stringDict.decode(k, enc.packed.bytes, enc.rawBytes, values.length, wanted);
      const coded = codesOf(got)!;
      expect(coded.complete).toBe(true);
      expect(Array.from(coded.codes, (c) => (c < 0 ? null : coded.dict[c]))).toEqual(values);
    }
  });

  it("do not, when a stored dictionary holds an entry no row uses (a reader does not assume it)", () => {
    const { bytes, rawBytes } = crafted(["x", "y", "zz"], [0, 1, 0, -1, 1]);
    for (const wanted of ["only", "with"] as const) {
      const coded = codesOf(STRING_CODECS.stringDict.decode(k, bytes, rawBytes, 5, wanted))!;
      expect(coded.dict).toEqual(["x", "y", "zz"]);
      expect(coded.complete).toBe(false);
    }
    const whole = crafted(["x", "y", "zz"], [2, 1, 0, -1, 1]);
    expect(
      codesOf(STRING_CODECS.stringDict.decode(k, whole.bytes, whole.rawBytes, 5, "only"))!.complete,
    ).toBe(true);
  });

  it("gathered (to look rows' strings up) are the stored ones, not said to be complete", () => {
    const values = Array.from({ length: 50 }, (_, i) => (i % 7 === 3 ? null : ["b", "a"][i % 2]));
    const enc = STRING_CODECS.stringDict.encode(k, values)!;
    const coded = codesOf(STRING_CODECS.stringDict.decode(k, enc.packed.bytes, enc.rawBytes, 50, "gather"))!;
    expect(Array.from(coded.codes, (c) => (c < 0 ? null : coded.dict[c]))).toEqual(values);
    expect(coded.complete).toBe(false);
  });

  it("outside the dictionary are refused", () => {
    const { bytes, rawBytes } = crafted(["x", "y"], [0, 2]);
    for (const wanted of ["only", "with", "gather", undefined] as const) {
      expect(() => STRING_CODECS.stringDict.decode(k, bytes, rawBytes, 2, wanted)).toThrow(
        CorruptSegmentError,
      );
    }
  });

  it("unpack into Wasm memory as stored, and are refused there too when outside the dictionary", () => {
    const codesAt = STRING_CODECS.stringDict.codesAt!;
    // Long enough for the four-at-a-time check and its tail; one bad code at each position in turn.
    const codes = Array.from({ length: 23 }, (_, i) => (i % 5 === 2 ? -1 : i % 3));
    const good = crafted(["x", "y", "zz"], codes);
    const at = k.hold(4 * codes.length);
    try {
      expect(codesAt(k, good.bytes, good.rawBytes, codes.length, at)).toEqual(["x", "y", "zz"]);
      expect(Array.from(new Int32Array(k.bytes().buffer, at, codes.length))).toEqual(codes);
      for (const bad of [3, -2]) {
        for (let i = 0; i < codes.length; i++) {
          const wrong = crafted(
            ["x", "y", "zz"],
            codes.map((c, j) => (j === i ? bad : c)),
          );
          expect(() => codesAt(k, wrong.bytes, wrong.rawBytes, codes.length, at)).toThrow(
            CorruptSegmentError,
          );
        }
      }
    } finally {
      k.release(at);
    }
  });
});
