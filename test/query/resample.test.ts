import { describe, expect, it } from "vitest";
import {
  col,
  DataFrame,
  InvalidArgumentError,
  QueryBuilder,
  runQuery,
  UnsortedIndexError,
} from "../../src/api/index.ts";

const MIN = 60_000_000_000n;

function ts(iso: string): bigint {
  return BigInt(Date.parse(iso)) * 1_000_000n;
}

function indexOf(df: DataFrame): string[] {
  if (df.index.kind !== "timestamp") throw new Error("expected a timestamp index");
  return [...df.index.values].map((v) => new Date(Number(v / 1_000_000n)).toISOString().slice(0, 19));
}

function numbers(df: DataFrame, name: string): number[] {
  return Array.from(df.column(name) as ArrayLike<number | bigint>, Number);
}

/** pandas' DataFrame.resample docstring: nine one-minute values 0…8 from 2000-01-01. */
function nineMinutes(): DataFrame {
  const index = BigInt64Array.from({ length: 9 }, (_, i) => ts("2000-01-01T00:00:00Z") + BigInt(i) * MIN);
  return new DataFrame({ v: BigInt64Array.from({ length: 9 }, (_, i) => BigInt(i)) }, { index });
}

/** pandas' docstring for origin/offset: every 7 minutes from 2000-10-01 23:30, values 0, 3, 6, … */
function sevenMinutes(): DataFrame {
  const start = ts("2000-10-01T23:30:00Z");
  const index = BigInt64Array.from({ length: 9 }, (_, i) => start + BigInt(i) * 7n * MIN);
  return new DataFrame({ v: BigInt64Array.from({ length: 9 }, (_, i) => BigInt(i * 3)) }, { index });
}

describe("resample as pandas' docstring computes it", () => {
  it("3min, closed and labelled left (the default)", () => {
    const out = runQuery(nineMinutes(), new QueryBuilder().resample("3min").agg({ v: "sum" }));
    expect(indexOf(out)).toEqual(["2000-01-01T00:00:00", "2000-01-01T00:03:00", "2000-01-01T00:06:00"]);
    expect(numbers(out, "v")).toEqual([3, 12, 21]);
    expect(out.dtype("v")).toBe("int64");
  });

  it("3min labelled right", () => {
    const out = runQuery(
      nineMinutes(),
      new QueryBuilder().resample("3min", { label: "right" }).agg({ v: "sum" }),
    );
    expect(indexOf(out)).toEqual(["2000-01-01T00:03:00", "2000-01-01T00:06:00", "2000-01-01T00:09:00"]);
    expect(numbers(out, "v")).toEqual([3, 12, 21]);
  });

  it("3min closed and labelled right", () => {
    const q = new QueryBuilder().resample("3min", { label: "right", closed: "right" }).agg({ v: "sum" });
    const out = runQuery(nineMinutes(), q);
    expect(indexOf(out)).toEqual([
      "2000-01-01T00:00:00",
      "2000-01-01T00:03:00",
      "2000-01-01T00:06:00",
      "2000-01-01T00:09:00",
    ]);
    expect(numbers(out, "v")).toEqual([0, 6, 15, 15]);
  });

  const cases: [string, Parameters<QueryBuilder["resample"]>[1], string[], number[]][] = [
    ["start_day (default)", {}, ["23:14", "23:31", "23:48", "00:05", "00:22"], [0, 9, 21, 54, 24]],
    ["epoch", { origin: "epoch" }, ["23:18", "23:35", "23:52", "00:09", "00:26"], [0, 18, 27, 39, 24]],
    ["a timestamp", { origin: "2000-01-01" }, ["23:24", "23:41", "23:58", "00:15"], [3, 15, 45, 45]],
    ["start", { origin: "start" }, ["23:30", "23:47", "00:04", "00:21"], [9, 21, 54, 24]],
    ["offset 23h30min", { offset: "23h30min" }, ["23:30", "23:47", "00:04", "00:21"], [9, 21, 54, 24]],
    ["end", { origin: "end" }, ["23:35", "23:52", "00:09", "00:26"], [0, 18, 27, 63]],
    ["end_day", { origin: "end_day" }, ["23:38", "23:55", "00:12", "00:29"], [3, 15, 45, 45]],
  ];
  for (const [name, options, labels, sums] of cases) {
    it(`17min with origin ${name}`, () => {
      const out = runQuery(sevenMinutes(), new QueryBuilder().resample("17min", options).agg({ v: "sum" }));
      expect(indexOf(out).map((s) => s.slice(11, 16))).toEqual(labels);
      expect(numbers(out, "v")).toEqual(sums);
    });
  }
});

describe("resample buckets", () => {
  const index = [
    "2024-01-01T00:00:00Z",
    "2024-01-01T00:00:30Z",
    "2024-01-01T00:03:10Z",
    "2024-01-01T00:03:50Z",
  ];
  const frame = () =>
    new DataFrame(
      {
        f: [1, Number.NaN, 3, 4],
        i: new Int32Array([1, 2, 3, 4]),
        s: ["a", null, "c", "b"],
        t: [new Date(10), new Date(20), new Date(30), new Date(40)],
      },
      { index },
    );

  it("keeps empty buckets as pandas does: count 0, sum 0, others NaN (ints become float64)", () => {
    const q = new QueryBuilder().resample("1min").agg({
      n: ["i", "count"],
      sum: ["i", "sum"],
      mean: ["i", "mean"],
      min: ["i", "min"],
      first: ["s", "first"],
      last: ["t", "last"],
      fmax: ["f", "max"],
    });
    const out = runQuery(frame(), q);
    expect(indexOf(out)).toEqual([
      "2024-01-01T00:00:00",
      "2024-01-01T00:01:00",
      "2024-01-01T00:02:00",
      "2024-01-01T00:03:00",
    ]);
    expect(out.dtypes).toEqual({
      n: "int64",
      sum: "int64",
      mean: "float64",
      min: "float64",
      first: "string",
      last: "timestamp",
      fmax: "float64",
    });
    expect(numbers(out, "n")).toEqual([2, 0, 0, 2]);
    expect(numbers(out, "sum")).toEqual([3, 0, 0, 7]);
    expect(numbers(out, "mean")).toEqual([1.5, Number.NaN, Number.NaN, 3.5]);
    expect(numbers(out, "min")).toEqual([1, Number.NaN, Number.NaN, 3]);
    expect(out.column("first")).toEqual(["a", null, null, "c"]);
    expect([...(out.column("last") as BigInt64Array)]).toEqual([
      20_000_000n,
      -(2n ** 63n),
      -(2n ** 63n),
      40_000_000n,
    ]);
    expect(numbers(out, "fmax")).toEqual([1, Number.NaN, Number.NaN, 4]);
  });

  it("drops empty buckets with emptyBuckets: 'drop' (ArcticDB's behaviour), keeping int dtypes", () => {
    const q = new QueryBuilder().resample("1min", { emptyBuckets: "drop" }).agg({ min: ["i", "min"] });
    const out = runQuery(frame(), q);
    expect(indexOf(out)).toEqual(["2024-01-01T00:00:00", "2024-01-01T00:03:00"]);
    expect(out.dtype("min")).toBe("int32");
    expect(numbers(out, "min")).toEqual([1, 3]);
  });

  it("skips NaN in first/last/min/max, and an all-NaN bucket gives NaN (sum 0)", () => {
    const q = new QueryBuilder()
      .filter(col("i").ne(1))
      .resample("1min", { emptyBuckets: "drop" })
      .agg({ first: ["f", "first"], sum: ["f", "sum"], count: ["f", "count"], min: ["f", "min"] });
    const out = runQuery(frame(), q);
    expect(numbers(out, "first")).toEqual([Number.NaN, 3]);
    expect(numbers(out, "sum")).toEqual([0, 7]);
    expect(numbers(out, "count")).toEqual([0, 2]);
    expect(numbers(out, "min")).toEqual([Number.NaN, 3]);
  });

  it("gives an empty answer for no rows, with the dtypes it would have", () => {
    const q = new QueryBuilder()
      .filter(col("i").gt(100))
      .resample("1min")
      .agg({ n: ["i", "count"], s: ["i", "sum"], m: ["f", "mean"], x: ["s", "max"] });
    const out = runQuery(frame(), q);
    expect(out.numRows).toBe(0);
    expect(out.dtypes).toEqual({ n: "int64", s: "int64", m: "float64", x: "string" });
  });

  it("needs a sorted timestamp index", () => {
    const rows = new DataFrame({ x: [1, 2] });
    expect(() => runQuery(rows, new QueryBuilder().resample("1s").agg({ x: "sum" }))).toThrow(
      InvalidArgumentError,
    );
    const unsorted = new DataFrame({ x: [1, 2] }, { index: [new Date(5), new Date(1)] });
    expect(() => runQuery(unsorted, new QueryBuilder().resample("1s").agg({ x: "sum" }))).toThrow(
      UnsortedIndexError,
    );
  });

  it("refuses a rule that would make an absurd number of empty buckets, pointing at emptyBuckets", () => {
    const wide = new DataFrame({ x: [1, 2] }, { index: ["2000-01-01", "2020-01-01"] });
    expect(() => runQuery(wide, new QueryBuilder().resample("1s").agg({ x: "sum" }))).toThrow(/emptyBuckets/);
    const out = runQuery(wide, new QueryBuilder().resample("1s", { emptyBuckets: "drop" }).agg({ x: "sum" }));
    expect(out.numRows).toBe(2);
  });
});
