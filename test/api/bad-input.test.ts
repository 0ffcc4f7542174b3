import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { open } from "lmdb";
import { describe, expect, it } from "vitest";
import { Arctic, DataFrame, type Library } from "../../runtimes/node.ts";
import { tempDir } from "../helpers.ts";

// Issue 7, item 1: every entry point answers bad input with a typed error whose message says what to
// do, and the store is byte-for-byte unchanged afterwards. The "Bad input" table of docs/reliability.md lists these.

type Case = [label: string, code: string, message: RegExp, call: (lib: Library, ac: Arctic) => unknown];

const circular: Record<string, unknown> = {};
circular.self = circular;
const day = (d: number) => new Date(Date.UTC(2024, 0, d));

const cases: Case[] = [
  [
    "data that is not a frame",
    "InvalidArgumentError",
    /DataFrame or a record/,
    (l) => l.write("s", 42 as never),
  ],
  [
    "columns of different lengths",
    "InvalidArgumentError",
    /length/,
    (l) => l.write("s", { a: [1, 2], b: [1] }),
  ],
  [
    "an index of the wrong length",
    "InvalidArgumentError",
    /index/,
    (l) => l.write("s", new DataFrame({ a: [1, 2] }, { index: [day(1)] })),
  ],
  [
    "a NaN timestamp",
    "InvalidArgumentError",
    /Invalid Date|not a valid|NaN/i,
    (l) => l.write("s", new DataFrame({ a: [1] }, { index: [new Date(Number.NaN)] })),
  ],
  [
    "unsorted timestamps in an append",
    "UnsortedIndexError",
    /ascending/,
    (l) => l.append("ts", new DataFrame({ a: [1, 2] }, { index: [day(9), day(8)] })),
  ],
  ["an empty symbol name", "InvalidArgumentError", /empty/, (l) => l.write("", { a: [1] })],
  [
    "an over-long symbol name",
    "InvalidArgumentError",
    /limit is 254/,
    (l) => l.write("x".repeat(255), { a: [1] }),
  ],
  ["a '*' in a name", "InvalidArgumentError", /'\*'/, (l) => l.write("a*b", { a: [1] })],
  ["a NUL in a name", "InvalidArgumentError", /NUL/, (l) => l.write("a\0b", { a: [1] })],
  [
    "a name that is not valid Unicode",
    "InvalidArgumentError",
    /surrogate/,
    (l) => l.write("a\ud800", { a: [1] }),
  ],
  ["a name that is not a string", "InvalidArgumentError", /must be a string/, (l) => l.read(7 as never)],
  [
    "metadata msgpack cannot encode (a function)",
    "InvalidArgumentError",
    /metadata/i,
    (l) => l.write("s", { a: [1] }, { metadata: { f: () => 1 } }),
  ],
  [
    "circular metadata",
    "InvalidArgumentError",
    /metadata/i,
    (l) => l.write("s", { a: [1] }, { metadata: circular }),
  ],
  [
    "an unknown option",
    "InvalidArgumentError",
    /unknown option 'asof'/,
    (l) => l.read("ts", { asof: 0 } as never),
  ],
  ["a version that does not exist", "VersionNotFoundError", /no version 9/, (l) => l.read("ts", { asOf: 9 })],
  [
    "a snapshot that does not exist",
    "SnapshotNotFoundError",
    /listSnapshots/,
    (l) => l.read("ts", { asOf: "nope" }),
  ],
  ["a symbol that does not exist", "SymbolNotFoundError", /listSymbols/, (l) => l.read("nope")],
  [
    "a library that does not exist",
    "LibraryNotFoundError",
    /createLibrary/,
    (_, ac) => ac.getLibrary("nope"),
  ],
  ["a library that exists", "LibraryExistsError", /getLibrary/, (_, ac) => ac.createLibrary("lib")],
  ["a snapshot name taken", "SnapshotExistsError", /already exists/, (l) => l.snapshot("snap")],
  [
    "a bad rowRange",
    "InvalidArgumentError",
    /rowRange/,
    (l) => l.read("ts", { rowRange: [5, "2"] as never }),
  ],
  [
    "a dateRange on a row index",
    "InvalidArgumentError",
    /rowRange/,
    (l) => l.read("rows", { dateRange: [null, null] }),
  ],
  [
    "a column that is not stored",
    "InvalidArgumentError",
    /not stored/,
    (l) => l.read("ts", { columns: ["zz"] }),
  ],
  [
    "a schema that does not match",
    "SchemaMismatchError",
    /dynamicSchema/,
    (l) => l.append("ts", new DataFrame({ b: [1] }, { index: [day(3)] })),
  ],
  [
    "update without a timestamp index",
    "InvalidArgumentError",
    /timestamp index/,
    (l) => l.update("ts", { a: [1] }),
  ],
];

/** Every key and value of the store, to prove a failed call changed nothing. */
function fingerprint(path: string): string {
  const raw = open<Uint8Array, string>({ path, encoding: "binary", noSubdir: false });
  const parts: string[] = [];
  for (const { key, value } of raw.getRange({}))
    parts.push(`${key}=${Buffer.from(value).toString("base64")}`);
  raw.close();
  return parts.join("\n");
}

describe("bad input", () => {
  it.each(cases)("%s → %s, store unchanged", async (_label, code, message, call) => {
    const path = join(tempDir(), "bad.lmdb");
    const ac = new Arctic(`lmdb://${path}`, { workers: 0 });
    const lib = await ac.createLibrary("lib");
    await lib.write("ts", new DataFrame({ a: [1, 2] }, { index: [day(1), day(2)] }), { metadata: { m: 1 } });
    await lib.write("rows", { a: [1, 2, 3] });
    await lib.snapshot("snap");
    const before = fingerprint(path);
    let caught: (Error & { code?: string }) | undefined;
    try {
      await call(lib, ac);
    } catch (err) {
      caught = err as Error & { code?: string };
    }
    expect(caught, "the call must fail").toBeDefined();
    expect(caught?.code).toBe(code);
    expect(caught?.message).toMatch(message);
    expect(fingerprint(path)).toBe(before);
    await ac.close();
  });

  it("lmdb:// on a file that is not an LMDB store fails with StorageError", () => {
    const dir = tempDir();
    const file = join(dir, "not-a-store");
    writeFileSync(join(dir, "data.mdb"), "this is not lmdb ".repeat(1000));
    expect(() => new Arctic(`lmdb://${dir}`)).toThrow(/LMDB|lmdb/);
    writeFileSync(file, "plain file");
    expect(() => new Arctic(`lmdb://${file}`)).toThrow(/directory/);
  });
});
