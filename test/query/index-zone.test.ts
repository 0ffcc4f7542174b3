import { describe, expect, it } from "vitest";
import { Arctic, col, DataFrame, QueryBuilder, runQuery } from "../../src/api/index.ts";

// A query's answer keeps the index's time zone, as its name: filter, head/tail and resample alike.

describe("queries on a zoned index", () => {
  const frame = new DataFrame(
    { px: [1, 2, 3, 4] },
    {
      index: {
        name: "time",
        values: [
          "2024-01-02T14:30:00Z",
          "2024-01-02T14:31:00Z",
          "2024-01-02T15:30:00Z",
          "2024-01-02T15:31:00Z",
        ],
        tz: "America/New_York",
      },
    },
  );

  it("keep the zone through filter, head, tail and resample", () => {
    for (const query of [
      new QueryBuilder().filter(col("px").gt(1)),
      new QueryBuilder().head(2),
      new QueryBuilder().tail(1),
      new QueryBuilder().resample("1h").agg({ px: "sum" }),
    ]) {
      const answer = runQuery(frame, query);
      expect(answer.index).toMatchObject({ kind: "timestamp", name: "time", tz: "America/New_York" });
    }
  });

  it("keep it in a read with a query", async () => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib");
    await lib.write("s", frame);
    const { data } = await lib.read("s", { query: new QueryBuilder().filter(col("px").ge(3)) });
    expect(data.index).toMatchObject({ tz: "America/New_York" });
    expect(data.toString()).toMatch(/2024-01-02 10:30:00-05:00/);
    await ac.close();
  });
});
