/**
 * A read with a query runs chunk by chunk (src/version/query-read.ts): each chunk of segments goes
 * through the filters and the aggregation's partial alone, in the worker pool for big reads. Whatever
 * the segmenting, the read's answer must be the query run on the whole frame (`runQuery`, itself
 * checked against a row-by-row reference in test/query/model.test.ts).
 */
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  type AggSpec,
  Arctic,
  col,
  DataFrame,
  type Progress,
  QueryBuilder,
  runQuery,
} from "../../runtimes/node.ts";
import { rejectsWith, tempDir } from "../helpers.ts";
import { frameArb, queryArb, tsArb } from "../query/arbitraries.ts";

/** `actual` equals `expected`: names, dtypes, index and values (floats to 1e-9 relative: sums merge per chunk). */
function expectSameFrame(actual: DataFrame, expected: DataFrame, context: string): void {
  expect(actual.columnNames, context).toEqual(expected.columnNames);
  expect(actual.dtypes, context).toEqual(expected.dtypes);
  expect(actual.numRows, context).toBe(expected.numRows);
  expect(actual.index.kind, context).toBe(expected.index.kind);
  if (actual.index.kind === "row" && expected.index.kind === "row") {
    expect(actual.index.start, context).toBe(expected.index.start);
  } else if (actual.index.kind === "timestamp" && expected.index.kind === "timestamp") {
    expect(actual.index.values, context).toEqual(expected.index.values);
    expect(actual.index.name, context).toBe(expected.index.name);
  }
  for (const name of expected.columnNames) {
    const a = actual.column(name) as ArrayLike<unknown>;
    const e = expected.column(name) as ArrayLike<unknown>;
    for (let r = 0; r < e.length; r++) {
      const x = a[r];
      const y = e[r];
      if (typeof x === "number" && typeof y === "number") {
        if (Number.isNaN(x) || Number.isNaN(y)) {
          expect(Number.isNaN(x) && Number.isNaN(y), `${context} ${name}[${r}]: ${x} vs ${y}`).toBe(true);
        } else if (Math.abs(x - y) > 1e-9 * Math.max(1, Math.abs(x), Math.abs(y))) {
          expect(x, `${context} ${name}[${r}]`).toBe(y);
        }
      } else if (x !== y) expect(x, `${context} ${name}[${r}]`).toEqual(y);
    }
  }
}

const dir = tempDir("floe-chunked-");
const stores = {
  "mem://": new Arctic("mem://", { workers: 0 }),
  "lmdb://": new Arctic(`lmdb://${join(dir, "q.lmdb")}`, { workers: 0 }),
};
afterAll(async () => {
  for (const ac of Object.values(stores)) await ac.close();
});

describe("a read with a query, chunk by chunk", () => {
  for (const [uri, ac] of Object.entries(stores)) {
    it(`equals the query run on the whole frame, for random frames, segmentings and queries (${uri})`, async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(
          frameArb,
          queryArb,
          fc.integer({ min: 1, max: 7 }),
          fc.integer({ min: 1, max: 6 }),
          fc.option(fc.tuple(fc.option(tsArb), fc.option(tsArb))),
          fc.boolean(),
          async (df, q, rowsPerSegment, columnsPerSegment, dates, appended) => {
            const lib = await ac.createLibrary(`l${n++}`, { rowsPerSegment, columnsPerSegment });
            // Half the time the symbol is built by appends, so its segments are uneven.
            const cut = Math.floor(df.numRows / 2);
            if (appended && cut > 0) {
              await lib.write("s", runQuery(df, new QueryBuilder().rowRange(0, cut)));
              await lib.append("s", runQuery(df, new QueryBuilder().rowRange(cut, null)));
            } else await lib.write("s", df);
            // In order, as read requires (a reversed pair is an error of its own, tested elsewhere).
            const dateRange =
              dates === null
                ? undefined
                : dates[0] !== null && dates[1] !== null && dates[0] > dates[1]
                  ? ([dates[1], dates[0]] as [bigint, bigint])
                  : dates;
            const whole = (await lib.read("s", { dateRange })).data;
            let expected: DataFrame | Error;
            try {
              expected = runQuery(whole, q);
            } catch (err) {
              expected = err as Error;
            }
            let actual: DataFrame | Error;
            try {
              actual = (await lib.read("s", { query: q, dateRange })).data;
            } catch (err) {
              actual = err as Error;
            }
            const context = `${q.toString()} rows=${df.numRows} rps=${rowsPerSegment} cps=${columnsPerSegment}`;
            if (expected instanceof Error || actual instanceof Error) {
              expect((actual as { code?: string }).code, context).toBe((expected as { code?: string }).code);
            } else expectSameFrame(actual, expected, context);
            await ac.deleteLibrary(lib.name);
          },
        ),
        { numRuns: Number(process.env.QUERY_RUNS ?? 150) },
      );
    });
  }

  it("groups by a string column's dictionary codes as by its strings (segments of 8+ rows are dictionary-encoded)", async () => {
    const ac = stores["lmdb://"];
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom("x", "y", "zz", "é", null), fc.integer({ min: -3, max: 3 })), {
          minLength: 1,
          maxLength: 300,
        }),
        fc.integer({ min: 8, max: 120 }),
        fc.integer({ min: -4, max: 4 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 40 }),
        fc.boolean(),
        async (rows, rowsPerSegment, above, twoKeys, keyOnly, distinct, filtered) => {
          const lib = await ac.createLibrary(`codes${n++}`, { rowsPerSegment, dynamicSchema: true });
          // Distinct strings make some segments store them plainly, not as a dictionary.
          const s = rows.map((r, j) => (j < distinct ? `u${j}` : r[0]));
          const frame = new DataFrame({
            s,
            i: Int32Array.from(rows, (r) => r[1]),
            f: Float64Array.from(rows, (r, j) => r[1] * 0.5 + j),
          });
          await lib.write("s", frame);
          // Appended rows without the string column: under dynamic schema they read as null keys.
          const more = new DataFrame({ i: Int32Array.from([1, 2, 3]), f: Float64Array.from([1, 2, 3]) });
          await lib.append("s", more);
          const whole = (await lib.read("s")).data;
          // With keyOnly the string column is read as codes alone (nothing else names it).
          const aggs: AggSpec = keyOnly
            ? { total: ["f", "sum"] as const, n: ["f", "count"] as const }
            : { total: ["f", "sum"] as const, top: ["s", "max"] as const, first: ["s", "first"] as const };
          // Unfiltered, whole segments' codes number the groups themselves (StringCodes.complete).
          const q = (filtered ? new QueryBuilder().filter(col("i").gt(above)) : new QueryBuilder())
            .groupby(twoKeys ? ["s", "i"] : "s")
            .agg(aggs);
          expectSameFrame((await lib.read("s", { query: q })).data, runQuery(whole, q), q.toString());
          await ac.deleteLibrary(lib.name);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("fetches only the segments whose statistics let a row pass the leading filters", async () => {
    const lib = await stores["lmdb://"].createLibrary("stats", { rowsPerSegment: 10 });
    const frame = new DataFrame({
      px: Float64Array.from({ length: 100 }, (_, i) => i),
      vol: BigInt64Array.from({ length: 100 }, (_, i) => BigInt(i % 7)),
    });
    await lib.write("s", frame);
    const segmentsFor = async (query: QueryBuilder) => {
      let segments = -1;
      const { data } = await lib.read("s", {
        query,
        onProgress: (p: Progress) => (segments = p.segmentsTotal),
      });
      expectSameFrame(data, runQuery(frame, query), query.toString());
      return segments;
    };
    expect(await segmentsFor(new QueryBuilder().filter(col("px").gt(85)))).toBe(2);
    expect(await segmentsFor(new QueryBuilder().filter(col("px").lt(5).or(col("px").ge(95))))).toBe(2);
    expect(
      await segmentsFor(new QueryBuilder().filter(col("px").gt(85)).groupby("vol").agg({ px: "sum" })),
    ).toBe(2);
    // Nothing can pass: no segment is fetched, and the answer still has the query's columns.
    expect(
      await segmentsFor(new QueryBuilder().filter(col("px").gt(1000)).apply("x", col("px").mul(2))),
    ).toBe(0);
    // A filter after head picks among the first rows: statistics cannot skip anything there.
    expect(await segmentsFor(new QueryBuilder().head(50).filter(col("px").gt(85)))).toBe(10);
  });

  it("decodes the timestamp index only for steps that read it", async () => {
    const lib = await stores["lmdb://"].createLibrary("noindex", { rowsPerSegment: 10 });
    const rows = 100;
    const frame = new DataFrame(
      {
        px: Float64Array.from({ length: rows }, (_, i) => i),
        vol: BigInt64Array.from({ length: rows }, (_, i) => BigInt(i % 7)),
      },
      { index: { name: "ts", values: BigInt64Array.from({ length: rows }, (_, i) => 1_000n * BigInt(i)) } },
    );
    await lib.write("s", frame);
    const bytesFor = async (query: QueryBuilder) => {
      let bytes = -1;
      const { data } = await lib.read("s", { query, onProgress: (p: Progress) => (bytes = p.bytesTotal) });
      expectSameFrame(data, runQuery(frame, query), query.toString());
      return bytes;
    };
    // px and vol, 8 bytes a row each: no index.
    expect(await bytesFor(new QueryBuilder().groupby("vol").agg({ px: "sum" }))).toBe(rows * 16);
    expect(await bytesFor(new QueryBuilder().filter(col("px").ge(0)).groupby("vol").agg({ px: "sum" }))).toBe(
      rows * 16,
    );
    // A filter, an aggregation or a resample that reads the index decodes it.
    expect(
      await bytesFor(new QueryBuilder().filter(col("ts").ge(0n)).groupby("vol").agg({ px: "sum" })),
    ).toBe(rows * 24);
    expect(await bytesFor(new QueryBuilder().groupby("vol").agg({ last: ["ts", "max"], px: "sum" }))).toBe(
      rows * 24,
    );
    // A resample of px: px and the index.
    expect(await bytesFor(new QueryBuilder().resample("10us").agg({ px: "sum" }))).toBe(rows * 16);
  });

  it("refuses a bad query before anything is fetched", async () => {
    const lib = await stores["lmdb://"].createLibrary("bad", { rowsPerSegment: 2 });
    await lib.write(
      "s",
      new DataFrame({ px: [1, 2, 3, 4], sym: ["a", "b", "a", "b"] }, { index: [1n, 2n, 3n, 4n] }),
    );
    let calls = 0;
    const onProgress = () => calls++;
    await rejectsWith(
      lib.read("s", { query: new QueryBuilder().filter(col("nope").gt(1)), onProgress }),
      "InvalidArgumentError",
    );
    await rejectsWith(
      lib.read("s", { query: new QueryBuilder().groupby("px").agg({ m: ["sym", "mean"] }), onProgress }),
      "SchemaMismatchError",
    );
    expect(calls).toBe(0);
  });
});

/** About 38 MB of minute bars for 100 symbols: big enough for the pool (8 MB and up). */
function bars(rows: number): DataFrame {
  const ts = new BigInt64Array(rows);
  const sym = new Array<string>(rows);
  const close = new Float64Array(rows);
  const volume = new BigInt64Array(rows);
  for (let i = 0; i < rows; i++) {
    ts[i] = 1_704_067_200_000_000_000n + BigInt(Math.floor(i / 100)) * 60_000_000_000n;
    sym[i] = `S${i % 100}`;
    close[i] = 100 + ((i * 7919) % 1000) / 10;
    volume[i] = BigInt((i * 31) % 5000);
  }
  return new DataFrame({ sym, close, volume }, { index: ts });
}

describe("a big read with a query in the worker pool", () => {
  const frame = bars(1_200_000);
  const queries = [
    new QueryBuilder().filter(col("close").gt(199.5)),
    new QueryBuilder().groupby("sym").agg({ close: "mean", volume: "sum", n: ["close", "count"] }),
    new QueryBuilder()
      .resample("1h")
      .agg({ open: ["close", "first"], high: ["close", "max"], close: "last", volume: "sum" }),
    new QueryBuilder()
      .filter(col("close").gt(150))
      .apply("v2", col("volume").mul(2))
      .groupby(["sym", "volume"])
      .agg({ close: "max", v2: "sum" })
      .head(50),
    new QueryBuilder().filter(col("close").lt(101)).tail(7),
    // A string column a filter reads comes back from the workers as strings with codes.
    new QueryBuilder().filter(col("sym").isin(["S1", "S77"]).and(col("close").gt(150))),
  ];
  const layouts = [
    { uri: "lmdb", tiled: false },
    { uri: "mem", tiled: false },
    // Column tiles of 2 and segments of uneven rows from appends: each job gets its rows' index entries.
    { uri: "lmdb", tiled: true },
  ] as const;
  for (const { uri, tiled } of layouts) {
    it(`answers as the whole frame does, on ${uri}:// with 2 workers${tiled ? ", tiled and appended" : ""}`, async () => {
      const ac = new Arctic(uri === "mem" ? "mem://" : `lmdb://${join(tempDir(), "p.lmdb")}`, { workers: 2 });
      try {
        expect(ac.workers).toBe(2);
        const lib = await ac.createLibrary("bars", {
          rowsPerSegment: tiled ? 70_000 : 100_000,
          ...(tiled ? { columnsPerSegment: 2 } : {}),
        });
        if (!tiled) await lib.write("b", frame);
        else {
          const cuts = [0, 333_333, 800_001, frame.numRows];
          for (let j = 0; j + 1 < cuts.length; j++) {
            const [a, b] = [cuts[j], cuts[j + 1]];
            const ts = frame.index.kind === "timestamp" ? frame.index.values.slice(a, b) : undefined;
            const part = new DataFrame(
              Object.fromEntries(
                frame.columnNames.map((n) => [n, (frame.column(n) as Float64Array).slice(a, b)]),
              ),
              { index: ts },
            );
            if (j === 0) await lib.write("b", part);
            else await lib.append("b", part);
          }
        }
        // A query this size does not wait for workers still loading: read until they have loaded (a
        // plain read reports progress once per worker job from the pool, once per segment without).
        for (let attempt = 0; attempt < 100; attempt++) {
          let calls = 0;
          await lib.read("b", { onProgress: () => calls++ });
          if (calls <= 3) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        for (const q of queries) {
          let progress: Progress | undefined;
          const { data } = await lib.read("b", { query: q, onProgress: (p) => (progress = p) });
          expectSameFrame(data, runQuery(frame, q), q.toString());
          expect(progress?.bytesDone).toBe(progress?.bytesTotal);
        }
      } finally {
        await ac.close();
      }
    });
  }
});
