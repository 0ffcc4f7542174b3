// The batch calls ArcticDB's Library has (update_batch, delete_batch, read_metadata_batch,
// write_metadata_batch, get_description_batch) and its refusal of a symbol twice in one write, append,
// update or write-metadata batch (ArcticDuplicateSymbolsInBatchException, test_write_batch_duplicate_symbols):
// each result in its item's slot, a failed item a DataError that does not lose the others.
import { describe, expect, it } from "vitest";
import {
  Arctic,
  DataError,
  DataFrame,
  type Library,
  type SymbolDescription,
  type VersionedItem,
} from "../../runtimes/node.ts";
import { rejectsWith } from "../helpers.ts";

const day = (d: number) => new Date(Date.UTC(2024, 0, 1 + d));
const days = (...ds: number[]) => ds.map(day);
const xs = async (lib: Library, symbol: string, asOf?: number) =>
  Array.from((await lib.read(symbol, asOf === undefined ? {} : { asOf })).data!.column("x") as Float64Array);
const brief = (r: VersionedItem | DataError | SymbolDescription | null) =>
  r === null ? "done" : r instanceof DataError ? `${r.symbol}:${r.errorCode}` : `${r.symbol}@${r.version}`;

async function library(): Promise<{ ac: Arctic; lib: Library }> {
  const ac = new Arctic("mem://");
  const lib = await ac.createLibrary("lib");
  await lib.write("a", new DataFrame({ x: [1, 2, 3] }, { index: days(0, 1, 2) }), { metadata: "a0" });
  await lib.write("b", new DataFrame({ x: [4, 5] }, { index: days(0, 1) }), { metadata: "b0" });
  return { ac, lib };
}

describe("a symbol twice in one batch", () => {
  const calls: [string, (lib: Library) => Promise<unknown>][] = [
    [
      "writeBatch",
      (l) =>
        l.writeBatch([
          { symbol: "a", data: { x: [9] } },
          { symbol: "new", data: { x: [1] } },
          { symbol: "a", data: { x: [8] } },
        ]),
    ],
    [
      "appendBatch",
      (l) =>
        l.appendBatch([
          { symbol: "a", data: new DataFrame({ x: [9] }, { index: days(5) }) },
          { symbol: "a", data: new DataFrame({ x: [8] }, { index: days(6) }) },
        ]),
    ],
    [
      "updateBatch",
      (l) =>
        l.updateBatch([
          { symbol: "b", data: new DataFrame({ x: [9] }, { index: days(1) }) },
          { symbol: "b", data: new DataFrame({ x: [8] }, { index: days(0) }) },
        ]),
    ],
    [
      "writeMetadataBatch",
      (l) =>
        l.writeMetadataBatch([
          { symbol: "b", metadata: 1 },
          { symbol: "a", metadata: 2 },
          { symbol: "b", metadata: 3 },
        ]),
    ],
  ];

  it.each(calls)("%s throws InvalidArgumentError naming it, and writes nothing", async (_, call) => {
    const { ac, lib } = await library();
    const err = await rejectsWith(call(lib), "InvalidArgumentError");
    expect(err.message).toMatch(/'[ab]' appears in more than one item/);
    expect(err.message).toMatch(/nothing was written/);
    expect(await lib.listSymbols()).toEqual(["a", "b"]);
    expect((await lib.listVersions()).map((v) => `${v.symbol}@${v.version}`)).toEqual(["a@0", "b@0"]);
    await ac.close();
  });

  it("names every duplicated symbol", async () => {
    const { ac, lib } = await library();
    const err = await rejectsWith(
      lib.writeBatch(["a", "b", "c", "b", "a"].map((symbol) => ({ symbol, data: { x: [1] } }))),
      "InvalidArgumentError",
    );
    expect(err.message).toMatch(/symbols 'b', 'a' appear in more than one item/);
    await ac.close();
  });

  it("is allowed where ArcticDB allows it: reads and deletes", async () => {
    const { ac, lib } = await library();
    expect((await lib.readBatch(["a", "a"])).map(brief)).toEqual(["a@0", "a@0"]);
    expect((await lib.readMetadataBatch(["a", "a"])).map(brief)).toEqual(["a@0", "a@0"]);
    expect((await lib.getDescriptionBatch(["a", "a"])).map(brief)).toEqual(["a@0", "a@0"]);
    await lib.write("a", { x: [0] });
    const deleted = await lib.deleteBatch([
      { symbol: "a", versions: 0 },
      { symbol: "a", versions: [0] },
    ]);
    expect(deleted[0]).toBeNull();
    expect((deleted[1] as DataError).errorCode).toBe("VersionNotFoundError");
    await ac.close();
  });
});

describe("updateBatch", () => {
  it("updates each item as update would, with a DataError for the items that fail", async () => {
    const { ac, lib } = await library();
    const ok = await lib.updateBatch([
      { symbol: "a", data: new DataFrame({ x: [20, 30] }, { index: days(1, 2) }), metadata: { n: 1 } },
      { symbol: "missing", data: new DataFrame({ x: [1] }, { index: days(0) }) },
      { symbol: "fresh", data: new DataFrame({ x: [7] }, { index: days(3) }), upsert: true },
      { symbol: "b", data: new DataFrame({ x: [40] }, { index: days(0) }), dateRange: [day(0), day(1)] },
      { symbol: "rows", data: { x: [1] } },
      { symbol: "bad*", data: new DataFrame({ x: [1] }, { index: days(0) }), upsert: true },
    ]);
    expect(ok.map(brief)).toEqual([
      "a@1",
      "missing:SymbolNotFoundError",
      "fresh@0",
      "b@1",
      "rows:InvalidArgumentError",
      "bad*:InvalidArgumentError",
    ]);
    expect((ok[0] as VersionedItem).metadata).toEqual({ n: 1 });
    expect(await xs(lib, "a")).toEqual([1, 20, 30]);
    expect(await xs(lib, "b")).toEqual([40]); // day 1 was inside dateRange and not in data: removed
    expect(await xs(lib, "fresh")).toEqual([7]);
    expect(await lib.listSymbols()).toEqual(["a", "b", "fresh"]);
    await ac.close();
  });

  it("takes upsert and prunePreviousVersions for the whole batch; an item's upsert wins", async () => {
    const { ac, lib } = await library();
    const results = await lib.updateBatch(
      [
        { symbol: "a", data: new DataFrame({ x: [9] }, { index: days(9) }) },
        { symbol: "n1", data: new DataFrame({ x: [1] }, { index: days(0) }) },
        { symbol: "n2", data: new DataFrame({ x: [2] }, { index: days(0) }), upsert: false },
      ],
      { upsert: true, prunePreviousVersions: true },
    );
    expect(results.map(brief)).toEqual(["a@1", "n1@0", "n2:SymbolNotFoundError"]);
    expect((await lib.listVersions("a")).map((v) => v.version)).toEqual([1]);
    await rejectsWith(lib.updateBatch([], { upsrt: true } as never), "InvalidArgumentError");
    await rejectsWith(lib.updateBatch("a" as never), "InvalidArgumentError");
    await ac.close();
  });
});

describe("deleteBatch", () => {
  it("deletes symbols and versions, null for each item done and a DataError for each not", async () => {
    const { ac, lib } = await library();
    await lib.write("b", { x: [6] });
    await lib.write("c", { x: [1] });
    const results = await lib.deleteBatch([
      "a",
      { symbol: "b", versions: [0] },
      { symbol: "c", versions: 5 },
      { symbol: "c", versions: [] },
      42 as never,
      { symbol: "c", version: 0 } as never,
    ]);
    expect(results.slice(0, 2)).toEqual([null, null]);
    expect(results.slice(2).map((r) => `${r!.symbol}:${r!.errorCode}`)).toEqual([
      "c:VersionNotFoundError",
      "c:InvalidArgumentError",
      "#4:InvalidArgumentError",
      "c:InvalidArgumentError",
    ]);
    expect((results[3] as DataError).message).toMatch(/at least one/);
    expect(await lib.listSymbols()).toEqual(["b", "c"]);
    expect((await lib.listVersions("b")).map((v) => v.version)).toEqual([1]);
    expect(await xs(lib, "b")).toEqual([6]);
    expect(await xs(lib, "c")).toEqual([1]);
    expect(await lib.deleteBatch([])).toEqual([]);
    await ac.close();
  });
});

describe("readMetadataBatch and getDescriptionBatch", () => {
  it("read each item's metadata or description, a DataError naming what is missing", async () => {
    const { ac, lib } = await library();
    await lib.write("a", { x: [1] }, { metadata: "a1" });
    const items = [
      "a",
      { symbol: "a", asOf: 0 },
      "missing",
      { symbol: "b", asOf: 7 },
      { symbol: 3 } as never,
    ];
    const metas = await lib.readMetadataBatch(items);
    expect(metas.map(brief)).toEqual([
      "a@1",
      "a@0",
      "missing:SymbolNotFoundError",
      "b:VersionNotFoundError",
      "#4:InvalidArgumentError",
    ]);
    expect(metas.slice(0, 2).map((m) => (m as VersionedItem).metadata)).toEqual(["a1", "a0"]);
    expect((metas[0] as VersionedItem).data).toBeUndefined();
    expect((metas[3] as DataError).version).toBe(7);

    const descs = await lib.getDescriptionBatch(items);
    expect(descs.map(brief)).toEqual([
      "a@1",
      "a@0",
      "missing:SymbolNotFoundError",
      "b:VersionNotFoundError",
      "#4:InvalidArgumentError",
    ]);
    const [a1, a0] = descs as SymbolDescription[];
    expect([a1.rowCount, a1.index.kind]).toEqual([1, "row"]);
    expect([a0.rowCount, a0.index.kind, a0.metadata]).toEqual([3, "timestamp", "a0"]);
    expect(a0).toEqual(await lib.getDescription("a", { asOf: 0 }));
    await ac.close();
  });
});

describe("writeMetadataBatch", () => {
  it("writes a new version of each symbol with the new metadata and the same data", async () => {
    const { ac, lib } = await library();
    const results = await lib.writeMetadataBatch([
      { symbol: "a", metadata: { m: 1 } },
      { symbol: "bad*", metadata: 1 },
      { symbol: "b", metadata: [1, 2] },
      { symbol: "c" } as never,
    ]);
    expect(results.map(brief)).toEqual(["a@1", "bad*:InvalidArgumentError", "b@1", "c:InvalidArgumentError"]);
    expect((await lib.readMetadata("a")).metadata).toEqual({ m: 1 });
    expect((await lib.readMetadata("b")).metadata).toEqual([1, 2]);
    expect(await xs(lib, "a")).toEqual([1, 2, 3]);
    await lib.writeMetadataBatch([{ symbol: "a", metadata: "last" }], { prunePreviousVersions: true });
    expect((await lib.listVersions("a")).map((v) => v.version)).toEqual([2]);
    await ac.close();
  });
});
