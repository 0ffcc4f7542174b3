import { describe, expect, it } from "vitest";
import {
  col,
  DataFrame,
  InvalidArgumentError,
  lit,
  parseExpr,
  QueryBuilder,
  runQuery,
} from "../../runtimes/node.ts";
import type { Expr } from "../../src/query/expr.ts";

// parseExpr: text → the same Expr trees col/lit build, so a parsed query answers as a built one.

const cases: [string, Expr][] = [
  ["px > 100", col("px").gt(100)],
  [
    "px >= 100.5 and sym in ('A', 'B')",
    col("px")
      .ge(100.5)
      .and(col("sym").isin(["A", "B"])),
  ],
  [
    "px > 100 AND sym IN ('A','B')",
    col("px")
      .gt(100)
      .and(col("sym").isin(["A", "B"])),
  ],
  // and binds tighter than or; not tighter than and
  [
    "a > 1 or b < 2 and not c == 3",
    col("a")
      .gt(1)
      .or(col("b").lt(2).and(col("c").eq(3).not())),
  ],
  ["(a > 1 or b < 2) and c != 3", col("a").gt(1).or(col("b").lt(2)).and(col("c").ne(3))],
  ["a = 1 xor b <= -2", col("a").eq(1).xor(col("b").le(-2))],
  // * / before + -, left to right; unary minus of a number is a literal
  ["(bid + ask) / 2", col("bid").add(col("ask")).div(2)],
  [
    "a + b * c - d / 2",
    col("a")
      .add(col("b").mul(col("c")))
      .sub(col("d").div(2)),
  ],
  ["a - b - c", col("a").sub(col("b")).sub(col("c"))],
  ["-a * -3", col("a").neg().mul(-3)],
  ["abs(a - b) > 0.5", col("a").sub(col("b")).abs().gt(0.5)],
  ["sym not in ('X') && venue is not null", col("sym").isnotin(["X"]).and(col("venue").notnull())],
  ["venue is null || !(px < 3)", col("venue").isnull().or(col("px").lt(3).not())],
  ["sym ~ '^A' & flag == true", col("sym").regexMatch("^A").and(col("flag").eq(true))],
  ["`bid price` > 1e3", col("bid price").gt(1000)],
  ["time >= '2024-01-02T09:31:00Z'", col("time").ge("2024-01-02T09:31:00Z")],
  ["note == 'it''s' or note == \"a\\\"b\"", col("note").eq("it's").or(col("note").eq('a"b'))],
  ["n in (1, -2, 3.5, null)", col("n").isin([1, -2, 3.5, null])],
  ["big == 9007199254740993", col("big").eq(9007199254740993n)],
  ["x == null | y", col("x").eq(null).or(col("y"))],
];

describe("parseExpr", () => {
  it.each(cases)("parses %s as the builder makes it", (text, built) => {
    expect(parseExpr(text).node).toEqual(built.node);
  });

  it("answers as the built expressions on a frame", () => {
    const frame = new DataFrame(
      {
        sym: ["A", "B", "C", "A", null],
        px: [99, 101, 150, Number.NaN, 120],
        bid: [1, 2, 3, 4, 5],
        ask: [2, 3, 4, 5, 6],
      },
      {
        index: {
          name: "time",
          values: [
            "2024-01-02T09:30:00Z",
            "2024-01-02T09:31:00Z",
            "2024-01-02T09:32:00Z",
            "2024-01-02T09:33:00Z",
            "2024-01-02T09:34:00Z",
          ],
        },
      },
    );
    const pairs: [string, Expr][] = [
      [
        "px > 100 and sym in ('A','B')",
        col("px")
          .gt(100)
          .and(col("sym").isin(["A", "B"])),
      ],
      [
        "sym is null or px != px",
        col("sym")
          .isnull()
          .or(col("px").ne(col("px"))),
      ],
      [
        "time > '2024-01-02T09:31:00Z' and not sym ~ 'C'",
        col("time").gt("2024-01-02T09:31:00Z").and(col("sym").regexMatch("C").not()),
      ],
    ];
    for (const [text, built] of pairs) {
      const a = runQuery(frame, new QueryBuilder().filter(parseExpr(text)));
      const b = runQuery(frame, new QueryBuilder().filter(built));
      expect(a.equals(b)).toBe(true);
    }
    const mid = runQuery(frame, new QueryBuilder().apply("mid", parseExpr("(bid+ask)/2")));
    expect([...(mid.column("mid") as Float64Array)]).toEqual([1.5, 2.5, 3.5, 4.5, 5.5]);
    expect(lit(1)).toBeDefined();
  });

  it.each([
    ["", /empty at position 1/],
    ["px >", /expected a value.*the end at position 5/],
    ["px > 100 and", /position 13/],
    ["(px > 1", /expected '\)' to close the '\(' at position 1/],
    ["px > 1 px", /unexpected 'px'.*position 8/],
    ["sym in 'A'", /expected '\(' to start the list/],
    ["sym ~ 3", /~ needs a 'pattern'/],
    ["px # 3", /unexpected character '#' at position 4/],
    ["'abc", /not closed/],
    ["x is nothing", /expected null after 'is'/],
    ["sym in ('A', px)", /holds literals/],
    ["12abc > 1", /runs into 'a'/],
    ["'a' > 1", /cannot compare a string with a number.*at position 5/],
    ["and > 1", /keyword 'and'/],
  ])("refuses %j with an InvalidArgumentError pointing at the position", (text, message) => {
    let err: unknown;
    try {
      parseExpr(text, "--filter");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toMatch(/^--filter: /);
    expect((err as Error).message).toMatch(message);
  });

  it("shows a caret under the position", () => {
    expect(() => parseExpr("px > > 1")).toThrow("  px > > 1\n       ^");
  });
});
