import { describe, expect, it } from "vitest";
import { Arctic, DataFrame } from "../../src/api/index.ts";
import "../../runtimes/node.ts";
import { join } from "node:path";
import { rejectsWith, tempDir } from "../helpers.ts";

const MINUTE = 60_000_000_000n;
const T0 = 1_704_067_200_000_000_000n; // 2024-01-01T00:00:00Z

/** `n` rows one minute apart from T0 + start minutes, x = minute number. */
function minutes(start: number, n: number): DataFrame {
  const ts = new BigInt64Array(n).map((_, i) => T0 + BigInt(start + i) * MINUTE);
  return new DataFrame(
    { x: new Float64Array(n).map((_, i) => start + i) },
    { index: { name: "time", values: ts } },
  );
}

const xs = (df: DataFrame | undefined) => Array.from(df!.column("x") as Float64Array);

describe.each(["mem://", "lmdb"])("read with dateRange (%s)", (kind) => {
  const uri = () => (kind === "lmdb" ? `lmdb://${join(tempDir(), "d.lmdb")}` : kind);

  it("returns the rows inside an inclusive range, across segment boundaries", async () => {
    const ac = new Arctic(uri());
    const lib = await ac.createLibrary("ts", { rowsPerSegment: 7 });
    await lib.write("m", minutes(0, 50));
    const at = (m: number) => new Date(Number((T0 + BigInt(m) * MINUTE) / 1_000_000n));
    expect(xs((await lib.read("m", { dateRange: [at(5), at(20)] })).data)).toEqual(
      Array.from({ length: 16 }, (_, i) => 5 + i),
    );
    // Boundaries that fall exactly on a segment's first and last rows, ISO strings and bigints.
    expect(
      xs((await lib.read("m", { dateRange: ["2024-01-01T00:07:00Z", T0 + 13n * MINUTE] })).data),
    ).toEqual([7, 8, 9, 10, 11, 12, 13]);
    // Between two timestamps, open ends, outside the data.
    expect(xs((await lib.read("m", { dateRange: [T0 + 30n * MINUTE + 1n, null] })).data)).toEqual(
      Array.from({ length: 19 }, (_, i) => 31 + i),
    );
    expect(xs((await lib.read("m", { dateRange: [null, T0 + 2n * MINUTE - 1n] })).data)).toEqual([0, 1]);
    expect((await lib.read("m", { dateRange: [T0 + 100n * MINUTE, null] })).data!.numRows).toBe(0);
    expect((await lib.read("m", { dateRange: [null, T0 - 1n] })).data!.numRows).toBe(0);
    const both = await lib.read("m", { dateRange: [T0 + 3n * MINUTE, T0 + 4n * MINUTE], columns: [] });
    expect(both.data!.columnNames).toEqual([]);
    const idx = both.data!.index;
    expect(idx.kind === "timestamp" && Array.from(idx.values)).toEqual([T0 + 3n * MINUTE, T0 + 4n * MINUTE]);
    await ac.close();
  });

  it("works after appends and rejects bad ranges and row-indexed symbols", async () => {
    const ac = new Arctic(uri());
    const lib = await ac.createLibrary("ts", { rowsPerSegment: 4 });
    await lib.write("m", minutes(0, 10));
    await lib.append("m", minutes(10, 10));
    expect(xs((await lib.read("m", { dateRange: [T0 + 8n * MINUTE, T0 + 11n * MINUTE] })).data)).toEqual([
      8, 9, 10, 11,
    ]);
    await rejectsWith(lib.read("m", { dateRange: [T0, T0 - 1n] }), "InvalidArgumentError");
    await rejectsWith(lib.read("m", { dateRange: ["soon", null] }), "InvalidArgumentError");
    await rejectsWith(lib.read("m", { dateRange: [T0] as never }), "InvalidArgumentError");
    await rejectsWith(lib.read("m", { dateRange: [T0, null], rowRange: [0, 1] }), "InvalidArgumentError");
    await lib.write("rows", new DataFrame({ x: [1, 2] }));
    const err = await rejectsWith(lib.read("rows", { dateRange: [null, null] }), "InvalidArgumentError");
    expect(err.message).toMatch(/timestamp index.*use rowRange/);
    // An unsorted timestamp index is refused at write (as ArcticDB), so no version needs a sorted read.
    const unsorted = new DataFrame({ x: [1, 2] }, { index: [T0 + 5n, T0] });
    await rejectsWith(lib.write("u", unsorted), "UnsortedIndexError");
    expect(await lib.hasSymbol("u")).toBe(false);
    await ac.close();
  });
});
