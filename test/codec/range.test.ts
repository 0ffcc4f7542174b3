import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { createKernels, type Kernels } from "../../src/codec/wasm.ts";
import { DTYPES, type DType, type NumericArray } from "../../src/dtypes.ts";

// assembly/range.ts through Kernels.columnRange: the least and greatest value of a column, NaN and NaT
// left out, equal to a plain JS scan for every numeric dtype, length and alignment.

let k: Kernels;
beforeAll(async () => {
  k = await createKernels();
});

const NAT = -(2n ** 63n);

/** The range a plain scan finds. */
function reference(values: NumericArray, dtype: DType): [number | bigint, number | bigint] | null {
  let lo: number | bigint | null = null;
  let hi: number | bigint | null = null;
  for (const x of values as ArrayLike<number | bigint> & Iterable<number | bigint>) {
    if (typeof x === "number" && Number.isNaN(x)) continue;
    if (dtype === "timestamp" && x === NAT) continue;
    if (lo === null || x < lo) lo = x;
    if (hi === null || x > hi) hi = x;
  }
  return lo === null || hi === null ? null : [lo, hi];
}

const DTYPES_WITH_RANGE: DType[] = [
  "float64",
  "float32",
  "int8",
  "int16",
  "int32",
  "int64",
  "uint8",
  "uint16",
  "uint32",
  "uint64",
  "timestamp",
];

/** Random bytes as a column of `dtype`, with NaN/NaT and extremes sprinkled in. */
function column(dtype: DType, bytes: Uint8Array, specials: number[]): NumericArray {
  const Array_ = DTYPES[dtype].array!;
  const width = DTYPES[dtype].width;
  const n = Math.floor(bytes.byteLength / width);
  // At offset `width` in a bigger buffer, so the data does not start at a 16-byte boundary.
  const buffer = new ArrayBuffer((n + 1) * width);
  new Uint8Array(buffer, width).set(bytes.subarray(0, n * width));
  const values = new Array_(buffer, width, n);
  for (const [i, s] of specials.entries()) {
    if (n === 0) break;
    const at = (s * 7919 + i) % n;
    if (dtype === "float64" || dtype === "float32") {
      (values as Float64Array)[at] = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0][
        s % 4
      ];
    } else if (dtype === "timestamp" || dtype === "int64") {
      (values as BigInt64Array)[at] = [NAT, 2n ** 63n - 1n, 0n, -1n][s % 4];
    } else if (dtype === "uint64") {
      (values as BigUint64Array)[at] = [0n, 2n ** 64n - 1n, 2n ** 63n, 2n ** 63n - 1n][s % 4];
    }
  }
  return values;
}

describe("columnRange", () => {
  it("matches a plain scan for every numeric dtype", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...DTYPES_WITH_RANGE),
        fc.uint8Array({ maxLength: 400 }),
        fc.array(fc.nat(1000), { maxLength: 6 }),
        (dtype, bytes, specials) => {
          const values = column(dtype, bytes, specials);
          expect(k.columnRange(values, dtype)).toEqual(reference(values, dtype));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("streams long columns through its window", () => {
    for (const dtype of DTYPES_WITH_RANGE) {
      const bytes = new Uint8Array(700_003);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
      const values = column(dtype, bytes, [1, 2, 3, 5]);
      expect(k.columnRange(values, dtype), dtype).toEqual(reference(values, dtype));
    }
  });

  it("is null for nothing but NaN or NaT, and for no rows", () => {
    expect(k.columnRange(new Float64Array(33).fill(Number.NaN), "float64")).toBeNull();
    expect(k.columnRange(new Float32Array(5).fill(Number.NaN), "float32")).toBeNull();
    expect(k.columnRange(new BigInt64Array(9).fill(NAT), "timestamp")).toBeNull();
    expect(k.columnRange(new BigInt64Array(9).fill(NAT), "int64")).toEqual([NAT, NAT]);
    expect(k.columnRange(new Int32Array(0), "int32")).toBeNull();
    expect(k.columnRange(Uint32Array.of(0xffffffff, 0, 7, 1, 2), "uint32")).toEqual([0, 0xffffffff]);
    expect(k.columnRange(Float32Array.of(0.1, -2.5), "float32")).toEqual([-2.5, Math.fround(0.1)]);
  });
});
