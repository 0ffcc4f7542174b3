import { join } from "node:path";
import fc from "fast-check";
import { open } from "lmdb";
import { afterEach, describe, expect, it } from "vitest";
import { Arctic, DataFrame, type Library } from "../../runtimes/node.ts";
import { rejectsWith, tempDir } from "../helpers.ts";
import { rgwAvailable, skipReason, useBucket } from "../storage/s3/rgw.ts";
import { frameOf, type Rows, sortedRows } from "./update-rows.ts";

// update from a stream of frames: ONE new version equal to update with the frames joined, the stored rows
// outside the range kept by reference; a source that throws or a bad frame leaves the symbol as it was.

const opened: Arctic[] = [];
afterEach(async () => {
  for (const ac of opened.splice(0)) await ac.close();
});

function arctic(uri: string): Arctic {
  const ac = new Arctic(uri, { workers: 0 });
  opened.push(ac);
  return ac;
}

function countKeys(path: string, prefix: string): number {
  const raw = open<Uint8Array, string>({ path, encoding: "binary", noSubdir: false });
  const n = [...raw.getKeys({ start: prefix, end: `${prefix}\u{10ffff}` })].length;
  raw.close();
  return n;
}

/** `rows` at timestamps from..from+n-1, x = the timestamp. */
function run(from: number, n: number): Rows {
  return Array.from({ length: n }, (_, i) => [BigInt(from + i), from + i] as [bigint, number]);
}

async function* stream(parts: Rows[], options: { failAt?: number; gate?: Promise<void> } = {}) {
  for (const [i, rows] of parts.entries()) {
    if (i === options.failAt) throw new Error("source failed");
    if (i === 1 && options.gate) await options.gate;
    await new Promise((r) => setTimeout(r, 0));
    yield frameOf(rows);
  }
}

/** `rows` cut at `cuts` (positions, any order) into frames that follow each other; at least one frame. */
function cutInto(rows: Rows, cuts: number[]): Rows[] {
  const at = [...new Set(cuts.map((c) => c % (rows.length + 1)))].sort((a, b) => a - b);
  const parts: Rows[] = [];
  let from = 0;
  for (const c of at) {
    parts.push(rows.slice(from, c));
    from = c;
  }
  parts.push(rows.slice(from));
  return parts;
}

/**
 * The property: update from a stream equals update with the joined frame, for random stored rows, frames
 * and date ranges, on the library that `libraryFor(rowsPerSegment)` gives.
 */
async function streamEqualsJoined(libraryFor: (rps: number) => Promise<Library>, numRuns: number) {
  let n = 0;
  const bound = fc.option(fc.integer({ min: -5, max: 105 }), { nil: null });
  await fc.assert(
    fc.asyncProperty(
      sortedRows(40, 0, 100),
      sortedRows(30, -5, 105),
      fc.array(fc.nat(), { maxLength: 5 }),
      fc.option(fc.tuple(bound, bound), { nil: undefined }),
      fc.integer({ min: 1, max: 6 }),
      async (initial, rows, cuts, range, rps) => {
        const lib = await libraryFor(rps);
        const [a, b] = [`a${n}`, `b${n}`];
        n++;
        await lib.write(a, frameOf(initial));
        await lib.write(b, frameOf(initial));
        let dateRange: [bigint | null, bigint | null] | undefined;
        if (range) {
          const [x, y] = range.map((v) => (v === null ? null : BigInt(v)));
          dateRange = x !== null && y !== null && y < x ? [y, x] : [x, y];
        }
        const options = dateRange ? { dateRange } : {};
        const streamed = await lib.update(a, stream(cutInto(rows, cuts)), options).catch((e) => e);
        const joined = await lib.update(b, frameOf(rows), options).catch((e) => e);
        if (joined instanceof Error) {
          expect(streamed).toBeInstanceOf(Error);
          const code = (e: Error) => (e as Error & { code?: string }).code;
          expect(code(streamed as Error)).toBe(code(joined));
          expect((await lib.listVersions(a)).length).toBe(1);
          return;
        }
        if (streamed instanceof Error) throw streamed;
        expect(streamed.version).toBe(1);
        const got = (await lib.read(a)).data!;
        const want = (await lib.read(b)).data!;
        expect(got.equals(want)).toBe(true);
        expect((await lib.read(a, { asOf: 0 })).data!.equals(frameOf(initial))).toBe(true);
      },
    ),
    { numRuns },
  );
  const report = await (await libraryFor(1)).verify();
  expect(report.ok).toBe(true);
}

/** Libraries of one Arctic by rowsPerSegment, made on first use. */
function librariesOf(ac: Arctic): (rps: number) => Promise<Library> {
  const made = new Map<number, Promise<Library>>();
  return (rps) => {
    let lib = made.get(rps);
    if (!lib) {
      lib = ac.createLibrary(`l${rps}`, { rowsPerSegment: rps });
      made.set(rps, lib);
    }
    return lib;
  };
}

describe("update from a stream", () => {
  it("equals update with the frames joined, on mem:// (property)", async () => {
    await streamEqualsJoined(librariesOf(arctic("mem://")), 150);
  }, 60_000);

  it("equals update with the frames joined, on lmdb:// (property)", async () => {
    await streamEqualsJoined(librariesOf(arctic(`lmdb://${join(tempDir(), "su")}`)), 80);
  }, 60_000);

  it("keeps the segments outside the range by reference and stores the stream in whole segments", async () => {
    const path = join(tempDir(), "ref");
    const lib = await arctic(`lmdb://${path}`).createLibrary("lib", { rowsPerSegment: 100 });
    await lib.write("s", frameOf(run(0, 1000)));
    expect(countKeys(path, "S:")).toBe(10);
    // 200 new rows in 5 frames of 40 over rows 450..649: segments 4, 5 and 6 are cut or covered.
    const rows = run(450, 200).map(([t, x]) => [t, -x] as [bigint, number]);
    const parts = [0, 1, 2, 3, 4].map((i) => rows.slice(i * 40, i * 40 + 40));
    const item = await lib.update("s", stream(parts), { metadata: { by: "stream" } });
    expect(item.version).toBe(1);
    expect(item.metadata).toEqual({ by: "stream" });
    const want = [...run(0, 450), ...rows, ...run(650, 350)];
    expect((await lib.read("s")).data!.equals(frameOf(want))).toBe(true);
    // Rows 400..449 (one segment), the stream's 200 rows (two), rows 650..699 (one): 4 new segments,
    // the 7 others shared with version 0.
    expect(countKeys(path, "S:")).toBe(14);
    expect((await lib.getDescription("s")).segmentCount).toBe(11);
    expect(countKeys(path, "T:")).toBe(0);
    expect((await lib.verify()).ok).toBe(true);
    // A stream shorter than a segment: the boundary rows and the stream's rows make one segment.
    await lib.update("s", stream([run(120, 3), run(123, 4)]));
    expect((await lib.getDescription("s")).segmentCount).toBe(11);
    // A stream of many small frames is gathered into whole segments.
    const small = Array.from({ length: 30 }, (_, i) => run(2000 + i * 10, 10));
    await lib.update("s", stream(small), { dateRange: [1000n, 3000n] });
    expect((await lib.read("s", { dateRange: [1000n, null] })).data!.numRows).toBe(300);
    expect((await lib.getDescription("s")).segmentCount).toBe(14);
  });

  it("a source that throws midway leaves the symbol at its version and nothing staged or orphaned", async () => {
    const path = join(tempDir(), "throw");
    const lib = await arctic(`lmdb://${path}`).createLibrary("lib", { rowsPerSegment: 5 });
    await lib.write("s", frameOf(run(0, 50)));
    const segments = countKeys(path, "S:");
    const err = await lib
      .update("s", stream([run(10, 12), run(22, 12), run(34, 3)], { failAt: 2 }))
      .catch((e) => e);
    expect((err as Error).message).toBe("source failed");
    expect((await lib.listVersions("s")).length).toBe(1);
    expect((await lib.read("s")).data!.equals(frameOf(run(0, 50)))).toBe(true);
    expect(countKeys(path, "T:")).toBe(0);
    expect(countKeys(path, "S:")).toBe(segments);
    expect((await lib.verify()).ok).toBe(true);
  });

  it("frames out of order or of another schema stop the stream with a typed error, nothing changed", async () => {
    const path = join(tempDir(), "bad");
    const lib = await arctic(`lmdb://${path}`).createLibrary("lib", { rowsPerSegment: 3 });
    await lib.write("s", frameOf(run(0, 20)));
    let pulled = 0;
    async function* backwards(): AsyncGenerator<DataFrame> {
      for (const from of [5, 9, 7, 15]) {
        pulled++;
        yield frameOf(run(from, 2));
      }
    }
    const unsorted = await rejectsWith(lib.update("s", backwards()), "UnsortedIndexError");
    expect(unsorted.message).toMatch(/frame 2 starts at 7 ns, before the last row/);
    expect(pulled).toBe(3);
    // Out of order rows are refused even when a dateRange would leave them out.
    await rejectsWith(
      lib.update("s", stream([run(5, 2), run(3, 1)]), { dateRange: [5n, 10n] }),
      "UnsortedIndexError",
    );
    async function* otherSchema(): AsyncGenerator<DataFrame> {
      yield frameOf(run(5, 4));
      yield new DataFrame({ x: [1] }, { index: { name: "t", values: new BigInt64Array([12n]) } });
    }
    await rejectsWith(lib.update("s", otherSchema()), "SchemaMismatchError");
    async function* otherIndex(): AsyncGenerator<DataFrame> {
      yield new DataFrame({ x: [1], s: ["a"] }, { index: { name: "u", values: new BigInt64Array([3n]) } });
    }
    await rejectsWith(lib.update("s", otherIndex()), "SchemaMismatchError");
    const items = await lib.update("s", stream([run(5, 1)]), { dateRange: [5n, 5n] });
    expect(items.version).toBe(1);
    expect((await lib.listVersions("s")).length).toBe(2);
    expect((await lib.read("s", { asOf: 0 })).data!.equals(frameOf(run(0, 20)))).toBe(true);
    expect(countKeys(path, "T:")).toBe(0);
    expect((await lib.verify()).ok).toBe(true);
  });

  it("an empty stream is refused; frames without rows make a version that keeps the data, as update does", async () => {
    const lib = await arctic("mem://").createLibrary("lib", { rowsPerSegment: 4 });
    await lib.write("s", frameOf(run(0, 10)));
    await rejectsWith(lib.update("s", stream([])), "InvalidArgumentError");
    expect((await lib.listVersions("s")).length).toBe(1);
    const item = await lib.update("s", stream([[], []]), { metadata: "m", dateRange: [2n, 5n] });
    expect(item.version).toBe(1);
    expect((await lib.read("s")).data!.equals(frameOf(run(0, 10)))).toBe(true);
    expect((await lib.readMetadata("s")).metadata).toBe("m");
    // Rows all outside dateRange remove the range, as update with one such frame does.
    await lib.update("s", stream([run(20, 2)]), { dateRange: [2n, 5n] });
    expect((await lib.read("s")).data!.equals(frameOf([...run(0, 2), ...run(6, 4)]))).toBe(true);
  });

  it("a missing symbol is written with upsert (a web ReadableStream too), else SymbolNotFoundError", async () => {
    const lib = await arctic("mem://").createLibrary("lib", { rowsPerSegment: 4 });
    let pulled = 0;
    async function* counted(): AsyncGenerator<DataFrame> {
      pulled++;
      yield frameOf(run(0, 3));
    }
    await rejectsWith(lib.update("nope", counted()), "SymbolNotFoundError");
    expect(pulled).toBe(0);
    const parts = [run(0, 3), run(3, 6), run(9, 1)];
    const web = new ReadableStream<DataFrame>({
      start(controller) {
        for (const rows of parts) controller.enqueue(frameOf(rows));
        controller.close();
      },
    });
    const item = await lib.update("new", web, { upsert: true, dateRange: [4n, 5n] });
    expect(item.version).toBe(0);
    // As update of one frame with upsert: the whole frame is written, dateRange or not.
    expect((await lib.read("new")).data!.equals(frameOf(run(0, 10)))).toBe(true);
  });

  it("when another writer commits during the stream, the boundary rows are redone on its version", async () => {
    const path = join(tempDir(), "race");
    const uri = `lmdb://${path}`;
    const lib = await arctic(uri).createLibrary("lib", { rowsPerSegment: 4 });
    const other = await arctic(uri).getLibrary("lib");
    await lib.write("s", frameOf(run(0, 30)));
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const rows = run(10, 12).map(([t, x]) => [t, -x] as [bigint, number]);
    const updating = lib.update("s", stream([rows.slice(0, 9), rows.slice(9)], { gate }));
    await new Promise((r) => setTimeout(r, 20));
    await other.append("s", frameOf(run(30, 5)));
    await other.update("s", frameOf([[9n, 99]]));
    release();
    expect((await updating).version).toBe(3);
    const want: Rows = [...run(0, 9), [9n, 99], ...rows, ...run(22, 13)];
    expect((await lib.read("s")).data!.equals(frameOf(want))).toBe(true);
    expect(countKeys(path, "T:")).toBe(0);
    expect((await lib.verify()).ok).toBe(true);
  });

  it("under dynamic schema frames may add columns, as update with the joined frame", async () => {
    const lib = await arctic("mem://").createLibrary("lib", { rowsPerSegment: 3, dynamicSchema: true });
    const base = new DataFrame(
      { x: Float64Array.from({ length: 10 }, (_, i) => i) },
      { index: { name: "t", values: BigInt64Array.from({ length: 10 }, (_, i) => BigInt(i)) } },
    );
    await lib.write("a", base);
    await lib.write("b", base);
    const at = (ts: number[]) => ({ name: "t", values: BigInt64Array.from(ts, BigInt) });
    async function* widening(): AsyncGenerator<DataFrame> {
      yield new DataFrame({ x: new Float64Array([20, 30, 40, 50]) }, { index: at([2, 3, 4, 5]) });
      yield new DataFrame({ x: new Float64Array([60]), y: new Int32Array([7]) }, { index: at([6]) });
    }
    await lib.update("a", widening());
    // A column a frame lacks reads as its dtype's missing value (0 for int32), as for a stream write.
    const joined = new DataFrame(
      { x: new Float64Array([20, 30, 40, 50, 60]), y: new Int32Array([0, 0, 0, 0, 7]) },
      { index: at([2, 3, 4, 5, 6]) },
    );
    await lib.update("b", joined);
    const got = (await lib.read("a")).data!;
    expect(got.equals((await lib.read("b")).data!)).toBe(true);
    expect([...got.column("y")]).toEqual([0, 0, 0, 0, 0, 0, 7, 0, 0, 0]);
  });
});

describe("update from a stream of big frames with a worker pool", () => {
  it("equals update with the joined frame; a throwing source leaves nothing", async () => {
    const path = join(tempDir(), "pool");
    const ac = new Arctic(`lmdb://${path}`, { workers: 2 });
    opened.push(ac);
    const lib = await ac.createLibrary("lib", { rowsPerSegment: 50_000 });
    await lib.write("a", frameOf(run(0, 400_000)));
    await lib.write("b", frameOf(run(0, 400_000)));
    const rows = run(60_000, 230_000).map(([t, x]) => [t, -x] as [bigint, number]);
    const parts = [0, 1, 2, 3].map((i) => rows.slice(i * 60_000, i * 60_000 + 60_000));
    const segments = countKeys(path, "S:");
    const err = await lib.update("a", stream(parts, { failAt: 3 })).catch((e) => e);
    expect((err as Error).message).toBe("source failed");
    expect(countKeys(path, "S:")).toBe(segments);
    expect(countKeys(path, "T:")).toBe(0);
    await lib.update("a", stream(parts));
    await lib.update("b", frameOf(rows));
    expect((await lib.read("a")).data!.equals((await lib.read("b")).data!)).toBe(true);
    expect(countKeys(path, "T:")).toBe(0);
    expect((await lib.verify()).orphans).toEqual([]);
  }, 60_000);
});

describe.skipIf(!rgwAvailable)(`update from a stream on s3://${skipReason}`, () => {
  const ctx = useBucket("stream-update");
  const uri = () => {
    const { endpoint, accessKeyId, secretAccessKey } = ctx.env;
    const { hostname, port } = new URL(endpoint);
    return `s3://${hostname}:${ctx.s3.bucket}?port=${port}&access=${accessKeyId}&secret=${secretAccessKey}`;
  };

  it("equals update with the frames joined (property)", async () => {
    await streamEqualsJoined(librariesOf(arctic(uri())), 25);
  }, 120_000);

  it("keeps outside segments, leaves nothing behind a failing source, redoes boundaries after a race", async () => {
    const ac = arctic(uri());
    const lib = await ac.createLibrary("one", { rowsPerSegment: 100 });
    await lib.write("s", frameOf(run(0, 1000)));
    const rows = run(450, 200).map(([t, x]) => [t, -x] as [bigint, number]);
    const parts = [0, 1, 2, 3, 4].map((i) => rows.slice(i * 40, i * 40 + 40));
    await lib.update("s", stream(parts));
    expect((await lib.read("s")).data!.equals(frameOf([...run(0, 450), ...rows, ...run(650, 350)]))).toBe(
      true,
    );
    expect((await lib.getDescription("s")).segmentCount).toBe(11);
    const err = await lib.update("s", stream(parts, { failAt: 3 })).catch((e) => e);
    expect((err as Error).message).toBe("source failed");
    expect((await lib.listVersions("s")).length).toBe(2);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const racing = lib.update("s", stream([run(100, 150), run(250, 10)], { gate }));
    await new Promise((r) => setTimeout(r, 50));
    await (await arctic(uri()).getLibrary("one")).append("s", frameOf(run(1000, 5)));
    release();
    expect((await racing).version).toBe(3);
    const want = [...run(0, 450), ...rows, ...run(650, 355)];
    expect((await lib.read("s")).data!.equals(frameOf(want))).toBe(true);
    const report = await lib.verify();
    expect(report.ok).toBe(true);
    // Only the failed stream's segments could be left, and it deleted them: cleanup finds nothing.
    expect((await lib.cleanup({ graceMs: 0 })).removed).toEqual([]);
  }, 120_000);
});
