import { describe, expect, it } from "vitest";
import { Arctic } from "../../runtimes/node.ts";
import {
  applyReadQuery,
  col,
  DataFrame,
  dateBounds,
  InvalidArgumentError,
  QueryBuilder,
  requiredColumns,
  runQuery,
  SchemaMismatchError,
} from "../../src/api/index.ts";
import { loadKernels } from "../../src/codec/wasm.ts";
import { useQueryKernels } from "../../src/query/kernels.ts";

const bars = () =>
  new DataFrame(
    {
      sym: ["AAPL", "MSFT", "AAPL", "IBM", null, "MSFT"],
      venue: ["X", "Y", "Y", "X", "X", "Y"],
      px: [101, 99, 103, Number.NaN, 100, 105],
      vol: new BigInt64Array([10n, 20n, 30n, 40n, 50n, 60n]),
      bid: [1, 2, 3, 4, 5, 6],
      ask: [3, 4, 5, 6, 7, 8],
    },
    {
      index: [
        "2024-01-01T09:30:00Z",
        "2024-01-01T09:31:00Z",
        "2024-01-01T09:32:00Z",
        "2024-01-02T09:30:00Z",
        "2024-01-02T09:31:00Z",
        "2024-01-03T09:30:00Z",
      ],
    },
  );

function col_(df: DataFrame, name: string): unknown[] {
  return Array.from(df.column(name) as ArrayLike<unknown>);
}

describe("groupby", () => {
  it("runs the issue's example: filter, apply, groupby, agg", () => {
    const q = new QueryBuilder()
      .filter(
        col("px")
          .gt(100)
          .and(col("sym").isin(["AAPL", "MSFT"])),
      )
      .apply("mid", col("bid").add(col("ask")).div(2))
      .groupby("sym")
      .agg({ px: "mean", vol: "sum", trades: ["px", "count"], mid: "max" });
    const out = runQuery(bars(), q);
    expect(out.columnNames).toEqual(["sym", "px", "vol", "trades", "mid"]);
    expect(out.index).toEqual({ kind: "row", start: 0 });
    expect(out.dtypes).toEqual({
      sym: "string",
      px: "float64",
      vol: "int64",
      trades: "int64",
      mid: "float64",
    });
    expect(col_(out, "sym")).toEqual(["AAPL", "MSFT"]);
    expect(col_(out, "px")).toEqual([102, 105]);
    expect(col_(out, "vol")).toEqual([40n, 60n]);
    expect(col_(out, "trades")).toEqual([2n, 1n]);
    expect(col_(out, "mid")).toEqual([4, 7]);
  });

  it("sorts by the keys ascending and drops rows with a missing key (pandas' dropna)", () => {
    const out = runQuery(bars(), new QueryBuilder().groupby("sym").agg({ n: ["vol", "count"] }));
    expect(col_(out, "sym")).toEqual(["AAPL", "IBM", "MSFT"]);
    expect(col_(out, "n")).toEqual([2n, 1n, 2n]);
  });

  it("groups by several keys, which ArcticDB lacks", () => {
    const out = runQuery(bars(), new QueryBuilder().groupby(["venue", "sym"]).agg({ vol: "sum" }));
    expect(out.columnNames).toEqual(["venue", "sym", "vol"]);
    expect(col_(out, "venue")).toEqual(["X", "X", "Y", "Y"]);
    expect(col_(out, "sym")).toEqual(["AAPL", "IBM", "AAPL", "MSFT"]);
    expect(col_(out, "vol")).toEqual([10n, 40n, 30n, 80n]);
  });

  it("gives an all-NaN group NaN for mean/min/max/first/last, 0 for sum and count (ArcticDB's test_aggregation)", () => {
    const out = runQuery(
      bars(),
      new QueryBuilder()
        .filter(col("sym").eq("IBM"))
        .groupby("sym")
        .agg({
          mean: ["px", "mean"],
          sum: ["px", "sum"],
          count: ["px", "count"],
          min: ["px", "min"],
          first: ["px", "first"],
          last: ["px", "last"],
        }),
    );
    expect(col_(out, "mean")).toEqual([Number.NaN]);
    expect(col_(out, "sum")).toEqual([0]);
    expect(col_(out, "count")).toEqual([0n]);
    expect(col_(out, "min")).toEqual([Number.NaN]);
    expect(col_(out, "first")).toEqual([Number.NaN]);
    expect(col_(out, "last")).toEqual([Number.NaN]);
  });

  it("groups floats with NaN keys dropped, and -0 with 0", () => {
    const df = new DataFrame({ k: [1.5, Number.NaN, -0, 0, 1.5], v: [1, 2, 3, 4, 5] });
    const out = runQuery(df, new QueryBuilder().groupby("k").agg({ v: "sum" }));
    expect(col_(out, "k")).toEqual([0, 1.5]);
    expect(col_(out, "v")).toEqual([7, 6]);
  });

  it("keeps min/max/first/last dtypes; sums ints to int64; first/last follow row order", () => {
    const df = new DataFrame({
      k: new Int8Array([2, 1, 2, 1]),
      v: new Int16Array([5, -1, 7, 3]),
      s: ["b", "a", null, "c"],
    });
    const out = runQuery(
      df,
      new QueryBuilder().groupby("k").agg({
        min: ["v", "min"],
        sum: ["v", "sum"],
        first: ["s", "first"],
        last: ["s", "last"],
        smax: ["s", "max"],
      }),
    );
    expect(out.dtypes).toEqual({
      k: "int8",
      min: "int16",
      sum: "int64",
      first: "string",
      last: "string",
      smax: "string",
    });
    expect(col_(out, "k")).toEqual([1, 2]);
    expect(col_(out, "min")).toEqual([-1, 5]);
    expect(col_(out, "sum")).toEqual([2n, 12n]);
    expect(col_(out, "first")).toEqual(["a", "b"]);
    expect(col_(out, "last")).toEqual(["c", "b"]);
    expect(col_(out, "smax")).toEqual(["c", "b"]);
  });

  it("returns no rows, with the right columns, for an empty input", () => {
    const out = runQuery(
      bars(),
      new QueryBuilder()
        .filter(col("px").gt(1000))
        .groupby("sym")
        .agg({ px: "mean", n: ["px", "count"] }),
    );
    expect(out.numRows).toBe(0);
    expect(out.dtypes).toEqual({ sym: "string", px: "float64", n: "int64" });
  });

  it("refuses sum/mean of strings and timestamps, an unknown column, and an output named as a key", () => {
    expect(() => runQuery(bars(), new QueryBuilder().groupby("venue").agg({ sym: "mean" }))).toThrow(
      SchemaMismatchError,
    );
    expect(() => runQuery(bars(), new QueryBuilder().groupby("venue").agg({ x: ["index", "sum"] }))).toThrow(
      SchemaMismatchError,
    );
    expect(() => runQuery(bars(), new QueryBuilder().groupby("nope").agg({ px: "sum" }))).toThrow(
      /no column 'nope'/,
    );
    expect(() => runQuery(bars(), new QueryBuilder().groupby("sym").agg({ n: ["nope", "sum"] }))).toThrow(
      InvalidArgumentError,
    );
    expect(() => new QueryBuilder().groupby("sym").agg({ sym: ["px", "sum"] })).toThrow(/name of a key/);
  });
});

describe("filter, apply and row clauses", () => {
  it("an empty filter result keeps columns and dtypes (ArcticDB's test_filtering)", () => {
    const out = runQuery(bars(), new QueryBuilder().filter(col("px").gt(1e9)));
    expect(out.numRows).toBe(0);
    expect(out.columnNames).toEqual(bars().columnNames);
    expect(out.dtypes).toEqual(bars().dtypes);
  });

  it("apply replaces a column in place, and apply on no rows works (test_projection)", () => {
    const q = new QueryBuilder().apply("px", col("px").mul(2)).apply("spread", col("ask").sub(col("bid")));
    const out = runQuery(bars(), q);
    expect(out.columnNames).toEqual(["sym", "venue", "px", "vol", "bid", "ask", "spread"]);
    expect(col_(out, "px")[0]).toBe(202);
    const empty = runQuery(bars(), new QueryBuilder().filter(col("bid").lt(0)).apply("x", col("vol").add(1)));
    expect(empty.numRows).toBe(0);
    expect(empty.dtype("x")).toBe("int64");
    expect(() => runQuery(bars(), new QueryBuilder().apply("index", col("px")))).toThrow(/name of the index/);
  });

  it("dateRange, rowRange, head and tail in order", () => {
    const q = new QueryBuilder().dateRange("2024-01-01T09:31:00Z", "2024-01-02T23:00:00Z");
    expect(col_(runQuery(bars(), q), "bid")).toEqual([2, 3, 4, 5]);
    expect(col_(runQuery(bars(), q.head(2)), "bid")).toEqual([2, 3]);
    expect(col_(runQuery(bars(), q.tail(-3)), "bid")).toEqual([5]);
    expect(col_(runQuery(bars(), q.rowRange(-3, null)), "bid")).toEqual([3, 4, 5]);
    expect(col_(runQuery(bars(), new QueryBuilder().head(-4)), "bid")).toEqual([1, 2]);
    expect(col_(runQuery(bars(), new QueryBuilder().tail(2).head(1)), "bid")).toEqual([5]);
    expect(col_(runQuery(bars(), new QueryBuilder().dateRange(null, "2024-01-01T09:30:00Z")), "bid")).toEqual(
      [1],
    );
  });

  it("a row-number index: slices keep numbering (iloc), a filter renumbers from 0", () => {
    const df = new DataFrame({ x: [1, 2, 3, 4] });
    expect(runQuery(df, new QueryBuilder().rowRange(1, 3)).index).toEqual({ kind: "row", start: 1 });
    expect(runQuery(df, new QueryBuilder().filter(col("x").gt(2))).index).toEqual({ kind: "row", start: 0 });
    expect(() => runQuery(df, new QueryBuilder().dateRange(null, null))).toThrow(/timestamp index/);
  });

  it("clauses after a groupby see its answer", () => {
    const q = new QueryBuilder().groupby("sym").agg({ vol: "sum" }).filter(col("vol").gt(30)).head(1);
    const out = runQuery(bars(), q);
    expect(col_(out, "sym")).toEqual(["AAPL"]);
  });

  it("does not change the input frame", () => {
    const df = bars();
    const px = [...(df.column("px") as Float64Array)];
    runQuery(df, new QueryBuilder().apply("px", col("px").mul(2)).filter(col("px").gt(0)));
    expect([...(df.column("px") as Float64Array)]).toEqual(px);
  });
});

describe("building a query checks every argument", () => {
  const q = new QueryBuilder();
  it.each([
    ["filter of a non-expression", () => q.filter(true as never), /filter: give an expression/],
    ["apply without a name", () => q.apply("", col("x")), /apply: a column name/],
    ["groupby of nothing", () => q.groupby([]), /groupby: give a column name/],
    ["groupby twice the same key", () => q.groupby(["a", "a"]), /name a column twice/],
    ["an unknown aggregation", () => q.groupby("a").agg({ x: "median" as never }), /'x' asks for "median"/],
    ["a malformed [column, agg]", () => q.groupby("a").agg({ x: ["y"] as never }), /\[column, aggregation\]/],
    ["no aggregations", () => q.groupby("a").agg({}), /at least one aggregation/],
    ["a calendar rule", () => q.resample("1M"), /not a fixed-length frequency/],
    ["a zero rule", () => q.resample("0s"), /length 0/],
    ["a negative rule", () => q.resample("-1s"), /not a fixed-length/],
    ["a bad closed", () => q.resample("1s", { closed: "both" as never }), /closed must be "left" or "right"/],
    ["a bad label", () => q.resample("1s", { label: 1 as never }), /label must be/],
    ["a bad origin", () => q.resample("1s", { origin: "middle" }), /origin "middle" is not one of/],
    ["a bad offset", () => q.resample("1s", { offset: "1 fortnight" }), /offset/],
    ["an unknown option", () => q.resample("1s", { close: "left" } as never), /unknown option 'close'/],
    ["a bad dateRange", () => q.dateRange("yesterday", null), /dateRange: start/],
    ["a fractional rowRange", () => q.rowRange(1.5, null), /rowRange: start must be an integer/],
    ["a fractional head", () => q.head(0.5), /head: n must be an integer/],
    ["tail of a string", () => q.tail("3" as never), /tail: n must be an integer/],
  ])("%s", (_name, build, message) => {
    expect(build).toThrow(InvalidArgumentError);
    expect(build).toThrow(message);
  });
});

describe("planning helpers", () => {
  it("requiredColumns: all columns without an aggregation, else only those named before it", () => {
    const all = ["a", "b", "c", "d"];
    expect(requiredColumns(new QueryBuilder().filter(col("a").gt(1)), all)).toEqual(all);
    // A read that names its columns needs those and the ones its query names.
    expect(requiredColumns(new QueryBuilder().filter(col("c").gt(1)), all, ["d", "a"])).toEqual([
      "a",
      "c",
      "d",
    ]);
    const q = new QueryBuilder()
      .filter(col("a").gt(1))
      .apply("m", col("b").mul(2))
      .groupby("c")
      .agg({ m: "sum", x: ["m", "max"] })
      .filter(col("x").gt(0));
    expect(requiredColumns(q, all)).toEqual(["a", "b", "c"]);
    expect(
      requiredColumns(new QueryBuilder().apply("b", col("b").add(1)).groupby("a").agg({ b: "sum" }), all),
    ).toEqual(["a", "b"]);
  });

  it("dateBounds: dateRange clauses and index comparisons joined by and, up to the first positional clause", () => {
    const q = new QueryBuilder()
      .dateRange("2024-01-01", null)
      .filter(col("index").lt(2_000n).and(col("px").gt(1)).and(col("index").ge("2024-01-02")));
    expect(dateBounds(q)).toEqual({ start: 1_704_153_600_000_000_000n, end: 1_999n });
    expect(dateBounds(new QueryBuilder().filter(lt5("ts")), "ts")).toEqual({ start: null, end: 4n });
    expect(dateBounds(new QueryBuilder().head(3).dateRange("2024-01-01", null))).toEqual({
      start: null,
      end: null,
    });
    expect(dateBounds(new QueryBuilder().filter(col("index").gt(1n).or(col("index").lt(0n))))).toEqual({
      start: null,
      end: null,
    });
  });
});

function lt5(name: string) {
  return col(name).lt(5n);
}

describe("applyReadQuery (what Library.read calls)", () => {
  it("returns the frame for no query, refuses a non-QueryBuilder, and narrows to the read's columns", () => {
    const df = bars();
    expect(applyReadQuery(df, undefined)).toBe(df);
    expect(() => applyReadQuery(df, { clauses: [] } as never)).toThrow(/query must be a QueryBuilder/);
    const q = new QueryBuilder().filter(col("px").gt(100)).apply("mid", col("bid").add(col("ask")).div(2));
    const out = applyReadQuery(df, q, ["vol", "sym"]);
    expect(out.columnNames).toEqual(["vol", "sym", "mid"]);
    expect(col_(out, "sym")).toEqual(["AAPL", "AAPL", "MSFT"]);
    const grouped = applyReadQuery(df, new QueryBuilder().groupby("sym").agg({ vol: "sum" }), ["sym"]);
    expect(grouped.columnNames).toEqual(["sym", "vol"]);
  });
});

describe("a query crosses a worker boundary as plain data", () => {
  it("structuredClone(query.clauses) rebuilds the same query", () => {
    const q = new QueryBuilder()
      .filter(
        col("sym")
          .isin(["AAPL", "MSFT"])
          .and(col("index").ge(new Date("2024-01-01"))),
      )
      .apply("mid", col("bid").add(col("ask")).div(2))
      .resample("1h30min", { origin: "2024-01-01", offset: "-5min" })
      .agg({ mid: "mean", n: ["vol", "count"] });
    const copy = new QueryBuilder(structuredClone(q.clauses));
    expect(copy.toString()).toBe(q.toString());
    expect(runQuery(bars(), copy).equals(runQuery(bars(), q))).toBe(true);
  });

  it("treats an integer literal past 2^53 as a float", () => {
    const out = runQuery(bars(), new QueryBuilder().apply("big", col("vol").add(1e20)));
    expect(out.dtype("big")).toBe("float64");
  });
});

describe("float sums", () => {
  it("are compensated (Kahan), as pandas' groupby sums are", () => {
    const df = new DataFrame({ k: ["a", "a", "a", "a"], v: [1e16, 1, 1, -1e16] });
    const out = runQuery(df, new QueryBuilder().groupby("k").agg({ v: "sum", m: ["v", "mean"] }));
    expect(col_(out, "v")).toEqual([2]);
    expect(col_(out, "m")).toEqual([0.5]);
  });

  it("of infinities are infinite, as pandas' are (its compensation reset, GH#53606), in Wasm and TypeScript", async () => {
    await loadKernels();
    const df = new DataFrame({
      k: ["a", "a", "a", "b", "b", "c", "c"],
      v: [Infinity, Infinity, 1, Infinity, -Infinity, -Infinity, 2],
    });
    const q = new QueryBuilder().groupby("k").agg({ v: "sum", m: ["v", "mean"] });
    for (const kernels of [true, false]) {
      const was = useQueryKernels(kernels);
      try {
        const out = runQuery(df, q);
        expect(col_(out, "v"), `kernels ${kernels}`).toEqual([Infinity, Number.NaN, -Infinity]);
        expect(col_(out, "m"), `kernels ${kernels}`).toEqual([Infinity, Number.NaN, -Infinity]);
      } finally {
        useQueryKernels(was);
      }
    }
    // Chunks of one row each: the partials' compensated sums merge the same way.
    const ac = new Arctic("mem://", { workers: 0 });
    const lib = await ac.createLibrary("inf", { rowsPerSegment: 1 });
    await lib.write("s", df);
    const merged = (await lib.read("s", { query: q })).data;
    expect(col_(merged, "v")).toEqual([Infinity, Number.NaN, -Infinity]);
    await ac.close();
  });
});
