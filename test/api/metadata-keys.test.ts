import { join } from "node:path";
import { encode } from "@msgpack/msgpack";
import { open } from "lmdb";
import { describe, expect, it } from "vitest";
import { Arctic } from "../../runtimes/node.ts";
import { packRecord } from "../../src/codec/msgpack.ts";
import { unpackVersion } from "../../src/version/records.ts";
import { rejectsWith, tempDir } from "../helpers.ts";

// Issue 21, item 3: metadata keys named like Object.prototype's members (`__proto__`, `constructor`, …)
// are ordinary keys. Metadata with a `__proto__` key (as JSON.parse makes it) used to commit a version no
// read could decode, and in a snapshot's metadata broke listSnapshots for the whole library.

/** `{ __proto__: …, constructor: … }` as JSON.parse makes it: every key an own property. */
function reservedMetadata(): Record<string, unknown> {
  return JSON.parse(
    '{"__proto__": {"polluted": true}, "constructor": "c", "toString": 1, "nested": [{"__proto__": 2}]}',
  );
}

function expectReservedMetadata(meta: unknown): void {
  const m = meta as Record<string, unknown>;
  expect(Object.getPrototypeOf(m)).toBe(Object.prototype);
  expect(Object.keys(m)).toEqual(["__proto__", "constructor", "toString", "nested"]);
  expect(Object.getOwnPropertyDescriptor(m, "__proto__")?.value).toEqual({ polluted: true });
  expect(m.constructor).toBe("c");
  const inner = (m.nested as Record<string, unknown>[])[0];
  expect(Object.hasOwn(inner, "__proto__")).toBe(true);
  expect(Object.getOwnPropertyDescriptor(inner, "__proto__")?.value).toBe(2);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

describe("metadata keys named like Object.prototype's members", () => {
  it("round-trip as own keys in version metadata, on every path that reads it", async () => {
    const dir = tempDir();
    const ac = new Arctic(`lmdb://${dir}`);
    const lib = await ac.createLibrary("lib");
    const written = await lib.write("s", { a: [1] }, { metadata: reservedMetadata() });
    expectReservedMetadata(written.metadata);
    await lib.writeMetadata("s", reservedMetadata());
    await lib.append("s", { a: [2] }, { metadata: reservedMetadata() });
    await ac.close();

    const again = new Arctic(`lmdb://${dir}`);
    const lib2 = await again.getLibrary("lib");
    for (const v of [0, 1, 2]) {
      expectReservedMetadata((await lib2.read("s", { asOf: v })).metadata);
      expectReservedMetadata((await lib2.readMetadata("s", { asOf: v })).metadata);
    }
    expectReservedMetadata((await lib2.getDescription("s")).metadata);
    expect((await lib2.listVersions("s")).map((v) => v.version)).toEqual([2, 1, 0]);
    expect((await lib2.verify()).ok).toBe(true);
    await again.close();
  });

  it("round-trip in snapshot metadata, and listSnapshots keeps working", async () => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib");
    await lib.write("s", { a: [1] });
    await lib.snapshot("plain", { metadata: { ok: 1 } });
    await lib.snapshot("odd", { metadata: reservedMetadata() });
    const snaps = await lib.listSnapshots();
    expect(Object.keys(snaps).sort()).toEqual(["odd", "plain"]);
    expectReservedMetadata(snaps.odd);
    expect(snaps.plain).toEqual({ ok: 1 });
    expect(await lib.listSymbols({ snapshot: "odd" })).toEqual(["s"]);
    await ac.close();
  });

  it("round-trip through writeBatch and appendBatch", async () => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib");
    const [w] = await lib.writeBatch([{ symbol: "s", data: { a: [1] }, metadata: reservedMetadata() }]);
    expectReservedMetadata((w as { metadata: unknown }).metadata);
    await lib.appendBatch([{ symbol: "s", data: { a: [2] }, metadata: reservedMetadata() }]);
    expectReservedMetadata((await lib.read("s")).metadata);
    await ac.close();
  });

  it("verify reports a version an older floe stored with metadata no read can decode", async () => {
    // floe before this fix stored such a map as a plain msgpack map, which no read can decode.
    const path = join(tempDir(), "old.lmdb");
    const ac = new Arctic(`lmdb://${path}`);
    const lib = await ac.createLibrary("lib");
    await lib.write("s", { a: [1] });
    await lib.write("s", { a: [2] });
    const raw = open<Uint8Array, string>({ path, encoding: "binary", noSubdir: false });
    const key = [...raw.getKeys({ start: "V:lib/s/", end: "V:lib/s/\u{10ffff}" })].at(-1) as string;
    const record = unpackVersion(raw.getBinary(key) as Uint8Array);
    await raw.put(key, packRecord({ ...record, meta: encode(JSON.parse('{"__proto__": 1}')) }));
    await raw.close();
    await rejectsWith(lib.read("s"), "CorruptSegmentError");
    const report = await lib.verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([{ key, problem: expect.stringMatching(/metadata/) }]);
    expect(report.orphans).toEqual([]);
    expect((await lib.read("s", { asOf: 0 })).data!.column("a")).toEqual(new Float64Array([1]));
    await ac.close();
  });
});
