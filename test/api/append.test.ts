import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Arctic, DataFrame } from "../../runtimes/node.ts";
import { rejectsWith, tempDir } from "../helpers.ts";

const day = 86_400_000_000_000n;
const ts = (from: number, n: number) => new BigInt64Array(n).map((_, i) => BigInt(from + i) * day);

describe("append", () => {
  it("adds rows after the last and keeps earlier versions", async () => {
    const ac = new Arctic(`lmdb://${join(tempDir(), "a")}`);
    const lib = await ac.createLibrary("lib", { rowsPerSegment: 4 });
    const first = new DataFrame(
      { x: new Float64Array([1, 2, 3, 4, 5]), s: ["a", "b", null, "d", "e"] },
      { index: ts(0, 5) },
    );
    await lib.write("s", first);
    const more = new DataFrame({ x: new Float64Array([6, 7]), s: ["f", "g"] }, { index: ts(5, 2) });
    const item = await lib.append("s", more);
    expect(item.version).toBe(1);
    const all = (await lib.read("s")).data!;
    expect(all.numRows).toBe(7);
    expect(all.column("x")).toEqual(new Float64Array([1, 2, 3, 4, 5, 6, 7]));
    expect(all.column("s")).toEqual(["a", "b", null, "d", "e", "f", "g"]);
    expect(all.index).toMatchObject({ kind: "timestamp", values: ts(0, 7) });
    expect((await lib.read("s", { asOf: 0 })).data!.equals(first)).toBe(true);
    // Equal timestamps at the seam are allowed, as in ArcticDB.
    await lib.append("s", new DataFrame({ x: new Float64Array([8]), s: ["h"] }, { index: ts(6, 1) }));
    expect((await lib.read("s")).data!.numRows).toBe(8);
    await ac.close();
  });

  it("rejects rows that start before the end, and mismatched schemas, changing nothing", async () => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib");
    await lib.write("s", new DataFrame({ x: new Float64Array([1, 2]) }, { index: ts(10, 2) }));
    await rejectsWith(
      lib.append("s", new DataFrame({ x: new Float64Array([0]) }, { index: ts(5, 1) })),
      "UnsortedIndexError",
    );
    await rejectsWith(
      lib.append("s", new DataFrame({ y: new Float64Array([0]) }, { index: ts(20, 1) })),
      "SchemaMismatchError",
    );
    await rejectsWith(
      lib.append("s", new DataFrame({ x: new Int32Array([0]) }, { index: ts(20, 1) })),
      "SchemaMismatchError",
    );
    await rejectsWith(lib.append("s", { x: [3] }), "SchemaMismatchError");
    // ArcticDB's validate_index: rows out of order among themselves cannot be appended either.
    const unsorted = new BigInt64Array([30n, 20n]);
    const err = await rejectsWith(
      lib.append("s", new DataFrame({ x: [1, 2] }, { index: unsorted })),
      "UnsortedIndexError",
    );
    expect(err.message).toMatch(/not in ascending order/);
    expect((await lib.listVersions("s")).length).toBe(1);
    await ac.close();
  });

  it("writes a missing symbol and appends to row-indexed frames", async () => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib", { rowsPerSegment: 3 });
    expect((await lib.append("r", { v: [1, 2] })).version).toBe(0);
    await lib.append("r", { v: [3, 4, 5, 6] });
    const back = (await lib.read("r")).data!;
    expect(back.column("v")).toEqual(new Float64Array([1, 2, 3, 4, 5, 6]));
    expect((await lib.read("r", { rowRange: [1, 5] })).data!.column("v")).toEqual(
      new Float64Array([2, 3, 4, 5]),
    );
    await ac.close();
  });
});
