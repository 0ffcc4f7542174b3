import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { open } from "lmdb";
import { describe, expect, it } from "vitest";
import { Arctic, DataFrame, type Library } from "../../runtimes/node.ts";
import { rejectsWith, tempDir } from "../helpers.ts";

// Staged writes as ArcticDB's test_stage.py / test_parallel.py exercise them: chunks staged by many
// writers become one version on finalize; overlapping chunks need sortAndFinalize; deleteStagedData drops them.

const run = promisify(execFile);
const MINUTE = 60_000_000_000n;
const at = (minutes: number[]) => new BigInt64Array(minutes.map((m) => BigInt(m) * MINUTE));
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

async function store(): Promise<{ ac: Arctic; lib: Library; path: string; uri: string }> {
  const path = join(tempDir(), "staged.lmdb");
  const uri = `lmdb://${path}`;
  const ac = new Arctic(uri);
  return { ac, lib: await ac.createLibrary("lib", { rowsPerSegment: 7 }), path, uri };
}

function countKeys(path: string, prefix: string): number {
  const raw = open<Uint8Array, string>({ path, encoding: "binary", noSubdir: false });
  const n = [...raw.getKeys({ start: prefix, end: `${prefix}\u{10ffff}` })].length;
  raw.close();
  return n;
}

describe("staged writes", () => {
  it("chunks staged by several processes at once finalize into one version, in time order (test_parallel_writes)", async () => {
    const { ac, lib, uri } = await store();
    const writers = 4;
    const chunks = 3;
    const script = join(import.meta.dirname, "stage-writer.mjs");
    await Promise.all(
      range(0, writers).map((w) =>
        run(process.execPath, [script, uri, String(w), String(chunks), String(writers)]),
      ),
    );
    expect(await lib.listSymbols()).toEqual([]); // staging makes no version
    await rejectsWith(lib.read("sym"), "SymbolNotFoundError");
    const item = await lib.finalizeStagedData("sym", { metadata: { writers } });
    expect(item).toMatchObject({ version: 0, metadata: { writers } });
    const df = (await lib.read("sym")).data!;
    const rows = writers * chunks * 10;
    expect(df.numRows).toBe(rows);
    expect(Array.from(df.column("minute") as Float64Array)).toEqual(range(0, rows));
    expect(Array.from((df.index as { values: BigInt64Array }).values)).toEqual(
      Array.from(at(range(0, rows))),
    );
    const writerOf = Array.from(df.column("writer") as Int32Array);
    expect(writerOf.slice(0, 40)).toEqual(range(0, 40).map((i) => Math.floor(i / 10) % writers));
    // Everything staged was consumed.
    await rejectsWith(lib.finalizeStagedData("sym"), "InvalidArgumentError");
    await ac.close();
  });

  it("overlapping chunks fail finalize and keep their data; sortAndFinalize sorts them (test_sort_and_finalize)", async () => {
    const { ac, lib, path } = await store();
    await lib.write("s", new DataFrame({ x: [5, 6, 7] }, { index: at([5, 6, 7]) }), { staged: true });
    await lib.write("s", new DataFrame({ x: [1, 6.5, 9] }, { index: at([1, 6, 9]) }), { staged: true });
    await lib.write("s", new DataFrame({ x: [3, 2] }, { index: at([3, 2]) }), { staged: true });
    await rejectsWith(lib.finalizeStagedData("s"), "UnsortedIndexError");
    expect(countKeys(path, "T:lib/s/")).toBe(3);
    await lib.sortAndFinalizeStagedData("s");
    const df = (await lib.read("s")).data!;
    expect(Array.from((df.index as { values: BigInt64Array }).values)).toEqual(
      Array.from(at([1, 2, 3, 5, 6, 6, 7, 9])),
    );
    const x = Array.from(df.column("x") as Float64Array);
    expect([...x.slice(0, 4), ...x.slice(6)]).toEqual([1, 2, 3, 5, 7, 9]);
    expect(x.slice(4, 6).sort()).toEqual([6, 6.5]); // equal timestamps: both rows, either order
    expect(countKeys(path, "T:lib/s/")).toBe(0);
    // The staged segments were rewritten, so only the new version's remain.
    expect(countKeys(path, "S:lib/s/")).toBe(2);
    await ac.close();
  });

  it("mode append adds the staged rows after the latest version, and checks their order (test_finalize_append)", async () => {
    const { ac, lib } = await store();
    await lib.write("s", new DataFrame({ x: [1, 2] }, { index: at([1, 2]) }));
    await lib.write("s", new DataFrame({ x: [4] }, { index: at([4]) }), { staged: true });
    await lib.write("s", new DataFrame({ x: [3] }, { index: at([3]) }), { staged: true });
    const item = await lib.finalizeStagedData("s", { mode: "append" });
    expect(item.version).toBe(1);
    expect(Array.from((await lib.read("s")).data!.column("x") as Float64Array)).toEqual([1, 2, 3, 4]);
    await lib.write("s", new DataFrame({ x: [0] }, { index: at([0]) }), { staged: true });
    await rejectsWith(lib.finalizeStagedData("s", { mode: "append" }), "UnsortedIndexError");
    // mode write replaces instead, and the earlier version stays readable.
    await lib.finalizeStagedData("s", { mode: "write" });
    expect(Array.from((await lib.read("s")).data!.column("x") as Float64Array)).toEqual([0]);
    expect(Array.from((await lib.read("s", { asOf: 1 })).data!.column("x") as Float64Array)).toEqual([
      1, 2, 3, 4,
    ]);
    await ac.close();
  });

  it("deleteStagedData drops the chunks and their storage (test_delete_staged_data)", async () => {
    const { ac, lib, path } = await store();
    await lib.write("s", { x: range(0, 20) }, { staged: true });
    await lib.write("s", { x: range(20, 20) }, { staged: true });
    expect(countKeys(path, "S:lib/s/")).toBe(6);
    await lib.deleteStagedData("s");
    expect(countKeys(path, "S:lib/s/")).toBe(0);
    expect(countKeys(path, "T:lib/s/")).toBe(0);
    await rejectsWith(lib.finalizeStagedData("s"), "InvalidArgumentError");
    await ac.close();
  });

  it("row-indexed chunks finalize in staging order", async () => {
    const { ac, lib } = await store();
    for (const start of [0, 10, 20]) await lib.write("r", { x: range(start, 10) }, { staged: true });
    await lib.finalizeStagedData("r");
    expect(Array.from((await lib.read("r")).data!.column("x") as Float64Array)).toEqual(range(0, 30));
    // Many chunks staged within the same millisecond keep their order too (they were shuffled before).
    for (let start = 0; start < 400; start += 2)
      await lib.write("m", { x: range(start, 2) }, { staged: true });
    await lib.finalizeStagedData("m");
    expect(Array.from((await lib.read("m")).data!.column("x") as Float64Array)).toEqual(range(0, 400));
    await rejectsWith(lib.sortAndFinalizeStagedData("r"), "InvalidArgumentError");
    await ac.close();
  });

  it("chunks of different schemas fail finalize unless the library has dynamic schema", async () => {
    const { ac, lib } = await store();
    await lib.write("s", new DataFrame({ x: [1] }, { index: at([1]) }), { staged: true });
    await lib.write("s", new DataFrame({ y: [2] }, { index: at([2]) }), { staged: true });
    await rejectsWith(lib.finalizeStagedData("s"), "SchemaMismatchError");
    const dyn = await ac.createLibrary("dyn", { dynamicSchema: true });
    await dyn.write("s", new DataFrame({ x: [1] }, { index: at([1]) }), { staged: true });
    await dyn.write("s", new DataFrame({ y: ["b"] }, { index: at([2]) }), { staged: true });
    await dyn.finalizeStagedData("s");
    const df = (await dyn.read("s")).data!;
    expect(df.toRecords().map((r) => [r.x, r.y])).toEqual([
      [1, null],
      [Number.NaN, "b"],
    ]);
    await ac.close();
  });

  it("rejects options that do not fit staging", async () => {
    const { ac, lib } = await store();
    await rejectsWith(lib.write("s", { x: [1] }, { staged: true, metadata: 1 }), "InvalidArgumentError");
    await rejectsWith(lib.finalizeStagedData("s", { mode: "upsert" as never }), "InvalidArgumentError");
    await rejectsWith(lib.finalizeStagedData("s"), "InvalidArgumentError");
    await ac.close();
  });
});
