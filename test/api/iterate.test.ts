import { join } from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { Arctic, col, DataFrame, type Library, QueryBuilder } from "../../runtimes/node.ts";
import { rejectsWith, tempDir } from "../helpers.ts";

// lib.iterate: a version read chunk by chunk. Chunks concatenated must equal the whole read, for any
// frame, range and column selection, on mem:// and lmdb://.

const opened: Arctic[] = [];
afterEach(async () => {
  for (const ac of opened.splice(0)) await ac.close();
});

async function library(kind: "mem" | "lmdb", rowsPerSegment: number): Promise<Library> {
  const ac = new Arctic(kind === "mem" ? "mem://" : `lmdb://${join(tempDir(), "it")}`, { workers: 0 });
  opened.push(ac);
  return ac.createLibrary("lib", { rowsPerSegment, columnsPerSegment: 2 });
}

async function collect(it: AsyncIterable<DataFrame>): Promise<DataFrame[]> {
  const out: DataFrame[] = [];
  for await (const chunk of it) out.push(chunk);
  return out;
}

/** The rows of `chunks` one after another, as one frame (row numbers from the first chunk's). */
function concat(chunks: DataFrame[], like: DataFrame): DataFrame {
  if (chunks.length === 0)
    return like.numRows === 0 ? like : DataFrame.fromColumns([], { kind: "row", start: 0 }, 0);
  const first = chunks[0];
  const columns = first.columnNames.map((name) => {
    const parts = chunks.map((c) => c.column(name));
    const dtype = first.dtype(name);
    if (Array.isArray(parts[0])) return { name, dtype, values: parts.flatMap((p) => [...(p as unknown[])]) };
    const Ctor = (parts[0] as Float64Array).constructor as new (n: number) => Float64Array;
    const values = new Ctor(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      values.set(p as Float64Array, at);
      at += p.length;
    }
    return { name, dtype, values };
  });
  const rows = chunks.reduce((n, c) => n + c.numRows, 0);
  const idx = first.index;
  const index =
    idx.kind === "timestamp"
      ? {
          kind: "timestamp" as const,
          name: idx.name,
          values: BigInt64Array.from(
            chunks.flatMap((c) => [...(c.index as { values: BigInt64Array }).values]),
          ),
        }
      : idx;
  return DataFrame.fromColumns(columns as never, index as never, rows);
}

const DAY = 86_400_000_000_000n;

describe.each(["mem", "lmdb"] as const)("iterate on %s://", (kind) => {
  it("chunks concatenated equal the whole read, for random frames, ranges and columns", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 7 }), // rowsPerSegment
        fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 4 }), // rows per append
        fc.integer({ min: 1, max: 10 }), // chunkRows
        fc.oneof(
          fc.constant(undefined),
          fc.tuple(fc.integer({ min: -30, max: 30 }), fc.integer({ min: -30, max: 30 })),
        ),
        fc.subarray(["a", "b", "s"]),
        fc.boolean(), // timestamp index
        async (rps, appends, chunkRows, rowRange, cols, timestamped) => {
          const lib = await library(kind, rps);
          let row = 0;
          for (const n of appends) {
            const ids = Array.from({ length: n }, (_, i) => row + i);
            const data = {
              a: Float64Array.from(ids, (i) => i * 1.5),
              b: Int32Array.from(ids, (i) => -i),
              s: ids.map((i) => (i % 3 === 0 ? null : `v${i}`)),
            };
            const dtypes = { s: "string" } as const;
            const frame = timestamped
              ? new DataFrame(data, { index: BigInt64Array.from(ids, (i) => BigInt(i) * DAY), dtypes })
              : new DataFrame(data, { dtypes });
            await lib.append("sym", frame);
            row += n;
          }
          const options = { rowRange, columns: cols.length > 0 ? cols : undefined } as const;
          const whole = (await lib.read("sym", options as never)).data!;
          const chunks = await collect(lib.iterate("sym", { ...options, chunkRows } as never));
          for (const c of chunks) expect(c.numRows).toBeGreaterThan(0);
          for (const c of chunks) expect(c.numRows).toBeLessThanOrEqual(chunkRows);
          const joined = concat(chunks, whole);
          expect(joined.numRows).toBe(whole.numRows);
          if (whole.numRows > 0) expect(joined.equals(whole)).toBe(true);
          // By default a chunk is a segment's rows.
          const bySegment = await collect(lib.iterate("sym", options as never));
          for (const c of bySegment) expect(c.numRows).toBeLessThanOrEqual(rps);
          if (whole.numRows > 0) expect(concat(bySegment, whole).equals(whole)).toBe(true);
        },
      ),
      { numRuns: kind === "mem" ? 60 : 15 },
    );
  });

  it("a date range, chunkBytes and a filter/apply query stream; a groupby answers once at the end", async () => {
    const lib = await library(kind, 4);
    const n = 50;
    const index = BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * DAY);
    await lib.write("ts", new DataFrame({ px: Float64Array.from({ length: n }, (_, i) => i) }, { index }));
    const dateRange: [bigint, bigint] = [5n * DAY, 33n * DAY];
    const whole = (await lib.read("ts", { dateRange })).data!;
    const chunks = await collect(lib.iterate("ts", { dateRange, chunkBytes: 16 * 3 }));
    expect(chunks.map((c) => c.numRows)).toEqual([3, 3, 1, 3, 1, 3, 1, 3, 1, 3, 1, 3, 1, 2]);
    expect(concat(chunks, whole).equals(whole)).toBe(true);
    const query = new QueryBuilder().filter(col("px").gt(20)).apply("twice", col("px").mul(2));
    const answer = (await lib.read("ts", { query })).data!;
    const streamed = await collect(lib.iterate("ts", { query }));
    expect(streamed.every((c) => c.numRows > 0)).toBe(true);
    expect(concat(streamed, answer).equals(answer)).toBe(true);
    // A groupby or resample needs every row: its answer comes once, at the end, from the version
    // resolved when iterate was called.
    const grouped = new QueryBuilder()
      .filter(col("px").gt(3))
      .resample("7D", { origin: "epoch" })
      .agg({ total: ["px", "sum"], n: ["px", "count"] });
    const whole7 = (await lib.read("ts", { query: grouped, dateRange })).data!;
    const pending = lib.iterate("ts", { query: grouped, dateRange });
    await lib.append("ts", new DataFrame({ px: [1000] }, { index: [BigInt(n) * DAY] }));
    const once = await collect(pending);
    expect(once.length).toBe(1);
    expect(once[0].equals(whole7)).toBe(true);
    const tail = await collect(
      lib.iterate("ts", { query: new QueryBuilder().filter(col("px").gt(3)).tail(2) }),
    );
    expect(tail.length).toBe(1);
    expect([...(tail[0].column("px") as Float64Array)]).toEqual([49, 1000]);
  });

  it("every chunk comes from the version resolved when iterate was called", async () => {
    const lib = await library(kind, 2);
    await lib.write("s", { x: Float64Array.from([1, 2, 3, 4, 5, 6]) });
    const chunks: number[] = [];
    let first = true;
    for await (const chunk of lib.iterate("s")) {
      if (first) await lib.write("s", { x: Float64Array.from([9, 9, 9, 9, 9, 9, 9, 9]) });
      first = false;
      chunks.push(...(chunk.column("x") as Float64Array));
    }
    expect(chunks).toEqual([1, 2, 3, 4, 5, 6]);
    const again = await collect(lib.iterate("s", { asOf: 0 }));
    expect(again.flatMap((c) => [...(c.column("x") as Float64Array)])).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("breaking out of the loop reads nothing more (one read ahead at most)", async () => {
    const lib = await library(kind, 10);
    await lib.write("s", { x: new Float64Array(1000) });
    // Count chunk reads through the library's read path.
    const counted = lib as unknown as { readWith: (...a: unknown[]) => Promise<unknown> };
    const original = counted.readWith.bind(lib);
    let reads = 0;
    counted.readWith = (...a: unknown[]) => {
      reads++;
      return original(...a);
    };
    let seen = 0;
    for await (const _ of lib.iterate("s")) {
      if (++seen === 3) break;
    }
    expect(seen).toBe(3);
    expect(reads).toBe(4); // three chunks handed out, the fourth read ahead
    await new Promise((r) => setTimeout(r, 20));
    expect(reads).toBe(4);
  });

  it("refuses bad options before reading", async () => {
    const lib = await library(kind, 2);
    await lib.write("s", { x: [1, 2] });
    expect(() => lib.iterate("s", { chunkRows: 0 })).toThrow(/chunkRows/);
    expect(() => lib.iterate("s", { columns: ["nope"] }).next()).toBeDefined();
    await rejectsWith(lib.iterate("s", { columns: ["nope"] }).next(), "InvalidArgumentError");
    expect(() => lib.iterate("missing")).toThrow(/missing/);
  });
});

describe("iterate with the worker pool", () => {
  it("chunks big enough for the pool read there; breaking out leaves nothing running, close() returns promptly", async () => {
    const ac = new Arctic(`lmdb://${join(tempDir(), "pool")}`, { workers: 2 });
    const lib = await ac.createLibrary("lib");
    const n = 2_000_000; // 16 MB a column
    const x = Float64Array.from({ length: n }, (_, i) => i);
    await lib.write("s", { x, y: x });
    const whole = (await lib.read("s")).data!;
    const chunks = await collect(lib.iterate("s", { chunkBytes: 12e6 }));
    expect(chunks.map((c) => c.numRows)).toEqual([700_000, 700_000, 600_000]); // 11.2 MB: pooled
    expect(concat(chunks, whole).equals(whole)).toBe(true);
    for await (const chunk of lib.iterate("s", { chunkBytes: 12e6 })) {
      expect(chunk.numRows).toBeGreaterThan(0);
      break;
    }
    const t = performance.now();
    await ac.close();
    expect(performance.now() - t).toBeLessThan(2000);
  });
});
