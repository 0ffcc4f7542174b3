import { encode } from "@msgpack/msgpack";
import { describe, expect, it } from "vitest";
import { Arctic } from "../../runtimes/node.ts";
import { unpackMetadata } from "../../src/codec/msgpack.ts";
import { rejectsWith, tempDir } from "../helpers.ts";

// Issue 22, item 6: metadata lost data silently: Maps and Sets came back as {}, typed arrays as
// Uint8Arrays of their bytes, undefined as null. They round-trip now; what cannot (class instances,
// cycles, ArrayBuffers, …) is an InvalidArgumentError before anything commits.

function rich(): Record<string, unknown> {
  return {
    map: new Map<unknown, unknown>([
      ["a", 1],
      [2, new Set(["x", undefined])],
    ]),
    set: new Set([1n, "two", null]),
    f64: new Float64Array([1.5, Number.NaN, -0]),
    i32: new Int32Array([-1, 2 ** 31 - 1]),
    big: new BigInt64Array([-(2n ** 63n), 5n]),
    u8: new Uint8Array([1, 2]),
    nothing: undefined,
    list: [undefined, null, { deep: undefined }],
    when: new Date("2024-01-02T09:30:00Z"),
  };
}

function expectRich(meta: unknown): void {
  const m = meta as Record<string, unknown>;
  expect(m.map).toBeInstanceOf(Map);
  const map = m.map as Map<unknown, unknown>;
  expect([...map.keys()]).toEqual(["a", 2]);
  expect(map.get("a")).toBe(1);
  expect(map.get(2)).toEqual(new Set(["x", undefined]));
  expect(m.set).toEqual(new Set([1n, "two", null]));
  expect(m.f64).toBeInstanceOf(Float64Array);
  expect(Array.from(m.f64 as Float64Array)).toEqual([1.5, Number.NaN, -0]);
  expect(Object.is((m.f64 as Float64Array)[2], -0)).toBe(true);
  expect(m.i32).toEqual(new Int32Array([-1, 2 ** 31 - 1]));
  expect(m.big).toEqual(new BigInt64Array([-(2n ** 63n), 5n]));
  expect(m.u8).toEqual(new Uint8Array([1, 2]));
  expect(Object.hasOwn(m, "nothing")).toBe(true);
  expect(m.nothing).toBeUndefined();
  expect(m.list).toEqual([undefined, null, { deep: undefined }]);
  expect((m.list as unknown[])[0]).toBeUndefined();
  expect(Object.hasOwn((m.list as Record<string, unknown>[])[2], "deep")).toBe(true);
  expect(m.when).toEqual(new Date("2024-01-02T09:30:00Z"));
}

describe("metadata values beyond JSON", () => {
  it("round-trip Maps, Sets, typed arrays and undefined through a store reopened", async () => {
    const dir = tempDir();
    const ac = new Arctic(`lmdb://${dir}`);
    const lib = await ac.createLibrary("lib");
    await lib.write("s", { a: [1] }, { metadata: rich() });
    await lib.snapshot("snap", { metadata: rich() });
    await ac.close();
    const again = new Arctic(`lmdb://${dir}`);
    const lib2 = await again.getLibrary("lib");
    expectRich((await lib2.read("s")).metadata);
    expectRich((await lib2.readMetadata("s")).metadata);
    expectRich((await lib2.listSnapshots()).snap);
    expect((await lib2.verify()).ok).toBe(true);
    await again.close();
  });

  it("refuses what it cannot round-trip, naming where it is, and commits nothing", async () => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib");
    await lib.write("s", { a: [1] }, { metadata: { ok: true } });
    class Trade {
      px = 1;
    }
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const bad: [unknown, RegExp][] = [
      [{ t: new Trade() }, /metadata\.t is a Trade/],
      [{ a: [1, /x/] }, /metadata\.a\[1\] is a RegExp/],
      [{ b: new ArrayBuffer(2) }, /metadata\.b is an ArrayBuffer.*Uint8Array/],
      [{ d: new Date(Number.NaN) }, /metadata\.d is an invalid Date/],
      [{ f: () => 1 }, /metadata\.f is a function/],
      [cyclic, /metadata\.self refers back to metadata/],
      [new Map([["k", new WeakMap()]]), /metadata\.get\("k"\) is a WeakMap/],
    ];
    for (const [metadata, message] of bad) {
      for (const call of [
        () => lib.write("s", { a: [2] }, { metadata }),
        () => lib.append("s", { a: [2] }, { metadata }),
        () => lib.writeMetadata("s", metadata),
        () => lib.snapshot("x", { metadata }),
      ]) {
        expect((await rejectsWith(call(), "InvalidArgumentError")).message).toMatch(message);
      }
    }
    expect((await lib.listVersions("s")).length).toBe(1);
    expect((await lib.read("s")).metadata).toEqual({ ok: true });
    expect(await lib.listSnapshots()).toEqual({});
    await ac.close();
  });

  it("still reads metadata stored before: nil as null, bin as Uint8Array", () => {
    const old = encode({ a: null, b: new Uint8Array([7]), c: [1, "x"] });
    expect(unpackMetadata(old)).toEqual({ a: null, b: new Uint8Array([7]), c: [1, "x"] });
  });
});
