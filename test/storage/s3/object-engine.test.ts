// The object engine through the public API on the real RGW: write, read, append, update, delete,
// snapshots, listings, metadata — the paths that differ from LMDB's.
import { describe, expect, it } from "vitest";
import { Arctic, DataFrame } from "../../../runtimes/node.ts";
import { rgwAvailable, skipReason, useBucket } from "./rgw.ts";

const MINUTE = 60_000_000_000n;
const T0 = 1_700_000_000_000_000_000n;
const minutes = (from: number, n: number) =>
  new DataFrame(
    {
      v: new Float64Array(n).map((_, i) => from + i),
      n: new BigInt64Array(n).map((_, i) => BigInt(from + i)),
    },
    { index: new BigInt64Array(n).map((_, i) => T0 + BigInt(from + i) * MINUTE) },
  );

describe.skipIf(!rgwAvailable)(`s3:// object engine${skipReason}`, () => {
  const ctx = useBucket("engine");
  const uri = (extra = "") => {
    const { endpoint, accessKeyId, secretAccessKey } = ctx.env;
    const { hostname, port } = new URL(endpoint);
    return `s3://${hostname}:${ctx.s3.bucket}?port=${port}&access=${accessKeyId}&secret=${secretAccessKey}${extra}`;
  };

  it("writes, reads, appends, updates, deletes and lists like lmdb://", async () => {
    const ac = new Arctic(uri("&path_prefix=a/b"));
    const lib = await ac.createLibrary("lib", { rowsPerSegment: 1000 });
    expect(await ac.listLibraries()).toEqual(["lib"]);
    const w = await lib.write("sym", minutes(0, 2500), { metadata: { a: 1 } });
    expect(w.version).toBe(0);
    expect((await lib.read("sym")).data?.equals(minutes(0, 2500))).toBe(true);
    const a = await lib.append("sym", minutes(2500, 700));
    expect(a.version).toBe(1);
    expect((await lib.read("sym")).data?.equals(minutes(0, 3200))).toBe(true);
    const part = await lib.read("sym", {
      dateRange: [T0 + 990n * MINUTE, T0 + 1010n * MINUTE],
      columns: ["v"],
    });
    expect(part.data?.numRows).toBe(21);
    expect(part.data?.column("v")[0]).toBe(990);
    const rows = await lib.read("sym", { rowRange: [-5, null] });
    expect(rows.data?.column("n")[4]).toBe(3199n);
    await lib.update("sym", minutes(1000, 10));
    expect((await lib.read("sym")).data?.numRows).toBe(3200);
    expect((await lib.readMetadata("sym", { asOf: 0 })).metadata).toEqual({ a: 1 });
    expect((await lib.listVersions("sym")).map((v) => v.version)).toEqual([2, 1, 0]);
    await lib.snapshot("snap");
    await lib.delete("sym", { versions: [0, 1] });
    expect((await lib.listVersions("sym")).map((v) => v.version)).toEqual([2]);
    await expect(lib.read("sym", { asOf: 0 })).rejects.toThrow(/no version 0 that is live/);
    await lib.delete("sym");
    expect(await lib.listSymbols()).toEqual([]);
    expect((await lib.read("sym", { asOf: "snap" })).data?.numRows).toBe(3200);
    const again = await lib.write("sym", minutes(0, 3));
    expect(again.version).toBe(3);
    expect(await lib.listSymbols()).toEqual(["sym"]);
    expect((await lib.head("sym", 2)).data?.numRows).toBe(2);
    const report = await lib.verify();
    expect(report.ok).toBe(true);
    await ac.deleteLibrary("lib");
    expect(await ac.listLibraries()).toEqual([]);
    await ac.close();
  });

  it("commits a stream of frames as one version and compacts a fragmented symbol", async () => {
    const ac = new Arctic(uri());
    const lib = await ac.createLibrary("streams", { rowsPerSegment: 100 });
    async function* frames() {
      for (let i = 0; i < 10; i++) yield minutes(i * 37, 37);
    }
    const w = await lib.write("s", frames());
    expect(w.version).toBe(0);
    expect((await lib.read("s")).data?.equals(minutes(0, 370))).toBe(true);
    expect((await lib.getDescription("s")).segmentCount).toBe(4);
    async function* failing() {
      yield minutes(370, 10);
      throw new Error("source broke");
    }
    await expect(lib.append("s", failing())).rejects.toThrow("source broke");
    expect((await lib.listVersions("s")).map((v) => v.version)).toEqual([0]);
    for (let i = 0; i < 5; i++) await lib.append("s", minutes(370 + i * 3, 3));
    expect((await lib.getDescription("s")).segmentCount).toBe(9);
    const c = await lib.compactData("s");
    expect((await lib.getDescription("s")).segmentCount).toBe(4);
    expect((await lib.read("s", { asOf: c.version })).data?.equals(minutes(0, 385))).toBe(true);
    await ac.close();
  });

  it("gives every one of 20 concurrent writers of one symbol its own version number", async () => {
    const handles = Array.from({ length: 20 }, () => new Arctic(uri()));
    await handles[0].createLibrary("race");
    const libs = await Promise.all(handles.map((h) => h.getLibrary("race")));
    const written = await Promise.all(libs.map((lib, i) => lib.write("x", minutes(i * 1000, 5))));
    expect(written.map((w) => w.version).sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
    for (const [i, w] of written.entries()) {
      expect((await libs[0].read("x", { asOf: w.version })).data?.equals(minutes(i * 1000, 5))).toBe(true);
    }
    // Appends to a symbol that does not exist yet: the first becomes version 0, every other appends after.
    const appended = await Promise.all(libs.map((lib, i) => lib.append("y", new DataFrame({ v: [i] }))));
    expect(appended.map((a) => a.version).sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
    const y = (await libs[0].read("y")).data;
    expect([...(y?.column("v") ?? [])].sort((a, b) => Number(a) - Number(b))).toEqual([...Array(20).keys()]);
    await Promise.all(handles.map((h) => h.close()));
  });

  it("refuses writes through a handle whose library was deleted", async () => {
    const a = new Arctic(uri());
    const b = new Arctic(uri());
    const old = await a.createLibrary("gone");
    await old.write("s", minutes(0, 3));
    await b.deleteLibrary("gone");
    await expect(old.write("s", minutes(0, 3))).rejects.toMatchObject({ code: "LibraryNotFoundError" });
    const fresh = await b.createLibrary("gone");
    await expect(old.write("t", minutes(0, 3))).rejects.toMatchObject({ code: "LibraryNotFoundError" });
    expect(await fresh.listSymbols()).toEqual([]);
    await a.close();
    await b.close();
  });

  it("says which: a missing bucket, wrong credentials, an unknown option", async () => {
    const { hostname, port } = new URL(ctx.env.endpoint);
    const missing = new Arctic(
      `s3://${hostname}:no-such-bucket-floe?port=${port}&access=${ctx.env.accessKeyId}&secret=${ctx.env.secretAccessKey}`,
    );
    await expect(missing.listLibraries()).rejects.toMatchObject({
      code: "StorageError",
      kind: "missing-bucket",
    });
    const wrong = new Arctic(uri().replace(/secret=[^&]*/, "secret=wrong"));
    await expect(wrong.listLibraries()).rejects.toMatchObject({
      code: "StorageError",
      kind: "bad-credentials",
    });
    expect(() => new Arctic(`${uri()}&colour=blue`)).toThrow(/colour/);
    await missing.close();
    await wrong.close();
  });

  it("stages chunks from many writers and finalizes them once, even after a finalize died before tidying up", async () => {
    const handles = Array.from({ length: 3 }, () => new Arctic(uri()));
    const lib0 = await handles[0].createLibrary("staging", { rowsPerSegment: 50 });
    const libs = await Promise.all(handles.map((h) => h.getLibrary("staging")));
    await Promise.all(libs.map((lib, i) => lib.write("s", minutes(i * 100, 100), { staged: true })));
    // Keep the staged records as a finalize that died before removing them would leave them.
    const { objects } = await ctx.s3.listAll("");
    const records = objects.filter((o) => o.key.includes("/T/"));
    expect(records.length).toBe(3);
    const saved = await Promise.all(
      records.map(async (o) => [o.key, (await ctx.s3.get(o.key))?.body] as const),
    );
    const done = await lib0.finalizeStagedData("s");
    expect(done.version).toBe(0);
    expect((await lib0.read("s")).data?.equals(minutes(0, 300))).toBe(true);
    for (const [key, body] of saved) await ctx.s3.put(key, body as Uint8Array);
    // Those chunks are in version 0 already: not used again, and their records are removed.
    await expect(lib0.finalizeStagedData("s", { mode: "append" })).rejects.toThrow(/No staged data/);
    expect((await ctx.s3.listAll("")).objects.filter((o) => o.key.includes("/T/"))).toEqual([]);
    expect((await lib0.read("s")).data?.numRows).toBe(300);
    // Staged and unsorted, then sorted on finalize; deleteStagedData drops chunks.
    await lib0.write("u", minutes(5, 10), { staged: true });
    await lib0.write("u", minutes(0, 10), { staged: true });
    await expect(lib0.finalizeStagedData("u")).rejects.toMatchObject({ code: "UnsortedIndexError" });
    expect((await lib0.sortAndFinalizeStagedData("u")).version).toBe(0);
    expect([...((await lib0.read("u")).data!.column("v") as Float64Array)].slice(4, 8)).toEqual([4, 5, 5, 6]);
    await lib0.write("d", minutes(0, 5), { staged: true });
    await lib0.deleteStagedData("d");
    await expect(lib0.finalizeStagedData("d")).rejects.toThrow(/No staged data/);
    // Two finalizes at once: one makes the version, the other finds the lock or nothing left.
    await libs[1].write("c", minutes(0, 60), { staged: true });
    await libs[2].write("c", minutes(60, 60), { staged: true });
    const both = await Promise.allSettled([libs[1].finalizeStagedData("c"), libs[2].finalizeStagedData("c")]);
    expect(both.filter((r) => r.status === "fulfilled").length).toBe(1);
    for (const r of both)
      if (r.status === "rejected") expect(String(r.reason)).toMatch(/under way|No staged data/);
    expect((await lib0.read("c")).data?.equals(minutes(0, 120))).toBe(true);
    const report = await lib0.verify();
    expect(report.ok).toBe(true);
    expect(report.orphans).toEqual([]);
    await Promise.all(handles.map((h) => h.close()));
  });
});
