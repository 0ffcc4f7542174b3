import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Arctic, DataFrame } from "../../runtimes/node.ts";
import { everyDtype } from "../fixtures/frames.ts";
import { tempDir } from "../helpers.ts";

describe("round-trips", () => {
  for (const uri of ["lmdb", "mem"]) {
    it(`every dtype, 0, 1 and many rows, across tiles (${uri})`, async () => {
      const ac = new Arctic(uri === "mem" ? "mem://" : `lmdb://${join(tempDir(), "rt")}`);
      const lib = await ac.createLibrary("lib", { rowsPerSegment: 1000, columnsPerSegment: 4 });
      for (const n of [0, 1, 999, 1000, 1001, 12_345]) {
        const df = everyDtype(n);
        expect(df.dtypes.flag).toBe("bool");
        await lib.write(`n${n}`, df);
        const back = (await lib.read(`n${n}`)).data!;
        expect(back.dtypes).toEqual(df.dtypes);
        expect(back.equals(df)).toBe(true);
        // Bit patterns survive: -0 stays -0 and NaN stays NaN.
        if (n > 2) {
          expect(Object.is(back.column("f64")[1], -0)).toBe(true);
          expect(Number.isNaN(back.column("f64")[0] as number)).toBe(true);
        }
      }
      await ac.close();
    });
  }

  it("a frame of 1,000 columns", async () => {
    const ac = new Arctic(`lmdb://${join(tempDir(), "wide")}`);
    const lib = await ac.createLibrary("lib");
    const cols: Record<string, Float64Array> = {};
    for (let c = 0; c < 1000; c++) cols[`c${c}`] = new Float64Array(50).map((_, r) => r * 1000 + c);
    const df = new DataFrame(cols);
    await lib.write("wide", df);
    const back = (await lib.read("wide")).data!;
    expect(back.columnNames.length).toBe(1000);
    expect(back.equals(df)).toBe(true);
    const some = (await lib.read("wide", { columns: ["c999", "c0", "c500"] })).data!;
    expect(some.column("c500")).toEqual(cols.c500);
    await ac.close();
  });

  it("a row-indexed frame with no columns and a timestamp frame with no rows", async () => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib");
    const empty = new DataFrame({ a: new Float64Array(0), s: [] as string[] }, { dtypes: { s: "string" } });
    await lib.write("empty", empty);
    expect((await lib.read("empty")).data!.equals(empty)).toBe(true);
    const emptyTs = new DataFrame({ a: new Int32Array(0) }, { index: new BigInt64Array(0) });
    await lib.write("emptyTs", emptyTs);
    const back = (await lib.read("emptyTs")).data!;
    expect(back.index.kind).toBe("timestamp");
    expect(back.equals(emptyTs)).toBe(true);
    await ac.close();
  });

  it("random frames round-trip exactly (property)", async () => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib", { rowsPerSegment: 7, columnsPerSegment: 2 });
    let i = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 40 }).chain((n) =>
          fc.record({
            f: fc.array(fc.double(), { minLength: n, maxLength: n }),
            b: fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), {
              minLength: n,
              maxLength: n,
            }),
            s: fc.array(fc.option(fc.string({ unit: "grapheme" })), { minLength: n, maxLength: n }),
            i: fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: n, maxLength: n }),
          }),
        ),
        async ({ f, b, s, i: ints }) => {
          const df = new DataFrame({
            f: Float64Array.from(f),
            b: BigInt64Array.from(b),
            s,
            i: Int32Array.from(ints),
          });
          const sym = `p${i++}`;
          await lib.write(sym, df);
          expect((await lib.read(sym)).data!.equals(df)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
    await ac.close();
  });
});
