import { describe, expect, it } from "vitest";
import {
  Arctic,
  col,
  concat,
  DataFrame,
  InvalidArgumentError,
  LazyFrame,
  QueryBuilder,
  runQuery,
  SchemaMismatchError,
} from "../../runtimes/node.ts";

// lib.lazy(…) chains the same clauses as QueryBuilder and collect() equals read with that query;
// concat stacks symbols of one schema in the order given, then runs the clauses chained after it.

function bars(start: number, rows: number, syms = ["AAPL", "MSFT"]): DataFrame {
  const t0 = Date.UTC(2024, 0, 2, 9, 30) + start * 60_000;
  return new DataFrame(
    {
      sym: Array.from({ length: rows }, (_, i) => syms[i % syms.length]),
      px: Float64Array.from({ length: rows }, (_, i) => 100 + ((i * 7) % 13)),
      vol: BigInt64Array.from({ length: rows }, (_, i) => BigInt(i % 50)),
    },
    {
      index: {
        name: "time",
        values: BigInt64Array.from({ length: rows }, (_, i) => BigInt(t0 + i * 60_000) * 1_000_000n),
      },
    },
  );
}

async function library() {
  const ac = new Arctic("mem://");
  return { ac, lib: await ac.createLibrary("lib", { rowsPerSegment: 50 }) };
}

describe("lazy", () => {
  it("collects as read with the chained query, each step a new LazyFrame", async () => {
    const { ac, lib } = await library();
    const frame = bars(0, 300);
    await lib.write("bars", frame);
    const base = lib.lazy("bars");
    const filtered = base.filter(col("px").gt(105));
    expect(filtered).toBeInstanceOf(LazyFrame);
    expect(filtered).not.toBe(base);
    const chain = filtered
      .apply("notional", col("px").mul(col("vol")))
      .groupby("sym")
      .agg({ px: "mean", notional: "sum", n: ["px", "count"] });
    const q = new QueryBuilder()
      .filter(col("px").gt(105))
      .apply("notional", col("px").mul(col("vol")))
      .groupby("sym")
      .agg({ px: "mean", notional: "sum", n: ["px", "count"] });
    const got = await chain.collect();
    expect(got.symbol).toBe("bars");
    expect(got.version).toBe(0);
    expect(got.data.equals((await lib.read("bars", { query: q })).data)).toBe(true);
    // The base is unchanged: it still reads the whole symbol.
    expect((await base.collect()).data.equals(frame)).toBe(true);
    const r = await lib
      .lazy("bars", { columns: ["px"], dateRange: ["2024-01-02T10:00:00Z", null] })
      .resample("1h")
      .agg({ px: "max" })
      .head(2)
      .collect();
    expect(
      r.data.equals(
        runQuery(
          frame,
          new QueryBuilder()
            .dateRange("2024-01-02T10:00:00Z", null)
            .resample("1h")
            .agg({ px: "max" })
            .head(2),
        ),
      ),
    ).toBe(true);
    const t = await lib.lazy("bars").rowRange(10, 20).tail(3).collect();
    expect(t.data.numRows).toBe(3);
    await ac.close();
  });

  it("refuses bad options and clauses when they are given", async () => {
    const { ac, lib } = await library();
    expect(() => lib.lazy("bars", { colums: ["a"] } as never)).toThrow(InvalidArgumentError);
    expect(() => lib.lazy("bars", { query: "px > 1" } as never)).toThrow(InvalidArgumentError);
    expect(() => lib.lazy("bars").resample("fortnight")).toThrow(InvalidArgumentError);
    expect(() => concat([])).toThrow(InvalidArgumentError);
    await ac.close();
  });
});

describe("concat", () => {
  it("stacks symbols in the order given, then runs the later clauses", async () => {
    const { ac, lib } = await library();
    const a = bars(0, 120);
    const b = bars(120, 80, ["IBM", "AAPL"]);
    await lib.write("a", a, { metadata: { n: 1 } });
    await lib.write("b", b);
    await lib.write("b", b); // version 1
    const got = await concat([lib.lazy("b"), lib.lazy("a")]).collect();
    expect(got.data.numRows).toBe(200);
    // Not re-sorted: b's rows, then a's, as pandas' and ArcticDB's concat.
    const idx = (got.data.index as { values: BigInt64Array }).values;
    expect(idx[0]).toBe((b.index as { values: BigInt64Array }).values[0]);
    expect(idx[80]).toBe((a.index as { values: BigInt64Array }).values[0]);
    expect(got.versions?.map((v) => [v.symbol, v.version, v.metadata, v.data])).toEqual([
      ["b", 1, undefined, undefined],
      ["a", 0, { n: 1 }, undefined],
    ]);

    const whole = new DataFrame(
      {
        sym: [...(a.column("sym") as string[]), ...(b.column("sym") as string[])],
        px: Float64Array.from([...a.column("px"), ...b.column("px")] as number[]),
        vol: BigInt64Array.from([...a.column("vol"), ...b.column("vol")] as bigint[]),
      },
      {
        index: {
          name: "time",
          values: BigInt64Array.from([
            ...(a.index as { values: BigInt64Array }).values,
            ...(b.index as { values: BigInt64Array }).values,
          ]),
        },
      },
    );
    const q = new QueryBuilder().filter(col("vol").lt(30)).groupby("sym").agg({ px: "mean", vol: "sum" });
    const grouped = await concat([lib.lazy("a"), lib.lazy("b")])
      .filter(col("vol").lt(30))
      .groupby("sym")
      .agg({ px: "mean", vol: "sum" })
      .collect();
    expect(grouped.data.equals(runQuery(whole, q))).toBe(true);

    // Clauses before concat run per input (pushed into each read).
    const each = await concat([
      lib.lazy("a").tail(2),
      lib.lazy("b", { columns: ["px", "sym", "vol"] }).head(3),
    ]).collect();
    expect(each.data.numRows).toBe(5);
    await ac.close();
  });

  it("renumbers row-number indexes and refuses inputs of different schemas", async () => {
    const { ac, lib } = await library();
    await lib.write("x", new DataFrame({ v: [1, 2, 3] }));
    await lib.write("y", new DataFrame({ v: [4, 5] }));
    await lib.write("z", new DataFrame({ v: new BigInt64Array([1n]) }));
    await lib.write("w", new DataFrame({ u: [1] }));
    const got = await concat([lib.lazy("x"), lib.lazy("y")]).collect();
    expect(got.data.equals(new DataFrame({ v: [1, 2, 3, 4, 5] }))).toBe(true);
    await expect(concat([lib.lazy("x"), lib.lazy("z")]).collect()).rejects.toThrow(SchemaMismatchError);
    await expect(concat([lib.lazy("x"), lib.lazy("w")]).collect()).rejects.toThrow(SchemaMismatchError);
    await expect(concat([lib.lazy("x"), lib.lazy("a")]).collect()).rejects.toThrow(/a/);
    await ac.close();
  });
});
