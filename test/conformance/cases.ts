/**
 * floe's conformance cases: the public API, written once, run in Node (vitest), Bun (`bun test`), Deno
 * (`deno test`) and Chromium (a test page). Each runtime's runner passes the floe module it imports and
 * what the runtime has (LMDB, an S3 gateway); store-independent cases run on `mem://` and, where the
 * runtime has them, on `lmdb://` and on `s3://` (a Ceph RGW, `scripts/rgw.sh`) as well.
 */
import type * as FloeModule from "../../src/api/index.ts";
import type { DataFrame as DataFrameType } from "../../src/api/index.ts";
import { expect, rejects, type Suite } from "./harness.ts";

export type Floe = typeof FloeModule;

/** Fresh `s3://` stores: `uri()` names a new empty bucket (created), `release(uri)` empties it again. */
export interface S3Stores {
  uri(): Promise<string>;
  release(uri: string): Promise<void>;
}

/** What a runtime gives the cases. */
export interface ConformanceEnv {
  /** "node", "bun", "deno" or "browser". */
  runtime: string;
  /** The floe module as this runtime imports it. */
  floe: Floe;
  /** A fresh `lmdb://` URI in a new temporary directory; absent where there is no LMDB (browsers). */
  lmdbUri?: () => string;
  /** Fresh `s3://` stores on a running gateway; absent where the runner has none (see `noS3`). */
  s3?: S3Stores;
  /** Why there is no `s3`, for the skipped cases' reason (a generic one when not given). */
  noS3?: string;
}

const MINUTE = 60_000_000_000n;
const T0 = 1_700_000_000_000_000_000n;
const NO_LMDB = "lmdb:// needs a file system (Node, Bun or Deno); browsers have mem:// only";
const NO_S3 = "s3:// needs an S3 gateway (scripts/rgw.sh), which this runner was not given";
/** The reason for runners that take the gateway from FLOE_S3_* variables (Bun, Deno). */
export const NO_GATEWAY =
  "FLOE_S3_ENDPOINT is not set: scripts/test-runtimes.mjs sets it (and starts scripts/rgw.sh) when the " +
  "Ceph binaries are installed";

/** One kind of store the store-independent cases run on. */
interface StoreKind {
  kind: string;
  /** A fresh, empty store's URI; absent where this runtime cannot have the store (`missing` says why). */
  uri?: () => string | Promise<string>;
  /** Frees what a store that `uri` made holds, once its case is over. */
  release?: (uri: string) => Promise<void>;
  missing: string;
}

/** Registers every conformance case on `suite`. */
export function defineConformance(suite: Suite, env: ConformanceEnv): void {
  const { Arctic, DataFrame } = env.floe;
  const s3 = env.s3;
  const stores: StoreKind[] = [
    { kind: "mem", uri: () => "mem://", missing: "" },
    { kind: "lmdb", uri: env.lmdbUri, missing: NO_LMDB },
    {
      kind: "s3",
      uri: s3 && (() => s3.uri()),
      release: s3 && ((uri) => s3.release(uri)),
      missing: env.noS3 ?? NO_S3,
    },
  ];

  /**
   * Registers `title` on `store`: `body` gets a fresh store's URI, and `another()` for more stores of
   * the same kind; all are released when the case ends. Where the runtime lacks the store, a skip with
   * the reason.
   */
  const onStore = (
    store: StoreKind,
    title: string,
    body: (uri: string, another: () => Promise<string>) => Promise<void>,
  ) => {
    const make = store.uri;
    if (!make) return suite.skip(title, store.missing);
    suite.test(title, async () => {
      const made: string[] = [];
      const another = async () => {
        const uri = await make();
        made.push(uri);
        return uri;
      };
      try {
        await body(await another(), another);
      } finally {
        if (store.release) for (const uri of made) await store.release(uri);
      }
    });
  };

  /** A store-independent case, once per store, named with the store's scheme. */
  const onEachStore = (
    name: string,
    body: (uri: string, another: () => Promise<string>) => Promise<void>,
  ) => {
    for (const store of stores) onStore(store, `${name} (${store.kind}://)`, body);
  };
  const [, lmdbStore, s3Store] = stores;

  /** Opens `uri` with no workers, creates library "lib", runs `body`, closes. */
  const withLib = async (
    uri: string,
    body: (lib: FloeModule.Library) => Promise<void>,
    options?: FloeModule.LibraryOptions,
  ) => {
    const ac = new Arctic(uri, { workers: 0 });
    try {
      await body(await ac.createLibrary("lib", options));
    } finally {
      await ac.close();
    }
  };

  const minutes = (from: number, n: number, column: (i: number) => number = (i) => i) =>
    new DataFrame(
      { v: new Float64Array(n).map((_, i) => column(from + i)) },
      { index: new BigInt64Array(n).map((_, i) => T0 + BigInt(from + i) * MINUTE) },
    );

  onEachStore("every dtype round-trips, with its awkward values, across tiles", async (uri) => {
    await withLib(
      uri,
      async (lib) => {
        for (const n of [0, 1, 7, 1000, 2500]) {
          const df = everyDtype(DataFrame, n);
          await lib.write(`n${n}`, df);
          const back = (await lib.read(`n${n}`)).data!;
          expect(back.dtypes).toEqual(df.dtypes);
          expect(back.equals(df)).toBe(true);
          if (n > 2) {
            expect(Object.is(back.column("f64")[1], -0)).toBe(true);
            expect(Number.isNaN(back.column("f64")[0] as number)).toBe(true);
            expect(back.column("i64")[0]).toBe(-(2n ** 63n));
            expect(back.column("u64")[0]).toBe(2n ** 64n - 1n);
            expect(back.column("s")[2]).toBe("日本語 ✓ 2");
            expect(back.column("s")[0]).toBe(null);
          }
        }
      },
      { rowsPerSegment: 1000, columnsPerSegment: 4 },
    );
  });

  suite.test("a DataFrame infers dtypes from plain arrays and prints as pandas does", () => {
    const df = new DataFrame({ a: [1, 2, 3], b: [1n, 2n, 3n], c: [true, false, true], d: ["x", "y", "z"] });
    expect(df.dtypes).toEqual({ a: "float64", b: "int64", c: "bool", d: "string" });
    expect(new DataFrame({ a: [1, 2, 3] }).toString()).toBe("     a\n0  1.0\n1  2.0\n2  3.0");
    expect(df.toRecords()[1]).toEqual({ a: 2, b: 2n, c: false, d: "y" });
    const ts = new DataFrame({ x: [1.5] }, { index: ["2024-01-02T03:04:05Z"] });
    expect(ts.index.kind).toBe("timestamp");
    expect(ts.toString()).toMatch(/2024-01-02 03:04:05/);
  });

  onEachStore(
    "versions: asOf a number, a negative number, a Date; listVersions newest first",
    async (uri) => {
      await withLib(uri, async (lib) => {
        const v0 = await lib.write("s", { a: [0] }, { metadata: { n: 0 } });
        expect(v0.version).toBe(0);
        await pause(5);
        const between = new Date();
        await pause(5);
        await lib.write("s", { a: [1] }, { metadata: { n: 1 } });
        const v2 = await lib.write("s", { a: [2, 2] });
        expect(v2.version).toBe(2);
        expect(v2.timestamp).toBeInstanceOf(Date);
        expect((await lib.read("s")).data!.column("a")).toEqual(new Float64Array([2, 2]));
        expect((await lib.read("s", { asOf: 0 })).data!.column("a")).toEqual(new Float64Array([0]));
        expect((await lib.read("s", { asOf: -2 })).metadata).toEqual({ n: 1 });
        expect((await lib.read("s", { asOf: between })).version).toBe(0);
        expect((await lib.readMetadata("s", { asOf: 1 })).metadata).toEqual({ n: 1 });
        const versions = await lib.listVersions("s");
        expect(versions.map((v) => v.version)).toEqual([2, 1, 0]);
        expect(versions[0].date).toBeInstanceOf(Date);
        await lib.delete("s", { versions: [1] });
        await rejects(lib.read("s", { asOf: 1 }), "VersionNotFoundError");
        expect((await lib.read("s", { asOf: 0 })).metadata).toEqual({ n: 0 });
        await lib.writeMetadata("s", { n: 3 });
        const latest = await lib.read("s");
        expect([latest.version, latest.metadata]).toEqual([3, { n: 3 }]);
        expect(latest.data!.column("a")).toEqual(new Float64Array([2, 2]));
      });
    },
  );

  onEachStore("append and update on a timestamp index, across segments", async (uri) => {
    await withLib(
      uri,
      async (lib) => {
        await lib.write("ts", minutes(0, 25));
        await lib.append("ts", minutes(25, 15));
        const all = (await lib.read("ts")).data!;
        expect(all.equals(minutes(0, 40))).toBe(true);
        await rejects(lib.append("ts", minutes(3, 2)), "UnsortedIndexError");
        await rejects(
          lib.append("ts", new DataFrame({ w: [1] }, { index: [new Date("2030-01-01")] })),
          "SchemaMismatchError",
        );
        // Replace minutes 10..19 with 5 new rows: the stored rows in that span go, the new ones come in.
        const patch = minutes(12, 5, (i) => -i);
        await lib.update("ts", patch, { dateRange: [T0 + 10n * MINUTE, T0 + 19n * MINUTE] });
        const updated = (await lib.read("ts")).data!;
        expect(updated.numRows).toBe(40 - 10 + 5);
        const v = updated.column("v") as Float64Array;
        expect(Array.from(v.slice(8, 17))).toEqual([8, 9, -12, -13, -14, -15, -16, 20, 21]);
        // The version before the update is untouched.
        expect((await lib.read("ts", { asOf: 1 })).data!.equals(all)).toBe(true);
        await lib.deleteDataInRange("ts", [T0 + 30n * MINUTE, null]);
        expect((await lib.read("ts")).data!.numRows).toBe(25);
        expect((await lib.append("missing", minutes(0, 2))).version).toBe(0);
      },
      { rowsPerSegment: 10 },
    );
  });

  onEachStore("date ranges, row ranges, columns, head and tail", async (uri) => {
    await withLib(
      uri,
      async (lib) => {
        const df = new DataFrame(
          {
            v: new Float64Array(100).map((_, i) => i),
            w: new Int32Array(100).map((_, i) => -i),
            s: Array.from({ length: 100 }, (_, i) => `r${i}`),
          },
          { index: new BigInt64Array(100).map((_, i) => T0 + BigInt(i) * MINUTE) },
        );
        await lib.write("df", df);
        const at = (i: number) => T0 + BigInt(i) * MINUTE;
        const iso = (i: number) => new Date(Number(at(i) / 1_000_000n)).toISOString();
        const byBigint = (await lib.read("df", { dateRange: [at(10), at(19)] })).data!;
        expect(byBigint.numRows).toBe(10);
        expect(byBigint.column("v")[0]).toBe(10);
        const byIso = (await lib.read("df", { dateRange: [iso(10), iso(19)] })).data!;
        expect(byIso.equals(byBigint)).toBe(true);
        const byDate = (await lib.read("df", { dateRange: [new Date(iso(95)), null] })).data!;
        expect(Array.from(byDate.column("v") as Float64Array)).toEqual([95, 96, 97, 98, 99]);
        const open = (await lib.read("df", { dateRange: [null, at(2)] })).data!;
        expect(open.numRows).toBe(3);
        const rows = (await lib.read("df", { rowRange: [40, 43], columns: ["s", "w"] })).data!;
        expect(rows.columnNames).toEqual(["s", "w"]);
        expect(rows.column("s")).toEqual(["r40", "r41", "r42"]);
        expect(rows.column("w")).toEqual(new Int32Array([-40, -41, -42]));
        expect((rows.index as { values: BigInt64Array }).values[0]).toBe(at(40));
        expect((await lib.head("df", 2)).data!.column("v")).toEqual(new Float64Array([0, 1]));
        expect((await lib.tail("df", 2)).data!.column("v")).toEqual(new Float64Array([98, 99]));
        expect((await lib.head("df", -98)).data!.numRows).toBe(2);
        const description = await lib.getDescription("df");
        expect(description.rowCount).toBe(100);
        expect(description.columns).toEqual([
          { name: "v", dtype: "float64" },
          { name: "w", dtype: "int32" },
          { name: "s", dtype: "string" },
        ]);
      },
      { rowsPerSegment: 16 },
    );
  });

  onEachStore("snapshots keep versions readable after delete and prune", async (uri) => {
    await withLib(uri, async (lib) => {
      await lib.write("a", { x: [1] });
      await lib.write("b", { y: [2] });
      await lib.snapshot("snap", { metadata: { why: "release" } });
      await rejects(lib.snapshot("snap"), "SnapshotExistsError");
      await lib.write("a", { x: [10] }, { prunePreviousVersions: true });
      await lib.delete("b");
      expect(await lib.listSymbols()).toEqual(["a"]);
      expect((await lib.listSymbols({ snapshot: "snap" })).sort()).toEqual(["a", "b"]);
      expect((await lib.read("a", { asOf: "snap" })).data!.column("x")).toEqual(new Float64Array([1]));
      expect((await lib.read("b", { asOf: "snap" })).data!.column("y")).toEqual(new Float64Array([2]));
      // A pruned version is read through its snapshot, not by number (as ArcticDB's Library API).
      await rejects(lib.read("a", { asOf: 0 }), "VersionNotFoundError");
      expect(await lib.listSnapshots()).toEqual({ snap: { why: "release" } });
      expect((await lib.listVersions("a")).find((v) => v.version === 0)?.snapshots).toEqual(["snap"]);
      await lib.deleteSnapshot("snap");
      await rejects(lib.deleteSnapshot("snap"), "SnapshotNotFoundError");
      await rejects(lib.read("b"), "SymbolNotFoundError");
      await rejects(lib.read("a", { asOf: 0 }), "VersionNotFoundError");
    });
  });

  onEachStore("names with '/' (fx/EURUSD) stay apart from the names they extend", async (uri) => {
    await withLib(uri, async (lib) => {
      await lib.write("fx", { a: [1] });
      await lib.write("fx/EURUSD", { a: [2] });
      await lib.snapshot("eod/1");
      await lib.delete("fx");
      expect(await lib.listSymbols()).toEqual(["fx/EURUSD"]);
      expect((await lib.read("fx/EURUSD")).data!.column("a")).toEqual(new Float64Array([2]));
      expect(await lib.listSymbols({ snapshot: "eod/1" })).toEqual(["fx", "fx/EURUSD"]);
      await rejects(lib.write("fx*", { a: [1] }), "InvalidArgumentError");
    });
  });

  onEachStore("batch calls: a failed item is a DataError, the others succeed", async (uri) => {
    await withLib(uri, async (lib) => {
      const written = await lib.writeBatch([
        { symbol: "p", data: { a: [1] } },
        { symbol: "q", data: { b: ["x"] }, metadata: 7 },
      ]);
      expect(written.map((w) => (w as FloeModule.VersionedItem).version)).toEqual([0, 0]);
      const read = await lib.readBatch(["p", { symbol: "q", columns: ["b"] }, "nope"]);
      expect((read[0] as FloeModule.VersionedItem).data!.column("a")).toEqual(new Float64Array([1]));
      expect((read[1] as FloeModule.VersionedItem).metadata).toBe(7);
      const missing = read[2] as FloeModule.DataError;
      expect(missing).toBeInstanceOf(env.floe.DataError);
      expect([missing.symbol, missing.errorCode]).toEqual(["nope", "SymbolNotFoundError"]);
      expect((await lib.listSymbols({ regex: "^[pq]$" })).sort()).toEqual(["p", "q"]);
      expect(await lib.hasSymbol("p")).toBe(true);
      expect(await lib.hasSymbol("nope")).toBe(false);
    });
  });

  onEachStore("libraries: create, get, list, delete, and their typed errors", async (uri) => {
    const ac = new Arctic(uri, { workers: 0 });
    try {
      await ac.createLibrary("one");
      await rejects(ac.createLibrary("one"), "LibraryExistsError");
      await rejects(ac.getLibrary("two"), "LibraryNotFoundError", /createIfMissing/);
      await ac.getLibrary("two", { createIfMissing: true });
      expect(await ac.listLibraries()).toEqual(["one", "two"]);
      expect(await ac.hasLibrary("two")).toBe(true);
      await ac.deleteLibrary("two");
      expect(await ac.hasLibrary("two")).toBe(false);
      await rejects(ac.deleteLibrary("two"), "LibraryNotFoundError");
    } finally {
      await ac.close();
    }
    await rejects(ac.listLibraries(), "StorageError", /closed/);
  });

  onEachStore("typed errors carry their class and a stable code", async (uri) => {
    await withLib(uri, async (lib) => {
      const err = await rejects(lib.read("ghost"), "SymbolNotFoundError");
      expect(err).toBeInstanceOf(env.floe.SymbolNotFoundError);
      expect(err).toBeInstanceOf(env.floe.FloeError);
      await lib.write("s", { a: [1] });
      await rejects(lib.read("s", { asOf: 9 }), "VersionNotFoundError");
      await rejects(lib.read("s", { asOf: "no-such-snapshot" }), "SnapshotNotFoundError");
      await rejects(lib.write("s", { a: [1, 2], b: [1] }), "InvalidArgumentError");
      await rejects(lib.update("s", { a: [1] }), "InvalidArgumentError");
      await rejects(lib.read("s", { asOf: 0, bogus: 1 } as never), "InvalidArgumentError");
      expect(() => new DataFrame({ a: [1, "x"] })).toThrow(/a/);
    });
  });

  suite.test("URIs: a bad scheme or option is an InvalidUriError", () => {
    for (const uri of [
      "s3://bucket",
      "lmdb://x?map_size=1kb",
      "lmdb://x?map_size=0GB",
      "lmdb://x?colour=red",
    ]) {
      let code = "none";
      try {
        new Arctic(uri);
      } catch (err) {
        code = (err as { code: string }).code;
        expect(err).toBeInstanceOf(env.floe.InvalidUriError);
      }
      expect(`${uri}: ${code}`).toBe(`${uri}: InvalidUriError`);
    }
  });

  /** A store that outlives its `Arctic`: a new one on the same URI reads what another wrote. */
  const persists = async (uri: string) => {
    const writer = new Arctic(uri, { workers: 0 });
    const lib = await writer.createLibrary("lib");
    await lib.write("s", new DataFrame({ a: [1, 2, 3] }), { metadata: { by: env.runtime } });
    await writer.close();
    const reader = new Arctic(uri, { workers: 0 });
    const back = await (await reader.getLibrary("lib")).read("s");
    expect(back.metadata).toEqual({ by: env.runtime });
    expect(back.data!.equals(new DataFrame({ a: [1, 2, 3] }))).toBe(true);
    await reader.close();
  };

  if (env.lmdbUri) {
    onStore(lmdbStore, "lmdb:// persists: a new Arctic on the same path reads what another wrote", persists);
  } else {
    suite.test("lmdb:// is a StorageError that says it needs Node, Bun or Deno", () => {
      let caught: unknown;
      try {
        new Arctic("lmdb://data.lmdb");
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(env.floe.StorageError);
      expect((caught as Error).message).toMatch(/lmdb:\/\/.*Node, Bun or Deno/);
      expect((caught as Error).message).toMatch(/mem:\/\//);
    });
  }

  onStore(s3Store, "s3:// persists: a new Arctic on the same URI reads what another wrote", persists);

  onStore(
    s3Store,
    "s3:// path_prefix: stores under different prefixes of one bucket stay apart",
    async (uri) => {
      const root = withoutPathPrefix(uri);
      const prefixes = ["team/a", "team/b", "other"];
      const arctics = prefixes.map((p) => new Arctic(`${root}&path_prefix=${p}`, { workers: 0 }));
      try {
        for (const [i, ac] of arctics.entries()) {
          const lib = await ac.createLibrary("lib");
          await lib.write("s", { a: [i] }, { metadata: { prefix: prefixes[i] } });
        }
        for (const [i, ac] of arctics.entries()) {
          expect(await ac.listLibraries()).toEqual(["lib"]);
          const item = await (await ac.getLibrary("lib")).read("s");
          expect([item.version, item.metadata]).toEqual([0, { prefix: prefixes[i] }]);
          expect(item.data!.column("a")).toEqual(new Float64Array([i]));
        }
        await arctics[0].deleteLibrary("lib");
        expect(await arctics[0].listLibraries()).toEqual([]);
        expect(await arctics[1].listLibraries()).toEqual(["lib"]);
        expect(await arctics[2].listLibraries()).toEqual(["lib"]);
        // Leading and trailing slashes are not part of the prefix: the same store as "team/b".
        const slashed = new Arctic(`${root}&path_prefix=/team/b/`, { workers: 0 });
        expect((await (await slashed.getLibrary("lib")).read("s")).metadata).toEqual({ prefix: "team/b" });
        await slashed.close();
      } finally {
        for (const ac of arctics) await ac.close();
      }
    },
  );

  onStore(s3Store, "s3:// the bucket root lists no library for another store's path_prefix", async (uri) => {
    const root = withoutPathPrefix(uri);
    const nested = new Arctic(`${root}&path_prefix=team/a`, { workers: 0 });
    const top = new Arctic(root, { workers: 0 });
    try {
      await (await nested.createLibrary("lib")).write("s", { a: [1] });
      await top.createLibrary("mine");
      expect(await top.listLibraries()).toEqual(["mine"]);
      expect(await nested.listLibraries()).toEqual(["lib"]);
    } finally {
      await nested.close();
      await top.close();
    }
  });

  onStore(s3Store, "s3:// a missing bucket or a wrong secret is a StorageError", async (uri) => {
    const secret = /[?&]secret=([^&]*)/.exec(uri)?.[1] ?? "";
    const noBucket = uri.replace(/^(s3s?:\/\/[^:?]+:)([^?]+)/, "$1$2-missing");
    const wrongSecret = uri.replace(/([?&]secret=)[^&]*/, "$1not-the-secret-0000000000000000000000000");
    for (const [what, bad] of [
      ["missing bucket", noBucket],
      ["wrong secret", wrongSecret],
    ]) {
      const ac = new Arctic(bad, { workers: 0 });
      try {
        const err = await rejects(ac.listLibraries(), "StorageError");
        expect(err).toBeInstanceOf(env.floe.StorageError);
        await rejects(ac.createLibrary("lib"), "StorageError");
        // The message names what went wrong but never the secret.
        expect(`${what}: ${err.message.includes(secret) || err.message.includes("not-the-secret")}`).toBe(
          `${what}: false`,
        );
        if (what === "missing bucket") expect(err.message).toMatch(/bucket/i);
      } finally {
        await ac.close();
      }
    }
  });

  onEachStore("the worker pool (workers: 2) writes and reads a large frame exactly", async (uri, another) => {
    const df = bigFrame(DataFrame, 1_000_000);
    const pooled = new Arctic(uri, { workers: 2 });
    const single = new Arctic(await another(), { workers: 0 });
    try {
      // s3:// has no worker pool yet (src/api/arctic.ts: object stores run on the calling thread, many
      // requests in flight), so there the frame must round-trip exactly and the pool checks wait for it.
      const pooledHere = !/^s3s?:/.test(uri);
      expect(pooled.workers).toBe(pooledHere ? 2 : 0);
      const libP = await pooled.createLibrary("lib", { rowsPerSegment: 50_000 });
      const libS = await single.createLibrary("lib", { rowsPerSegment: 50_000 });
      // Progress is reported per stored tile on the calling thread, but per finished job (many tiles)
      // from the pool, so a report of several tiles at once shows the workers did the write.
      const steps: number[] = [];
      let last = 0;
      await libP.write("big", df, {
        metadata: { via: "pool" },
        onProgress: (p) => {
          steps.push(p.segmentsDone - last);
          last = p.segmentsDone;
        },
      });
      if (pooledHere) {
        expect(Math.max(...steps)).toBeGreaterThan(1);
        expect(steps.length).toBeGreaterThan(1); // more than one job: both workers had work
      }
      await libS.write("big", df);
      const readSteps: number[] = [];
      const a = (await libP.read("big", { onProgress: (p) => readSteps.push(p.segmentsDone) })).data!;
      expect(a.equals(df)).toBe(true);
      // The pool reports a read once per worker's share, the calling thread once per segment (20 here):
      // where workers can take reads (mem:// needs shared memory) they did, Deno's worker_threads too.
      if (pooledHere && (uri !== "mem://" || typeof SharedArrayBuffer === "function"))
        expect(readSteps.length < 3).toBe(true);
      expect((await libS.read("big")).data!.equals(df)).toBe(true);
      // A query's chunks go to the same workers (their answers only come back): the same answer as
      // the calling thread's, chunk for chunk.
      const { QueryBuilder, col } = env.floe;
      for (const query of [
        new QueryBuilder()
          .filter(col("price").gt(100))
          .groupby("tag")
          .agg({ n: ["price", "count"], total: ["price", "sum"], top: ["volume", "max"] }),
        new QueryBuilder().filter(col("volume").lt(3).and(col("tag").eq("buy"))),
      ]) {
        const viaPool = (await libP.read("big", { query })).data!;
        expect(viaPool.numRows > 0).toBe(true);
        expect(viaPool.equals((await libS.read("big", { query })).data!)).toBe(true);
      }
      expect((await libP.getDescription("big")).storedBytes).toBe(
        (await libS.getDescription("big")).storedBytes,
      );
      const from = T0 + 654_321n * MINUTE;
      const ranged = (await libP.read("big", { dateRange: [from, null], columns: ["tag", "price"] })).data!;
      expect(ranged.numRows).toBe(1_000_000 - 654_321);
      expect(ranged.column("price")[0]).toBe(df.column("price")[654_321]);
      expect(ranged.column("tag")[5]).toBe(df.column("tag")[654_326]);
      expect((await libP.read("big")).metadata).toEqual({ via: "pool" });
    } finally {
      await pooled.close();
      await single.close();
    }
  });

  onEachStore("queries: filter, apply, groupby and resample answered by the read", async (uri) => {
    const { QueryBuilder, col } = env.floe;
    await withLib(
      uri,
      async (lib) => {
        const n = 240;
        const frame = new DataFrame(
          {
            sym: Array.from({ length: n }, (_, i) => ["A", "B", "C"][i % 3]),
            px: Float64Array.from({ length: n }, (_, i) => 100 + (i % 10)),
            vol: BigInt64Array.from({ length: n }, (_, i) => BigInt(i)),
          },
          { index: BigInt64Array.from({ length: n }, (_, i) => T0 + BigInt(i) * MINUTE) },
        );
        await lib.write("bars", frame);
        const grouped = await lib.read("bars", {
          query: new QueryBuilder()
            .filter(col("px").ge(105))
            .apply("notional", col("px").mul(col("vol")))
            .groupby("sym")
            .agg({ n: ["px", "count"], vol: "sum", top: ["notional", "max"] }),
        });
        expect(grouped.data.columnNames).toEqual(["sym", "n", "vol", "top"]);
        expect(Array.from(grouped.data.column("sym") as string[])).toEqual(["A", "B", "C"]);
        // Rows with px >= 105 are i % 10 >= 5: 120 of 240, 40 per symbol.
        expect(Array.from(grouped.data.column("n") as BigInt64Array)).toEqual([40n, 40n, 40n]);
        let expectedVol = 0n;
        for (let i = 0; i < n; i += 3) if (i % 10 >= 5) expectedVol += BigInt(i);
        expect((grouped.data.column("vol") as BigInt64Array)[0]).toBe(expectedVol);
        // A groupby run in Wasm memory where the runtime has the kernels loaded (float and int64 filter,
        // float apply): the same answer as the query over the whole frame.
        const resident = new QueryBuilder()
          .filter(col("px").ge(105).and(col("vol").lt(200n)))
          .apply("twice", col("px").mul(2))
          .groupby("sym")
          .agg({ n: ["px", "count"], vol: "sum", top: ["twice", "max"] });
        const whole = env.floe.runQuery((await lib.read("bars")).data, resident);
        expect((await lib.read("bars", { query: resident })).data.equals(whole)).toBe(true);
        expect(Array.from(whole.column("n") as BigInt64Array)).toEqual([34n, 33n, 33n]);
        const hourly = await lib.read("bars", {
          query: new QueryBuilder().resample("1h").agg({ open: ["px", "first"], vol: "sum" }),
        });
        // 240 minutes from 22:13:20 fall in the hours 22:00 to 02:00 (origin start_day): 5 buckets.
        expect(hourly.data.numRows).toBe(5);
        expect(hourly.data.index.kind).toBe("timestamp");
        const tail = await lib.tail("bars", 2, { query: new QueryBuilder().filter(col("sym").eq("B")) });
        expect(Array.from(tail.data.column("vol") as BigInt64Array)).toEqual([235n, 238n]);
      },
      { rowsPerSegment: 50 },
    );
  });
}

/** `uri` without its `path_prefix` option: the bucket root. */
function withoutPathPrefix(uri: string): string {
  return uri.replace(/&path_prefix=[^&]*/, "");
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A frame with every dtype and the awkward values of each (NaN, -0, the extremes, null and unicode). */
function everyDtype(DataFrame: Floe["DataFrame"], n: number): DataFrameType {
  const specials = [Number.NaN, -0, 0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.MIN_VALUE];
  return new DataFrame(
    {
      f64: new Float64Array(n).map((_, i) => (i < specials.length ? specials[i] : Math.sin(i) * 1e6)),
      f32: new Float32Array(n).map((_, i) => (i === 1 ? -0 : i === 0 ? Number.NaN : i / 3)),
      i8: new Int8Array(n).map((_, i) => (i % 2 ? -128 : 127)),
      i16: new Int16Array(n).map((_, i) => (i % 2 ? -32768 : 32767)),
      i32: new Int32Array(n).map((_, i) => (i % 2 ? -(2 ** 31) : 2 ** 31 - 1)),
      i64: new BigInt64Array(n).map((_, i) =>
        i % 3 === 0 ? -(2n ** 63n) : i % 3 === 1 ? 2n ** 63n - 1n : BigInt(i),
      ),
      u8: new Uint8Array(n).map((_, i) => (i * 7) & 255),
      u16: new Uint16Array(n).map((_, i) => 65535 - i),
      u32: new Uint32Array(n).map((_, i) => 2 ** 32 - 1 - i),
      u64: new BigUint64Array(n).map((_, i) => (i % 2 === 0 ? 2n ** 64n - 1n : BigInt(i))),
      flag: new Uint8Array(n).map((_, i) => (i % 3) & 1),
      when: new BigInt64Array(n).map((_, i) => T0 + BigInt(i) * MINUTE + 7n),
      s: Array.from({ length: n }, (_, i) =>
        i % 4 === 0 ? null : i % 4 === 1 ? "" : i % 4 === 2 ? `日本語 ✓ ${i}` : `s${i}`,
      ),
    },
    {
      index: new BigInt64Array(n).map((_, i) => 1_600_000_000_000_000_000n + BigInt(i)),
      dtypes: { flag: "bool", when: "timestamp" },
    },
  );
}

/**
 * About 36 MB of compressible columns on a minute index: big enough for the pool (8 MB, and a sample
 * that compresses to 70 % or less, see worthWriting in src/version/parallel.ts) and for several jobs
 * of 16 MB, so both workers get some.
 */
function bigFrame(DataFrame: Floe["DataFrame"], rows: number): DataFrameType {
  const index = new BigInt64Array(rows);
  const price = new Float64Array(rows);
  const volume = new Int32Array(rows);
  const tag = new Array<string | null>(rows);
  let p = 100;
  let seed = 7;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  for (let i = 0; i < rows; i++) {
    index[i] = T0 + BigInt(i) * MINUTE;
    p += rand() - 0.5;
    price[i] = Math.round(p * 100) / 100;
    volume[i] = Math.floor(rand() * 1000);
    tag[i] = i % 97 === 0 ? null : rand() < 0.5 ? "buy" : "sell";
  }
  return new DataFrame({ price, volume, tag }, { index });
}
