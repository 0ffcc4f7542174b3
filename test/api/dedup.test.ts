import { join } from "node:path";
import { open } from "lmdb";
import { describe, expect, it } from "vitest";
import { Arctic, DataFrame } from "../../runtimes/node.ts";
import { tempDir } from "../helpers.ts";

// The dedup library option, as ArcticDB's test_dedup cases check it: rewriting the same data stores its
// segments once; every version still reads exactly; deleting one version keeps what another shares.

function frame(n: number, bump = -1): DataFrame {
  const x = new Float64Array(n).map((_, i) => Math.sin(i) * 1000);
  if (bump >= 0) x[bump] += 1;
  return new DataFrame({ x, s: Array.from({ length: n }, (_, i) => `r${i % 7}`) });
}

async function open2(dedup: boolean) {
  const path = join(tempDir(), "dedup.lmdb");
  const ac = new Arctic(`lmdb://${path}`);
  const lib = await ac.createLibrary("lib", { dedup, rowsPerSegment: 100 });
  const segments = () => {
    const raw = open<Uint8Array, string>({ path, encoding: "binary", noSubdir: false });
    const n = [...raw.getKeys({ start: "S:", end: "S:\u{10ffff}" })].length;
    raw.close();
    return n;
  };
  return { ac, lib, segments };
}

describe("dedup", () => {
  it("a version that repeats the previous one's tiles stores only the tiles that changed", async () => {
    const { ac, lib, segments } = await open2(true);
    await lib.write("s", frame(1000));
    expect(segments()).toBe(10);
    await lib.write("s", frame(1000));
    expect(segments()).toBe(10);
    await lib.write("s", frame(1000, 550)); // one value in tile 5 differs
    expect(segments()).toBe(11);
    // Against the previous version (whose tile 5 differs): 9 tiles shared, tile 5 and 2 new ones stored.
    await lib.write("s", frame(1200));
    expect(segments()).toBe(14);
    expect((await lib.read("s", { asOf: 0 })).data!.equals(frame(1000))).toBe(true);
    expect((await lib.read("s", { asOf: 2 })).data!.equals(frame(1000, 550))).toBe(true);
    expect((await lib.read("s")).data!.equals(frame(1200))).toBe(true);
    // Deleting the versions that first stored the shared tiles keeps them for the later versions.
    await lib.delete("s", { versions: [0, 1, 2] });
    expect(segments()).toBe(12);
    expect((await lib.read("s")).data!.equals(frame(1200))).toBe(true);
    await lib.delete("s");
    expect(segments()).toBe(0);
    await ac.close();
  });

  it("without dedup every version stores its own tiles", async () => {
    const { ac, lib, segments } = await open2(false);
    await lib.write("s", frame(1000));
    await lib.write("s", frame(1000));
    expect(segments()).toBe(20);
    await ac.close();
  });
});
