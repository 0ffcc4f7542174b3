import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  Arctic,
  col,
  DataError,
  DataFrame,
  InvalidArgumentError,
  type Progress,
  QueryBuilder,
  type ReadResult,
  runQuery,
} from "../../runtimes/node.ts";
import { tempDir } from "../helpers.ts";

// read/readBatch/head/tail with { query }: the answer equals the query run on the whole frame read,
// only the columns the query needs are decoded, and a bad query is a typed error that reads nothing.

const stores = {
  "mem://": () => "mem://",
  "lmdb://": () => `lmdb://${join(tempDir(), "q.lmdb")}`,
};

function bars(rows: number): DataFrame {
  const syms = ["AAPL", "MSFT", "IBM"];
  const start = Date.UTC(2024, 0, 2, 9, 30);
  return new DataFrame(
    {
      sym: Array.from({ length: rows }, (_, i) => syms[i % 3]),
      px: Float64Array.from({ length: rows }, (_, i) => 100 + ((i * 7) % 13)),
      vol: BigInt64Array.from({ length: rows }, (_, i) => BigInt(i % 50)),
      note: Array.from({ length: rows }, (_, i) => `n${i}`),
    },
    {
      index: {
        name: "time",
        values: BigInt64Array.from({ length: rows }, (_, i) => BigInt(start + i * 60_000) * 1_000_000n),
      },
    },
  );
}

for (const [kind, uri] of Object.entries(stores)) {
  describe(`read with a query on ${kind}`, () => {
    it("answers as the query run on the whole frame, decoding only the columns it needs", async () => {
      const ac = new Arctic(uri());
      const lib = await ac.createLibrary("lib", { rowsPerSegment: 100 });
      const frame = bars(1000);
      await lib.write("bars", frame);
      const queries = [
        new QueryBuilder().filter(
          col("px")
            .gt(105)
            .and(col("sym").isin(["AAPL", "IBM"])),
        ),
        new QueryBuilder()
          .apply("notional", col("px").mul(col("vol")))
          .groupby("sym")
          .agg({ px: "mean", vol: "sum", n: ["px", "count"], top: ["notional", "max"] }),
        new QueryBuilder().resample("1h").agg({ open: ["px", "first"], close: ["px", "last"], vol: "sum" }),
        new QueryBuilder().filter(col("vol").lt(10)).tail(3),
      ];
      for (const query of queries) {
        const { data } = await lib.read("bars", { query });
        expect(data.equals(runQuery(frame, query))).toBe(true);
      }
      // The groupby names px, vol and sym: the string column `note` is never decoded, nor the index.
      let bytes = 0;
      await lib.read("bars", { query: queries[1], onProgress: (p: Progress) => (bytes = p.bytesTotal) });
      let three = 0;
      await lib.read("bars", {
        columns: ["sym", "px", "vol"],
        onProgress: (p: Progress) => (three = p.bytesTotal),
      });
      let all = 0;
      await lib.read("bars", { onProgress: (p: Progress) => (all = p.bytesTotal) });
      expect(bytes).toBe(three - 8 * frame.numRows);
      expect(bytes).toBeLessThan(all);
      // columns narrows a filter's answer, in the order asked.
      const narrow = await lib.read("bars", { query: queries[0], columns: ["vol", "sym"] });
      expect(narrow.data.columnNames).toEqual(["vol", "sym"]);
      expect(narrow.data.numRows).toBe(runQuery(frame, queries[0]).numRows);
      await ac.close();
    });

    it("takes a query in readBatch items and in head and tail (the answer's first or last rows)", async () => {
      const ac = new Arctic(uri());
      const lib = await ac.createLibrary("lib");
      const frame = bars(60);
      await lib.write("bars", frame);
      const query = new QueryBuilder().filter(col("sym").eq("MSFT"));
      const whole = runQuery(frame, query);
      const [item, missing] = await lib.readBatch([
        { symbol: "bars", query },
        { symbol: "nope", query },
      ]);
      expect((item as ReadResult).data.equals(whole)).toBe(true);
      expect(missing).toBeInstanceOf(DataError);
      const head = await lib.head("bars", 2, { query });
      const tail = await lib.tail("bars", 2, { query });
      expect(head.data.equals(runQuery(frame, query.head(2)))).toBe(true);
      expect(tail.data.equals(runQuery(frame, query.tail(2)))).toBe(true);
      expect(Array.from(head.data.column("sym") as string[])).toEqual(["MSFT", "MSFT"]);
      await ac.close();
    });

    it("refuses what is not a QueryBuilder, and a query naming a column that is not stored", async () => {
      const ac = new Arctic(uri());
      const lib = await ac.createLibrary("lib");
      await lib.write("bars", bars(10));
      await expect(lib.read("bars", { query: { filter: 1 } as never })).rejects.toThrow(InvalidArgumentError);
      await expect(lib.read("bars", { query: new QueryBuilder().filter(col("nope").gt(1)) })).rejects.toThrow(
        /nope/,
      );
      await ac.close();
    });
  });
}
