import { beforeAll, describe, expect, it } from "vitest";
import { NUMERIC_CODECS } from "../../src/codec/codecs.ts";
import { decodeColumnInto, type EncodedColumn } from "../../src/codec/column-codec.ts";
import { CHUNK, createKernels, type Kernels } from "../../src/codec/wasm.ts";
import { DTYPES, type DType, type NumericArray } from "../../src/dtypes.ts";
import { CorruptSegmentError, InvalidArgumentError } from "../../src/errors.ts";
import { rng } from "./test-data.ts";

// A date-range read decodes only the rows of its boundary segments that it returns: every numeric codec
// takes a window (rows [from, to) of the column) and must give exactly those rows, still verifying the
// checksum of the whole stored block.

let k: Kernels;
beforeAll(async () => {
  k = await createKernels();
});

const ROWS = 100_000; // 800 KB of 8-byte values: 13 LZ4 chunks of 64 KB

/** Per codec: a dtype it accepts and data it encodes (not null), of `n` rows. */
function dataFor(codec: keyof typeof NUMERIC_CODECS, n: number, seed: number): [DType, NumericArray] {
  const r = rng(seed);
  switch (codec) {
    case "intPack": {
      // Monotonic timestamps: packed as deltas, whose decoding is a running sum across blocks.
      const ts = new BigInt64Array(n);
      let t = 1_700_000_000_000_000_000n;
      for (let i = 0; i < n; i++) {
        t += BigInt(1 + Math.floor(r() * 60)) * 1_000_000_000n;
        ts[i] = t;
      }
      return ["timestamp", ts];
    }
    case "decimal": {
      const prices = new Float64Array(n);
      let p = 100;
      for (let i = 0; i < n; i++) {
        p += r() - 0.5;
        prices[i] = Math.round(p * 100) / 100;
      }
      return ["float64", prices];
    }
    case "lz4":
    case "shuffleLz4": {
      // Compressible, with a random run every few chunks so some chunks are stored and some compressed.
      const v = new Float64Array(n);
      for (let i = 0; i < n; i++) v[i] = Math.floor(i / 7) % 3 === 0 && i % 20_000 < 9000 ? r() : i % 13;
      return ["float64", v];
    }
    default:
      return ["float64", Float64Array.from({ length: n }, () => r())];
  }
}

function encoded(codec: keyof typeof NUMERIC_CODECS, dtype: DType, values: NumericArray): EncodedColumn {
  const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const packed = NUMERIC_CODECS[codec].encode(k, raw.slice(), dtype);
  if (!packed) throw new Error(`${codec} refused the test data`);
  return {
    codec: NUMERIC_CODECS[codec].id,
    rawBytes: raw.byteLength,
    bytes: packed.bytes,
    checksum: packed.checksum,
  };
}

describe("decodeColumnInto of rows [from, to)", () => {
  for (const codec of Object.keys(NUMERIC_CODECS) as (keyof typeof NUMERIC_CODECS)[]) {
    it(`${codec}: any window gives exactly those rows, at any offset in the target`, () => {
      const [dtype, values] = dataFor(codec, ROWS, 11);
      const enc = encoded(codec, dtype, values);
      const perChunk = CHUNK / DTYPES[dtype].width;
      const r = rng(5);
      const windows: [number, number][] = [
        [0, ROWS],
        [0, 0],
        [0, 1],
        [ROWS - 1, ROWS],
        [perChunk - 1, perChunk + 1], // across a chunk boundary
        [perChunk, 2 * perChunk], // exactly one chunk
        [127, 129], // across an int-pack block boundary
        [ROWS / 2, ROWS],
      ];
      for (let i = 0; i < 20; i++) {
        const a = Math.floor(r() * ROWS);
        windows.push([a, a + Math.floor(r() * (ROWS - a))]);
      }
      const Ctor = DTYPES[dtype].array as unknown as new (n: number) => NumericArray;
      for (const [from, to] of windows) {
        const out = new Ctor(to - from + 3);
        decodeColumnInto(k, enc, dtype, ROWS, out, 2, from, to);
        expect(out.subarray(2, 2 + to - from), `${codec} rows ${from}..${to}`).toEqual(
          values.subarray(from, to),
        );
        const zero = new Ctor(1)[0]; // rows around the window are left alone
        expect([out[0], out[1], out[out.length - 1]]).toEqual([zero, zero, zero]);
      }
    });

    it(`${codec}: a corrupted byte outside the window still fails the checksum`, () => {
      const [dtype, values] = dataFor(codec, ROWS, 12);
      const enc = encoded(codec, dtype, values);
      const bytes = enc.bytes.slice();
      bytes[8] ^= 0x10; // in the first chunk or block, far from the last rows
      const bad = { ...enc, bytes };
      const Ctor = DTYPES[dtype].array as unknown as new (n: number) => NumericArray;
      expect(() => decodeColumnInto(k, bad, dtype, ROWS, new Ctor(10), 0, ROWS - 10, ROWS)).toThrow(
        CorruptSegmentError,
      );
    });
  }

  it("refuses windows outside the column or the target", () => {
    const [dtype, values] = dataFor("decimal", 1000, 3);
    const enc = encoded("decimal", dtype, values);
    const out = new Float64Array(10);
    for (const [from, to, at] of [
      [5, 4, 0],
      [-1, 5, 0],
      [995, 1001, 0],
      [0, 11, 0],
      [0, 10, 1],
      [0.5, 3, 0],
    ]) {
      expect(
        () => decodeColumnInto(k, enc, dtype, 1000, out, at, from, to),
        `${from}..${to} at ${at}`,
      ).toThrow(InvalidArgumentError);
    }
  });
});
