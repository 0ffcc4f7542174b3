import { describe, expect, it } from "vitest";
import { Arctic, col, DataFrame, type Progress, QueryBuilder, runQuery } from "../../runtimes/node.ts";

// A query's leading date limits (dateRange clauses, filters comparing the index with a timestamp) narrow
// the read, so segments outside them are not decoded; the answer is the query run on the whole frame.

const MINUTE = 60_000_000_000n;
const T0 = BigInt(Date.UTC(2024, 0, 2)) * 1_000_000n;

function frame(rows: number): DataFrame {
  const ts = BigInt64Array.from({ length: rows }, (_, i) => T0 + BigInt(i) * MINUTE);
  return new DataFrame(
    {
      px: Float64Array.from({ length: rows }, (_, i) => (i * 13) % 17),
      sym: Array.from({ length: rows }, (_, i) => `s${i % 3}`),
    },
    { index: { name: "time", values: ts } },
  );
}

const at = (minute: number) => new Date(Number((T0 + BigInt(minute) * MINUTE) / 1_000_000n));

describe("date limits of a query narrow the read", () => {
  it("decodes only the segments the dates allow, answering as the whole frame", async () => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib", { rowsPerSegment: 100 });
    const f = frame(1000);
    await lib.write("s", f);
    const bytes = async (symbol: string, query?: QueryBuilder, dateRange?: [Date, Date]) => {
      let p: Progress | undefined;
      const options = { query, dateRange, onProgress: (x: Progress) => (p = x) };
      const { data } = await lib.read(symbol, query ? options : { onProgress: options.onProgress });
      return { data, bytes: p?.bytesTotal ?? 0 };
    };
    const all = (await bytes("s")).bytes;
    const queries = [
      new QueryBuilder().dateRange(at(250), at(349)).filter(col("px").gt(3)),
      new QueryBuilder()
        .filter(col("time").ge(at(700)).and(col("px").lt(9)))
        .groupby("sym")
        .agg({ px: "sum" }),
      new QueryBuilder().filter(col("time").lt(at(120))).head(3),
      new QueryBuilder()
        .apply("y", col("px").mul(2))
        .filter(col("time").gt(at(900)))
        .resample("1h")
        .agg({ y: "max" }),
    ];
    for (const q of queries) {
      const got = await bytes("s", q);
      expect(got.data.equals(runQuery(f, q))).toBe(true);
      expect(got.bytes).toBeLessThan(all / 2);
    }
    // After head(5) a date filter picks among those rows: nothing is narrowed.
    const late = new QueryBuilder().head(5).filter(col("time").gt(at(500)));
    expect((await bytes("s", late)).data.numRows).toBe(0);
    expect((await bytes("s", late)).bytes).toBe(all);
    // Contradictory limits find nothing; the read's own dateRange and the query's meet.
    const none = new QueryBuilder().filter(
      col("time")
        .gt(at(600))
        .and(col("time").lt(at(100))),
    );
    expect((await bytes("s", none)).data.numRows).toBe(0);
    const both = await bytes("s", new QueryBuilder().dateRange(at(300), null), [at(0), at(310)]);
    expect(both.data.numRows).toBe(11);
    await ac.close();
  });
});
