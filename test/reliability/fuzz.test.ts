// Corruption fuzz (issue 7, item 2): damaged segments, indexes and versions must decode to the right data
// or throw CorruptSegmentError; never another error, a Wasm trap, a hang or an unbounded allocation.
// Counts print at the end so CI shows how many inputs a run tried. FUZZ_SEED replays a run.
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VersionedItem } from "../../runtimes/node.ts";
import { CODEC } from "../../src/codec/codecs.ts";
import { crc32c } from "../../src/codec/crc32c.ts";
import { packPlain, packRecord, unpackRecord } from "../../src/codec/msgpack.ts";
import { parseSegment } from "../../src/codec/segment.ts";
import { type Kernels, loadKernels } from "../../src/codec/wasm.ts";
import { DTYPE_NAMES } from "../../src/dtypes.ts";
import { CorruptSegmentError } from "../../src/errors.ts";
import { rng } from "../codec/test-data.ts";
import { edit, editHeader } from "./header-edits.ts";
import { MUTATIONS, Mutator } from "./mutate.ts";
import { forgeChecksums, readSegment } from "./read-segment.ts";
import { makeSeeds, type Seed } from "./segment-seeds.ts";
import { makeStoreFixture } from "./store-fixture.ts";
import { Tally } from "./tally.ts";

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1e9);
const tallies: Tally[] = [];

let k: Kernels;
let seeds: Seed[];

beforeAll(async () => {
  k = await loadKernels();
  seeds = makeSeeds(k);
  console.log(`fuzz seed ${SEED} (set FUZZ_SEED=${SEED} to replay)`);
});

afterAll(() => {
  const total = tallies.reduce((n, t) => n + t.tried, 0);
  for (const t of tallies) console.log(t.summary());
  console.log(`fuzz total: ${total} corrupted inputs`);
});

function expectNoFailures(t: Tally): void {
  tallies.push(t);
  expect(t.failures, `${t.summary()} (seed ${SEED})`).toEqual([]);
  // Wasm memory never shrinks, so one oversized scratch allocation during the run would still show.
  expect(k.memoryBytes).toBeLessThan(32 << 20);
}

describe("corrupted segments, straight to the codec", () => {
  it("the seeds hold every dtype under every codec and decode exactly", () => {
    const dtypes = new Set<string>();
    const codecs = new Set<number>();
    const m = new Mutator(rng(SEED));
    for (const seed of seeds) {
      expect(readSegment(k, seed.bytes, seed, m), seed.name).toBe("right");
      for (const [, col] of parseSegment(k, seed.bytes).columns) {
        dtypes.add(col.dtype);
        codecs.add(col.block.codec);
      }
    }
    expect([...dtypes].sort()).toEqual([...DTYPE_NAMES].sort());
    expect([...codecs].sort()).toEqual(Object.values(CODEC).sort());
  });

  it("damaged bytes decode to the right data or throw CorruptSegmentError", () => {
    const t = new Tally("segment bytes");
    const m = new Mutator(rng(SEED + 1));
    for (let i = 0; i < 120_000; i++) {
      const seed = seeds[m.int(seeds.length)];
      const kind = MUTATIONS[m.int(MUTATIONS.length)];
      const bad = m.apply(kind, seed.bytes, seeds[m.int(seeds.length)].bytes);
      t.check(`${kind} of ${seed.name} #${i}`, bad, false, () => readSegment(k, bad, seed, m));
    }
    expectNoFailures(t);
  });

  it("damage behind forged checksums decodes or throws CorruptSegmentError", () => {
    const t = new Tally("segment bytes, forged checksums");
    const m = new Mutator(rng(SEED + 2));
    for (let i = 0; i < 50_000; i++) {
      const seed = seeds[m.int(seeds.length)];
      const kind = MUTATIONS[m.int(MUTATIONS.length)];
      const bad = forgeChecksums(k, m.apply(kind, seed.bytes, seeds[m.int(seeds.length)].bytes));
      t.check(`${kind} of ${seed.name} #${i}`, bad, true, () => readSegment(k, bad, seed, m));
    }
    expectNoFailures(t);
  });
});

describe("segment headers that lie, under a valid checksum", () => {
  it("every field set to nonsense decodes or throws CorruptSegmentError (property)", () => {
    const t = new Tally("segment headers, forged checksums");
    const m = new Mutator(rng(SEED + 3));
    fc.assert(
      fc.property(fc.nat(seeds.length - 1), fc.array(edit, { minLength: 1, maxLength: 4 }), (s, edits) => {
        const seed = seeds[s];
        const bad = editHeader(k, seed.bytes, edits);
        t.check(`${seed.name} with ${JSON.stringify(edits)}`, bad, true, () => readSegment(k, bad, seed, m));
      }),
      { numRuns: 6000, seed: SEED },
    );
    expectNoFailures(t);
  });
});

describe("stored records (versions, indexes, references)", () => {
  it("CRC-32C matches its published check value", () => {
    expect(crc32c(new TextEncoder().encode("123456789"))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it("every flipped bit and every truncation of a record is caught", () => {
    const t = new Tally("record bit flips and truncations");
    const record = {
      f: 1,
      rows: 450,
      columns: [{ name: "price", dtype: "float64" }],
      index: { kind: "timestamp", name: "ts", sorted: true },
      segments: [
        {
          key: "S:lib/ts/0a1b2c",
          rowStart: 0,
          rows: 120,
          colStart: 0,
          cols: 4,
          bytes: 4410,
          first: 17n,
          last: 9n ** 20n,
        },
      ],
    };
    const good = packRecord(record);
    expect(unpackRecord(good, "index record")).toEqual(record);
    const read = (bad: Uint8Array) => () =>
      isDeepStrictEqual(unpackRecord(bad, "index record"), record) ? "right" : "different";
    for (let bit = 0; bit < good.byteLength * 8; bit++) {
      const bad = good.slice();
      bad[bit >> 3] ^= 1 << (bit & 7);
      t.check(`bit ${bit}`, bad, false, read(bad));
    }
    for (let n = 0; n < good.byteLength; n++)
      t.check(`first ${n} bytes`, good.subarray(0, n), false, read(good.subarray(0, n)));
    expect(t.corrupt).toBe(t.tried);
    expectNoFailures(t);
  });

  it("records written before checksums (format-1 stores) still read, but only as maps", () => {
    const legacy = packPlain({ v: 3, ts: 1, index: "I:lib/s/x" });
    expect(unpackRecord(legacy, "version record")).toEqual({ v: 3, ts: 1, index: "I:lib/s/x" });
    expect(() => unpackRecord(packPlain([1, 2]), "version record")).toThrow(CorruptSegmentError);
    expect(() => unpackRecord(packPlain(7), "version record")).toThrow(CorruptSegmentError);
  });
});

describe("corrupted values in a real LMDB store, read through the public API", () => {
  it("damaged segment, index and version values read right or throw CorruptSegmentError", async () => {
    const store = await makeStoreFixture();
    const m = new Mutator(rng(SEED + 4));
    const all = [...store.keys.keys()];
    // Each kind gets a third of the damage, though segments far outnumber indexes and versions.
    const kinds = ["S", "I", "V"].map((kind) => ({
      keys: all.filter((key) => key[0] === kind),
      tally: new Tally(`stored ${{ S: "segments", I: "indexes", V: "versions" }[kind]} via lib.read`),
    }));
    for (let i = 0; i < 6000; i++) {
      const { keys, tally } = kinds[i % 3];
      const key = keys[m.int(keys.length)];
      const good = new Uint8Array(store.raw.getBinary(key)!);
      const kind = MUTATIONS[m.int(MUTATIONS.length)];
      const bad = m.apply(kind, good, new Uint8Array(store.raw.getBinary(all[m.int(all.length)])!));
      const reads = store.keys.get(key)!;
      const read = reads[m.int(reads.length)];
      store.raw.putSync(key, bad);
      await tally.checkAsync(`${kind} of ${key}, then ${read.name} #${i}`, bad, async () =>
        same(await read.run(store.lib), read.expected!) ? "right" : "different",
      );
      store.raw.putSync(key, good);
    }
    await store.close();
    for (const { keys, tally } of kinds) {
      expect(keys.length).toBeGreaterThan(0);
      // Most damage must show: if reads missed the damaged values, this test would prove nothing.
      expect(tally.corrupt).toBeGreaterThan(tally.tried / 2);
      expectNoFailures(tally);
    }
  });
});

function same(a: VersionedItem, b: VersionedItem): boolean {
  return (
    a.symbol === b.symbol &&
    a.version === b.version &&
    a.timestamp.getTime() === b.timestamp.getTime() &&
    isDeepStrictEqual(a.metadata, b.metadata) &&
    a.data!.equals(b.data!)
  );
}
