import { createWriteStream, readFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import {
  type RecordBatch,
  RecordBatchReader,
  RecordBatchStreamWriter,
  Table,
  tableFromIPC,
  tableToIPC,
} from "apache-arrow";
import { afterEach, describe, expect, it } from "vitest";
import { Arctic, col, DataFrame, type Library, QueryBuilder } from "../../runtimes/node.ts";
import {
  fromArrow,
  pipeArrowStream,
  readRecordBatches,
  toArrow,
  writeRecordBatches,
} from "../../src/arrow/index.ts";
import { rejectsWith, tempDir } from "../helpers.ts";

// floe/arrow's record-batch streams: readRecordBatches (a version as Arrow batches, chunk by chunk),
// pipeArrowStream (a version as an IPC stream into a Node or web stream) and writeRecordBatches (one
// version from a stream of batches), on mem:// and real LMDB files.

const NAT = -(2n ** 63n);
const T0 = 1_704_067_200_000_000_000n; // 2024-01-01
const SEC = 1_000_000_000n;

const opened: Arctic[] = [];
afterEach(async () => {
  for (const ac of opened.splice(0)) await ac.close();
});

async function library(kind: "mem" | "lmdb", rowsPerSegment = 100): Promise<Library> {
  const ac = new Arctic(kind === "mem" ? "mem://" : `lmdb://${join(tempDir(), "rb")}`, { workers: 0 });
  opened.push(ac);
  return ac.createLibrary("lib", { rowsPerSegment, columnsPerSegment: 3 });
}

/** Rows of every dtype, with NaN, NaT, null and non-ASCII strings, a zoned timestamp index. */
function frame(rows: number, from = 0): DataFrame {
  const at = (i: number) => from + i;
  return new DataFrame(
    {
      f64: Float64Array.from({ length: rows }, (_, i) => (at(i) % 11 === 0 ? Number.NaN : at(i) / 4)),
      f32: Float32Array.from({ length: rows }, (_, i) => at(i) / 2),
      i8: Int8Array.from({ length: rows }, (_, i) => (at(i) % 200) - 100),
      i32: Int32Array.from({ length: rows }, (_, i) => at(i) * 7 - 1000),
      i64: BigInt64Array.from({ length: rows }, (_, i) => BigInt(at(i)) * 1_000_000_007n - 5n),
      u16: Uint16Array.from({ length: rows }, (_, i) => at(i) % 65536),
      u64: BigUint64Array.from({ length: rows }, (_, i) => 2n ** 63n + BigInt(at(i))),
      ok: Array.from({ length: rows }, (_, i) => at(i) % 3 === 0),
      name: Array.from({ length: rows }, (_, i) =>
        at(i) % 5 === 0 ? null : at(i) % 7 === 0 ? `é${at(i)}→` : `n${at(i)}`,
      ),
      seen: BigInt64Array.from({ length: rows }, (_, i) =>
        at(i) % 13 === 0 ? NAT : T0 + BigInt(at(i)) * 7n,
      ),
    },
    {
      index: {
        name: "time",
        values: BigInt64Array.from({ length: rows }, (_, i) => T0 + BigInt(at(i)) * SEC),
        tz: "America/New_York",
      },
    },
  );
}

async function batchesOf(it: AsyncIterable<RecordBatch>): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

/** The Arrow schema's fields in words (names, types, zones, nullability) and its metadata. */
function schemaWords(table: { schema: Table["schema"] }): string {
  const fields = table.schema.fields.map(
    (f) => `${f.name}:${f.type}:${(f.type as { timezone?: string }).timezone ?? ""}:${f.nullable}`,
  );
  return `${fields.join(",")} ${JSON.stringify([...table.schema.metadata])}`;
}

for (const kind of ["mem", "lmdb"] as const) {
  describe(`readRecordBatches on ${kind}://`, () => {
    it("gives batches that together are the whole read, every dtype, one schema", async () => {
      const lib = await library(kind);
      const df = frame(1000);
      await lib.write("s", df);
      const batches = await batchesOf(readRecordBatches(lib, "s", { chunkRows: 250 }));
      expect(batches.map((b) => b.numRows)).toEqual([200, 200, 200, 200, 200]); // cut at segment ends
      for (const b of batches) expect(schemaWords(b)).toBe(schemaWords(batches[0]));
      const whole = toArrow((await lib.read("s")).data!);
      const table = new Table(batches);
      expect(schemaWords(table)).toBe(schemaWords(whole));
      expect(table.schema.metadata.get("floe:index")).toBe("time");
      const back = fromArrow(table);
      expect(back.equals(df)).toBe(true);
      expect(back.index.kind === "timestamp" && back.index.tz).toBe("America/New_York");
      // The same bytes as the whole read's Arrow table, once written as IPC.
      expect(tableFromIPC(tableToIPC(table)).toArray().map(String)).toEqual(whole.toArray().map(String));
      // A default chunk is a segment; chunkBytes bounds it by size.
      expect((await batchesOf(readRecordBatches(lib, "s"))).length).toBe(10);
      const small = await batchesOf(readRecordBatches(lib, "s", { chunkBytes: 2000 }));
      expect(small.length).toBeGreaterThan(10);
      expect(fromArrow(new Table(small)).equals(df)).toBe(true);
    });

    it("takes iterate's options: dateRange, rowRange, columns, query, asOf", async () => {
      const lib = await library(kind);
      const df = frame(700);
      await lib.write("s", df);
      await lib.append("s", frame(300, 700));
      const cases = [
        { dateRange: [T0 + 150n * SEC, T0 + 820n * SEC] as [bigint, bigint], columns: ["name", "f64"] },
        { rowRange: [33, 777] as [number, number], columns: ["seen"] },
        { query: new QueryBuilder().filter(col("i32").gt(2000)).apply("x", col("f32").mul(2)) },
        { asOf: 0, columns: ["u64", "ok"] },
      ];
      for (const options of cases) {
        const batches = await batchesOf(readRecordBatches(lib, "s", { ...options, chunkRows: 90 }));
        const whole = (await lib.read("s", options)).data!;
        expect(batches.length).toBeGreaterThan(1);
        const table = new Table(batches);
        expect(schemaWords(table)).toBe(schemaWords(toArrow(whole)));
        expect(fromArrow(table).equals(whole)).toBe(true);
      }
    });

    it("stops reading when the loop breaks, and gives one empty batch when no rows are selected", async () => {
      const lib = await library(kind, 10);
      await lib.write("s", frame(5000));
      // Count the chunk reads: two batches taken, one read ahead, nothing after.
      let reads = 0;
      const inner = lib as unknown as { readWith: (...args: unknown[]) => Promise<unknown> };
      const readWith = inner.readWith.bind(lib);
      inner.readWith = (...args) => {
        reads++;
        return readWith(...args);
      };
      let n = 0;
      for await (const batch of readRecordBatches(lib, "s")) {
        expect(batch.numRows).toBe(10);
        if (++n === 2) break;
      }
      expect(n).toBe(2);
      await new Promise((r) => setTimeout(r, 50));
      expect(reads).toBe(3);
      // Nothing left running: the store closes at once.
      const closing = performance.now();
      await opened.pop()!.close();
      expect(performance.now() - closing).toBeLessThan(2000);

      const lib2 = await library(kind, 10);
      await lib2.write("s", frame(50));
      const none = await batchesOf(
        readRecordBatches(lib2, "s", { dateRange: [T0 + 1000n * SEC, null], columns: ["name"] }),
      );
      expect(none.map((b) => b.numRows)).toEqual([0]);
      expect(none[0].schema.fields.map((f) => f.name)).toEqual(["time", "name"]);
      const filtered = await batchesOf(
        readRecordBatches(lib2, "s", { query: new QueryBuilder().filter(col("f32").lt(-1)) }),
      );
      expect(filtered.map((b) => b.numRows)).toEqual([0]);
      const [first] = await batchesOf(readRecordBatches(lib2, "s"));
      expect(schemaWords(filtered[0])).toBe(schemaWords(first));
      // A row-numbered symbol has no index column.
      await lib2.write("rows", new DataFrame({ v: [1, 2, 3] }));
      const rows = await batchesOf(readRecordBatches(lib2, "rows"));
      expect(rows[0].schema.fields.map((f) => f.name)).toEqual(["v"]);
      // Bad arguments throw at the call, as iterate's do.
      expect(() => readRecordBatches(lib2, "s", { chunkRows: 0 })).toThrow(/chunkRows/);
      expect(() => readRecordBatches({} as Library, "s")).toThrow(/floe Library/);
      // A missing symbol: at the call (a local store knows at once) or at the first batch (S3).
      await rejectsWith((async () => batchesOf(readRecordBatches(lib2, "nope")))(), "SymbolNotFoundError");
    });
  });
}

describe("pipeArrowStream", () => {
  it("writes a version as an Arrow IPC stream to a file, a Node stream and a web stream", async () => {
    const lib = await library("lmdb");
    const df = frame(1000);
    await lib.write("s", df);
    const file = join(tempDir(), "s.arrows");
    const result = await pipeArrowStream(lib, "s", createWriteStream(file), { chunkRows: 300 });
    const bytes = readFileSync(file);
    expect(result).toEqual({ rows: 1000, batches: 4, bytes: bytes.length }); // 300 rows, cut at segment ends
    const table = tableFromIPC(bytes);
    expect(table.batches.map((b) => b.numRows)).toEqual([300, 300, 300, 100]);
    expect(fromArrow(table).equals(df)).toBe(true);
    // apache-arrow's incremental reader takes it back batch by batch.
    const reader = await RecordBatchReader.from(
      (async function* () {
        for (let at = 0; at < bytes.length; at += 4096) yield bytes.subarray(at, at + 4096);
      })(),
    );
    expect((await batchesOf(reader)).length).toBe(4);

    // A web WritableStream; end: false leaves it open.
    const pieces: Uint8Array[] = [];
    const web = new WritableStream<Uint8Array>({ write: (p) => void pieces.push(p.slice()) });
    await pipeArrowStream(lib, "s", web, { columns: ["name"], end: false });
    const writer = web.getWriter(); // the lock was released
    await writer.close();
    const web1 = tableFromIPC(Buffer.concat(pieces));
    expect(fromArrow(web1).equals((await lib.read("s", { columns: ["name"] })).data!)).toBe(true);
  });

  it("waits for a slow sink, and a failing sink stops the read and is the error", async () => {
    const lib = await library("mem", 50);
    await lib.write("s", frame(3000));
    let most = 0;
    const slow = new Writable({
      highWaterMark: 16 * 1024,
      write(_chunk, _enc, done) {
        most = Math.max(most, slow.writableLength);
        setTimeout(done, 1);
      },
    });
    const result = await pipeArrowStream(lib, "s", slow);
    expect(result.batches).toBe(60);
    // Never more queued than the high-water mark and one batch's bytes.
    expect(most).toBeLessThan(16 * 1024 + result.bytes / 60 + 4096);
    expect(slow.writableFinished).toBe(true);

    let writes = 0;
    const failing = new Writable({
      write(_chunk, _enc, done) {
        done(++writes === 3 ? new Error("disk full") : undefined);
      },
    });
    await expect(pipeArrowStream(lib, "s", failing)).rejects.toThrow(/disk full/);
    expect(failing.destroyed).toBe(true);
    await rejectsWith(pipeArrowStream(lib, "s", {} as never), "InvalidArgumentError");
    await rejectsWith(pipeArrowStream(lib, "nope", new Writable()), "SymbolNotFoundError");
  });
});

describe("writeRecordBatches", () => {
  it("makes one version from an IPC stream reader of many batches, a ReadableStream, a Table", async () => {
    const lib = await library("lmdb", 128);
    const df = frame(2000);
    const writer = new RecordBatchStreamWriter();
    // Batches of uneven sizes, 1 to 97 rows.
    const all = toArrow(df);
    for (let at = 0, i = 0; at < 2000; i++) {
      const n = Math.min(2000 - at, 1 + ((i * 37) % 97));
      writer.write(all.slice(at, at + n).batches[0]);
      at += n;
    }
    writer.finish();
    const ipc = await writer.toUint8Array();
    const reader = await RecordBatchReader.from(
      (async function* () {
        for (let at = 0; at < ipc.length; at += 1000) yield ipc.subarray(at, at + 1000);
      })(),
    );
    const item = await writeRecordBatches(lib, "s", reader, { metadata: { from: "ipc" } });
    expect(item.rows).toBe(2000);
    expect(item.version).toBe(0);
    const back = await lib.read("s");
    expect(back.data!.equals(df)).toBe(true);
    expect(back.metadata).toEqual({ from: "ipc" });
    // Gathered into full segments of 128 rows, not one per batch.
    const desc = await lib.getDescription("s");
    expect(desc.rowCount).toBe(2000);
    expect(desc.averageRowsPerSegment).toBeGreaterThan(120);

    // A copy, batch by batch, from another symbol; then appended to.
    await writeRecordBatches(lib, "copy", readRecordBatches(lib, "s", { chunkRows: 300 }));
    expect((await lib.read("copy")).data!.equals(df)).toBe(true);
    const more = new ReadableStream<RecordBatch>({
      start(c) {
        c.enqueue(toArrow(frame(10, 2000)).batches[0]);
        c.close();
      },
    });
    expect((await writeRecordBatches(lib, "copy", more, { mode: "append" })).version).toBe(1);
    expect((await lib.read("copy")).data!.numRows).toBe(2010);
    await writeRecordBatches(lib, "table", toArrow(df));
    expect((await lib.read("table")).data!.equals(df)).toBe(true);

    // An empty stream's reader stores its columns and no rows.
    const empty = new RecordBatchStreamWriter();
    empty.write(new Table(toArrow(frame(0)).schema));
    empty.finish();
    const emptyReader = await RecordBatchReader.from(await empty.toUint8Array());
    expect((await writeRecordBatches(lib, "empty", emptyReader)).rows).toBe(0);
    expect((await lib.read("empty")).data!.columnNames).toEqual(df.columnNames);
  });

  it("commits nothing when the source throws or a batch cannot be stored", async () => {
    const lib = await library("lmdb", 100);
    const df = frame(500);
    await lib.write("s", df);
    async function* broken() {
      yield toArrow(frame(300)).batches[0];
      yield toArrow(frame(300, 300)).batches[0];
      throw new Error("connection reset");
    }
    await expect(writeRecordBatches(lib, "s", broken())).rejects.toThrow(/connection reset/);
    async function* backwards() {
      yield toArrow(frame(300, 300)).batches[0];
      yield toArrow(frame(300)).batches[0];
    }
    await rejectsWith(writeRecordBatches(lib, "s", backwards()), "UnsortedIndexError");
    await rejectsWith(writeRecordBatches(lib, "s", [1, 2] as never), "InvalidArgumentError");
    await rejectsWith(writeRecordBatches(lib, "s", (async function* () {})()), "InvalidArgumentError");
    await rejectsWith(writeRecordBatches(lib, "s", [], { mode: "update" as never }), "InvalidArgumentError");
    const versions = await lib.listVersions("s");
    expect(versions.map((v) => v.version)).toEqual([0]);
    expect((await lib.read("s")).data!.equals(df)).toBe(true);
  });
});
