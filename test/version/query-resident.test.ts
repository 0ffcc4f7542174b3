/**
 * A groupby after an optional filter and applies runs on columns held in Wasm memory
 * (src/version/query-resident.ts): mask, compaction, arithmetic, group numbering and per-group states
 * all in kernels. For random frames (string keys with nulls, dictionary-encoded or not, int64 keys of
 * narrow and wide span, floats with NaN) and random queries of that shape, the answer must be the query
 * run on the whole frame (`runQuery`), and the chunks must have taken the resident path where it applies.
 */
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { Arctic, col, DataFrame, type Expr, lit, QueryBuilder, runQuery } from "../../runtimes/node.ts";
import { residentRuns } from "../../src/version/query-resident.ts";
import { tempDir } from "../helpers.ts";
import { expectSameAnswer } from "../query/same-answer.ts";
import { rgwAvailable, skipReason, useBucket } from "../storage/s3/rgw.ts";

/** A frame of `n` rows from `seed`. */
function frameOf(n: number, seed: number): DataFrame {
  let s = seed >>> 0 || 1;
  const rnd = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const [a, b, c] = [0, 0, 0].map(() => new Float64Array(n));
  const k64 = new BigInt64Array(n);
  const wide = new BigInt64Array(n);
  const v64 = new BigInt64Array(n);
  const sym: (string | null)[] = [];
  const venue: (string | null)[] = [];
  for (let r = 0; r < n; r++) {
    a[r] = r % 31 === 5 ? Number.NaN : Math.round(rnd() * 2000) / 100;
    b[r] = Math.round(rnd() * 2000) / 100;
    c[r] = rnd() * 10 - 5; // not decimal: stored raw or LZ4
    k64[r] = BigInt(Math.floor(rnd() * 6) * 100 - 200);
    wide[r] = rnd() < 0.5 ? -(2n ** 62n) : 2n ** 62n + BigInt(Math.floor(rnd() * 3));
    v64[r] = BigInt(Math.floor(rnd() * 2000) - 1000);
    sym.push(r % 23 === 7 ? null : `S${Math.floor(rnd() * 6)}`);
    // Mostly distinct: a plain (not dictionary-encoded) string column, numbered as it is decoded.
    venue.push(r % 17 === 0 ? null : `v${Math.floor(rnd() * n)}`);
  }
  return new DataFrame({ a, b, c, k64, wide, v64, sym, venue });
}

const floats = ["a", "b", "c"] as const;
const ops = ["gt", "ge", "lt", "le", "eq", "ne"] as const;
type Ops = Record<string, (v: unknown) => Expr>;

/** Comparisons of float columns with each other or with numbers, of int64 columns with integers, joined by and/or/xor/not. */
const filterArb: fc.Arbitrary<Expr> = fc.letrec<{ e: Expr }>((tie) => ({
  e: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc
      .tuple(fc.constantFrom(...floats), fc.constantFrom(...ops), fc.constantFrom(...floats))
      .map(([x, op, y]) => (col(x) as unknown as Ops)[op](col(y))),
    fc
      .tuple(
        fc.constantFrom(...floats),
        fc.constantFrom(...ops),
        fc.double({ min: -5, max: 20, noNaN: true }),
      )
      .map(([x, op, v]) => (col(x) as unknown as Ops)[op](Math.round(v * 4) / 4)),
    fc
      .tuple(fc.constantFrom(...floats), fc.constantFrom(...ops), fc.integer({ min: 0, max: 15 }))
      .map(([x, op, v]) => (lit(v) as unknown as Ops)[op](col(x))),
    // An int64 column with an integer: a number or a bigint, either side.
    fc
      .tuple(
        fc.constantFrom("v64", "k64"),
        fc.constantFrom(...ops),
        fc.integer({ min: -1000, max: 1000 }),
        fc.boolean(),
        fc.boolean(),
      )
      .map(([x, op, v, big, first]) =>
        first
          ? (lit(big ? BigInt(v) : v) as unknown as Ops)[op](col(x))
          : (col(x) as unknown as Ops)[op](big ? BigInt(v) : v),
      ),
    fc.tuple(tie("e"), tie("e")).map(([x, y]) => x.and(y)),
    fc.tuple(tie("e"), tie("e")).map(([x, y]) => x.or(y)),
    fc.tuple(tie("e"), tie("e")).map(([x, y]) => x.xor(y)),
    tie("e").map((x) => x.not()),
  ),
})).e;

/** Arithmetic of float columns and numbers. */
const arithArb: fc.Arbitrary<Expr> = fc.letrec<{ e: Expr }>((tie) => ({
  e: fc.oneof(
    { depthSize: "small", withCrossShrink: true, maxDepth: 3 },
    fc.constantFrom(...floats).map((x) => col(x)),
    fc
      .tuple(tie("e"), fc.constantFrom("add", "sub", "mul", "div"), tie("e"))
      .map(([x, op, y]) => (x as unknown as Ops)[op](y)),
    fc
      .tuple(tie("e"), fc.constantFrom("add", "sub", "mul", "div"), fc.constantFrom(2, 0.5, -3, 0))
      .map(([x, op, v]) => (x as unknown as Ops)[op](v)),
    fc
      .tuple(fc.constantFrom(2, 0.5, -3), fc.constantFrom("sub", "div"), tie("e"))
      .map(([v, op, x]) => (lit(v) as unknown as Ops)[op](x)),
  ),
})).e;

const aggNames = ["sum", "mean", "min", "max", "count", "first", "last"] as const;

const queryArb = fc
  .record({
    filter: fc.option(filterArb),
    applies: fc.array(fc.tuple(fc.constantFrom("x", "y", "a"), arithArb), { maxLength: 2 }),
    keys: fc.constantFrom<string[]>(
      ["sym"],
      ["k64"],
      ["sym", "k64"],
      ["k64", "sym"],
      ["venue"],
      ["sym", "wide"],
    ),
    aggs: fc.array(
      fc.tuple(fc.constantFrom("a", "b", "c", "v64", "k64", "x"), fc.constantFrom(...aggNames)),
      {
        minLength: 1,
        maxLength: 4,
      },
    ),
  })
  .map(({ filter, applies, keys, aggs }) => {
    let q = new QueryBuilder();
    if (filter !== null) q = q.filter(filter);
    const made = new Set<string>();
    for (const [name, e] of applies) {
      q = q.apply(name, e);
      made.add(name);
    }
    // `x` only once an apply made it; a key is not aggregated (a groupby refuses that).
    const spec: Record<string, readonly [string, (typeof aggNames)[number]]> = {};
    aggs.forEach(([column, agg], j) => {
      const input = column === "x" && !made.has("x") ? "b" : keys.includes(column) ? "v64" : column;
      spec[`o${j}`] = [input, agg];
    });
    return { q: q.groupby(keys).agg(spec), resident: !keys.includes("wide") };
  });

const dir = tempDir("floe-resident-");
const stores = {
  "mem://": new Arctic("mem://", { workers: 0 }),
  "lmdb://": new Arctic(`lmdb://${join(dir, "q.lmdb")}`, { workers: 0 }),
};
afterAll(async () => {
  for (const ac of Object.values(stores)) await ac.close();
});

/**
 * For random frames and queries of the resident shape on `ac`, the read's answer equals `runQuery` over
 * the rows read, and the chunks ran resident where they could.
 */
async function residentEqualsWhole(ac: Arctic, runs: number): Promise<void> {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 300, max: 3000 }),
      fc.integer(),
      fc.integer({ min: 200, max: 1500 }),
      fc.boolean(),
      queryArb,
      fc.option(fc.tuple(fc.nat(4000), fc.nat(4000)), { freq: 3 }),
      fc.constantFrom(2, 3, 127),
      async (rows, seed, rowsPerSegment, appended, { q, resident }, range, columnsPerSegment) => {
        const lib = await ac.createLibrary(`res${n++}`, { rowsPerSegment, columnsPerSegment });
        await lib.write("s", frameOf(rows, seed));
        if (appended) await lib.append("s", frameOf(700, seed + 1));
        // A row range cuts segments, appends and tiles make chunks of several pieces: their string keys
        // then come through the general decode.
        const rowRange =
          range === null ? undefined : ([Math.min(...range), Math.max(...range)] as [number, number]);
        const expected = runQuery((await lib.read("s", { rowRange })).data, q);
        const before = residentRuns.chunks;
        let segments = 0;
        const onProgress = (p: { segmentsTotal: number }) => {
          segments = p.segmentsTotal;
        };
        const actual = (await lib.read("s", { query: q, onProgress, rowRange })).data;
        expectSameAnswer(
          actual,
          expected,
          `${q.toString()} rows=${rows} rps=${rowsPerSegment} cps=${columnsPerSegment} ${rowRange}`,
        );
        // The chunks ran resident when any was read (the statistics may rule every segment out),
        // unless an int64 key spans 2^63 values (no dense table).
        if (resident && segments > 0) expect(residentRuns.chunks, q.toString()).toBeGreaterThan(before);
        await ac.deleteLibrary(lib.name);
      },
    ),
    { numRuns: Number(process.env.QUERY_RUNS ?? runs) },
  );
}

describe("a groupby run on columns held in Wasm memory", () => {
  for (const [uri, ac] of Object.entries(stores)) {
    it(`equals the query run on the whole frame (${uri})`, async () => {
      await residentEqualsWhole(ac, 40);
    }, 120_000);
  }

  it("keeps int64 keys beyond 2^53 exact beside small ones, whichever path each chunk took", async () => {
    const ac = stores["lmdb://"];
    const lib = await ac.createLibrary("exact", { rowsPerSegment: 3 });
    const big = 2n ** 53n;
    // Chunks of 3 rows: the first two number their keys resident (small numbers, then keys beyond 2^53
    // that span 2), the third spans 2^63 (the general path).
    const k = [5n, 7n, 5n, big, big + 1n, big, -(2n ** 62n), 2n ** 62n, -big - 1n];
    const v = Float64Array.from(k, (_, i) => i);
    await lib.write("s", new DataFrame({ k: BigInt64Array.from(k), v }));
    const q = new QueryBuilder().groupby("k").agg({ v: "sum", n: ["v", "count"] });
    const before = residentRuns.chunks;
    const out = (await lib.read("s", { query: q })).data;
    expect(residentRuns.chunks - before).toBe(2);
    expect(Array.from(out.column("k") as BigInt64Array)).toEqual([
      -(2n ** 62n),
      -big - 1n,
      5n,
      7n,
      big,
      big + 1n,
      2n ** 62n,
    ]);
    expect(Array.from(out.column("v") as Float64Array)).toEqual([6, 8, 2, 1, 8, 4, 7]);
    expectSameAnswer(out, runQuery((await lib.read("s")).data, q), "exact");
  });

  it("takes the general path for a column written narrower before dynamic schema widened it", async () => {
    const ac = stores["mem://"];
    const lib = await ac.createLibrary("widened", { dynamicSchema: true, rowsPerSegment: 3 });
    await lib.write("s", new DataFrame({ k: new BigInt64Array([1n, 2n, 1n]), x: new Int32Array([1, 2, 3]) }));
    const more = { k: new BigInt64Array([2n, 3n, 2n]), x: new BigInt64Array([2n ** 40n, 5n, -7n]) };
    await lib.append("s", new DataFrame(more));
    const q = new QueryBuilder().groupby("k").agg({ x: "sum" });
    const expected = runQuery((await lib.read("s")).data, q);
    const before = residentRuns.chunks;
    const actual = (await lib.read("s", { query: q })).data;
    expectSameAnswer(actual, expected, "widened");
    // The appended segment's chunk is resident; the first (int32 as stored) is not.
    expect(residentRuns.chunks - before).toBe(1);
  });
});

describe.skipIf(!rgwAvailable)(`a groupby run on columns held in Wasm memory, on s3://${skipReason}`, () => {
  const ctx = useBucket("resident");
  it("equals the query run on the whole frame (s3://)", async () => {
    const { endpoint, accessKeyId, secretAccessKey } = ctx.env;
    const { hostname, port } = new URL(endpoint);
    const ac = new Arctic(
      `s3://${hostname}:${ctx.s3.bucket}?port=${port}&access=${accessKeyId}&secret=${secretAccessKey}`,
      { workers: 0 },
    );
    try {
      await residentEqualsWhole(ac, 12);
    } finally {
      await ac.close();
    }
  }, 300_000);
});
