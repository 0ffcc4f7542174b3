// Names follow ArcticDB's rules (cpp/arcticdb/util/name_validation.cpp, test_name_validation.py,
// test_arctic.py::test_create_library_with_invalid_name): '/' and '\' are allowed, so `fx/EURUSD` ports;
// new names hold only printable ASCII (32–126) without '*', '<', '>', at most 254 bytes; names a store
// already holds stay usable.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Arctic, DataError, DataFrame, type Library, type VersionedItem } from "../../runtimes/node.ts";
import { LmdbStorage } from "../../src/storage/lmdb-storage.ts";
import { rejectsWith, tempDir } from "../helpers.ts";

const xs = (item: VersionedItem) => Array.from(item.data!.column("x") as Float64Array);
const day = (d: number) => new Date(Date.UTC(2024, 0, 1 + d));

const stores = {
  "mem://": () => "mem://",
  "lmdb://": () => `lmdb://${join(tempDir(), "n.lmdb")}`,
};

describe.each(Object.entries(stores))("names with '/' on %s", (_, uri) => {
  it("keeps a symbol apart from the symbols its name is a prefix of", async () => {
    const ac = new Arctic(uri());
    const lib = await ac.createLibrary("lib");
    await lib.write("a", { x: [1] });
    await lib.write("a/b", { x: [2] });
    await lib.write("a/b", { x: [3] });
    await lib.write("a/0000000001", { x: [4] });
    await lib.write("fx\\EURUSD", { x: [5] });
    await lib.write("a.b", { x: [6] });
    expect(await lib.listSymbols()).toEqual(["a", "a.b", "a/0000000001", "a/b", "fx\\EURUSD"]);
    expect(xs(await lib.read("a"))).toEqual([1]);
    expect(xs(await lib.read("a/b"))).toEqual([3]);
    expect(xs(await lib.read("a/b", { asOf: 0 }))).toEqual([2]);
    expect((await lib.listVersions("a")).map((v) => v.version)).toEqual([0]);
    expect((await lib.listVersions()).map((v) => `${v.symbol}@${v.version}`)).toEqual([
      "a@0",
      "a.b@0",
      "a/0000000001@0",
      "a/b@1",
      "a/b@0",
      "fx\\EURUSD@0",
    ]);
    expect((await lib.getDescription("a/b")).rowCount).toBe(1);

    await lib.delete("a");
    expect(await lib.listSymbols()).toEqual(["a.b", "a/0000000001", "a/b", "fx\\EURUSD"]);
    expect(xs(await lib.read("a/b", { asOf: 0 }))).toEqual([2]);
    expect(await lib.hasSymbol("a")).toBe(false);
    expect((await lib.verify()).ok).toBe(true);
    await ac.close();
  });

  it("stages and finalizes one symbol without touching the chunks of 'a/b'", async () => {
    const ac = new Arctic(uri());
    const lib = await ac.createLibrary("lib");
    await lib.write("a", new DataFrame({ x: [1] }, { index: [day(0)] }), { staged: true });
    await lib.write("a/b", new DataFrame({ x: [2] }, { index: [day(1)] }), { staged: true });
    await lib.finalizeStagedData("a");
    expect(xs(await lib.read("a"))).toEqual([1]);
    await lib.finalizeStagedData("a/b");
    expect(xs(await lib.read("a/b"))).toEqual([2]);
    await ac.close();
  });

  it("takes, lists, reads and deletes snapshots whose names hold '/'", async () => {
    const ac = new Arctic(uri());
    const lib = await ac.createLibrary("lib");
    await lib.write("fx/EURUSD", { x: [1] });
    await lib.snapshot("eod", { metadata: "plain" });
    await lib.write("fx/EURUSD", { x: [2] });
    await lib.snapshot("eod/2024-01-02", { metadata: "slashed" });
    expect(await lib.listSnapshots()).toEqual({ eod: "plain", "eod/2024-01-02": "slashed" });
    expect(xs(await lib.read("fx/EURUSD", { asOf: "eod" }))).toEqual([1]);
    expect(xs(await lib.read("fx/EURUSD", { asOf: "eod/2024-01-02" }))).toEqual([2]);
    expect(await lib.listSymbols({ snapshot: "eod/2024-01-02" })).toEqual(["fx/EURUSD"]);
    await lib.deleteSnapshot("eod");
    expect(Object.keys(await lib.listSnapshots())).toEqual(["eod/2024-01-02"]);
    // Listed in name order, though a '/' is NUL in the keys and sorts before '-' there.
    await lib.snapshot("eod-late");
    expect(Object.keys(await lib.listSnapshots())).toEqual(["eod-late", "eod/2024-01-02"]);
    expect((await lib.listVersions("fx/EURUSD")).map((v) => v.snapshots)).toEqual([
      ["eod-late", "eod/2024-01-02"],
      [],
    ]);
    await ac.close();
  });

  it("keeps libraries 'team' and 'team/x' apart, through deleteLibrary too", async () => {
    const ac = new Arctic(uri());
    const team = await ac.createLibrary("team");
    const sub = await ac.createLibrary("team/x");
    await team.write("x/s", { x: [1] });
    await sub.write("s", { x: [2] });
    expect(await ac.listLibraries()).toEqual(["team", "team/x"]);
    expect(await team.listSymbols()).toEqual(["x/s"]);
    expect(await sub.listSymbols()).toEqual(["s"]);
    await ac.deleteLibrary("team");
    expect(await ac.listLibraries()).toEqual(["team/x"]);
    expect(xs(await (await ac.getLibrary("team/x")).read("s"))).toEqual([2]);
    await ac.close();
  });
});

/** Each way a name can be created, given the name. */
const creators: [string, (lib: Library, name: string) => Promise<unknown>][] = [
  ["write", (l, n) => l.write(n, { x: [1] })],
  ["staged write", (l, n) => l.write(n, { x: [1] }, { staged: true })],
  ["append", (l, n) => l.append(n, { x: [1] })],
  [
    "update with upsert",
    (l, n) => l.update(n, new DataFrame({ x: [1] }, { index: [day(0)] }), { upsert: true }),
  ],
  ["writeMetadata", (l, n) => l.writeMetadata(n, { m: 1 })],
  ["snapshot", (l, n) => l.snapshot(n)],
];

describe("names ArcticDB refuses", () => {
  const refused: [string, RegExp][] = [
    ["a*b", /'\*' \(U\+002A\)/],
    ["a<b", /'<' \(U\+003C\)/],
    ["a>b", /'>' \(U\+003E\)/],
    ["prefix\u001epostfix", /U\+001E/],
    ["prefix\u007fpostfix", /U\+007F/],
    ["prefix\u0080postfix", /U\+0080/],
    ["café", /'é' \(U\+00E9\)/],
    ["€", /'€' \(U\+20AC\)/],
    ["a\u00a0b", /the character U\+00A0/],
    ["l".repeat(255), /limit is 254/],
  ];

  it.each(creators)("are refused by %s, naming the character, and nothing is stored", async (_, create) => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib");
    await lib.write("other", { x: [0] });
    for (const [name, message] of refused) {
      const err = await rejectsWith(create(lib, name), "InvalidArgumentError");
      expect(err.message).toMatch(message);
    }
    expect(await lib.listSymbols()).toEqual(["other"]);
    expect(Object.keys(await lib.listSnapshots())).toEqual([]);
    await lib.write("l".repeat(254), { x: [1] }); // the longest allowed
    await ac.close();
  });

  it("are a DataError in writeBatch and appendBatch, the other items written", async () => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib");
    for (const call of ["writeBatch", "appendBatch"] as const) {
      const results = await lib[call]([
        { symbol: `${call}/ok`, data: { x: [1] } },
        { symbol: "bad*", data: { x: [1] } },
      ]);
      expect(results[0]).not.toBeInstanceOf(DataError);
      expect((results[1] as DataError).errorCode).toBe("InvalidArgumentError");
      expect((results[1] as DataError).message).toMatch(/'\*'/);
    }
    expect(await lib.listSymbols()).toEqual(["appendBatch/ok", "writeBatch/ok"]);
    await ac.close();
  });

  it("refuses library names as ArcticDB does, and keeps the list intact", async () => {
    const ac = new Arctic("mem://");
    const valid = ["lib", "lib/with/slash", "lib-with-dash", "lib.with.dot", "lib123"];
    for (const name of valid) await ac.createLibrary(name);
    const invalid = [
      "lib>",
      "lib<",
      "lib*",
      "/lib",
      "lib...lib",
      "lib.",
      ".lib",
      "a./b",
      "lib".repeat(100),
      "libé",
    ];
    for (const name of invalid) await rejectsWith(ac.createLibrary(name), "InvalidArgumentError");
    await rejectsWith(ac.getLibrary("lib*", { createIfMissing: true }), "InvalidArgumentError");
    expect(await ac.listLibraries()).toEqual([...valid].sort());
    await ac.close();
  });

  it("stay readable, writable and deletable where a store already holds them", async () => {
    // A store written by a release that took such names: made here by renaming a symbol's keys.
    const dir = tempDir();
    const ac = new Arctic(`lmdb://${dir}`);
    const lib = await ac.createLibrary("lib");
    await lib.write("old", { x: [1] });
    await lib.snapshot("snap");
    await ac.close();
    const legacy = "café*";
    const storage = new LmdbStorage({ path: dir });
    storage.writeTransaction((tx) => {
      for (const key of [...tx.keys("R:lib/old"), ...tx.keys("V:lib/old/"), ...tx.keys("N:lib/snap")]) {
        tx.put(key.replace("/old", `/${legacy}`).replace("/snap", "/snäp"), tx.get(key)!);
        tx.remove(key);
      }
    });
    storage.close();

    const again = new Arctic(`lmdb://${dir}`);
    const old = await again.getLibrary("lib");
    expect(await old.listSymbols()).toEqual([legacy]);
    expect(xs(await old.read(legacy))).toEqual([1]);
    expect(Object.keys(await old.listSnapshots())).toEqual(["snäp"]);
    await old.write(legacy, { x: [2] });
    await old.append(legacy, { x: [3] });
    expect(xs(await old.read(legacy))).toEqual([2, 3]);
    await old.delete(legacy);
    // Like ArcticDB (test_unhandled_chars_already_present_on_deleted_symbol): still known, so writable.
    await old.write(legacy, { x: [4] });
    expect(xs(await old.read(legacy))).toEqual([4]);
    await old.deleteSnapshot("snäp");
    await rejectsWith(old.write("café", { x: [1] }), "InvalidArgumentError");
    await again.close();
  });
});
