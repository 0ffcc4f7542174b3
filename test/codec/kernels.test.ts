import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { CODEC } from "../../src/codec/codecs.ts";
import {
  decodeColumnInto,
  decodeStrings,
  type EncodedColumn,
  encodeColumn,
} from "../../src/codec/column-codec.ts";
import { CHUNK, createKernels, type Kernels } from "../../src/codec/wasm.ts";
import { DTYPES, type DType, type NumericArray, type StringArray } from "../../src/dtypes.ts";
import { CorruptSegmentError, InvalidArgumentError } from "../../src/errors.ts";
import { firstDifference, randomBytes, rng } from "./test-data.ts";

let k: Kernels;
beforeAll(async () => {
  k = await createKernels();
});

// ---- helpers ---------------------------------------------------------------------------------------------

/** Slowly varying little-endian integers of `width` bytes: a random walk with small steps. */
function walkBytes(n: number, width: number, seed = 2): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(n);
  const view = new DataView(out.buffer);
  let x = 1n << BigInt(8 * width - 2);
  for (let at = 0; at + width <= n; at += width) {
    x += BigInt(Math.floor(r() * 21) - 10);
    writeInt(view, at, width, x);
  }
  return out;
}

function writeInt(view: DataView, at: number, width: number, v: bigint): void {
  const u = BigInt.asUintN(8 * width, v);
  if (width === 8) view.setBigUint64(at, u, true);
  else if (width === 4) view.setUint32(at, Number(u), true);
  else if (width === 2) view.setUint16(at, Number(u), true);
  else view.setUint8(at, Number(u));
}

/** Little-endian bytes of `values` as integers of `width` bytes (wrapped to the width). */
function intBytes(values: readonly bigint[], width: number): Uint8Array {
  const out = new Uint8Array(values.length * width);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    writeInt(view, i * width, width, v);
  });
  return out;
}

function bytesOf(a: NumericArray | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Runs `f` and returns what it threw (failing when it throws nothing). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error("expected an error, none was thrown");
}

function expectCorrupt(f: () => unknown): void {
  expect(thrown(f)).toBeInstanceOf(CorruptSegmentError);
}

/** JS reference of the byte shuffle: dst[b * n + i] = src[i * width + b]. */
function shuffleRef(src: Uint8Array, width: number): Uint8Array {
  const n = src.byteLength / width;
  const out = new Uint8Array(src.byteLength);
  for (let i = 0; i < n; i++) for (let b = 0; b < width; b++) out[b * n + i] = src[i * width + b];
  return out;
}

// Reference XXH32 and floe checksum v1 (assembly/checksum.ts), written from the spec in its comment.
const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;
const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;
const u32le = (b: Uint8Array, i: number) =>
  (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
const xround = (acc: number, x: number) => Math.imul(rotl((acc + Math.imul(x, P2)) >>> 0, 13), P1) >>> 0;

function xxh32Ref(b: Uint8Array, seed: number): number {
  const n = b.byteLength;
  let p = 0;
  let h: number;
  if (n >= 16) {
    let v1 = (seed + P1 + P2) >>> 0;
    let v2 = (seed + P2) >>> 0;
    let v3 = seed >>> 0;
    let v4 = (seed - P1) >>> 0;
    while (p <= n - 16) {
      v1 = xround(v1, u32le(b, p));
      v2 = xround(v2, u32le(b, p + 4));
      v3 = xround(v3, u32le(b, p + 8));
      v4 = xround(v4, u32le(b, p + 12));
      p += 16;
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) >>> 0;
  } else {
    h = (seed + P5) >>> 0;
  }
  h = (h + n) >>> 0;
  for (; p + 4 <= n; p += 4) h = Math.imul(rotl((h + Math.imul(u32le(b, p), P3)) >>> 0, 17), P4) >>> 0;
  for (; p < n; p++) h = Math.imul(rotl((h + Math.imul(b[p], P5)) >>> 0, 11), P1) >>> 0;
  h = (h ^ (h >>> 15)) >>> 0;
  h = Math.imul(h, P2) >>> 0;
  h = (h ^ (h >>> 13)) >>> 0;
  h = Math.imul(h, P3) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

function checksumRef(b: Uint8Array): number {
  const a = new Uint32Array(16);
  for (let g = 0; g < 4; g++) {
    a[4 * g] = g + P1 + P2;
    a[4 * g + 1] = g + P2;
    a[4 * g + 2] = g;
    a[4 * g + 3] = g - P1;
  }
  const stripes = Math.floor(b.byteLength / 64);
  for (let s = 0; s < stripes; s++)
    for (let j = 0; j < 16; j++) a[j] = xround(a[j], u32le(b, 64 * s + 4 * j));
  const tail = b.subarray(64 * stripes);
  const digest = new Uint8Array(64 + tail.byteLength);
  digest.set(new Uint8Array(a.buffer), 0);
  digest.set(tail, 64);
  return xxh32Ref(digest, b.byteLength >>> 0);
}

// ---- shuffle ---------------------------------------------------------------------------------------------

describe("shuffle / unshuffle", () => {
  it("splits little-endian elements into byte planes (hand-checked cases)", () => {
    // [0x0102, 0x0304] as uint16 LE is 02 01 04 03; plane 0 holds the low bytes, plane 1 the high ones.
    const two = bytesOf(Uint16Array.of(0x0102, 0x0304));
    expect([...two]).toEqual([0x02, 0x01, 0x04, 0x03]);
    expect([...k.shuffle(two, 2)]).toEqual([0x02, 0x04, 0x01, 0x03]);
    expect([...k.unshuffle(Uint8Array.of(0x02, 0x04, 0x01, 0x03), 2)]).toEqual([0x02, 0x01, 0x04, 0x03]);
    const four = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
    expect([...k.shuffle(four, 4)]).toEqual([1, 5, 9, 2, 6, 10, 3, 7, 11, 4, 8, 12]);
    const eight = Uint8Array.from({ length: 16 }, (_, i) => i);
    expect([...k.shuffle(eight, 8)]).toEqual([0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15]);
    expect([...k.shuffle(Uint8Array.of(9, 8, 7), 1)]).toEqual([9, 8, 7]);
  });

  it("matches a reference transpose for every width around the 16-element vector steps", () => {
    const counts = [0, 1, 2, 3, 15, 16, 17, 31, 32, 33, 47, 48, 100, 1001, 4096 + 13];
    for (const width of [1, 2, 3, 4, 5, 8, 16]) {
      for (const count of counts) {
        const src = randomBytes(count * width, count * 31 + width);
        const shuffled = k.shuffle(src, width);
        const want = shuffleRef(src, width);
        expect(firstDifference(shuffled, want), `width ${width}, ${count} elements`).toBe(-1);
        expect(firstDifference(k.unshuffle(shuffled, width), src), `width ${width}, ${count}`).toBe(-1);
        // unshuffle is the inverse on any input, not only on shuffle's output.
        expect(firstDifference(k.shuffle(k.unshuffle(src, width), width), src)).toBe(-1);
      }
    }
  });

  it("round-trips 16 MB for widths 1, 2, 4 and 8", () => {
    const src = randomBytes(16 << 20, 7);
    for (const width of [1, 2, 4, 8]) {
      const shuffled = k.shuffle(src, width);
      expect(shuffled.byteLength).toBe(src.byteLength);
      if (width > 1) {
        // Spot-check the layout far from the start.
        const n = src.byteLength / width;
        for (const i of [0, 12345, n - 17, n - 1]) {
          for (let b = 0; b < width; b++) expect(shuffled[b * n + i]).toBe(src[i * width + b]);
        }
      }
      expect(firstDifference(k.unshuffle(shuffled, width), src), `width ${width}`).toBe(-1);
    }
  });

  it("round-trips arbitrary inputs (property)", () => {
    fc.assert(
      fc.property(fc.constantFrom(1, 2, 4, 8), fc.uint8Array({ maxLength: 600 }), (width, data) => {
        const src = data.subarray(0, data.byteLength - (data.byteLength % width));
        expect(k.shuffle(src, width)).toEqual(shuffleRef(src, width));
        expect(k.unshuffle(k.shuffle(src, width), width)).toEqual(src);
      }),
      { numRuns: 200 },
    );
  });

  it("rejects sizes that are not whole elements and bad widths", () => {
    expect(() => k.shuffle(new Uint8Array(3), 2)).toThrow(RangeError);
    expect(() => k.unshuffle(new Uint8Array(7), 8)).toThrow(RangeError);
    expect(() => k.shuffle(new Uint8Array(4), 0)).toThrow(RangeError);
    expect(() => k.shuffle(new Uint8Array(4), 1.5)).toThrow(RangeError);
  });
});

// ---- checksums -------------------------------------------------------------------------------------------

describe("checksum", () => {
  it("xxh32 matches published vectors and a reference implementation", () => {
    const text = (s: string) => new TextEncoder().encode(s);
    expect(k.xxh32(new Uint8Array(0))).toBe(0x02cc5d05);
    expect(xxh32Ref(new Uint8Array(0), 0)).toBe(0x02cc5d05);
    expect(k.xxh32(text("abc"))).toBe(0x32d153ff);
    for (const n of [0, 1, 3, 4, 15, 16, 17, 31, 32, 33, 100, 1000, 70000]) {
      const b = randomBytes(n, n + 5);
      for (const seed of [0, 1, 0x9e3779b1, 0xffffffff])
        expect(k.xxh32(b, seed)).toBe(xxh32Ref(b, seed >>> 0));
    }
  });

  it("matches the v1 definition (xxh32 x16) for short, exact-stripe and streamed lengths", () => {
    const lengths = [0, 1, 15, 16, 63, 64, 65, 127, 128, 129, 1000, 65535, 65536, 65537, 200003, 1 << 20];
    for (const n of lengths) {
      const b = randomBytes(n, n + 11);
      const c = k.checksum(b);
      expect(c, `${n} bytes`).toBe(checksumRef(b));
      expect(Number.isInteger(c) && c >= 0 && c <= 0xffffffff).toBe(true);
    }
  });

  it("is deterministic, including across instances, and works on empty input", async () => {
    const b = randomBytes(300000, 3);
    const other = await createKernels();
    expect(k.checksum(b)).toBe(k.checksum(b.slice()));
    expect(other.checksum(b)).toBe(k.checksum(b));
    expect(k.checksum(new Uint8Array(0))).toBe(checksumRef(new Uint8Array(0)));
    expect(k.checksum(new Uint8Array(0))).toBe(other.checksum(new Uint8Array(0)));
    // A view at an odd offset is hashed by its contents.
    const big = randomBytes(5000, 4);
    expect(k.checksum(big.subarray(3, 4003))).toBe(k.checksum(big.slice(3, 4003)));
  });

  it("changes when any single byte flips", () => {
    const n = 200003;
    const b = randomBytes(n, 9);
    const base = k.checksum(b);
    const r = rng(10);
    const positions = [0, 1, 63, 64, 65, 4095, 65535, 65536, 65537, 131071, n - 64, n - 3, n - 1];
    for (let i = 0; i < 40; i++) positions.push(Math.floor(r() * n));
    for (const at of positions) {
      for (const bit of [0x01, 0x80, 0xff]) {
        const bad = b.slice();
        bad[at] ^= bit;
        expect(k.checksum(bad), `byte ${at} ^ ${bit}`).not.toBe(base);
      }
    }
    // Every byte and bit of a short buffer.
    const small = randomBytes(100, 12);
    const smallBase = k.checksum(small);
    for (let at = 0; at < small.byteLength; at++) {
      for (let bit = 0; bit < 8; bit++) {
        small[at] ^= 1 << bit;
        expect(k.checksum(small)).not.toBe(smallBase);
        small[at] ^= 1 << bit;
      }
    }
  });

  it("differs for different lengths, even of zeros", () => {
    const seen = new Set<number>();
    for (let n = 0; n <= 300; n++) seen.add(k.checksum(new Uint8Array(n)));
    expect(seen.size).toBe(301);
    const b = randomBytes(70000, 13);
    expect(k.checksum(b.subarray(0, 69999))).not.toBe(k.checksum(b));
    expect(k.checksum(b.subarray(0, 65536))).not.toBe(k.checksum(b.subarray(0, 65537)));
  });
});

// ---- block container -------------------------------------------------------------------------------------

const STORED = 0x80000000;

interface ChunkInfo {
  stored: boolean;
  body: number;
}

/** Walks a block container's chunk words (format in wasm.ts). */
function chunksOf(container: Uint8Array): ChunkInfo[] {
  const view = new DataView(container.buffer, container.byteOffset, container.byteLength);
  const out: ChunkInfo[] = [];
  for (let pos = 0; pos < container.byteLength; ) {
    const word = view.getUint32(pos, true);
    const body = word & 0x7fffffff;
    out.push({ stored: (word & STORED) !== 0, body });
    pos += 4 + body;
  }
  return out;
}

function blocksRoundTrip(raw: Uint8Array, width: number): Uint8Array {
  const packed = k.compressBlocks(raw, width);
  expect(packed.checksum).toBe(k.checksum(packed.bytes));
  const chunks = chunksOf(packed.bytes);
  expect(chunks.length).toBe(Math.ceil(raw.byteLength / CHUNK));
  chunks.forEach((c, i) => {
    const len = Math.min(CHUNK, raw.byteLength - i * CHUNK);
    if (c.stored) expect(c.body).toBe(len);
    else expect(c.body).toBeLessThan(len);
  });
  const out = new Uint8Array(raw.byteLength);
  k.decompressBlocksInto(packed.bytes, width, out, packed.checksum);
  expect(firstDifference(out, raw)).toBe(-1);
  const again = new Uint8Array(raw.byteLength);
  k.decompressBlocksInto(packed.bytes, width, again, null);
  expect(firstDifference(again, raw)).toBe(-1);
  return packed.bytes;
}

describe("block container (compressBlocks / decompressBlocksInto)", () => {
  for (const width of [1, 8]) {
    const sizes = [0, width, 8 * width, CHUNK - width, CHUNK, CHUNK + width, 3 * CHUNK + 40 * width, 1 << 20];
    for (const n of sizes) {
      it(`width ${width}, ${n} bytes: random data is stored, structured data compresses`, () => {
        const random = randomBytes(n, n + width);
        const stored = blocksRoundTrip(random, width);
        // Random bytes cannot shrink: every chunk is stored, costing exactly its 4-byte word.
        expect(stored.byteLength).toBe(n + 4 * Math.ceil(n / CHUNK));
        expect(chunksOf(stored).every((c) => c.stored)).toBe(true);

        const walk = blocksRoundTrip(walkBytes(n, width, n), width);
        const zeros = blocksRoundTrip(new Uint8Array(n), width);
        if (n >= 1024) {
          expect(zeros.byteLength).toBeLessThan(n / 50);
          if (width === 8) expect(walk.byteLength).toBeLessThan(n / 2);
        }
      });
    }
  }

  it("stores the shuffled bytes of a chunk LZ4 cannot shrink", () => {
    const raw = randomBytes(4096, 77);
    const packed = k.compressBlocks(raw, 8).bytes;
    expect(new DataView(packed.buffer, packed.byteOffset).getUint32(0, true)).toBe((4096 | STORED) >>> 0);
    expect(firstDifference(packed.subarray(4), k.shuffle(raw, 8))).toBe(-1);
    const plain = k.compressBlocks(raw, 1).bytes;
    expect(firstDifference(plain.subarray(4), raw)).toBe(-1);
  });

  it("writes the empty container as no bytes at all", () => {
    const packed = k.compressBlocks(new Uint8Array(0), 8);
    expect(packed.bytes.byteLength).toBe(0);
    expect(packed.checksum).toBe(k.checksum(new Uint8Array(0)));
    k.decompressBlocksInto(packed.bytes, 8, new Uint8Array(0), packed.checksum);
  });

  it("round-trips 16 MB (random at width 1, structured at width 8) across output windows", () => {
    const n = 16 << 20;
    const random = blocksRoundTrip(randomBytes(n, 21), 1);
    expect(random.byteLength).toBe(n + 4 * (n / CHUNK));
    const walk = blocksRoundTrip(walkBytes(n, 8, 22), 8);
    expect(walk.byteLength).toBeLessThan(n / 2);
  });

  it("round-trips mixed chunks: some stored, some compressed", () => {
    const raw = new Uint8Array(5 * CHUNK + 24);
    raw.set(randomBytes(CHUNK, 1), 0);
    raw.set(randomBytes(CHUNK, 2), 2 * CHUNK);
    raw.set(randomBytes(CHUNK + 24, 3), 4 * CHUNK);
    for (const width of [1, 8]) {
      const chunks = chunksOf(blocksRoundTrip(raw, width));
      expect(chunks.map((c) => c.stored)).toEqual([true, false, true, false, true, true]);
    }
  });

  it("throws CorruptSegmentError on a wrong checksum (after decoding) and accepts null", () => {
    const raw = walkBytes(3 * CHUNK + 80, 8, 5);
    for (const width of [1, 8]) {
      const packed = k.compressBlocks(raw, width);
      const out = new Uint8Array(raw.byteLength);
      expectCorrupt(() => k.decompressBlocksInto(packed.bytes, width, out, (packed.checksum + 1) >>> 0));
      expectCorrupt(() => k.decompressBlocksInto(packed.bytes, width, out, packed.checksum ^ 0x80000000));
      // A checksum passed as a signed int32 is the same checksum.
      k.decompressBlocksInto(packed.bytes, width, out, packed.checksum | 0);
      expect(firstDifference(out, raw)).toBe(-1);
    }
  });

  it("throws CorruptSegmentError on truncation, trailing bytes and wrong sizes", () => {
    const raw = new Uint8Array(3 * CHUNK + 800);
    raw.set(walkBytes(2 * CHUNK, 8, 6), 0);
    raw.set(randomBytes(CHUNK + 800, 7), 2 * CHUNK);
    for (const width of [1, 8]) {
      const { bytes } = k.compressBlocks(raw, width);
      const out = new Uint8Array(raw.byteLength);
      const decode =
        (b: Uint8Array, o = out) =>
        () =>
          k.decompressBlocksInto(b, width, o, null);
      const boundaries: number[] = [];
      let pos = 0;
      for (const c of chunksOf(bytes)) {
        boundaries.push(pos, pos + 1, pos + 3, pos + 4, pos + 5, pos + 4 + c.body - 1);
        pos += 4 + c.body;
      }
      const r = rng(width);
      for (let i = 0; i < 40; i++) boundaries.push(Math.floor(r() * bytes.byteLength));
      for (const cut of boundaries) expectCorrupt(decode(bytes.subarray(0, cut)));
      const longer = new Uint8Array(bytes.byteLength + 4);
      longer.set(bytes);
      expectCorrupt(decode(longer)); // four zero bytes would read as an empty chunk word
      expectCorrupt(decode(longer.subarray(0, bytes.byteLength + 1)));
      for (const delta of [-CHUNK, -8, 8, CHUNK]) {
        expectCorrupt(decode(bytes, new Uint8Array(raw.byteLength + delta)));
      }
      expectCorrupt(decode(bytes, new Uint8Array(0)));
      // A chunk word claiming an impossible size.
      for (const word of [0x7fffffff, 0xffffffff, (CHUNK + 1) | STORED, 0]) {
        const bad = bytes.slice();
        new DataView(bad.buffer).setUint32(0, word >>> 0, true);
        expectCorrupt(decode(bad));
      }
    }
  });

  it("flipped bytes decode or throw CorruptSegmentError, never anything else (property)", () => {
    const raw = new Uint8Array(2 * CHUNK + 160);
    raw.set(walkBytes(CHUNK + 160, 8, 8), 0);
    raw.set(randomBytes(CHUNK, 9), CHUNK + 160);
    const packed = k.compressBlocks(raw, 8);
    const out = new Uint8Array(raw.byteLength);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(packed.bytes.byteLength - 1), fc.integer({ min: 1, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        (flips) => {
          const bad = packed.bytes.slice();
          for (const [at, x] of flips) bad[at] ^= x;
          // With the right checksum every flip is caught ...
          expectCorrupt(() => k.decompressBlocksInto(bad, 8, out, packed.checksum));
          // ... and without one the parser still never fails any other way.
          try {
            k.decompressBlocksInto(bad, 8, out, null);
          } catch (err) {
            expect(err).toBeInstanceOf(CorruptSegmentError);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("sampleBlocks estimates one chunk's container size", () => {
    expect(k.sampleBlocks(new Uint8Array(0), 8, 1000)).toBe(0);
    expect(k.sampleBlocks(randomBytes(100000, 1), 1, 10000)).toBe(10004);
    expect(k.sampleBlocks(randomBytes(100000, 1), 8, 1 << 20)).toBe(CHUNK + 4);
    expect(k.sampleBlocks(new Uint8Array(100000), 8, 1 << 20)).toBeLessThan(1000);
    const walk = walkBytes(CHUNK, 8, 3);
    expect(k.sampleBlocks(walk, 8, CHUNK)).toBe(k.compressBlocks(walk, 8).bytes.byteLength);
  });
});

// ---- raw copies ------------------------------------------------------------------------------------------

describe("copyRawInto", () => {
  it("copies and checksums every size around the 64 KB window", () => {
    for (const n of [0, 1, 63, 65535, 65536, 65537, 3 * 65536 + 5, (1 << 20) + 3]) {
      const src = randomBytes(n, n);
      const out = new Uint8Array(n);
      k.copyRawInto(src, out, k.checksum(src));
      expect(firstDifference(out, src), `${n} bytes`).toBe(-1);
    }
  });

  it("throws CorruptSegmentError on a checksum or length mismatch", () => {
    const src = randomBytes(100000, 4);
    const sum = k.checksum(src);
    expectCorrupt(() => k.copyRawInto(src, new Uint8Array(100000), (sum + 1) >>> 0));
    expectCorrupt(() => k.copyRawInto(src, new Uint8Array(99999), sum));
    expectCorrupt(() => k.copyRawInto(src, new Uint8Array(100001), sum));
    const bad = src.slice();
    bad[77777] ^= 4;
    expectCorrupt(() => k.copyRawInto(bad, new Uint8Array(100000), sum));
    expectCorrupt(() =>
      k.copyRawInto(new Uint8Array(0), new Uint8Array(0), (k.checksum(new Uint8Array(0)) ^ 1) >>> 0),
    );
  });
});

// ---- integer packing -------------------------------------------------------------------------------------

const WIDTHS = [1, 2, 4, 8] as const;

function packBound(n: number, width: number): number {
  return 1 + width + Math.ceil(n / 128) * (1 + width) + n * width;
}

/** Packs in `mode`, checks the header, size bound and checksum, unpacks both ways; returns the size. */
function packRoundTrip(raw: Uint8Array, width: number, signed: boolean, mode: 0 | 1 | "auto"): number {
  const n = raw.byteLength / width;
  const packed = k.packInts(raw, width, signed, mode);
  expect(packed.checksum).toBe(k.checksum(packed.bytes));
  expect(packed.bytes.byteLength).toBeLessThanOrEqual(packBound(n, width));
  if (n === 0) expect([...packed.bytes]).toEqual([0]);
  else if (mode !== "auto") expect(packed.bytes[0]).toBe(mode);
  const back = k.unpackInts(packed.bytes, n, width);
  const where = `width ${width}, ${signed ? "signed" : "unsigned"}, mode ${mode}, ${n} values`;
  expect(firstDifference(back, raw), where).toBe(-1);
  const out = new Uint8Array(raw.byteLength).fill(0xa5);
  k.unpackIntsInto(packed.bytes, width, out, packed.checksum);
  expect(firstDifference(out, raw), where).toBe(-1);
  return packed.bytes.byteLength;
}

function packAllModes(raw: Uint8Array, width: number, signed: boolean): void {
  const values = packRoundTrip(raw, width, signed, 0);
  const deltas = packRoundTrip(raw, width, signed, 1);
  expect(packRoundTrip(raw, width, signed, "auto")).toBe(Math.min(values, deltas));
}

function extremes(width: number, signed: boolean): bigint[] {
  const bits = BigInt(8 * width);
  const min = signed ? -(1n << (bits - 1n)) : 0n;
  const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  return [min, max, -1n, 0n, 1n, max - 1n, min + 1n, min, max, 0n, max, min, -1n, -1n];
}

describe("packInts / unpackInts", () => {
  it("round-trips extremes in every width, signedness and mode", () => {
    for (const width of WIDTHS) {
      for (const signed of [true, false]) {
        const ex = extremes(width, signed);
        for (const n of [1, 2, ex.length, 127, 128, 129, 1000]) {
          const values = Array.from({ length: n }, (_, i) => ex[(i * 7) % ex.length]);
          packAllModes(intBytes(values, width), width, signed);
          // Alternating min / max: deltas wrap around the whole range.
          const alt = Array.from({ length: n }, (_, i) => ex[i % 2]);
          packAllModes(intBytes(alt, width), width, signed);
        }
      }
    }
    // INT64 min/max, UINT64 max, -1 and 0 spelled out.
    const i64 = BigInt64Array.of(-(1n << 63n), (1n << 63n) - 1n, -1n, 0n, -(1n << 63n));
    packAllModes(bytesOf(i64), 8, true);
    const u64 = BigUint64Array.of((1n << 64n) - 1n, 0n, 1n << 63n, (1n << 63n) - 1n, (1n << 64n) - 1n);
    packAllModes(bytesOf(u64), 8, false);
  });

  it("round-trips empty input in every mode (as the one-byte empty form)", () => {
    for (const width of WIDTHS) {
      for (const signed of [true, false]) packAllModes(new Uint8Array(0), width, signed);
      expect(k.unpackInts(Uint8Array.of(0), 0, width).byteLength).toBe(0);
    }
  });

  it("packs each block in exactly as many bits as its range needs, for 0..64 bits", () => {
    const r = rng(42);
    for (const width of WIDTHS) {
      for (const signed of [true, false]) {
        for (let bits = 0; bits <= 8 * width; bits++) {
          const mask = (1n << BigInt(bits)) - 1n;
          const base = signed ? -(1n << BigInt(8 * width - 1)) : 0n;
          const n = 300 + bits; // two full blocks and a partial one
          const values: bigint[] = [];
          for (let i = 0; i < n; i++) {
            let v = BigInt(Math.floor(r() * 4294967296)) | (BigInt(Math.floor(r() * 4294967296)) << 32n);
            v &= mask;
            // Each block holds its minimum and its maximum, so every block needs exactly `bits` bits.
            if (i % 128 === 0) v = 0n;
            if (i % 128 === 1 || i === n - 1) v = mask;
            values.push(base + v);
          }
          const raw = intBytes(values, width);
          const size = packRoundTrip(raw, width, signed, 0);
          packRoundTrip(raw, width, signed, 1);
          let expected = 1;
          for (let from = 0; from < n; from += 128) {
            expected += 1 + width + Math.ceil((Math.min(128, n - from) * bits) / 8);
          }
          // A 64-bit unsigned column is ordered as signed internally; its block range can differ.
          if (!(width === 8 && !signed && bits === 64)) {
            expect(size, `width ${width} ${signed ? "signed" : "unsigned"} ${bits} bits`).toBe(expected);
          }
        }
      }
    }
  });

  it("round-trips random values of many sizes", () => {
    for (const width of WIDTHS) {
      for (const signed of [true, false]) {
        for (const n of [1, 2, 3, 127, 128, 129, 255, 256, 257, 1000, 12345]) {
          packAllModes(randomBytes(n * width, n * 13 + width), width, signed);
          packAllModes(walkBytes(n * width, width, n), width, signed);
        }
      }
    }
  });

  it("packs monotonic timestamps far smaller as deltas, and auto picks deltas", () => {
    const n = 1_000_000;
    const r = rng(5);
    const ts = new BigInt64Array(n);
    let t = 1_700_000_000_000_000_000n;
    for (let i = 0; i < n; i++) {
      t += 1_000_000_000n + BigInt(Math.floor(r() * 2000) - 1000);
      ts[i] = t;
    }
    const raw = bytesOf(ts);
    const values = packRoundTrip(raw, 8, true, 0);
    const deltas = packRoundTrip(raw, 8, true, 1);
    expect(deltas).toBeLessThan(values / 3);
    expect(deltas).toBeLessThan(raw.byteLength / 4);
    const auto = k.packInts(raw, 8, true);
    expect(auto.bytes[0]).toBe(1);
    expect(auto.bytes.byteLength).toBe(deltas);

    // A fixed step packs every block in 0 bits: header, first value, then bits + ref per block.
    const steps = new BigInt64Array(n);
    for (let i = 0; i < n; i++) steps[i] = 1_700_000_000_000_000_000n + BigInt(i) * 60_000_000_000n;
    const fixed = packRoundTrip(bytesOf(steps), 8, true, 1);
    expect(fixed).toBe(1 + 8 + Math.ceil(n / 128) * 9);
  });

  it("round-trips 16 MB of random 8-byte integers", () => {
    const raw = randomBytes(16 << 20, 31);
    const packed = k.packInts(raw, 8, true);
    const back = k.unpackInts(packed.bytes, raw.byteLength / 8, 8);
    expect(firstDifference(back, raw)).toBe(-1);
  });

  it("round-trips arbitrary integers (property)", () => {
    const cases = fc.oneof(
      fc.record({
        width: fc.constant(8),
        signed: fc.boolean(),
        values: fc.array(fc.bigInt({ min: -(1n << 63n), max: (1n << 64n) - 1n }), { maxLength: 400 }),
      }),
      fc.record({
        width: fc.constantFrom(1, 2, 4),
        signed: fc.boolean(),
        values: fc.array(fc.bigInt({ min: -(1n << 31n), max: (1n << 32n) - 1n }), { maxLength: 400 }),
      }),
    );
    fc.assert(
      fc.property(cases, fc.constantFrom<0 | 1 | "auto">(0, 1, "auto"), ({ width, signed, values }, mode) => {
        const raw = intBytes(values, width);
        const packed = k.packInts(raw, width, signed, mode);
        expect(k.unpackInts(packed.bytes, values.length, width)).toEqual(raw);
      }),
      { numRuns: 300 },
    );
  });

  it("throws CorruptSegmentError on bad checksums and malformed data", () => {
    const raw = walkBytes(1000 * 4, 4, 3);
    for (const mode of [0, 1] as const) {
      const { bytes, checksum } = k.packInts(raw, 4, true, mode);
      const out = new Uint8Array(raw.byteLength);
      expectCorrupt(() => k.unpackIntsInto(bytes, 4, out, (checksum + 1) >>> 0));
      for (let cut = 0; cut < bytes.byteLength; cut += 1 + Math.floor(cut / 8)) {
        expectCorrupt(() => k.unpackIntsInto(bytes.subarray(0, cut), 4, out, null));
      }
      const longer = new Uint8Array(bytes.byteLength + 1);
      longer.set(bytes);
      expectCorrupt(() => k.unpackIntsInto(longer, 4, out, null)); // size mismatch
      expectCorrupt(() => k.unpackIntsInto(bytes, 4, new Uint8Array(raw.byteLength - 4 * 128), null));
      expectCorrupt(() => k.unpackIntsInto(bytes, 4, new Uint8Array(raw.byteLength + 4 * 200), null));
      const badMode = bytes.slice();
      badMode[0] = 2;
      expectCorrupt(() => k.unpackIntsInto(badMode, 4, out, null));
      const badBits = bytes.slice();
      badBits[mode === 1 ? 5 : 1] = 33;
      expectCorrupt(() => k.unpackIntsInto(badBits, 4, out, null));
    }
    expectCorrupt(() => k.unpackIntsInto(new Uint8Array(0), 4, new Uint8Array(0), null));
    expectCorrupt(() => k.unpackIntsInto(Uint8Array.of(1), 4, new Uint8Array(0), null)); // deltas of nothing
  });

  it("refuses impossible counts before allocating", () => {
    const before = k.memoryBytes;
    const tiny = Uint8Array.of(0, 0, 1, 0, 0, 0);
    expect(k.unpackInts(tiny, 128, 4).byteLength).toBe(512); // one 0-bit block of 128 ones
    expectCorrupt(() => k.unpackInts(tiny, 129 * 128, 4));
    expectCorrupt(() => k.unpackInts(tiny, 1e15, 4));
    expectCorrupt(() => k.unpackInts(tiny, -1, 4));
    expectCorrupt(() => k.unpackInts(tiny, Number.NaN, 4));
    expectCorrupt(() => k.unpackInts(tiny, 2.5, 4));
    expect(k.memoryBytes).toBe(before);
  });

  it("rejects bad widths with RangeError", () => {
    expect(() => k.packInts(new Uint8Array(6), 3, true)).toThrow(RangeError);
    expect(() => k.packInts(new Uint8Array(6), 4, true)).toThrow(RangeError);
    expect(() => k.unpackIntsInto(Uint8Array.of(0), 4, new Uint8Array(6), null)).toThrow(RangeError);
  });
});

// ---- decimal floats --------------------------------------------------------------------------------------

function f64Bytes(values: readonly number[]): Uint8Array {
  return bytesOf(Float64Array.from(values));
}

/** packDecimals' contract: null, or an encoding that decodes bit for bit. */
function decimalsNullOrExact(raw: Uint8Array): ReturnType<Kernels["packDecimals"]> {
  const packed = k.packDecimals(raw);
  if (packed === null) return null;
  expect(packed.checksum).toBe(k.checksum(packed.bytes));
  const out = new Uint8Array(raw.byteLength);
  k.unpackDecimalsInto(packed.bytes, out, packed.checksum);
  expect(firstDifference(out, raw)).toBe(-1);
  return packed;
}

function prices(n: number, seed: number): Float64Array {
  const r = rng(seed);
  const out = new Float64Array(n);
  let cents = 10000;
  for (let i = 0; i < n; i++) {
    cents += Math.floor(r() * 21) - 10;
    out[i] = Math.round(cents) / 100;
  }
  return out;
}

describe("packDecimals / unpackDecimalsInto", () => {
  it("stores 2-decimal prices with k = 2, small and bit-exact", () => {
    for (const n of [1, 2, 255, 256, 257, 10000, 1_000_000]) {
      const raw = bytesOf(prices(n, n));
      const packed = decimalsNullOrExact(raw);
      expect(packed).not.toBeNull();
      if (n >= 10000) {
        expect(packed!.bytes[0]).toBe(2);
        expect(packed!.bytes.byteLength).toBeLessThan(raw.byteLength / 4);
      }
    }
  });

  it("uses k = 0 for whole numbers and more digits where the data needs them", () => {
    expect(decimalsNullOrExact(f64Bytes([1, -2, 3, 1e15, -9007199254740992, 0]))!.bytes[0]).toBe(0);
    expect(decimalsNullOrExact(f64Bytes([0.001, 1.5, -2.25]))!.bytes[0]).toBe(3);
    expect(decimalsNullOrExact(f64Bytes([1e-15, 0.5]))!.bytes[0]).toBe(15);
    // The first 256 values fit k = 1, later ones need 2 or 3: the scale grows.
    const grow = Array.from({ length: 1000 }, (_, i) => (i < 256 ? i / 10 : i / 1000));
    const packed = decimalsNullOrExact(f64Bytes(grow));
    expect(packed).not.toBeNull();
    expect(packed!.bytes[0]).toBe(3);
    // Later values needing far more digits than the sample: null or exact (here: null).
    const far = Array.from({ length: 1000 }, (_, i) => (i < 256 ? i / 10 : i === 999 ? 1.23456789 : 1));
    expect(decimalsNullOrExact(f64Bytes(far))).toBeNull();
  });

  it("returns null for values that are not exact decimals", () => {
    const nan = new Float64Array(1);
    new BigUint64Array(nan.buffer)[0] = 0x7ff0000000000123n; // a NaN with a payload
    const cases: number[][] = [
      [Number.NaN],
      [-0],
      [1, 2, -0],
      [Number.POSITIVE_INFINITY],
      [Number.NEGATIVE_INFINITY, 1],
      [0.1 + 0.2],
      [2 ** 60],
      [5e-324],
      [1 / 3],
      [Math.PI, 1 / 3],
      [1, 2, 3, nan[0]],
    ];
    for (const values of cases) expect(decimalsNullOrExact(f64Bytes(values)), String(values)).toBeNull();
    // A NaN payload in the middle of a price column.
    const col = prices(2000, 3);
    const bits = new BigUint64Array(col.buffer);
    bits[1500] = 0xfff8000000000001n;
    expect(decimalsNullOrExact(bytesOf(col))).toBeNull();
    expect(k.packDecimals(new Uint8Array(0))).toBeNull();
    const random = new Float64Array(10000);
    for (let i = 0; i < random.length; i++) random[i] = rng(i)() * 1000;
    expect(decimalsNullOrExact(bytesOf(random))).toBeNull();
  });

  it("is null or bit-exact for arbitrary doubles (property), and exact for cents", () => {
    fc.assert(
      fc.property(fc.array(fc.double(), { maxLength: 300 }), (values) => {
        decimalsNullOrExact(f64Bytes(values));
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -1e12, max: 1e12 }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 0, max: 6 }),
        (ints, digits) => {
          const scale = 10 ** digits;
          expect(decimalsNullOrExact(f64Bytes(ints.map((m) => m / scale)))).not.toBeNull();
        },
      ),
      { numRuns: 300 },
    );
  });

  it("throws CorruptSegmentError on a bad scale, a bad checksum or malformed data", () => {
    const raw = bytesOf(prices(1000, 9));
    const packed = k.packDecimals(raw)!;
    const out = new Uint8Array(raw.byteLength);
    expectCorrupt(() => k.unpackDecimalsInto(packed.bytes, out, (packed.checksum + 1) >>> 0));
    const badScale = packed.bytes.slice();
    badScale[0] = 16;
    expectCorrupt(() => k.unpackDecimalsInto(badScale, out, null));
    expectCorrupt(() => k.unpackDecimalsInto(new Uint8Array(0), new Uint8Array(0), null));
    expectCorrupt(() => k.unpackDecimalsInto(Uint8Array.of(2), new Uint8Array(0), null));
    expectCorrupt(() =>
      k.unpackDecimalsInto(packed.bytes.subarray(0, packed.bytes.byteLength - 1), out, null),
    );
    expectCorrupt(() => k.unpackDecimalsInto(packed.bytes, new Uint8Array(raw.byteLength + 8 * 300), null));
  });
});

// ---- columns ---------------------------------------------------------------------------------------------

const NUMERIC_DTYPES: DType[] = [
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
  "bool",
  "timestamp",
];

function makeArray(dtype: DType, n: number): NumericArray {
  return new DTYPES[dtype].array!(n);
}

/** Uniformly random bits (NaN payloads, -0, infinities included for floats); bool as random 0/1. */
function randomColumn(dtype: DType, n: number, seed: number): NumericArray {
  const a = makeArray(dtype, n);
  const bytes = bytesOf(a);
  if (dtype === "bool") {
    const r = rng(seed);
    for (let i = 0; i < n; i++) bytes[i] = r() < 0.5 ? 1 : 0;
  } else {
    bytes.set(randomBytes(bytes.byteLength, seed));
  }
  return a;
}

/** Data each dtype typically holds: prices, smooth floats, small walks, timestamps, runs of booleans. */
function structuredColumn(dtype: DType, n: number, seed: number): NumericArray {
  const r = rng(seed);
  if (dtype === "float64") return prices(n, seed);
  if (dtype === "float32") return Float32Array.from({ length: n }, (_, i) => Math.sin(i / 100) * 50);
  if (dtype === "bool") {
    const a = new Uint8Array(n);
    let v = 0;
    for (let i = 0; i < n; i++) {
      if (r() < 0.01) v ^= 1;
      a[i] = v;
    }
    return a;
  }
  if (dtype === "timestamp" || dtype === "int64" || dtype === "uint64") {
    const a = makeArray(dtype, n) as BigInt64Array | BigUint64Array;
    let t = 1_700_000_000_000_000_000n;
    for (let i = 0; i < n; i++) {
      t += 1_000_000n * BigInt(Math.floor(r() * 3));
      a[i] = t;
    }
    return a;
  }
  const width = DTYPES[dtype].width;
  const a = makeArray(dtype, n);
  bytesOf(a).set(walkBytes(n * width, width, seed));
  return a;
}

/** A random stretch of 777 values (as `randomColumn`) repeated over the column. */
function patternColumn(dtype: DType, n: number, seed: number): NumericArray {
  const period = bytesOf(randomColumn(dtype, 777, seed));
  const a = makeArray(dtype, n);
  const bytes = bytesOf(a);
  for (let at = 0; at < bytes.byteLength; at += period.byteLength) {
    bytes.set(period.subarray(0, Math.min(period.byteLength, bytes.byteLength - at)), at);
  }
  return a;
}

/** Floats whose bits matter: NaN payloads, signalling NaNs, -0, infinities, subnormals. */
function specialFloats(dtype: "float64" | "float32", n: number): NumericArray {
  if (dtype === "float64") {
    const bits = new BigUint64Array(n);
    const special = [
      0x7ff8000000000000n,
      0x7ff8000000000001n,
      0xfff8dead0000beefn,
      0x7ff0000000000001n,
      0x8000000000000000n,
      0x7ff0000000000000n,
      0xfff0000000000000n,
      0x0000000000000001n,
      0x800fffffffffffffn,
      0x3ff0000000000000n,
    ];
    for (let i = 0; i < n; i++) bits[i] = special[i % special.length];
    return new Float64Array(bits.buffer);
  }
  const bits = new Uint32Array(n);
  const special = [
    0x7fc00000, 0x7fc00001, 0xffc0beef, 0x7f800001, 0x80000000, 0x7f800000, 0xff800000, 1, 0x3f800000,
  ];
  for (let i = 0; i < n; i++) bits[i] = special[i % special.length];
  return new Float32Array(bits.buffer);
}

const KNOWN_CODECS = new Set<number>([CODEC.raw, CODEC.lz4, CODEC.shuffleLz4, CODEC.intPack, CODEC.decimal]);

/** Encodes, checks the metadata, decodes at offset 0 and inside a larger array; returns the encoding. */
function columnRoundTrip(values: NumericArray, dtype: DType): EncodedColumn {
  const n = values.length;
  const width = DTYPES[dtype].width;
  const original = bytesOf(values).slice();
  const enc = encodeColumn(k, values, dtype);
  expect(KNOWN_CODECS.has(enc.codec)).toBe(true);
  expect(enc.rawBytes).toBe(n * width);
  expect(enc.checksum).toBe(k.checksum(enc.bytes));
  // Encoding leaves the values alone.
  expect(firstDifference(bytesOf(values), original)).toBe(-1);
  // Raw bytes are a view of the values' memory: take a copy, as the segment writer does.
  const stored: EncodedColumn = { ...enc, bytes: enc.bytes.slice() };

  const out = makeArray(dtype, n);
  decodeColumnInto(k, stored, dtype, n, out, 0);
  expect(firstDifference(bytesOf(out), original), `${dtype}, ${n} rows, codec ${enc.codec}`).toBe(-1);

  const pad = 3;
  const big = makeArray(dtype, n + 2 * pad);
  const bigBytes = bytesOf(big);
  bigBytes.fill(0x5a);
  decodeColumnInto(k, stored, dtype, n, big, pad);
  expect(firstDifference(bigBytes.subarray(pad * width, (pad + n) * width), original)).toBe(-1);
  for (let i = 0; i < pad * width; i++) {
    expect(bigBytes[i]).toBe(0x5a);
    expect(bigBytes[bigBytes.byteLength - 1 - i]).toBe(0x5a);
  }
  return enc;
}

describe("encodeColumn / decodeColumnInto", () => {
  for (const dtype of NUMERIC_DTYPES) {
    it(`${dtype}: random and structured data at 0, 1, 1000 and 1e6 rows round-trip bit for bit`, () => {
      for (const n of [0, 1, 1000, 1_000_000]) {
        columnRoundTrip(randomColumn(dtype, n, n + 1), dtype);
        const enc = columnRoundTrip(structuredColumn(dtype, n, n + 2), dtype);
        const repeated = columnRoundTrip(patternColumn(dtype, n, n + 3), dtype);
        if (n === 1_000_000) {
          expect(enc.bytes.byteLength, dtype).toBeLessThan(enc.rawBytes * 0.7);
          // Random values repeating with a long period: only LZ4 finds the redundancy. (Not for bool:
          // LZ4's greedy matcher finds only short matches in 0/1 bytes, and int-pack's 1 bit wins.)
          if (dtype !== "bool") {
            expect(repeated.codec).toBe(DTYPES[dtype].width > 1 ? CODEC.shuffleLz4 : CODEC.lz4);
            expect(repeated.bytes.byteLength).toBeLessThan(repeated.rawBytes / 10);
          }
        }
      }
      // A view into the middle of a larger buffer encodes just its own rows.
      const backing = randomColumn(dtype, 5000, 3);
      const Ctor = DTYPES[dtype].array!;
      const view = new Ctor(backing.buffer, 8 * 101, 2000);
      columnRoundTrip(view, dtype);
    });
  }

  it("keeps NaN payloads, -0, infinities and subnormals bit for bit", () => {
    for (const dtype of ["float64", "float32"] as const) {
      for (const n of [1, 7, 10, 1000, 100_000]) columnRoundTrip(specialFloats(dtype, n), dtype);
      // Specials scattered through otherwise compressible data (decimal/LZ4 paths).
      const base = structuredColumn(dtype, 100_000, 4);
      const specials = specialFloats(dtype, 10);
      for (let i = 0; i < 10; i++) base[i * 9973] = specials[i];
      if (dtype === "float64") {
        new BigUint64Array(base.buffer)[50000] = 0x7ff4000000000abcn;
      } else {
        new Uint32Array(base.buffer)[50000] = 0x7f800abc;
      }
      columnRoundTrip(base, dtype);
    }
  });

  it("picks codecs by the documented rules", () => {
    // Columns of at most 64 bytes stay raw, however compressible.
    expect(encodeColumn(k, new Int8Array(64), "int8").codec).toBe(CODEC.raw);
    expect(encodeColumn(k, new Float64Array(8), "float64").codec).toBe(CODEC.raw);
    expect(encodeColumn(k, new Int8Array(65), "int8").codec).not.toBe(CODEC.raw);
    // Incompressible float64 (uniform random bits): raw.
    expect(columnRoundTrip(randomColumn("float64", 1_000_000, 8), "float64").codec).toBe(CODEC.raw);
    // A constant integer column packs to almost nothing with int-pack.
    for (const dtype of ["int8", "int16", "int32", "int64", "uint32", "uint64"] as const) {
      const a = makeArray(dtype, 1000);
      bytesOf(a).fill(42);
      const enc = columnRoundTrip(a, dtype);
      expect(enc.codec, dtype).toBe(CODEC.intPack);
      expect(enc.bytes.byteLength).toBeLessThan(enc.rawBytes / 8);
    }
    // Timestamps on a fixed step: int-pack (deltas in 0 bits).
    const ts = new BigInt64Array(100_000);
    for (let i = 0; i < ts.length; i++) ts[i] = 1_700_000_000_000_000_000n + BigInt(i) * 1_000_000_000n;
    const tsEnc = columnRoundTrip(ts, "timestamp");
    expect(tsEnc.codec).toBe(CODEC.intPack);
    expect(tsEnc.bytes.byteLength).toBeLessThan(ts.byteLength / 50);
    // Cent prices are exact decimals.
    expect(columnRoundTrip(prices(100_000, 6), "float64").codec).toBe(CODEC.decimal);
  });

  it("rejects mismatched arrays, dtypes, sizes and codecs", () => {
    expect(thrown(() => encodeColumn(k, new Float32Array(4), "float64"))).toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(thrown(() => encodeColumn(k, new Int32Array(4), "int64"))).toBeInstanceOf(InvalidArgumentError);
    expect(thrown(() => encodeColumn(k, new Int32Array(4), "nope" as DType))).toBeInstanceOf(
      InvalidArgumentError,
    );
    const values = structuredColumn("int32", 1000, 1);
    const enc = encodeColumn(k, values, "int32");
    const out = new Int32Array(1000);
    expectCorrupt(() => decodeColumnInto(k, enc, "int32", 999, out, 0));
    expectCorrupt(() => decodeColumnInto(k, { ...enc, codec: 99 }, "int32", 1000, out, 0));
    expectCorrupt(() => decodeColumnInto(k, { ...enc, codec: CODEC.decimal }, "int32", 1000, out, 0));
    expectCorrupt(() => decodeColumnInto(k, { ...enc, codec: CODEC.strings }, "int32", 1000, out, 0));
    expectCorrupt(() => decodeColumnInto(k, { ...enc, checksum: enc.checksum ^ 1 }, "int32", 1000, out, 0));
    expectCorrupt(() => decodeColumnInto(k, { ...enc, rawBytes: 4001 }, "int32", 1000, out, 0));
    expect(thrown(() => decodeColumnInto(k, enc, "int32", 1000, new Int32Array(999), 0))).toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(thrown(() => decodeColumnInto(k, enc, "int32", 1000, new Int32Array(1000), 1))).toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(thrown(() => decodeColumnInto(k, enc, "int32", 1000, new Float64Array(1000), 0))).toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(thrown(() => decodeColumnInto(k, enc, "string", 1000, out, 0))).toBeInstanceOf(
      InvalidArgumentError,
    );
  });
});

// ---- strings ---------------------------------------------------------------------------------------------

function stringsRoundTrip(values: StringArray): EncodedColumn {
  const enc = encodeColumn(k, values, "string");
  expect([CODEC.strings, CODEC.stringDict]).toContain(enc.codec);
  expect(enc.checksum).toBe(k.checksum(enc.bytes));
  const back = decodeStrings(k, { ...enc, bytes: enc.bytes.slice() }, values.length);
  expect(back.length).toBe(values.length);
  if (values.length <= 2000) {
    expect(back).toEqual(values);
  } else {
    let bad = -1;
    for (let i = 0; i < values.length && bad < 0; i++) if (back[i] !== values[i]) bad = i;
    expect(
      bad,
      bad >= 0 ? `row ${bad}: ${JSON.stringify(back[bad])} vs ${JSON.stringify(values[bad])}` : "",
    ).toBe(-1);
  }
  return enc;
}

const TRICKY: StringArray = [
  "",
  null,
  "plain",
  "héllo wörld",
  "日本語テキスト",
  "😀👍🏽👨‍👩‍👧",
  "\uD800",
  "a\uDC00b",
  "\uD83D", // the two halves of 😀 as separate rows: joined they form a valid pair
  "\uDE00",
  "\uFEFFleading BOM",
  "nul\u0000inside",
  "\uFFFF\uFFFE",
  " ",
  null,
  "",
];

describe("string columns (encodeColumn / decodeStrings)", () => {
  it("keeps empty strings apart from nulls", () => {
    for (const values of [
      [""],
      [null],
      ["", null],
      [null, ""],
      ["", "", null, null, "", null, "", null, ""],
    ]) {
      stringsRoundTrip(values);
    }
    stringsRoundTrip([]);
    const many: StringArray = Array.from({ length: 1000 }, (_, i) =>
      i % 3 === 0 ? null : i % 3 === 1 ? "" : "x",
    );
    expect(stringsRoundTrip(many).codec).toBe(CODEC.stringDict);
  });

  it("round-trips non-ASCII, emoji, lone surrogates and BOMs, plain and as a dictionary", () => {
    stringsRoundTrip(TRICKY);
    for (const s of TRICKY) stringsRoundTrip([s]);
    const repeated = Array.from({ length: 2000 }, (_, i) => TRICKY[i % TRICKY.length]);
    expect(stringsRoundTrip(repeated).codec).toBe(CODEC.stringDict);
    // Unique values with a lone surrogate somewhere: the plain codec in UTF-16.
    const unique = Array.from({ length: 3000 }, (_, i) => `row ${i} ✓`);
    unique[1234] = `lone \uDBFF at ${1234}`;
    expect(stringsRoundTrip(unique).codec).toBe(CODEC.strings);
    // Long strings spanning several 64 KB chunks.
    stringsRoundTrip(["é".repeat(100_000), "\uD800".repeat(40_000), "😀".repeat(30_000), ""]);
    // A highly compressible 4 MB string (the LZ4 chunks reach their best ratio).
    stringsRoundTrip(["a".repeat(1 << 22), null, "b".repeat(1 << 16)]);
  });

  it("fast-check: arbitrary strings (including lone surrogates) and nulls round-trip", () => {
    const cell = fc.option(fc.string({ unit: "binary", maxLength: 20 }), { nil: null });
    fc.assert(
      fc.property(fc.array(cell, { maxLength: 60 }), (values) => {
        stringsRoundTrip(values);
        // The same values repeated, so the dictionary codec sees them too.
        stringsRoundTrip(Array.from({ length: values.length * 8 }, (_, i) => values[i % values.length]));
      }),
      { numRuns: 200 },
    );
  });

  it("round-trips 100k strings, unique and repetitive, and all-null columns", () => {
    const r = rng(77);
    const unique = Array.from({ length: 100_000 }, (_, i) =>
      i % 1000 === 0 ? null : `${i.toString(36)}-${Math.floor(r() * 1e9)}-ü`,
    );
    expect(stringsRoundTrip(unique).codec).toBe(CODEC.strings);
    const tickers = ["AAPL", "MSFT", "GOOG", "日経", "", "😀"];
    const repetitive = Array.from({ length: 100_000 }, (_, i) => (i % 97 === 0 ? null : tickers[i % 6]));
    const enc = stringsRoundTrip(repetitive);
    expect(enc.codec).toBe(CODEC.stringDict);
    expect(enc.bytes.byteLength).toBeLessThan(100_000 / 2);
    for (const n of [1, 7, 8, 1000, 100_000]) stringsRoundTrip(new Array<string | null>(n).fill(null));
  });

  it("rejects non-strings and bad headers", () => {
    const bad = [1, "a"] as unknown as StringArray;
    expect(thrown(() => encodeColumn(k, bad, "string"))).toBeInstanceOf(InvalidArgumentError);
    const badDict = [...Array.from({ length: 20 }, () => "a"), {}] as unknown as StringArray;
    expect(thrown(() => encodeColumn(k, badDict, "string"))).toBeInstanceOf(InvalidArgumentError);
    expect(
      thrown(() => encodeColumn(k, new Int32Array(3) as unknown as StringArray, "string")),
    ).toBeInstanceOf(InvalidArgumentError);
    for (const values of [TRICKY, Array.from({ length: 100 }, (_, i) => TRICKY[i % TRICKY.length])]) {
      const enc = encodeColumn(k, values, "string");
      expectCorrupt(() => decodeStrings(k, { ...enc, checksum: (enc.checksum + 1) >>> 0 }, values.length));
      expectCorrupt(() => decodeStrings(k, { ...enc, codec: 99 }, values.length));
      expectCorrupt(() => decodeStrings(k, { ...enc, codec: CODEC.raw }, values.length));
      expectCorrupt(() => decodeStrings(k, enc, values.length + 200));
      expectCorrupt(() => decodeStrings(k, { ...enc, rawBytes: enc.rawBytes + 1 }, values.length));
      expect(thrown(() => decodeStrings(k, enc, -1))).toBeInstanceOf(InvalidArgumentError);
    }
  });
});

// ---- corruption ------------------------------------------------------------------------------------------

describe("corrupted column bytes", () => {
  const flips = (len: number) =>
    fc.array(fc.tuple(fc.nat(len - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 });

  /** Decodes `enc` with `bytes` in place of its own: the right size or CorruptSegmentError, nothing else. */
  function decodeOrCorrupt(
    enc: EncodedColumn,
    bytes: Uint8Array,
    fixChecksum: boolean,
    dtype: DType,
    n: number,
  ) {
    const damaged: EncodedColumn = {
      ...enc,
      bytes,
      checksum: fixChecksum ? k.checksum(bytes) : enc.checksum,
    };
    try {
      if (dtype === "string") {
        expect(decodeStrings(k, damaged, n).length).toBe(n);
      } else {
        const out = makeArray(dtype, n);
        decodeColumnInto(k, damaged, dtype, n, out, 0);
        if (enc.codec === CODEC.raw) expect(firstDifference(bytesOf(out), bytes)).toBe(-1);
      }
      // Without a fixed checksum, damage must never get through.
      expect(fixChecksum).toBe(true);
    } catch (err) {
      expect(err).toBeInstanceOf(CorruptSegmentError);
    }
  }

  const n = 5000;
  const hybrid = new Float64Array(n);
  hybrid.set(prices(n, 1));
  const r = rng(4);
  for (let i = 0; i < n; i += 2) hybrid[i] = r();
  // Quarter steps in float32: no decimal codec for float32, and shuffled planes compress well.
  const quarters = new Float32Array(n);
  for (let i = 0, x = 100; i < n; i++, x += Math.round(r() * 8 - 4) / 4) quarters[i] = x;
  const numeric: [string, DType, NumericArray, number][] = [
    ["raw", "float64", randomColumn("float64", n, 1), CODEC.raw],
    [
      "lz4",
      "uint8",
      Uint8Array.from({ length: 20000 }, (_, i) => "abcdefgh".charCodeAt(i % 8) + (i % 1000 === 0 ? 1 : 0)),
      CODEC.lz4,
    ],
    ["shuffle-lz4", "float32", quarters, CODEC.shuffleLz4],
    ["mixed float64", "float64", hybrid, -1],
    ["int-pack values", "int32", structuredColumn("int32", n, 2), CODEC.intPack],
    ["int-pack deltas", "timestamp", structuredColumn("timestamp", n, 3), CODEC.intPack],
    ["decimal", "float64", prices(n, 5), CODEC.decimal],
    ["bool", "bool", structuredColumn("bool", n, 6), -1],
  ];
  for (const [name, dtype, values, codec] of numeric) {
    it(`${name} (${dtype}): decodes to the right size or throws CorruptSegmentError`, () => {
      const enc = encodeColumn(k, values, dtype);
      if (codec >= 0) expect(enc.codec).toBe(codec);
      const good = enc.bytes.slice();
      fc.assert(
        fc.property(flips(good.byteLength), fc.boolean(), (fl, fix) => {
          const bad = good.slice();
          for (const [at, x] of fl) bad[at] ^= x;
          decodeOrCorrupt(enc, bad, fix, dtype, values.length);
        }),
        { numRuns: 200 },
      );
      // Truncations and trailing bytes, with matching checksums.
      for (const cut of [0, 1, 2, 5, 9, good.byteLength >> 1, good.byteLength - 1]) {
        decodeOrCorrupt(enc, good.subarray(0, cut), true, dtype, values.length);
      }
      const longer = new Uint8Array(good.byteLength + 3);
      longer.set(good);
      decodeOrCorrupt(enc, longer, true, dtype, values.length);
    });
  }

  const stringCases: [string, StringArray, number][] = [
    [
      "strings (UTF-8)",
      Array.from({ length: 500 }, (_, i) => (i % 50 === 0 ? null : `v${i}é😀`)),
      CODEC.strings,
    ],
    [
      "strings (UTF-16)",
      Array.from({ length: 500 }, (_, i) => (i % 50 === 0 ? null : `v${i}\uD800`)),
      CODEC.strings,
    ],
    [
      "string-dict",
      Array.from({ length: 2000 }, (_, i) => (i % 13 === 0 ? null : TRICKY[i % 7])),
      CODEC.stringDict,
    ],
  ];
  for (const [name, values, codec] of stringCases) {
    it(`${name}: decodes to the right length or throws CorruptSegmentError`, () => {
      const enc = encodeColumn(k, values, "string");
      expect(enc.codec).toBe(codec);
      const good = enc.bytes.slice();
      fc.assert(
        fc.property(flips(good.byteLength), fc.boolean(), (fl, fix) => {
          const bad = good.slice();
          for (const [at, x] of fl) bad[at] ^= x;
          decodeOrCorrupt(enc, bad, fix, "string", values.length);
        }),
        { numRuns: 200 },
      );
      for (let cut = 0; cut < good.byteLength; cut += 1 + (cut >> 3)) {
        decodeOrCorrupt(enc, good.subarray(0, cut), true, "string", values.length);
      }
    });
  }
});
