import { join } from "node:path";
import { open } from "lmdb";
import { describe, expect, it } from "vitest";
import { Arctic, DataFrame } from "../../runtimes/node.ts";
import { tempDir } from "../helpers.ts";

// Library.verify and Library.cleanup (issue 7, item 5).

async function store() {
  const path = join(tempDir(), "v.lmdb");
  const ac = new Arctic(`lmdb://${path}`);
  const lib = await ac.createLibrary("lib", { rowsPerSegment: 10 });
  const raw = open<Uint8Array, string>({ path, encoding: "binary", noSubdir: false });
  const keysOf = (prefix: string) => {
    raw.resetReadTxn();
    return [...raw.getKeys({ start: prefix, end: `${prefix}\u{10ffff}` })] as string[];
  };
  return { ac, lib, raw, keysOf };
}

const hexTime = (ms: number) => ms.toString(16).padStart(12, "0");

describe("verify and cleanup", () => {
  it("a healthy library verifies clean, counting each shared segment once", async () => {
    const { ac, lib, raw } = await store();
    await lib.write("a", { x: new Float64Array(35).map((_, i) => i) });
    await lib.append("a", { x: [1, 2, 3] });
    await lib.writeMetadata("a", { note: 1 });
    await lib.snapshot("s");
    await lib.write("b", { y: ["p", "q"] }, { staged: true });
    const report = await lib.verify();
    expect(report).toMatchObject({ ok: true, problems: [], orphans: [] });
    expect(report.segments).toBe(4 + 1 + 1); // a: 4 tiles + 1 appended; b: 1 staged
    expect(report.records).toBeGreaterThanOrEqual(5);
    await raw.close();
    await ac.close();
  });

  it("finds damaged and missing segments, naming the key", async () => {
    const { ac, lib, raw, keysOf } = await store();
    await lib.write("a", { x: new Float64Array(30).map((_, i) => i * 1.5) });
    const [s0, s1] = keysOf("S:lib/a/");
    const bytes = Uint8Array.from(raw.getBinary(s0) as Uint8Array);
    bytes[bytes.length - 3] ^= 0x40; // inside the last column block, past the header
    await raw.put(s0, bytes);
    await raw.remove(s1);
    const full = await lib.verify();
    expect(full.ok).toBe(false);
    expect(full.problems.map((p) => p.key).sort()).toEqual([s0, s1].sort());
    expect(full.problems.find((p) => p.key === s1)?.problem).toMatch(/missing/);
    expect(full.problems.find((p) => p.key === s0)?.problem).toMatch(/checksum/);
    // Without decoding data, only the missing segment shows (the damaged one's header is intact).
    const quick = await lib.verify({ data: false });
    expect(quick.problems.map((p) => p.key)).toEqual([s1]);
    await raw.close();
    await ac.close();
  });

  it("cleanup removes old orphans, keeps young ones a live writer may still reference, and never live data", async () => {
    const { ac, lib, raw, keysOf } = await store();
    const df = new DataFrame({ x: new Float64Array(25).map((_, i) => i) });
    await lib.write("a", df);
    const live = keysOf("S:lib/a/");
    // What crashed writers leave: a segment from before ids carried a time, one from two hours ago, and
    // one written a moment ago (as by a writer that has not committed yet).
    const ancient = `S:lib/a/${"ab".repeat(12)}`;
    const old = `S:lib/a/${hexTime(Date.now() - 2 * 3_600_000)}${"cd".repeat(8)}`;
    const young = `S:lib/a/${hexTime(Date.now())}${"ef".repeat(8)}`;
    for (const key of [ancient, old, young]) await raw.put(key, new Uint8Array([1, 2, 3]));
    const report = await lib.verify();
    expect(report.ok).toBe(true);
    expect(report.orphans.sort()).toEqual([ancient, old, young].sort());
    expect((await lib.cleanup()).removed.sort()).toEqual([ancient, old].sort());
    expect(keysOf("S:lib/a/").sort()).toEqual([...live, young].sort());
    expect((await lib.cleanup({ graceMs: 0 })).removed).toEqual([young]);
    expect(keysOf("S:lib/a/").sort()).toEqual(live.sort());
    expect((await lib.read("a")).data!.equals(df)).toBe(true);
    expect((await lib.verify()).orphans).toEqual([]);
    await raw.close();
    await ac.close();
  });
});
