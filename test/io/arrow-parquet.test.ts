import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { RecordBatchStreamWriter, Table, tableFromArrays, tableFromIPC, tableToIPC } from "apache-arrow";
import * as parquet from "parquet-wasm";
import { describe, expect, it } from "vitest";
import { Arctic, DataFrame, type Library } from "../../runtimes/node.ts";
import {
  exportArrow,
  exportFile,
  exportParquet,
  importArrow,
  importFile,
  importParquet,
  type TransferProgress,
} from "../../runtimes/node-io.ts";
import { toArrow } from "../../src/arrow/index.ts";
import { rejectsWith, tempDir } from "../helpers.ts";

// Arrow IPC and Parquet import and export through floe/io: both IPC formats, streamed in pieces, in
// chunks of rows, several Parquet row groups, files on disk, and typed errors for bad input.

const T0 = 1_704_067_200_000_000_000n;

function frame(rows: number, from = 0): DataFrame {
  const index = new BigInt64Array(rows).map((_, i) => T0 + BigInt(from + i) * 1_000_000_000n);
  return new DataFrame(
    {
      price: new Float64Array(rows).map((_, i) => 100 + (from + i) / 8),
      qty: new BigInt64Array(rows).map((_, i) => BigInt(from + i) - 5n),
      ok: Array.from({ length: rows }, (_, i) => (from + i) % 2 === 0),
      venue: Array.from({ length: rows }, (_, i) => ((from + i) % 3 === 0 ? null : `v${(from + i) % 7}`)),
    },
    { index: { name: "time", values: index } },
  );
}

async function bytes(
  chunks: AsyncIterable<Uint8Array>,
): Promise<{ all: Uint8Array<ArrayBuffer>; pieces: number }> {
  const list: Uint8Array[] = [];
  for await (const c of chunks) list.push(c);
  const all = new Uint8Array(list.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of list) {
    all.set(c, at);
    at += c.byteLength;
  }
  return { all, pieces: list.length };
}

async function store(): Promise<{ ac: Arctic; lib: Library }> {
  const ac = new Arctic("mem://", { workers: 0 });
  return { ac, lib: await ac.createLibrary("lib", { rowsPerSegment: 250 }) };
}

describe("Arrow IPC", () => {
  it("exports a batch per chunk, in the file and stream formats, and imports them back", async () => {
    const { ac, lib } = await store();
    const df = frame(1000);
    await lib.write("s", df);
    const seen: TransferProgress[] = [];
    const file = await bytes(exportArrow(lib, "s", { chunkRows: 300, onProgress: (p) => seen.push(p) }));
    expect(file.pieces).toBeGreaterThan(4); // bytes leave as each chunk is written
    const table = tableFromIPC(file.all);
    expect(table.batches.map((b) => b.numRows)).toEqual([300, 300, 300, 100]);
    expect(seen.map((p) => p.rowsDone)).toEqual([300, 600, 900, 1000, 1000]);
    expect(seen.at(-1)).toEqual({
      bytesDone: file.all.byteLength,
      bytesTotal: file.all.byteLength,
      rowsDone: 1000,
      rowsTotal: 1000,
    });
    const stream = await bytes(
      exportArrow(lib, "s", { format: "stream", columns: ["qty"], dateRange: [T0 + 10_000_000_000n, null] }),
    );
    expect(tableFromIPC(stream.all).numRows).toBe(990);
    // Import from the bytes, and from many small pieces as a network stream delivers them.
    const a = await importArrow(lib, "a", file.all, { chunkRows: 400 });
    expect(a).toMatchObject({ version: 0, rows: 1000 });
    expect((await lib.read("a")).data!.equals(df)).toBe(true);
    async function* pieces() {
      for (let at = 0; at < stream.all.length; at += 777) yield stream.all.subarray(at, at + 777);
    }
    await importArrow(lib, "b", pieces());
    const b = (await lib.read("b")).data!;
    expect(b.numRows).toBe(990);
    expect(b.columnNames).toEqual(["qty"]);
    await ac.close();
  });

  it("imports a foreign table without floe metadata, choosing the index, and an empty table", async () => {
    const { ac, lib } = await store();
    const foreign = tableFromArrays({ ts: new BigInt64Array([1n, 2n]), v: new Float64Array([1, 2]) });
    await importArrow(lib, "rows", tableToIPC(foreign));
    expect((await lib.read("rows")).data!.index.kind).toBe("row");
    const writer = new RecordBatchStreamWriter();
    writer.write(new Table(toArrow(frame(0)).schema));
    writer.finish();
    const empty = await writer.toUint8Array();
    expect((await importArrow(lib, "empty", empty)).rows).toBe(0);
    expect((await lib.read("empty")).data!.columnNames).toEqual(["price", "qty", "ok", "venue"]);
    await rejectsWith(
      importArrow(lib, "x", new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])),
      "InvalidArgumentError",
    );
    await rejectsWith(importArrow(lib, "x", tableToIPC(foreign), { index: "v" }), "InvalidArgumentError");
    await rejectsWith(importArrow(lib, "x", 42 as never), "InvalidArgumentError");
    expect(await lib.hasSymbol("x")).toBe(false);
    await rejectsWith(
      bytes(exportArrow(lib, "rows", { format: "feather" as "file" })),
      "InvalidArgumentError",
    );
    await rejectsWith(bytes(exportArrow(lib, "nope")), "SymbolNotFoundError");
    await ac.close();
  });
});

describe("Parquet", () => {
  it("exports a row group per chunk and imports them back, from bytes and from a Blob", async () => {
    const { ac, lib } = await store();
    const df = frame(1000);
    await lib.write("s", df);
    const out = await bytes(exportParquet(lib, "s", { chunkRows: 400, compression: "zstd" }));
    const file = await parquet.ParquetFile.fromFile(new Blob([out.all]));
    expect(file.metadata().numRowGroups()).toBe(3);
    file.free();
    const seen: TransferProgress[] = [];
    const item = await importParquet(lib, "p", out.all, { onProgress: (p) => seen.push(p) });
    expect(item).toMatchObject({ version: 0, rows: 1000 });
    expect(seen.map((p) => p.rowsDone)).toEqual([400, 800, 1000, 1000]);
    expect(seen[0].rowsTotal).toBe(1000);
    expect((await lib.read("p")).data!.equals(df)).toBe(true);
    await importParquet(lib, "p", new Blob([out.all]), { mode: "append", index: null }).then(
      () => expect.unreachable(),
      (err) => expect(err.code).toBe("SchemaMismatchError"), // without its index the schema differs
    );
    expect((await lib.listVersions("p")).length).toBe(1);
    // A file written by another tool (parquet-wasm from an Arrow table) imports with rows numbered.
    const foreign = parquet.writeParquet(
      parquet.Table.fromIPCStream(tableToIPC(tableFromArrays({ x: new Int32Array([4, 5]) }), "stream")),
    );
    await importParquet(lib, "f", foreign);
    expect([...((await lib.read("f")).data!.column("x") as Int32Array)]).toEqual([4, 5]);
    await rejectsWith(importParquet(lib, "x", new Uint8Array([1, 2, 3])), "InvalidArgumentError");
    await rejectsWith(importParquet(lib, "x", "a,b" as never), "InvalidArgumentError");
    await rejectsWith(
      bytes(exportParquet(lib, "s", { compression: "zip" as "gzip" })),
      "InvalidArgumentError",
    );
    await ac.close();
  });
});

describe("a damaged Parquet file", () => {
  it("is an InvalidArgumentError naming the row group, and the process goes on working", async () => {
    // parquet-wasm's streaming reader panics on a damaged page inside a microtask: the Wasm trap
    // escaped every try/catch as an uncaught exception (the import never settled, the CLI died).
    const { ac, lib } = await store();
    const df = frame(20_000);
    await lib.write("s", df);
    const good = (await bytes(exportParquet(lib, "s", { chunkRows: 5000 }))).all;
    const errors: string[] = [];
    for (let k = 1; k < 16; k++) {
      const bad = Uint8Array.from(good);
      const at = Math.floor((good.length * k) / 24);
      for (let i = at; i < at + 16; i++) bad[i] ^= 0xa5;
      try {
        await importParquet(lib, `bad${k}`, bad);
      } catch (err) {
        expect((err as { code?: string }).code, String(err)).toBe("InvalidArgumentError");
        errors.push((err as Error).message);
        expect(await lib.hasSymbol(`bad${k}`)).toBe(false);
      }
    }
    // Damage the values of a page and the bytes still decode (Parquet pages have no checksum unless
    // the writer adds one), but a damaged page header or compressed stream does not.
    expect(errors.length).toBeGreaterThan(3);
    expect(errors[0]).toMatch(
      /^importParquet: the Parquet file is damaged: row group [0-3] \(of 4\) does not decode \(.+\)\. Nothing was imported/,
    );
    expect(errors.join("\n")).toMatch(/row group [1-3] \(of 4\)/);
    // Still working: parquet-wasm reads and writes after the damaged files.
    expect((await importParquet(lib, "again", good)).rows).toBe(20_000);
    expect((await lib.read("again")).data!.equals(df)).toBe(true);
    expect((await bytes(exportParquet(lib, "again"))).all.byteLength).toBeGreaterThan(0);
    await ac.close();
  });
});

describe("importFile / exportFile", () => {
  it("picks the format from the extension and leaves no partial file when an export fails", async () => {
    const dir = tempDir();
    const ac = new Arctic(`lmdb://${join(dir, "s.lmdb")}`, { workers: 0 });
    const lib = await ac.createLibrary("lib");
    await lib.write("s", frame(50));
    for (const name of ["a.csv", "a.tsv", "a.arrow", "a.arrows", "a.parquet"]) {
      const { bytes: n } = await exportFile(lib, "s", join(dir, name));
      expect(n).toBe(readFileSync(join(dir, name)).byteLength);
      const back = await importFile(lib, name, join(dir, name), name.endsWith("sv") ? { index: "time" } : {});
      expect(back.rows).toBe(50);
      expect((await lib.read(name)).data!.equals(await lib.read("s").then((r) => r.data)), name).toBe(true);
    }
    expect(readFileSync(join(dir, "a.tsv"), "utf8").split("\n")[0]).toBe("time\tprice\tqty\tok\tvenue");
    await rejectsWith(exportFile(lib, "nope", join(dir, "b.csv")), "SymbolNotFoundError");
    expect(readdirSync(dir).filter((f) => f.startsWith("b.csv"))).toEqual([]);
    await rejectsWith(importFile(lib, "x", join(dir, "missing.csv")), "InvalidArgumentError");
    await rejectsWith(importFile(lib, "x", dir, { format: "csv" }), "InvalidArgumentError");
    writeFileSync(join(dir, "data.json"), "{}");
    await rejectsWith(importFile(lib, "x", join(dir, "data.json")), "InvalidArgumentError");
    await rejectsWith(
      importFile(lib, "x", join(dir, "a.csv"), { format: "xlsx" as "csv" }),
      "InvalidArgumentError",
    );
    expect(existsSync(join(dir, "b.csv"))).toBe(false);
    await ac.close();
  });
  it("writes through a symlink and never replaces a FIFO, a device or a directory", async () => {
    const dir = tempDir();
    const ac = new Arctic("mem://", { workers: 0 });
    const lib = await ac.createLibrary("lib");
    await lib.write("s", frame(5));
    writeFileSync(join(dir, "real.csv"), "old\n");
    chmodSync(join(dir, "real.csv"), 0o640);
    symlinkSync("real.csv", join(dir, "link.csv"));
    symlinkSync("new.csv", join(dir, "dangling.csv"));
    const { bytes: n } = await exportFile(lib, "s", join(dir, "link.csv"));
    await exportFile(lib, "s", join(dir, "dangling.csv"));
    expect(lstatSync(join(dir, "link.csv")).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(dir, "dangling.csv")).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, "real.csv")).byteLength).toBe(n);
    expect(statSync(join(dir, "real.csv")).mode & 0o777).toBe(0o640); // the file's mode is kept
    expect(readFileSync(join(dir, "new.csv")).byteLength).toBe(n);
    symlinkSync("/dev/null", join(dir, "null.csv"));
    mkdirSync(join(dir, "dir.csv"));
    const refused = ["null.csv", "dir.csv"];
    if (process.platform !== "win32") {
      execFileSync("mkfifo", [join(dir, "fifo.csv")]);
      refused.push("fifo.csv");
    }
    for (const name of refused) {
      const err = await rejectsWith(exportFile(lib, "s", join(dir, name)), "InvalidArgumentError");
      expect(err.message).toMatch(/: it is (a device|a directory|a pipe \(FIFO\)), not a regular file\./);
    }
    expect(lstatSync(join(dir, "null.csv")).isSymbolicLink()).toBe(true);
    expect(statSync(join(dir, "dir.csv")).isDirectory()).toBe(true);
    if (refused.includes("fifo.csv")) expect(lstatSync(join(dir, "fifo.csv")).isFIFO()).toBe(true);
    expect(readdirSync(dir).filter((f) => f.includes("partial"))).toEqual([]);
    await ac.close();
  });
});
