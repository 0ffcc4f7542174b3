/**
 * `s3://` from a browser page, straight from the bucket (CORS set on it), no server of ours: Node makes
 * the bucket, sets its CORS rule for the page's origin and writes a store (browser-s3-node.ts, run by
 * scripts/test-runtimes.mjs); the page reads that store through dist/browser.js and compares, then
 * writes a version and a symbol, which Node reads back after the page is done. Shared by both sides:
 * the fixture's shape and the frames each side writes and the other expects. No runtime imports.
 */
import type { DataFrame as DataFrameType } from "../../src/api/index.ts";
import { S3Client } from "../../src/storage/s3/client.ts";
import type { Floe } from "./cases.ts";
import { AssertionError, deepEqual, expect, type Suite, show } from "./harness.ts";

/** What the runner serves the page as /s3.json: where the store is, or why there is none. */
export type S3Fixture =
  | {
      /** The store's URI, credentials in it, as a user's page would open it. */
      uri: string;
      endpoint: string;
      region: string;
      bucket: string;
      /** A bucket with no CORS rule, to show what a page meets without one. */
      bareBucket: string;
      accessKeyId: string;
      secretAccessKey: string;
      /** The page's origin, which the bucket's CORS rule allows. */
      origin: string;
      /** Why Node could not write the store (the page's reading cases then fail with it). */
      nodeError?: string;
    }
  | { skip: string };

/** The library both sides use. */
export const LIBRARY = "web";
/** Rows per segment: small, so a read spans several objects and ranged GETs. */
export const ROWS_PER_SEGMENT = 700;
/** Node writes `prices` version 0 with `nodeFrame(0, 2000)`, then appends `nodeFrame(2000, 500)`. */
export const NODE_ROWS = [2000, 500] as const;
/** The page appends `nodeFrame(2500, 300)` to `prices` (version 2). */
export const PAGE_APPEND_ROWS = 300;

const T0 = 1_700_000_000_000_000_000n;
const MINUTE = 60_000_000_000n;

/** Rows `from`…`from + n - 1` of a minute-indexed frame with awkward values in every column kind. */
export function nodeFrame(DataFrame: Floe["DataFrame"], from: number, n: number): DataFrameType {
  const specials = [Number.NaN, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.MIN_VALUE];
  return new DataFrame(
    {
      price: new Float64Array(n).map((_, i) => {
        const r = from + i;
        // Division, not Math.sin: IEEE division rounds the same everywhere, sin differs between V8s.
        return r < specials.length ? specials[r] : 100 + ((r * 7919) % 1000) / 7;
      }),
      qty: new BigInt64Array(n).map((_, i) => {
        const r = from + i;
        return r % 3 === 0 ? -(2n ** 63n) : r % 3 === 1 ? 2n ** 63n - 1n : BigInt(r);
      }),
      small: new Int32Array(n).map((_, i) => (from + i) % 1000),
      flag: new Uint8Array(n).map((_, i) => (from + i) % 2),
      tag: Array.from({ length: n }, (_, i) => {
        const r = from + i;
        return r % 5 === 0 ? null : r % 5 === 1 ? "" : `日本語 ✓ ${r % 17}`;
      }),
    },
    {
      index: new BigInt64Array(n).map((_, i) => T0 + BigInt(from + i) * MINUTE),
      dtypes: { flag: "bool" },
    },
  );
}

/**
 * Asserts that `actual` equals `expected` (`DataFrame.equals`), and says where it does not: the row
 * count, the index, or the first differing row of the first differing column.
 */
export function expectFrame(actual: DataFrameType | undefined, expected: DataFrameType, what: string): void {
  if (actual?.equals(expected)) return;
  if (!actual) throw new AssertionError(`${what}: no data`);
  const rows = `${actual.numRows} rows (expected ${expected.numRows})`;
  expect(`${what}: ${rows}, columns ${actual.columnNames}`).toBe(
    `${what}: ${rows}, columns ${expected.columnNames}`,
  );
  expect(`${what} dtypes: ${JSON.stringify(actual.dtypes)}`).toBe(
    `${what} dtypes: ${JSON.stringify(expected.dtypes)}`,
  );
  const values = (column: unknown) => Array.from(column as ArrayLike<unknown>);
  const indexOf = (df: DataFrameType) => (df.index.kind === "timestamp" ? values(df.index.values) : []);
  for (const [name, a, b] of [
    ["index", indexOf(actual), indexOf(expected)],
    ...expected.columnNames.map((c) => [c, values(actual.column(c)), values(expected.column(c))]),
  ] as [string, unknown[], unknown[]][]) {
    const row = a.findIndex((x, i) => !deepEqual(x, b[i]));
    if (row >= 0) {
      throw new AssertionError(`${what}: ${name}[${row}] is ${show(a[row])}, expected ${show(b[row])}`);
    }
  }
  throw new AssertionError(`${what}: DataFrame.equals is false, yet every column and the index agree`);
}

/** The symbol the page writes. */
export function pageFrame(DataFrame: Floe["DataFrame"]): DataFrameType {
  return new DataFrame({
    written: ["by", "the", "browser", null],
    n: new Float64Array([1, 2, 3, Number.NaN]),
  });
}

/** Registers the page's `s3://` cases on `suite` (skips, with the reason, where there is no gateway). */
export function defineS3BrowserCases(suite: Suite, floe: Floe, fixture: S3Fixture): void {
  const names = [
    "s3 (browser): the S3 client signs every request floe sends, through the bucket's CORS",
    "s3 (browser): reads a store Node wrote, every version, from the bucket",
    "s3 (browser): writes a version and a symbol for Node to read",
  ];
  if ("skip" in fixture) {
    for (const name of names) suite.skip(name, fixture.skip);
    return;
  }
  const { Arctic, DataFrame } = floe;
  const config = {
    endpoint: fixture.endpoint,
    region: fixture.region,
    credentials: { accessKeyId: fixture.accessKeyId, secretAccessKey: fixture.secretAccessKey },
    baseDelayMs: 5,
    maxDelayMs: 20,
  };
  const nodeWrote = () => {
    if (fixture.nodeError) throw new Error(`Node could not write the store: ${fixture.nodeError}`);
  };

  suite.test(names[0], async () => {
    const s3 = new S3Client({ ...config, bucket: fixture.bucket });
    const bytes = (text: string) => new TextEncoder().encode(text);
    const key = `page-client/${Date.now().toString(36)}`;
    // PUT create-only and compare-and-swap (if-none-match, if-match), GET whole and ranged, HEAD, LIST,
    // POST ?delete, DELETE: each preflighted, and each answer's ETag / Content-Range readable.
    const first = await s3.put(key, bytes("0123456789"), { condition: { ifNoneMatch: "*" } });
    expect(first.written).toBe(true);
    expect((await s3.put(key, bytes("again"), { condition: { ifNoneMatch: "*" } })).written).toBe(false);
    const whole = await s3.get(key);
    expect(new TextDecoder().decode(whole?.body)).toBe("0123456789");
    expect(whole?.etag).toBe(first.written ? first.etag : "");
    const swapped = await s3.put(key, bytes("abcdefghij"), { condition: { ifMatch: whole!.etag } });
    expect(swapped.written).toBe(true);
    expect((await s3.put(key, bytes("stale"), { condition: { ifMatch: whole!.etag } })).written).toBe(false);
    const ranged = await s3.get(key, { range: { offset: 3, length: 4 } });
    expect(new TextDecoder().decode(ranged?.body)).toBe("defg");
    expect(ranged?.size).toBe(10);
    expect((await s3.head(key))?.size).toBe(10);
    expect((await s3.list("page-client/")).objects.map((o) => o.key)).toContain(key);
    await s3.put(`${key}-b`, bytes("b"));
    await s3.deleteMany([key]);
    await s3.delete(`${key}-b`);
    expect((await s3.list("page-client/")).objects).toEqual([]);
    // Without a CORS rule the browser hides the answer: the page sees a failed fetch.
    const bare = new S3Client({ ...config, bucket: fixture.bareBucket, maxAttempts: 2 });
    let refused: unknown;
    try {
      await bare.get("anything");
    } catch (err) {
      refused = err;
    }
    expect(refused instanceof Error).toBe(true);
    console.log(`  (a bucket without CORS, as the page sees it: ${(refused as Error).message})`);
  });

  suite.test(names[1], async () => {
    nodeWrote();
    const [n0, n1] = NODE_ROWS;
    const ac = new Arctic(fixture.uri, { workers: 0 });
    try {
      expect(await ac.listLibraries()).toContain(LIBRARY);
      const lib = await ac.getLibrary(LIBRARY);
      expect(await lib.listSymbols()).toEqual(["prices"]);
      expect((await lib.listVersions("prices")).map((v) => v.version)).toEqual([1, 0]);
      const latest = await lib.read("prices");
      expect(latest.version).toBe(1);
      expect(latest.metadata).toEqual({ from: "node", rows: n0 + n1 });
      const all = nodeFrame(DataFrame, 0, n0 + n1);
      expectFrame(latest.data, all, "latest");
      const v0 = await lib.read("prices", { asOf: 0 });
      expectFrame(v0.data, nodeFrame(DataFrame, 0, n0), "version 0");
      expect(v0.metadata).toEqual({ from: "node", rows: n0 });
      // A slice in the middle: only some segments, from the middle of others.
      const rows = await lib.read("prices", { rowRange: [1000, 1600], columns: ["price", "tag"] });
      const want = nodeFrame(DataFrame, 1000, 600);
      expect(rows.data!.column("price")).toEqual(want.column("price"));
      expect(rows.data!.column("tag")).toEqual(want.column("tag"));
    } finally {
      await ac.close();
    }
  });

  suite.test(names[2], async () => {
    nodeWrote();
    const [n0, n1] = NODE_ROWS;
    const ac = new Arctic(fixture.uri, { workers: 0 });
    try {
      const lib = await ac.getLibrary(LIBRARY);
      const appended = await lib.append("prices", nodeFrame(DataFrame, n0 + n1, PAGE_APPEND_ROWS), {
        metadata: { from: "browser", rows: n0 + n1 + PAGE_APPEND_ROWS },
      });
      expect(appended.version).toBe(2);
      const written = await lib.write("from-page", pageFrame(DataFrame), {
        metadata: { origin: fixture.origin },
      });
      expect(written.version).toBe(0);
      expect((await lib.listSymbols()).sort()).toEqual(["from-page", "prices"]);
    } finally {
      await ac.close();
    }
  });
}
