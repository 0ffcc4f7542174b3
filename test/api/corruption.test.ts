import { join } from "node:path";
import { encode } from "@msgpack/msgpack";
import { open } from "lmdb";
import { describe, expect, it } from "vitest";
import { Arctic, DataFrame } from "../../runtimes/node.ts";
import { rejectsWith, tempDir } from "../helpers.ts";

/** Opens the store file behind floe's back, as a damaged disk or a stray program would. */
function rawStore(path: string) {
  return open<Uint8Array, string>({ path, encoding: "binary", noSubdir: false });
}

async function storeWithTwoVersions() {
  const path = join(tempDir(), "c.lmdb");
  const ac = new Arctic(`lmdb://${path}`);
  const lib = await ac.createLibrary("lib", { rowsPerSegment: 1000 });
  const v0 = new DataFrame({
    x: new Float64Array(3000).map((_, i) => i),
    s: Array.from({ length: 3000 }, (_, i) => `row ${i}`),
  });
  const v1 = new DataFrame({ x: new Float64Array(3000).map(() => Math.random()) });
  await lib.write("sym", v0);
  await lib.write("sym", v1);
  return { path, ac, lib, v0, v1 };
}

describe("corruption", () => {
  it("names symbol, version and segment when a segment's bytes are damaged", async () => {
    const { path, ac, lib, v0 } = await storeWithTwoVersions();
    const raw = rawStore(path);
    const v1Index = [...raw.getKeys({ start: "V:lib/sym/", end: "V:lib/sym/\u{10ffff}" })];
    expect(v1Index).toHaveLength(2);
    // Damage one byte in the middle of every segment of the newest version.
    const before = new Set([...raw.getKeys({ start: "S:", end: "S:\u{10ffff}" })] as string[]);
    const ac2 = new Arctic(`lmdb://${path}`);
    const fresh = await ac2.getLibrary("lib");
    await fresh.write("other", { y: [1] });
    const segs = [...raw.getKeys({ start: "S:lib/sym/", end: "S:lib/sym/\u{10ffff}" })] as string[];
    let damaged = 0;
    for (const key of segs) {
      const bytes = new Uint8Array(raw.getBinary(key)!);
      bytes[bytes.length >> 1] ^= 0x40;
      raw.putSync(key, bytes);
      damaged++;
    }
    expect(damaged).toBe(before.size);
    const err = await rejectsWith(lib.read("sym"), "CorruptSegmentError");
    expect(err.message).toMatch(/symbol 'sym'/);
    expect(err.message).toMatch(/version 1/);
    expect(err.message).toMatch(/segment S:lib\/sym\//);
    const err0 = await rejectsWith(lib.read("sym", { asOf: 0 }), "CorruptSegmentError");
    expect(err0.message).toMatch(/version 0/);
    // Data outside the damage still reads.
    expect((await lib.read("other")).data!.column("y")).toEqual(new Float64Array([1]));
    expect(v0.numRows).toBe(3000);
    raw.close();
    await ac2.close();
    await ac.close();
  });

  it("reports truncated and garbage segments as CorruptSegmentError", async () => {
    const { path, ac, lib } = await storeWithTwoVersions();
    const raw = rawStore(path);
    const segs = [...raw.getKeys({ start: "S:lib/sym/", end: "S:lib/sym/\u{10ffff}" })] as string[];
    const garbage = [
      new Uint8Array(0),
      new Uint8Array(5),
      new Uint8Array(4096).map((_, i) => (i * 31) & 255),
    ];
    for (const g of garbage) {
      for (const key of segs) {
        const bytes = raw.getBinary(key)!;
        raw.putSync(key, g.length === 5 ? bytes.subarray(0, bytes.length - 7) : g);
      }
      await rejectsWith(lib.read("sym"), "CorruptSegmentError");
      await rejectsWith(lib.read("sym", { asOf: 0 }), "CorruptSegmentError");
    }
    raw.close();
    await ac.close();
  });

  it("a version record damaged into a plausible unframed record is CorruptSegmentError", async () => {
    const { path, ac, lib } = await storeWithTwoVersions();
    const raw = rawStore(path);
    // What the fuzz test made of a version record once (one byte set to a msgpack map header, so it
    // decodes unchecked): a map of 2, a garbage key and the metadata, no index.
    const damaged = Buffer.from(
      "82b9239c4884a17601a27473cf000001a23b2ffd99a5696e646578d927493a6c69622f726f77732f3031613233623266" +
        "6664393800373262646366663134653634393161a46d657461c40881a3746167a27631",
      "hex",
    );
    raw.putSync("V:lib/sym/0000000001", damaged);
    const err = await rejectsWith(lib.read("sym"), "CorruptSegmentError");
    expect(err.message).toMatch(/not those of a version record/);
    expect((await lib.verify()).problems.map((p) => p.key)).toContain("V:lib/sym/0000000001");
    raw.close();
    await ac.close();
  });

  it("damaged snapshot and reference records that decode unchecked are CorruptSegmentError", async () => {
    const { path, ac, lib } = await storeWithTwoVersions();
    await lib.snapshot("snap");
    const raw = rawStore(path);
    const snapshot = new Uint8Array(raw.getBinary("N:lib/snap")!);
    // Unframed (the older format, no checksum) but not a snapshot: a pinned entry without its record.
    raw.putSync("N:lib/snap", encode({ ts: 1, pinned: [{ symbol: "sym" }] }));
    const err = await rejectsWith(lib.read("sym", { asOf: "snap" }), "CorruptSegmentError");
    expect(err.message).toMatch(/not those of a snapshot/);
    expect((await lib.verify()).problems.map((p) => p.key)).toContain("N:lib/snap");
    raw.putSync("N:lib/snap", snapshot);
    expect((await lib.read("sym", { asOf: "snap" })).version).toBe(1);
    // A reference without its next version number: the write is refused rather than numbered NaN.
    raw.putSync("R:lib/sym", encode({ nxt: 2 }));
    const bad = await rejectsWith(lib.write("sym", new DataFrame({ x: [1] })), "CorruptSegmentError");
    expect(bad.message).toMatch(/not those of a symbol reference/);
    expect((await lib.listVersions("sym")).map((v) => v.version)).toEqual([1, 0]);
    raw.close();
    await ac.close();
  });

  it("damaged index, staged-chunk and library records that decode unchecked are CorruptSegmentError", async () => {
    const { path, ac, lib, v1 } = await storeWithTwoVersions();
    await lib.write("later", new DataFrame({ x: [1, 2, 3] }), { staged: true });
    const raw = rawStore(path);
    // Unframed (the older format, no checksum) but not an index: a tile whose key is a number.
    const indexes = [...raw.getKeys({ start: "I:lib/sym/", end: "I:lib/sym/\u{10ffff}" })] as string[];
    const saved = indexes.map((key) => new Uint8Array(raw.getBinary(key)!));
    const notAnIndex = {
      f: 1,
      rows: 3000,
      columns: [{ name: "x", dtype: "float64" }],
      index: { kind: "row" },
    };
    for (const key of indexes)
      raw.putSync(key, encode({ ...notAnIndex, segments: [{ key: 5, rows: 3000 }] }));
    const err = await rejectsWith(lib.read("sym"), "CorruptSegmentError");
    expect(err.message).toMatch(/not those of an index record/);
    expect((await lib.verify()).problems.map((p) => p.key)).toEqual(expect.arrayContaining(indexes));
    for (const [i, key] of indexes.entries()) raw.putSync(key, saved[i]);
    expect((await lib.read("sym")).data!.equals(v1)).toBe(true);

    // A staged chunk whose index has no tiles list: finalizing it is refused, the chunk stays.
    const [chunk] = [...raw.getKeys({ start: "T:lib/later/", end: "T:lib/later/\u{10ffff}" })] as string[];
    raw.putSync(chunk, encode({ ts: 1, index: { ...notAnIndex, segments: "none" } }));
    const staged = await rejectsWith(
      lib.finalizeStagedData("later", { mode: "write" }),
      "CorruptSegmentError",
    );
    expect(staged.message).toMatch(/not those of a staged chunk/);
    expect(await lib.hasSymbol("later")).toBe(false);

    // A library config with a string where a number belongs: opening the library is refused.
    const config = new Uint8Array(raw.getBinary("L:lib")!);
    raw.putSync("L:lib", encode({ rowsPerSegment: "1000", columnsPerSegment: 127, dynamicSchema: false }));
    const other = new Arctic(`lmdb://${path}`);
    const lost = await rejectsWith(other.getLibrary("lib"), "CorruptSegmentError");
    expect(lost.message).toMatch(/library config of 'lib'.*not those of a library config/);
    raw.putSync("L:lib", config);
    expect((await (await other.getLibrary("lib")).read("sym")).version).toBe(1);
    await other.close();
    raw.close();
    await ac.close();
  });

  it("a segment gone missing is reported, not read as zeros", async () => {
    const { path, ac, lib } = await storeWithTwoVersions();
    const raw = rawStore(path);
    const [first] = [...raw.getKeys({ start: "S:lib/sym/", end: "S:lib/sym/\u{10ffff}" })] as string[];
    raw.removeSync(first);
    const results = await Promise.allSettled([lib.read("sym"), lib.read("sym", { asOf: 0 })]);
    expect(
      results.some(
        (r) => r.status === "rejected" && (r.reason as { code: string }).code === "CorruptSegmentError",
      ),
    ).toBe(true);
    raw.close();
    await ac.close();
  });
});
