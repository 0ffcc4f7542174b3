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

type CodecName = keyof typeof NUMERIC_CODECS;

/** Test data of `n` rows that the case's codec encodes (never null), with its dtype. */
interface Case {
  name: string;
  codec: CodecName;
  /** For int-pack: force values (0) or deltas (1) instead of letting the encoder pick. */
  mode?: 0 | 1;
  make: (n: number, r: () => number) => [DType, NumericArray];
}

const timestamps = (n: number, r: () => number): [DType, NumericArray] => {
  const ts = new BigInt64Array(n);
  let t = 1_700_000_000_000_000_000n;
  for (let i = 0; i < n; i++) {
    t += BigInt(1 + Math.floor(r() * 60)) * 1_000_000_000n;
    ts[i] = t;
  }
  return ["timestamp", ts];
};
// Full-range int64: 64 bits a block, the kernel's wide path.
const wide = (n: number, r: () => number): [DType, NumericArray] => [
  "int64",
  BigInt64Array.from({ length: n }, () => BigInt.asIntN(64, BigInt(Math.floor(r() * 2 ** 32)) << 31n)),
];
const smallUints = (n: number, r: () => number): [DType, NumericArray] => [
  "uint8",
  Uint8Array.from({ length: n }, () => Math.floor(r() * 16)),
];
// A fixed step: 0 bits a block as deltas (the running sum adds the block minimum alone).
const steps = (n: number): [DType, NumericArray] => [
  "int32",
  Int32Array.from({ length: n }, (_, i) => 7 * i - 1000),
];

const CASES: Case[] = [
  { name: "int-pack, timestamps as deltas", codec: "intPack", mode: 1, make: timestamps },
  { name: "int-pack, timestamps as values", codec: "intPack", mode: 0, make: timestamps },
  { name: "int-pack, full-range int64 as values", codec: "intPack", mode: 0, make: wide },
  { name: "int-pack, full-range int64 as deltas", codec: "intPack", mode: 1, make: wide },
  { name: "int-pack, 4-bit uint8 as values", codec: "intPack", mode: 0, make: smallUints },
  { name: "int-pack, 4-bit uint8 as deltas", codec: "intPack", mode: 1, make: smallUints },
  { name: "int-pack, a fixed step as deltas", codec: "intPack", mode: 1, make: steps },
  { name: "int-pack, a fixed step as values", codec: "intPack", mode: 0, make: steps },
  {
    name: "decimal, 2-decimal prices",
    codec: "decimal",
    make: (n, r) => {
      const prices = new Float64Array(n);
      let p = 100;
      for (let i = 0; i < n; i++) {
        p += r() - 0.5;
        prices[i] = Math.round(p * 100) / 100;
      }
      return ["float64", prices];
    },
  },
  ...(["lz4", "shuffleLz4"] as const).map(
    (codec): Case => ({
      name: `${codec}, compressible with random runs (chunks stored and compressed)`,
      codec,
      make: (n, r) => {
        const v = new Float64Array(n);
        for (let i = 0; i < n; i++) v[i] = Math.floor(i / 7) % 3 === 0 && i % 20_000 < 9000 ? r() : i % 13;
        return ["float64", v];
      },
    }),
  ),
  {
    name: "raw, random floats",
    codec: "raw",
    make: (n, r) => ["float64", Float64Array.from({ length: n }, r)],
  },
];

function encoded(c: Case, dtype: DType, values: NumericArray): EncodedColumn {
  const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice();
  const info = DTYPES[dtype];
  const packed =
    c.mode === undefined
      ? NUMERIC_CODECS[c.codec].encode(k, raw, dtype)
      : k.packInts(raw, info.width, dtype.startsWith("int") || dtype === "timestamp", c.mode);
  if (!packed) throw new Error(`${c.codec} refused the test data`);
  return {
    codec: NUMERIC_CODECS[c.codec].id,
    rawBytes: raw.byteLength,
    bytes: packed.bytes,
    checksum: packed.checksum,
  };
}

describe("decodeColumnInto of rows [from, to)", () => {
  it("covers every numeric codec", () => {
    expect(new Set(CASES.map((c) => c.codec))).toEqual(new Set(Object.keys(NUMERIC_CODECS)));
  });

  for (const c of CASES) {
    it(`${c.name}: any window gives exactly those rows, at any offset in the target`, () => {
      const [dtype, values] = c.make(ROWS, rng(11));
      const enc = encoded(c, dtype, values);
      const perChunk = CHUNK / DTYPES[dtype].width;
      const r = rng(5);
      const windows: [number, number][] = [
        [0, ROWS],
        [0, 0],
        [0, 1],
        [ROWS - 1, ROWS],
        [perChunk - 1, perChunk + 1], // across a chunk boundary
        [perChunk, Math.min(2 * perChunk, ROWS)], // one chunk (or what is left)
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
        expect(out.subarray(2, 2 + to - from), `${c.name}: rows ${from}..${to}`).toEqual(
          values.subarray(from, to),
        );
        const zero = new Ctor(1)[0]; // rows around the window are left alone
        expect([out[0], out[1], out[out.length - 1]]).toEqual([zero, zero, zero]);
      }
    });

    it(`${c.name}: a corrupted byte outside the window still fails the checksum`, () => {
      const [dtype, values] = c.make(ROWS, rng(12));
      const enc = encoded(c, dtype, values);
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
    const decimal = CASES.find((c) => c.codec === "decimal") as Case;
    const [dtype, values] = decimal.make(1000, rng(3));
    const enc = encoded(decimal, dtype, values);
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
