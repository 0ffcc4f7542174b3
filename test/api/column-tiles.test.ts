/**
 * A frame wider than `columnsPerSegment` is stored as tiles of columns, each holding the index. A read
 * of columns that live only in later tiles must still return the stored timestamps (it returned zeros:
 * the index was taken only from the tile at column 0, which such a read does not fetch).
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Arctic, DataFrame } from "../../runtimes/node.ts";
import { tempDir } from "../helpers.ts";

describe("reading columns of later column tiles", () => {
  for (const uri of ["mem://", "lmdb://"]) {
    it(`returns the stored index (${uri})`, async () => {
      const ac = new Arctic(uri === "mem://" ? uri : `lmdb://${join(tempDir(), "t.lmdb")}`, { workers: 0 });
      try {
        const lib = await ac.createLibrary("tiles", { rowsPerSegment: 2, columnsPerSegment: 1 });
        const index = [1_704_067_200_000_000_000n, 1_704_067_201_000_000_000n, 1_704_067_202_000_000_000n];
        await lib.write("s", new DataFrame({ a: [1, 2, 3], b: ["x", "y", "z"], c: [7, 8, 9] }, { index }));
        for (const columns of [["b"], ["c"], ["c", "b"], ["a", "c"]]) {
          const { data } = await lib.read("s", { columns });
          expect(data.index.kind === "timestamp" && [...data.index.values], String(columns)).toEqual(index);
          expect(data.columnNames).toEqual(columns);
        }
        const { data } = await lib.read("s", { columns: ["c"], rowRange: [1, 3] });
        expect(data.index.kind === "timestamp" && [...data.index.values]).toEqual(index.slice(1));
        expect([...(data.column("c") as Float64Array)]).toEqual([8, 9]);
      } finally {
        await ac.close();
      }
    });
  }
});
