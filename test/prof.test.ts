import { it } from "vitest";
import { join } from "node:path";
import { Arctic, col, DataFrame, QueryBuilder } from "../runtimes/node.ts";
import { tempDir } from "./helpers.ts";
it("prof", async () => {
  const n = 2_000_000;
  const sym = Array.from({ length: n }, (_, i) => `S${String(i % 100).padStart(3, "0")}`);
  const close = Float64Array.from({ length: n }, (_, i) => 100 + (i % 997) / 10);
  const open = Float64Array.from({ length: n }, (_, i) => 100 + (i % 991) / 10);
  const high = Float64Array.from({ length: n }, (_, i) => 100 + (i % 983) / 10);
  const volume = BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 5000));
  const index = BigInt64Array.from({ length: n }, (_, i) => 1_704_067_200_000_000_000n + BigInt(Math.floor(i / 100)) * 60_000_000_000n);
  const path = `lmdb://${join(tempDir(), "p.lmdb")}`;
  const w = new Arctic(path, { workers: 0 });
  const lib0 = await w.createLibrary("b", { rowsPerSegment: 100_000 });
  await lib0.write("b", new DataFrame({ sym, open, high, close, volume }, { index }));
  const queries = {
    q1: new QueryBuilder().filter(col("close").gt(199.5)),
    q2: new QueryBuilder().groupby("sym").agg({ close: "mean", volume: "sum" }),
    q4: new QueryBuilder().filter(col("close").gt(col("open"))).apply("range", col("high").sub(col("open"))).groupby(["sym", "volume"]).agg({ range: "mean", n: ["range", "count"] }),
  };
  for (const workers of [0, 2, 0, 2]) {
    const ac = new Arctic(path, { workers });
    const lib = await ac.getLibrary("b");
    for (const [name, q] of Object.entries(queries)) {
      for (let r = 0; r < 2; r++) await lib.read("b", { query: q });
      const a = performance.now();
      for (let r = 0; r < 5; r++) await lib.read("b", { query: q });
      console.log("workers", workers, name, ((performance.now() - a) / 5).toFixed(1), "ms");
    }
  }
});
