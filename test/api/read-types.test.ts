import { describe, expect, expectTypeOf, it } from "vitest";
import { Arctic, type DataError, DataFrame, type ReadResult } from "../../runtimes/node.ts";

// The read family's results have `data` typed as present: strict code reads `data.numRows` without `!`.
// `npm run check` (tsc over test/) fails on this file if `data` is optional again.

describe("read results", () => {
  it("type data as present on read, head, tail and readBatch", async () => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib");
    await lib.write("s", new DataFrame({ x: [1, 2, 3] }));
    const read = await lib.read("s");
    const head = await lib.head("s", 1);
    const tail = await lib.tail("s", 1);
    expectTypeOf(read.data).toEqualTypeOf<DataFrame>();
    expectTypeOf(head.data).toEqualTypeOf<DataFrame>();
    expect([read.data.numRows, head.data.numRows, tail.data.numRows]).toEqual([3, 1, 1]);
    const [item] = await lib.readBatch(["s"]);
    expectTypeOf(item).toEqualTypeOf<ReadResult | DataError>();
    if ("data" in item) expect(item.data.numRows).toBe(3);
    await ac.close();
  });
});
