// A small real LMDB store to damage: two symbols (timestamp- and row-indexed) over several versions, tiled
// into many small segments so every read touches several, with the reads to replay and their answers.
import { join } from "node:path";
import { open, type RootDatabase } from "lmdb";
import { Arctic, DataFrame, type Library, type VersionedItem } from "../../runtimes/node.ts";
import { unpackRecord } from "../../src/codec/msgpack.ts";
import type { IndexRecord, VersionRecord } from "../../src/version/records.ts";
import { rng } from "../codec/test-data.ts";
import { tempDir } from "../helpers.ts";

export interface Read {
  name: string;
  symbol: string;
  version: number;
  run: (lib: Library) => Promise<VersionedItem>;
  expected?: VersionedItem;
}

export interface StoreFixture {
  ac: Arctic;
  lib: Library;
  /** The same store opened behind floe's back, to damage values in place. */
  raw: RootDatabase<Uint8Array, string>;
  /** Every segment, index and version key, with the reads that must fetch it. */
  keys: Map<string, Read[]>;
  close(): Promise<void>;
}

const NS = 1_700_000_000_000_000_000n;

function frame(rows: number, seed: number): DataFrame {
  const r = rng(seed);
  const ts = BigInt64Array.from({ length: rows }, (_, i) => NS + BigInt(seed * 1e12 + i * 1e9));
  return new DataFrame(
    {
      price: Float64Array.from({ length: rows }, () => Math.round(r() * 1e5) / 100),
      noise: Float64Array.from({ length: rows }, () => r()),
      qty: Int32Array.from({ length: rows }, () => Math.floor(r() * 500)),
      big: BigInt64Array.from({ length: rows }, (_, i) => BigInt(i) * 7919n),
      flag: Uint8Array.from({ length: rows }, () => (r() < 0.5 ? 1 : 0)),
      venue: Array.from({ length: rows }, (_, i) =>
        i % 11 === 0 ? null : ["XNAS", "XLON", "Zürich"][i % 3],
      ),
      note: Array.from({ length: rows }, (_, i) => `n${Math.floor(r() * 1e6)}-${i}`),
      small: Float32Array.from({ length: rows }, (_, i) => i / 4),
    },
    { index: { name: "ts", values: ts } },
  );
}

export async function makeStoreFixture(): Promise<StoreFixture> {
  const path = join(tempDir(), "fuzz.lmdb");
  // sync=false: the fuzz rewrites values thousands of times and durability is not what it tests.
  const ac = new Arctic(`lmdb://${path}?sync=false`);
  const lib = await ac.createLibrary("lib", { rowsPerSegment: 120, columnsPerSegment: 4 });
  await lib.write("ts", frame(300, 1), { metadata: { source: "fuzz", n: 1 } });
  await lib.append("ts", frame(150, 2));
  await lib.write("rows", {
    a: Float64Array.from({ length: 200 }, (_, i) => i * 1.5),
    b: ["x", "y"].flatMap((s) => Array(100).fill(s)),
  });
  await lib.writeMetadata("rows", { tag: "v1" });

  const t = (i: number) => NS + BigInt(i * 1e9);
  const reads: Read[] = [
    { name: "latest ts", symbol: "ts", version: 1, run: (l) => l.read("ts") },
    { name: "ts v0", symbol: "ts", version: 0, run: (l) => l.read("ts", { asOf: 0 }) },
    { name: "ts columns", symbol: "ts", version: 1, run: (l) => l.read("ts", { columns: ["note", "qty"] }) },
    { name: "ts rows", symbol: "ts", version: 1, run: (l) => l.read("ts", { rowRange: [100, 370] }) },
    {
      name: "ts dates",
      symbol: "ts",
      version: 0,
      run: (l) => l.read("ts", { asOf: 0, dateRange: [t(1000 + 50), t(1000 + 250)] }),
    },
    { name: "ts tail", symbol: "ts", version: 1, run: (l) => l.tail("ts", 40) },
    { name: "rows latest", symbol: "rows", version: 1, run: (l) => l.read("rows") },
    { name: "rows v0", symbol: "rows", version: 0, run: (l) => l.read("rows", { asOf: 0 }) },
  ];
  for (const read of reads) read.expected = await read.run(lib);

  const raw = open<Uint8Array, string>({ path, encoding: "binary", noSubdir: false });
  // Which keys each version needs: its version record, its index and the index's segments.
  const keys = new Map<string, Read[]>();
  for (const symbol of ["ts", "rows"]) {
    for (const vkey of raw.getKeys({ start: `V:lib/${symbol}/`, end: `V:lib/${symbol}/\u{10ffff}` })) {
      const record = unpackRecord<VersionRecord>(raw.getBinary(vkey as string)!, "version");
      const index = unpackRecord<IndexRecord>(raw.getBinary(record.index)!, "index");
      const users = reads.filter((r) => r.symbol === symbol && r.version === record.v);
      for (const key of [vkey as string, record.index, ...index.segments.map((s) => s.key)]) {
        keys.set(key, [...(keys.get(key) ?? []), ...users]);
      }
    }
  }
  return {
    ac,
    lib,
    raw,
    keys,
    async close() {
      await raw.close();
      await ac.close();
    },
  };
}
