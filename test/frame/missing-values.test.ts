import { describe, expect, it } from "vitest";
import { DataFrame, InvalidArgumentError } from "../../src/api/index.ts";

// Issue 22, item 4: missing values (null, undefined) in plain arrays follow pandas: NaN in numbers (ints
// widen to float64), NaT in timestamps, null in strings; bools with a missing value become float64 with
// NaN, as fromArrow makes them. toRecords gives null back for NaT and null strings.

const NAT = -(2n ** 63n);

describe("missing values in plain arrays", () => {
  it("makes null and undefined NaT in a timestamp column, and null again in toRecords", () => {
    const df = new DataFrame({ t: [new Date(0), null, undefined, new Date("2024-01-02T09:30:00Z")] });
    expect(df.dtypes).toEqual({ t: "timestamp" });
    expect(Array.from(df.column("t") as BigInt64Array)).toEqual([0n, NAT, NAT, 1704187800000000000n]);
    expect(df.toRecords().map((r) => r.t)).toEqual([
      new Date(0),
      null,
      null,
      new Date("2024-01-02T09:30:00Z"),
    ]);
    expect(df.toString()).toBe(
      [
        "                     t",
        "0  1970-01-01 00:00:00",
        "1                  NaT",
        "2                  NaT",
        "3  2024-01-02 09:30:00",
      ].join("\n"),
    );
  });

  it("makes null NaT in a column given the timestamp dtype", () => {
    const df = new DataFrame({ t: ["2024-01-02", null] }, { dtypes: { t: "timestamp" } });
    expect(Array.from(df.column("t") as BigInt64Array)).toEqual([1704153600000000000n, NAT]);
    expect(df.toString()).toBe(["            t", "0  2024-01-02", "1         NaT"].join("\n"));
  });

  it("widens bigints with a missing value to float64 with NaN, as pandas widens ints", () => {
    const df = new DataFrame({ n: [1n, null, -3n, undefined] });
    expect(df.dtypes).toEqual({ n: "float64" });
    expect(Array.from(df.column("n") as Float64Array)).toEqual([1, Number.NaN, -3, Number.NaN]);
  });

  it("refuses bigints with a missing value that float64 cannot hold exactly", () => {
    expect(() => new DataFrame({ n: [2n ** 53n + 1n, null] })).toThrow(InvalidArgumentError);
    expect(() => new DataFrame({ n: [2n ** 53n + 1n, null] })).toThrow(
      /float64 cannot hold 9007199254740993/,
    );
  });

  it("makes booleans with a missing value float64 (1, 0, NaN), as fromArrow does", () => {
    const df = new DataFrame({ b: [true, null, false] });
    expect(df.dtypes).toEqual({ b: "float64" });
    expect(Array.from(df.column("b") as Float64Array)).toEqual([1, Number.NaN, 0]);
  });

  it("treats undefined as null in numbers and strings", () => {
    const df = new DataFrame({ f: [1, undefined, 3], s: ["x", undefined, null] });
    expect(Array.from(df.column("f") as Float64Array)).toEqual([1, Number.NaN, 3]);
    expect(df.column("s")).toEqual(["x", null, null]);
    expect(df.toRecords()[1]).toEqual({ f: Number.NaN, s: null });
  });

  it("refuses a missing value in a column given an int or bool dtype, saying to use float64", () => {
    for (const dtype of ["int32", "int64", "uint8", "bool"] as const) {
      const build = () => new DataFrame({ a: [1, null] }, { dtypes: { a: dtype } });
      expect(build).toThrow(InvalidArgumentError);
      expect(build).toThrow(/row 1 is missing.*float64/);
    }
  });

  it("builds missing values the same through fromRecords, a missing key included", () => {
    const df = DataFrame.fromRecords([
      { t: new Date(0), n: 1n, b: true },
      { t: null, b: undefined },
    ]);
    expect(df.dtypes).toEqual({ t: "timestamp", n: "float64", b: "float64" });
    expect(df.toRecords()[1]).toEqual({ t: null, n: Number.NaN, b: Number.NaN });
  });

  it("refuses a missing timestamp in the index, which must hold every row's time", () => {
    const build = () => new DataFrame({ x: [1, 2] }, { index: [new Date(0), null as unknown as Date] });
    expect(build).toThrow(InvalidArgumentError);
    expect(build).toThrow(/index\[1\] is missing/);
  });
});
