import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Arctic, DataFrame, type Library } from "../../runtimes/node.ts";
import { rejectsWith, tempDir } from "../helpers.ts";

// compactData rewrites a symbol's small segments into full ones as a new version; isSymbolFragmented
// says when that would remove 100 segments or more (ArcticDB's is_symbol_fragmented).

const opened: Arctic[] = [];
afterEach(async () => {
  for (const ac of opened.splice(0)) await ac.close();
});

async function library(
  options: { rowsPerSegment?: number; dynamicSchema?: boolean } = {},
  uri = `lmdb://${join(tempDir(), "c")}`,
): Promise<Library> {
  const ac = new Arctic(uri, { workers: 0 });
  opened.push(ac);
  return ac.createLibrary("lib", options);
}

const SECOND = 1_000_000_000n;
function rows(from: number, n: number): DataFrame {
  const ids = Array.from({ length: n }, (_, i) => from + i);
  return new DataFrame(
    {
      px: Float64Array.from(ids, (x) => x * 0.5),
      qty: BigInt64Array.from(ids, (x) => BigInt(x) * 3n),
      flag: Uint8Array.from(ids, (x) => x % 2),
      sym: ids.map((x) => (x % 7 === 0 ? null : `s${x % 5}`)),
    },
    { index: BigInt64Array.from(ids, (x) => BigInt(x) * SECOND), dtypes: { flag: "bool", sym: "string" } },
  );
}

describe("compactData", () => {
  it("1,000 appends of 10 rows are fragmented; compacted, the same data in fewer segments, old version readable", async () => {
    // mem://: a thousand commits to LMDB, each flushed, would take most of this test's time.
    const lib = await library({}, "mem://");
    await lib.write("s", rows(0, 10), { metadata: { note: "kept" } });
    for (let i = 1; i < 1000; i++) await lib.append("s", rows(i * 10, 10), { metadata: { note: "kept" } });
    const before = await lib.getDescription("s");
    expect(before.segmentCount).toBe(1000);
    expect(before.averageRowsPerSegment).toBe(10);
    expect(await lib.isSymbolFragmented("s")).toBe(true);
    const data = (await lib.read("s")).data!;

    const item = await lib.compactData("s");
    expect(item.version).toBe(1000);
    expect(item.metadata).toEqual({ note: "kept" });
    const after = await lib.getDescription("s");
    expect(after.segmentCount).toBe(1);
    expect(after.averageRowsPerSegment).toBe(10_000);
    expect(after.columns).toEqual(before.columns);
    expect(await lib.isSymbolFragmented("s")).toBe(false);
    expect((await lib.read("s")).data!.equals(data)).toBe(true);
    // The old version stays readable, with its own segments, until pruned.
    expect((await lib.read("s", { asOf: 999 })).data!.equals(data)).toBe(true);
    expect((await lib.getDescription("s", { asOf: 999 })).segmentCount).toBe(1000);
    expect((await lib.listVersions("s")).length).toBe(1001);
    await lib.prunePreviousVersions("s");
    expect((await lib.read("s")).data!.equals(data)).toBe(true);
    expect((await lib.verify()).ok).toBe(true);
  });

  it("rowsPerSegment sets the new segments' size; segmentSize the fragmentation target", async () => {
    const lib = await library({ rowsPerSegment: 1000 });
    for (let i = 0; i < 150; i++) await lib.append("s", rows(i * 4, 4));
    expect(await lib.isSymbolFragmented("s")).toBe(true); // 150 slices → 1
    expect(await lib.isSymbolFragmented("s", { segmentSize: 8 })).toBe(false); // 150 → 75
    expect(await lib.isSymbolFragmented("s", { segmentSize: 12 })).toBe(true); // 150 → 50
    const data = (await lib.read("s")).data!;
    await lib.compactData("s", { rowsPerSegment: 64 });
    const d = await lib.getDescription("s");
    expect(d.segmentCount).toBe(Math.ceil(600 / 64));
    expect((await lib.read("s")).data!.equals(data)).toBe(true);
    // A later append still works on the compacted version.
    await lib.append("s", rows(600, 3));
    expect((await lib.read("s")).data!.numRows).toBe(603);
  });

  it("keeps columns a dynamic schema added later, and row-indexed symbols", async () => {
    const lib = await library({ rowsPerSegment: 5, dynamicSchema: true });
    await lib.write("d", { a: Float64Array.from([1, 2]) });
    await lib.append("d", { a: Float64Array.from([3]), b: Int32Array.from([7]) });
    await lib.append("d", { b: Int32Array.from([8, 9]) });
    const data = (await lib.read("d")).data!;
    await lib.compactData("d");
    expect((await lib.read("d")).data!.equals(data)).toBe(true);
    expect((await lib.getDescription("d")).segmentCount).toBe(1);
    await rejectsWith(lib.compactData("missing"), "SymbolNotFoundError");
  });
});
