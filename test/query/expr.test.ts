import { describe, expect, it } from "vitest";
import {
  col,
  DataFrame,
  InvalidArgumentError,
  lit,
  QueryBuilder,
  runQuery,
  SchemaMismatchError,
} from "../../src/api/index.ts";
import type { Expr } from "../../src/query/expr.ts";

const frame = () =>
  new DataFrame(
    {
      i: new Int32Array([1, -2, 3, 4]),
      big: [10n, 20n, -30n, 2n ** 62n],
      u: new BigUint64Array([1n, 2n, 3n, 4n]),
      f: [1.5, Number.NaN, -3, 0],
      s: ["AAPL", null, "MSFT", "aapl"],
      b: [true, false, true, false],
      t: [new Date("2024-01-01T00:00:00Z"), new Date("2024-01-02T00:00:00Z"), new Date(0), new Date(1)],
    },
    { index: ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"] },
  );

/** `apply("out", expr)` and the resulting column. */
function value(expr: Expr): { dtype: string; values: unknown[] } {
  const out = runQuery(frame(), new QueryBuilder().apply("out", expr));
  return { dtype: out.dtype("out"), values: Array.from(out.column("out") as ArrayLike<unknown>) };
}

function rows(expr: Expr): number[] {
  const out = runQuery(frame(), new QueryBuilder().apply("k", col("i")).filter(expr));
  return [...(out.column("k") as Int32Array)];
}

describe("expressions are immutable plain data", () => {
  it("returns new expressions and frozen nodes", () => {
    const a = col("px");
    const b = a.gt(100);
    expect(b).not.toBe(a);
    expect(a.node).toEqual({ op: "col", name: "px" });
    expect(Object.isFrozen(b.node)).toBe(true);
    expect(structuredClone(b.node)).toEqual(b.node);
    expect(b.toString()).toBe('(col("px") > 100)');
  });

  it("keeps each QueryBuilder unchanged when a clause is added", () => {
    const q = new QueryBuilder();
    const q2 = q.filter(col("x").gt(1));
    expect(q.clauses).toHaveLength(0);
    expect(q2.clauses).toHaveLength(1);
    expect(q2.head(3)).not.toBe(q2);
    expect(q2.clauses).toHaveLength(1);
  });
});

describe("type rules (numpy)", () => {
  it("int op int is int64, an integer literal keeps an int column int, a fraction makes float64", () => {
    expect(value(col("i").add(col("i")))).toEqual({ dtype: "int64", values: [2n, -4n, 6n, 8n] });
    expect(value(col("i").mul(2))).toEqual({ dtype: "int64", values: [2n, -4n, 6n, 8n] });
    expect(value(col("i").add(0.5)).dtype).toBe("float64");
    expect(value(col("i").add(col("f"))).dtype).toBe("float64");
  });

  it("div is true division, float64", () => {
    expect(value(col("i").div(2))).toEqual({ dtype: "float64", values: [0.5, -1, 1.5, 2] });
    expect(value(col("i").div(0)).values).toEqual([Infinity, -Infinity, Infinity, Infinity]);
  });

  it("int64 arithmetic is exact and wraps as numpy", () => {
    const v = value(col("big").mul(2)).values;
    expect(v[3]).toBe(-(2n ** 63n));
    expect(value(col("big").add(1n)).values[3]).toBe(2n ** 62n + 1n);
  });

  it("uint64 with an int64 column is float64, with an integer literal uint64 (numpy)", () => {
    expect(value(col("u").add(col("big"))).dtype).toBe("float64");
    expect(value(col("u").add(1)).dtype).toBe("uint64");
  });

  it("abs and neg", () => {
    expect(value(col("i").abs())).toEqual({ dtype: "int64", values: [1n, 2n, 3n, 4n] });
    expect(value(col("f").neg()).values).toEqual([-1.5, Number.NaN, 3, -0]);
  });

  it("a literal alone becomes a column of numpy's dtype", () => {
    expect(value(lit(3)).dtype).toBe("int64");
    expect(value(lit(2.5)).dtype).toBe("float64");
    expect(value(lit("x")).values).toEqual(["x", "x", "x", "x"]);
    expect(value(lit(1).add(2))).toEqual({ dtype: "int64", values: [3n, 3n, 3n, 3n] });
  });
});

describe("comparisons and missing values (pandas)", () => {
  it("compares with NaN as false, except ne, which is true", () => {
    expect(rows(col("f").gt(-10))).toEqual([1, 3, 4]);
    expect(rows(col("f").eq(col("f")))).toEqual([1, 3, 4]);
    expect(rows(col("f").ne(col("f")))).toEqual([-2]);
  });

  it("null strings compare false and ne true; comparing with null is false everywhere", () => {
    expect(rows(col("s").eq("AAPL"))).toEqual([1]);
    expect(rows(col("s").ne("AAPL"))).toEqual([-2, 3, 4]);
    expect(rows(col("s").gt("B"))).toEqual([3, 4]);
    expect(rows(col("f").eq(null))).toEqual([]);
    expect(rows(col("f").ne(null))).toEqual([1, -2, 3, 4]);
  });

  it("isnull is true for NaN, NaT and null strings", () => {
    const withNat = new DataFrame(
      { t: new BigInt64Array([-(2n ** 63n), 0n]) },
      { dtypes: { t: "timestamp" } },
    );
    expect(runQuery(withNat, new QueryBuilder().filter(col("t").isnull())).numRows).toBe(1);
    expect(rows(col("f").isnull())).toEqual([-2]);
    expect(rows(col("s").isnull())).toEqual([-2]);
    expect(rows(col("s").notnull())).toEqual([1, 3, 4]);
    expect(rows(col("i").isnull())).toEqual([]);
  });

  it("64-bit integers compare exactly, beyond 2^53", () => {
    expect(rows(col("big").eq(2n ** 62n))).toEqual([4]);
    expect(rows(col("big").gt(2n ** 62n - 1n))).toEqual([4]);
    expect(rows(col("big").lt(col("i")))).toEqual([3]);
  });

  it("timestamps compare with Dates, ISO strings and nanosecond bigints; the index by its name", () => {
    expect(rows(col("t").ge(new Date("2024-01-01T00:00:00Z")))).toEqual([1, -2]);
    expect(rows(col("t").lt("1970-01-01T00:00:00.001Z"))).toEqual([3]);
    expect(rows(col("t").le("1970-01-01T00:00:00.001Z"))).toEqual([3, 4]);
    expect(rows(col("t").eq(1_000_000n))).toEqual([4]);
    expect(rows(col("index").gt("2024-01-02"))).toEqual([3, 4]);
    expect(() => rows(col("t").gt(5))).toThrow(SchemaMismatchError);
  });

  it("and, or, xor, not over booleans", () => {
    expect(rows(col("b").and(col("i").gt(1)))).toEqual([3]);
    expect(rows(col("b").or(col("i").gt(3)))).toEqual([1, 3, 4]);
    expect(rows(col("b").xor(col("i").gt(0)))).toEqual([4]);
    expect(rows(col("b").not())).toEqual([-2, 4]);
  });

  it("isin and isnotin: numbers, strings, timestamps; NaN matches NaN and null matches null", () => {
    expect(rows(col("i").isin([1, 3, 3.5]))).toEqual([1, 3]);
    expect(rows(col("big").isin([2n ** 62n, 10]))).toEqual([1, 4]);
    expect(rows(col("s").isin(["AAPL", "MSFT"]))).toEqual([1, 3]);
    expect(rows(col("s").isin([null]))).toEqual([-2]);
    expect(rows(col("f").isin([Number.NaN]))).toEqual([-2]);
    expect(rows(col("s").isnotin(["AAPL"]))).toEqual([-2, 3, 4]);
    expect(rows(col("i").isin([]))).toEqual([]);
    expect(rows(col("i").isnotin([]))).toEqual([1, -2, 3, 4]);
    expect(rows(col("t").isin([new Date(0), "2024-01-02"]))).toEqual([-2, 3]);
    expect(rows(col("b").isin([true]))).toEqual([1, 3]);
  });

  it("regexMatch searches strings; null never matches", () => {
    expect(rows(col("s").regexMatch("^A"))).toEqual([1]);
    expect(rows(col("s").regexMatch(/apl/i))).toEqual([1, 4]);
    expect(rows(col("s").regexMatch(/a/g))).toEqual([4]); // no lastIndex state between rows
  });
});

describe("type errors", () => {
  it("at build time when the literals decide", () => {
    expect(() => lit("a").gt(1)).toThrow(InvalidArgumentError);
    expect(() => lit(1).eq("a")).toThrow(/cannot compare a string with a number/);
    expect(() => lit(1).and(true)).toThrow(InvalidArgumentError);
    expect(() => col("x").add("a")).toThrow(/arithmetic needs numbers/);
    expect(() => lit(2).not()).toThrow(InvalidArgumentError);
    expect(() => lit(2).regexMatch("a")).toThrow(InvalidArgumentError);
    expect(() => col("x").regexMatch("(")).toThrow(/not a valid regular expression/);
    expect(() => col("x").gt(undefined as never)).toThrow(InvalidArgumentError);
    expect(() => col("x").gt({} as never)).toThrow(InvalidArgumentError);
    expect(() => col("x").isin("abc" as never)).toThrow(InvalidArgumentError);
    expect(() => lit(1).isin(["a"])).toThrow(/is a number but the values are strings/);
    expect(() => lit("a").isin([1, "a"])).toThrow(/mix strings and numbers/);
    expect(() => col("")).toThrow(InvalidArgumentError);
    expect(() => lit(new Date(Number.NaN))).toThrow(InvalidArgumentError);
  });

  it("at evaluation when a column's dtype decides", () => {
    expect(() => rows(col("s").gt(1))).toThrow(SchemaMismatchError);
    expect(() => rows(col("s").gt(col("i")))).toThrow(/compare strings with strings/);
    expect(() => rows(col("s").add(1))).toThrow(SchemaMismatchError);
    expect(() => rows(col("i").and(col("b")))).toThrow(SchemaMismatchError);
    expect(() => rows(col("i").regexMatch("a"))).toThrow(SchemaMismatchError);
    expect(() => rows(col("i").isin(["a"]))).toThrow(SchemaMismatchError);
    expect(() => rows(col("t").sub(col("t")))).toThrow(SchemaMismatchError);
    expect(() => runQuery(frame(), new QueryBuilder().filter(col("i")))).toThrow(/boolean is needed/);
  });

  it("names an unknown column and the ones there are", () => {
    expect(() => rows(col("nope").gt(1))).toThrow(/no column 'nope'; the columns are 'index', 'i'/);
  });
});
