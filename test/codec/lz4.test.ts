import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { createKernels, type Kernels } from "../../src/codec/wasm.ts";
import { CorruptSegmentError } from "../../src/errors.ts";
import { firstDifference, randomBytes, rng } from "./test-data.ts";

let k: Kernels;
beforeAll(async () => {
  k = await createKernels();
});

/** CSV-like text: dates, tickers, random-walk prices, volumes. */
function textLike(n: number, seed = 2): Uint8Array {
  const r = rng(seed);
  const tickers = ["AAPL", "MSFT", "GOOG", "AMZN", "TSLA", "NVDA", "META", "IBM"];
  const lines: string[] = [];
  let price = 100;
  let len = 0;
  for (let i = 0; len < n; i++) {
    price += r() - 0.5;
    const line = `2024-01-${String(1 + (i % 28)).padStart(2, "0")} 09:${String(i % 60).padStart(2, "0")}:00,${
      tickers[i % 8]
    },${price.toFixed(2)},${Math.floor(r() * 10000)}\n`;
    lines.push(line);
    len += line.length;
  }
  return new TextEncoder().encode(lines.join("")).subarray(0, n);
}

/** Runs of random length and byte, plus short repeating patterns (small overlapping offsets). */
function runs(n: number, seed = 3): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(n);
  let i = 0;
  while (i < n) {
    const len = 1 + Math.floor(r() * 300);
    const period = 1 + Math.floor(r() * 12);
    const pattern = randomBytes(period, Math.floor(r() * 1e9));
    for (let j = 0; j < len && i < n; j++) out[i++] = pattern[j % period];
  }
  return out;
}

function roundTrip(data: Uint8Array): Uint8Array {
  const packed = k.lz4Compress(data);
  expect(packed.byteLength).toBeLessThanOrEqual(data.byteLength + Math.floor(data.byteLength / 255) + 16);
  const back = k.lz4Decompress(packed, data.byteLength);
  expect(firstDifference(back, data)).toBe(-1);
  return packed;
}

const SIZES = [0, 1, 4, 5, 12, 13, 14, 31, 100, 1000, 4093, 65535, 65536, 65537, 131072 + 7, 1 << 20];

describe("LZ4 block round trips", () => {
  for (const n of SIZES) {
    it(`${n} bytes of random, text, runs, zeros`, () => {
      roundTrip(randomBytes(n, n));
      roundTrip(textLike(n, n));
      roundTrip(runs(n, n));
      roundTrip(new Uint8Array(n));
    });
  }

  it("16 MB of text compresses below 60% and round-trips", () => {
    const data = textLike(16 << 20);
    const packed = roundTrip(data);
    expect(packed.byteLength / data.byteLength).toBeLessThan(0.6);
  });

  it("16 MB of random bytes stays within the bound", () => {
    const data = randomBytes(16 << 20, 99);
    const packed = roundTrip(data);
    expect(packed.byteLength).toBeGreaterThan(data.byteLength);
  });

  it("compresses zeros and runs hard", () => {
    expect(roundTrip(new Uint8Array(1 << 20)).byteLength).toBeLessThan(5000);
    expect(roundTrip(runs(1 << 20)).byteLength / (1 << 20)).toBeLessThan(0.2);
  });

  it("round-trips arbitrary inputs (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (data) => {
        expect(k.lz4Decompress(k.lz4Compress(data), data.byteLength)).toEqual(data);
      }),
      { numRuns: 300 },
    );
  });

  it("round-trips repetitive inputs over a small alphabet (property)", () => {
    const repetitive = fc
      .array(fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 50 })), {
        maxLength: 60,
      })
      .map((parts) => {
        const chunks: number[] = [];
        for (const [pattern, times] of parts) for (let t = 0; t < times; t++) chunks.push(...pattern);
        return Uint8Array.from(chunks);
      });
    fc.assert(
      fc.property(repetitive, (data) => {
        expect(k.lz4Decompress(k.lz4Compress(data), data.byteLength)).toEqual(data);
      }),
      { numRuns: 300 },
    );
  });
});

describe("LZ4 interoperability", () => {
  // A block written by the reference `lz4` command-line tool (lz4 -1) for the text below.
  const REFERENCE =
    "f007726f7720302c4141504c2c3130302e30302c6275793b16001431160045312e333716001432160045322e373416001433" +
    "160045332e313116001434160045342e343816001435160045352e383516001436160045362e32321600143716004530" +
    "2e353916001438160045312e393616001439160045322e333316001531dd0037332e37dd0005de0036342e30de001531df" +
    "0036352e34df001531e00036362e38e0001531e10036302e31e1001531e20036312e35e2001531e30036322e39e3001531" +
    "e40036332e32e4001531e50036342e36e5001531e60036352e30e6001532e60036362e34e6001532e60036302e37e60015" +
    "32e60036312e31e6001532e60036322e35e6001532e60036332e38e6001532e60036342e32e6001532e60036352e36e600" +
    "1532e60036362e39e6001532e60036302e33e6001532e60036312e37e6001533e60036322e31e6001533e60036332e34e6" +
    "001533e60036342e38e6001533e60036352e32e6001533e60036362e35e6001533e60036302e39e6001533e60036312e33" +
    "e6001533e60036322e36e6001533e60036332e30e6001533e60090342e34332c6275793b";
  const text = Array.from(
    { length: 40 },
    (_, i) => `row ${i},AAPL,${100 + (i % 7)}.${String((i * 37) % 100).padStart(2, "0")},buy;`,
  ).join("");

  it("decodes a block written by the reference implementation", () => {
    const block = Uint8Array.from(REFERENCE.match(/../g)!.map((h) => Number.parseInt(h, 16)));
    const raw = new TextEncoder().encode(text);
    expect(new TextDecoder().decode(k.lz4Decompress(block, raw.byteLength))).toBe(text);
  });

  it("decodes hand-written sequences: literals only, overlapping matches, long lengths", () => {
    const hello = Uint8Array.from([0x50, ...new TextEncoder().encode("hello")]);
    expect(new TextDecoder().decode(k.lz4Decompress(hello, 5))).toBe("hello");
    // "ab" then a match of offset 2, length 4 + 15 + 1 = 20: "ab" x 11, then 5 literal "xxxxx".
    const pattern = Uint8Array.from([0x2f, 0x61, 0x62, 0x02, 0x00, 0x01, 0x50, 0x78, 0x78, 0x78, 0x78, 0x78]);
    expect(new TextDecoder().decode(k.lz4Decompress(pattern, 27))).toBe(`${"ab".repeat(11)}xxxxx`);
    // One literal then offset 1, length 4 + 15 + 255 + 10: a run of 285 "z".
    const run = Uint8Array.from([0x1f, 0x7a, 0x01, 0x00, 0xff, 0x0a, 0x00]);
    expect(k.lz4Decompress(run, 285)).toEqual(new Uint8Array(285).fill(0x7a));
    // 20 literals via a length byte.
    const lits = Uint8Array.from([0xf0, 0x05, ...new Uint8Array(20).fill(0x41)]);
    expect(k.lz4Decompress(lits, 20)).toEqual(new Uint8Array(20).fill(0x41));
  });

  it("writes the empty block as a single zero token", () => {
    expect(k.lz4Compress(new Uint8Array(0))).toEqual(Uint8Array.of(0));
  });

  it("keeps the end-of-block rules: the last 5 bytes are literals", () => {
    // A long run must still end in >= 5 literals, which any LZ4 decoder relies on.
    const packed = k.lz4Compress(new Uint8Array(1000));
    const tail = packed.subarray(packed.byteLength - 6);
    expect(tail[0] >> 4).toBeGreaterThanOrEqual(5);
  });
});

describe("LZ4 malformed input", () => {
  const expectCorrupt = (block: Uint8Array, rawLen: number) =>
    expect(() => k.lz4Decompress(block, rawLen)).toThrow(CorruptSegmentError);

  it("rejects offset 0 and offsets before the output start", () => {
    expectCorrupt(Uint8Array.from([0x10, 0x61, 0x00, 0x00, 0x50, 1, 2, 3, 4, 5]), 10);
    expectCorrupt(Uint8Array.from([0x10, 0x61, 0x02, 0x00, 0x50, 1, 2, 3, 4, 5]), 10);
    // Far from the ends too (the decoder's fast path).
    const far = new Uint8Array(200);
    far.set([0x40, 1, 2, 3, 4, 0x09, 0x00]);
    expectCorrupt(far, 1000);
  });

  it("rejects wrong sizes, overruns and empty input", () => {
    const good = k.lz4Compress(textLike(5000));
    expectCorrupt(good, 4999);
    expectCorrupt(good, 5001);
    expectCorrupt(new Uint8Array(0), 1);
    expectCorrupt(Uint8Array.from([0xf0]), 100); // a length byte is missing
    expectCorrupt(Uint8Array.from([0xf0, 0xff, 0xff, 0xff]), 100); // lengths overrun the output
    expectCorrupt(Uint8Array.from([0x30, 1, 2]), 3); // literals overrun the input
  });

  it("rejects every truncation", () => {
    const data = textLike(3000);
    const good = k.lz4Compress(data);
    for (let cut = 0; cut < good.byteLength; cut++) expectCorrupt(good.subarray(0, cut), data.byteLength);
  });

  it("refuses a claimed size no block of that length can reach, before allocating", () => {
    const before = k.memoryBytes;
    expectCorrupt(Uint8Array.from([0x00]), 1e12);
    expectCorrupt(Uint8Array.from([0x00]), 256);
    expectCorrupt(Uint8Array.from([0x00]), -1);
    expect(k.memoryBytes).toBe(before);
  });

  it("flipped bytes decode to the right size or throw CorruptSegmentError, never anything else", () => {
    const data = textLike(20000);
    const good = k.lz4Compress(data);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(good.byteLength - 1), fc.integer({ min: 1, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        (flips) => {
          const bad = good.slice();
          for (const [at, x] of flips) bad[at] ^= x;
          try {
            expect(k.lz4Decompress(bad, data.byteLength).byteLength).toBe(data.byteLength);
          } catch (err) {
            expect(err).toBeInstanceOf(CorruptSegmentError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("garbage decodes to the right size or throws CorruptSegmentError (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat(5000), (block, rawLen) => {
        try {
          expect(k.lz4Decompress(block, rawLen).byteLength).toBe(rawLen);
        } catch (err) {
          expect(err).toBeInstanceOf(CorruptSegmentError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
