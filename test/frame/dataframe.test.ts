import { describe, expect, it } from "vitest";
import { DataFrame, InvalidArgumentError } from "../../src/api/index.ts";

describe("DataFrame construction", () => {
  it("infers dtypes from plain arrays and keeps typed arrays as given", () => {
    const ints = new Int32Array([1, 2, 3]);
    const df = new DataFrame({
      f: [1, 2.5, null],
      i: ints,
      b: [true, false, true],
      s: ["x", null, ""],
      n: [1n, -2n, 3n],
      t: [new Date("2024-01-01T00:00:00Z"), new Date(0), new Date(1)],
    });
    expect(df.dtypes).toEqual({
      f: "float64",
      i: "int32",
      b: "bool",
      s: "string",
      n: "int64",
      t: "timestamp",
    });
    expect(df.numRows).toBe(3);
    expect(df.column("i")).toBe(ints);
    expect(Number.isNaN((df.column("f") as Float64Array)[2])).toBe(true);
    expect(df.column("s")).toEqual(["x", null, ""]);
    expect((df.column("t") as BigInt64Array)[0]).toBe(1_704_067_200_000_000_000n);
  });

  it("honours explicit dtypes and checks values against them", () => {
    const df = new DataFrame({ a: [1, 2], s: ["p", "q"] }, { dtypes: { a: "int16" } });
    expect(df.dtype("a")).toBe("int16");
    expect(df.column("a")).toBeInstanceOf(Int16Array);
    expect(() => new DataFrame({ a: [1, 70000] }, { dtypes: { a: "int16" } })).toThrow(/row 1 holds 70000/);
    expect(() => new DataFrame({ a: [1.5] }, { dtypes: { a: "int32" } })).toThrow(InvalidArgumentError);
    expect(() => new DataFrame({ a: [1] }, { dtypes: { a: "int128" as never } })).toThrow(/not one of/);
    expect(() => new DataFrame({ a: [1] }, { dtypes: { b: "int8" } })).toThrow(/not among the columns/);
  });

  it("rejects mixed columns, unequal lengths and unknown names with clear errors", () => {
    expect(() => new DataFrame({ a: [1, "x"] })).toThrow(/mixes number and string values \(row 1\)/);
    expect(() => new DataFrame({ a: [1, 2], b: [1] })).toThrow(/'b' has 1 rows but 'a' has 2/);
    expect(() => new DataFrame([1, 2] as never)).toThrow(InvalidArgumentError);
    expect(() => new DataFrame({ a: [1] }).column("b")).toThrow(/no column 'b'; the columns are 'a'/);
    expect(() => new DataFrame({ a: [{}] })).toThrow(/object values/);
  });

  it("takes a timestamp index as Dates, ISO strings, nanoseconds or { name, values }", () => {
    const fromDates = new DataFrame({ x: [1, 2] }, { index: [new Date(0), new Date(1000)] });
    const fromIso = new DataFrame({ x: [1, 2] }, { index: ["1970-01-01", "1970-01-01T00:00:01Z"] });
    const fromNanos = new DataFrame({ x: [1, 2] }, { index: new BigInt64Array([0n, 1_000_000_000n]) });
    expect(fromDates.index).toEqual({
      kind: "timestamp",
      name: "index",
      values: new BigInt64Array([0n, 10n ** 9n]),
    });
    expect(fromIso.equals(fromDates)).toBe(true);
    expect(fromNanos.equals(fromDates)).toBe(true);
    const named = new DataFrame(
      { x: [1] },
      { index: { name: "date", values: ["2024-03-01 09:30:00.123456789"] } },
    );
    expect(named.index.kind === "timestamp" && named.index.values[0]).toBe(1_709_285_400_123_456_789n);
    expect(() => new DataFrame({ x: [1] }, { index: ["yesterday"] })).toThrow(
      /"yesterday" is not a timestamp/,
    );
    expect(() => new DataFrame({ x: [1, 2] }, { index: [new Date(0)] })).toThrow(/the index has 1/);
    expect(() => new DataFrame({ date: [1] }, { index: { name: "date", values: [0n] } })).toThrow(
      /like a column/,
    );
  });
});

describe("DataFrame equality and records", () => {
  it("compares names, order, dtypes, index and values; NaN equals NaN", () => {
    const a = new DataFrame({ x: [1, Number.NaN], y: ["a", null] });
    expect(a.equals(new DataFrame({ x: [1, Number.NaN], y: ["a", null] }))).toBe(true);
    expect(a.equals(new DataFrame({ y: ["a", null], x: [1, Number.NaN] }))).toBe(false);
    expect(a.equals(new DataFrame({ x: [1, 2], y: ["a", null] }))).toBe(false);
    expect(a.equals(new DataFrame({ x: new Float32Array([1, Number.NaN]), y: ["a", null] }))).toBe(false);
    expect(a.equals(new DataFrame({ x: [1, Number.NaN], y: ["a", ""] }))).toBe(false);
    expect(a.equals(new DataFrame({ x: [1, Number.NaN], y: ["a", null] }, { index: [0n, 1n] }))).toBe(false);
    expect(a.equals({})).toBe(false);
  });

  it("round-trips through records", () => {
    const df = new DataFrame(
      { px: [1.5, 2.5], ok: [true, false], sym: ["A", "B"] },
      { index: { name: "date", values: [new Date(0), new Date(60_000)] } },
    );
    const rows = df.toRecords();
    expect(rows[1]).toEqual({ date: new Date(60_000), px: 2.5, ok: false, sym: "B" });
    expect(DataFrame.fromRecords(rows, { index: "date" }).equals(df)).toBe(true);
    expect(() => DataFrame.fromRecords(rows, { index: "when" })).toThrow(/no 'when' key/);
  });
});

describe("DataFrame printing", () => {
  it("prints like pandas", () => {
    // A float column keeps its decimal point, as pandas prints it; an int column has none.
    expect(new DataFrame({ a: [1, 2, 3] }).toString()).toBe("     a\n0  1.0\n1  2.0\n2  3.0");
    expect(new DataFrame({ a: new Int32Array([1, 2, 3]) }).toString()).toBe("   a\n0  1\n1  2\n2  3");
    expect(new DataFrame({ price: [1.5, 10.25], sym: ["A", null] }).toString()).toBe(
      "   price   sym\n0   1.50     A\n1  10.25  null",
    );
    const ts = new DataFrame({ x: new Int8Array([1, 2]) }, { index: ["2024-01-01", "2024-01-02"] });
    expect(ts.toString()).toBe("index       x\n2024-01-01  1\n2024-01-02  2");
    const intraday = new DataFrame({ x: [1] }, { index: ["2024-01-01T09:30:00.250Z"] });
    expect(intraday.toString()).toBe("index                      x\n2024-01-01 09:30:00.250  1.0");
  });

  it("prints floats with pandas' precision, one format per column", () => {
    const cells = (values: number[]) =>
      new DataFrame({ v: values })
        .toString()
        .split("\n")
        .slice(1)
        .map((line) => line.trim().split(/\s+/)[1]);
    // Six significant digits rounded these before: 21513.8, 12282, 1234570, 100.
    expect(cells([21513.76, 12281.99])).toEqual(["21513.76", "12281.99"]);
    expect(cells([1234567.891])).toEqual(["1234567.891"]);
    expect(cells([100])).toEqual(["100.0"]);
    expect(cells([Math.PI, Number.NaN, -2])).toEqual(["3.141593", "NaN", "-2.000000"]);
    expect(cells([1e-7, 1])).toEqual(["1.000000e-07", "1.000000e+00"]);
    expect(cells([123456789.123, 1])).toEqual(["1.234568e+08", "1.000000e+00"]);
    expect(cells([Number.POSITIVE_INFINITY, 0.5])).toEqual(["inf", "0.5"]);
  });

  it("shows the first and last rows of a long frame", () => {
    const text = new DataFrame({ v: new Int32Array(100).map((_, i) => i) }).toString();
    const lines = text.split("\n");
    expect(lines.slice(0, 3)).toEqual(["     v", "0    0", "1    1"]);
    expect(lines).toContain("..  ..");
    expect(lines.at(-3)).toBe("99  99");
    expect(lines.at(-1)).toBe("[100 rows x 1 columns]");
  });
});
