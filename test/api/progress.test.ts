import { describe, expect, it } from "vitest";
import { Arctic, DataFrame, type Progress } from "../../runtimes/node.ts";
import { rejectsWith } from "../helpers.ts";

// onProgress (issue 8, item 3): long reads and writes report bytes and segments done of the total, on the
// calling thread and through the worker pool alike, ending with done equal to total.

function walk(rows: number): DataFrame {
  const x = new Float64Array(rows);
  let p = 100;
  for (let i = 0; i < rows; i++) {
    p += Math.sin(i * 0.37) * 0.05;
    x[i] = Math.round(p * 100) / 100;
  }
  return new DataFrame({ x, y: x.map((v) => v * 2) });
}

function check(reports: Progress[], segments: number, bytes: number): void {
  expect(reports.length).toBe(segments);
  for (let i = 1; i < reports.length; i++) {
    expect(reports[i].bytesDone).toBeGreaterThan(reports[i - 1].bytesDone);
    expect(reports[i].segmentsDone).toBe(reports[i - 1].segmentsDone + 1);
  }
  const last = reports[reports.length - 1];
  expect(last).toEqual({
    bytesDone: bytes,
    bytesTotal: bytes,
    segmentsDone: segments,
    segmentsTotal: segments,
  });
}

describe("onProgress", () => {
  it.each([0, 2])("reports every segment of a write and a read (workers: %i)", async (workers) => {
    const ac = new Arctic("mem://", { workers });
    const lib = await ac.createLibrary("lib", { rowsPerSegment: 100_000 });
    const rows = 1_000_000; // 16 MB: large enough for the pool
    const writes: Progress[] = [];
    await lib.write("s", walk(rows), { onProgress: (p) => writes.push(p) });
    if (workers === 0) check(writes, 10, rows * 16);
    else {
      // The pool reports per job (several segments at a time).
      expect(writes[writes.length - 1]).toEqual({
        bytesDone: rows * 16,
        bytesTotal: rows * 16,
        segmentsDone: 10,
        segmentsTotal: 10,
      });
    }
    const reads: Progress[] = [];
    const item = await lib.read("s", { rowRange: [50_000, 450_000], onProgress: (p) => reads.push(p) });
    expect(item.data!.numRows).toBe(400_000);
    check(reads, 5, 400_000 * 16);
    const appends: Progress[] = [];
    await lib.append("s", walk(250_000), { onProgress: (p) => appends.push(p) });
    check(appends, 3, 250_000 * 16);
    await ac.close();
  });

  it("counts a batch as one piece of work and rejects a callback that is not a function", async () => {
    const ac = new Arctic("mem://", { workers: 0 });
    const lib = await ac.createLibrary("lib", { rowsPerSegment: 10 });
    const reports: Progress[] = [];
    await lib.writeBatch(
      [
        { symbol: "a", data: walk(25) },
        { symbol: "b", data: walk(10) },
      ],
      { onProgress: (p) => reports.push(p) },
    );
    expect(reports[reports.length - 1]).toMatchObject({ segmentsDone: 4, bytesDone: 35 * 16 });
    const reads: Progress[] = [];
    await lib.readBatch(["a", "b"], { onProgress: (p) => reads.push(p) });
    expect(reads[reads.length - 1]).toMatchObject({ segmentsDone: 4, segmentsTotal: 4 });
    await rejectsWith(lib.write("c", walk(3), { onProgress: 5 as never }), "InvalidArgumentError");
    await rejectsWith(lib.read("a", { onProgress: "x" as never }), "InvalidArgumentError");
    await ac.close();
  });
});
