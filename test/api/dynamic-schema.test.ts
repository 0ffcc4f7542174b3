import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Arctic, DataFrame, type Library } from "../../runtimes/node.ts";
import { rejectsWith, tempDir } from "../helpers.ts";

// Behaviours of ArcticDB's dynamic schema (test_append.py dynamic cases, test_column_type_changes.py,
// test_missing_empty.py): appends may add, drop or widen columns; reads fill what a row never had with
// NaN for floats, 0 for integers, false for bools, NaT for timestamps and null for strings.

const NAT = -(2n ** 63n);
const day = (d: number) => new Date(Date.UTC(2024, 0, 1 + d));
const days = (from: number, n: number) => Array.from({ length: n }, (_, i) => day(from + i));

async function dynamicLibrary(rowsPerSegment = 2): Promise<{ ac: Arctic; lib: Library }> {
  const ac = new Arctic(`lmdb://${join(tempDir(), "dyn.lmdb")}`);
  return {
    ac,
    lib: await ac.createLibrary("lib", { dynamicSchema: true, rowsPerSegment, columnsPerSegment: 2 }),
  };
}

describe("dynamic schema", () => {
  it("an append may add columns; earlier rows read them as missing values (test_append_new_columns)", async () => {
    const { ac, lib } = await dynamicLibrary();
    await lib.write("s", new DataFrame({ a: [1, 2, 3] }, { index: days(0, 3) }));
    await lib.append(
      "s",
      new DataFrame(
        {
          a: [4, 5],
          f: new Float32Array([1.5, 2.5]),
          i: new Int32Array([7, 8]),
          b: [true, true],
          t: [day(9), day(10)],
          str: ["x", "y"],
        },
        { index: days(3, 2) },
      ),
    );
    const df = (await lib.read("s")).data!;
    expect(df.columnNames).toEqual(["a", "f", "i", "b", "t", "str"]);
    expect(Array.from(df.column("a") as Float64Array)).toEqual([1, 2, 3, 4, 5]);
    expect(Array.from(df.column("f") as Float32Array)).toEqual([
      Number.NaN,
      Number.NaN,
      Number.NaN,
      1.5,
      2.5,
    ]);
    expect(Array.from(df.column("i") as Int32Array)).toEqual([0, 0, 0, 7, 8]);
    expect(Array.from(df.column("b") as Uint8Array)).toEqual([0, 0, 0, 1, 1]);
    const t = df.column("t") as BigInt64Array;
    expect([t[0], t[2]]).toEqual([NAT, NAT]);
    expect(t[3]).toBe(BigInt(day(9).getTime()) * 1_000_000n);
    expect(df.column("str")).toEqual([null, null, null, "x", "y"]);
    expect(df.dtypes).toMatchObject({ a: "float64", f: "float32", i: "int32", b: "bool", t: "timestamp" });
    await ac.close();
  });

  it("an append may leave columns out; its rows read them as missing (test_append_missing_column)", async () => {
    const { ac, lib } = await dynamicLibrary();
    await lib.write("s", new DataFrame({ a: [1, 2, 3], n: new Int16Array([1, 2, 3]), s: ["p", "q", "r"] }));
    await lib.append("s", { a: [4] });
    await lib.append("s", { s: ["z"], a: [5] });
    const df = (await lib.read("s")).data!;
    expect(df.columnNames).toEqual(["a", "n", "s"]);
    expect(Array.from(df.column("a") as Float64Array)).toEqual([1, 2, 3, 4, 5]);
    expect(Array.from(df.column("n") as Int16Array)).toEqual([1, 2, 3, 0, 0]);
    expect(df.column("s")).toEqual(["p", "q", "r", null, "z"]);
    await ac.close();
  });

  it("an append may widen a column's dtype; older rows read widened (test_column_type_changes)", async () => {
    const { ac, lib } = await dynamicLibrary();
    await lib.write("s", {
      i: new Int8Array([-1, 2, 3]),
      u: new Uint16Array([1, 2, 65535]),
      f: new Float32Array([0.5, 1, 2]),
    });
    await lib.append("s", { i: new BigInt64Array([2n ** 40n]), u: new Int16Array([-5]), f: [1e300] });
    const df = (await lib.read("s")).data!;
    expect(df.dtypes).toMatchObject({ i: "int64", u: "int32", f: "float64" });
    expect(Array.from(df.column("i") as BigInt64Array)).toEqual([-1n, 2n, 3n, 2n ** 40n]);
    expect(Array.from(df.column("u") as Int32Array)).toEqual([1, 2, 65535, -5]);
    expect(Array.from(df.column("f") as Float64Array)).toEqual([0.5, 1, 2, 1e300]);
    // An int64 column meeting floats becomes float64, as numpy and ArcticDB promote.
    await lib.append("s", { i: [0.25] });
    expect(Array.from((await lib.read("s", { columns: ["i"] })).data!.column("i") as Float64Array)).toEqual([
      -1,
      2,
      3,
      2 ** 40,
      0.25,
    ]);
    // Earlier versions keep the schema they were written with.
    expect((await lib.read("s", { asOf: 0 })).data!.dtypes).toMatchObject({
      i: "int8",
      u: "uint16",
      f: "float32",
    });
    await ac.close();
  });

  it("refuses dtypes that have no common wider type and changes nothing", async () => {
    const { ac, lib } = await dynamicLibrary();
    await lib.write("s", { a: [1, 2], s: ["x", "y"] });
    const err = await rejectsWith(lib.append("s", { s: [3] }), "SchemaMismatchError");
    expect(err.message).toMatch(/'s'.*string.*float64/);
    await rejectsWith(lib.append("s", { a: [true] }), "SchemaMismatchError");
    expect((await lib.listVersions("s")).length).toBe(1);
    await ac.close();
  });

  it("a static-schema library still refuses a changed schema (test_append_mismatched_columns)", async () => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib");
    await lib.write("s", { a: [1] });
    const err = await rejectsWith(lib.append("s", { a: [1], b: [2] }), "SchemaMismatchError");
    expect(err.message).toMatch(/dynamicSchema/);
    await ac.close();
  });

  it("column and row-range reads fill missing values only where a slice lacks the column", async () => {
    const { ac, lib } = await dynamicLibrary(3);
    await lib.write("s", new DataFrame({ a: [1, 2, 3, 4] }, { index: days(0, 4) }));
    await lib.append("s", new DataFrame({ b: ["x", "y", "z"] }, { index: days(4, 3) }));
    await lib.append("s", new DataFrame({ a: [8], b: ["w"] }, { index: days(7, 1) }));
    const b = await lib.read("s", { columns: ["b"], rowRange: [2, 8] });
    expect(b.data!.column("b")).toEqual([null, null, "x", "y", "z", "w"]);
    const a = await lib.read("s", { columns: ["a"], dateRange: [day(3), day(7)] });
    expect(Array.from(a.data!.column("a") as Float64Array)).toEqual([
      4,
      Number.NaN,
      Number.NaN,
      Number.NaN,
      8,
    ]);
    const tail = await lib.tail("s", 2);
    expect(tail.data!.toRecords().map((r) => [r.a, r.b])).toEqual([
      [Number.NaN, "z"],
      [8, "w"],
    ]);
    expect((await lib.getDescription("s")).columns).toEqual([
      { name: "a", dtype: "float64" },
      { name: "b", dtype: "string" },
    ]);
    await ac.close();
  });

  it("update may bring new or wider columns; rows outside the range read them as missing", async () => {
    const { ac, lib } = await dynamicLibrary();
    await lib.write("s", new DataFrame({ a: new Int32Array([1, 2, 3, 4, 5]) }, { index: days(0, 5) }));
    await lib.update("s", new DataFrame({ a: [2.5], c: ["new"] }, { index: [day(2)] }), {
      dateRange: [day(1), day(2)],
    });
    const df = (await lib.read("s")).data!;
    expect(df.dtypes).toMatchObject({ a: "float64", c: "string" });
    expect(Array.from(df.column("a") as Float64Array)).toEqual([1, 2.5, 4, 5]);
    expect(df.column("c")).toEqual([null, "new", null, null]);
    await ac.close();
  });
});
