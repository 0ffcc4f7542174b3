import { openAsBlob, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import {
  Dictionary,
  Int32,
  Message,
  MetadataVersion,
  RecordBatchFileWriter,
  RecordBatchStreamWriter,
  Table,
  tableFromIPC,
  Utf8,
  vectorFromArray,
} from "apache-arrow";
import { FileBlock, Footer } from "apache-arrow/ipc/metadata/file";
import * as parquet from "parquet-wasm";
import { afterEach, describe, expect, it } from "vitest";
import { Arctic, DataFrame, type Library } from "../../runtimes/node.ts";
import { importArrow, importFile } from "../../runtimes/node-io.ts";
import { toArrow } from "../../src/arrow/index.ts";
import { rejectsWith, tempDir } from "../helpers.ts";

// importArrow from Arrow IPC read incrementally: a stream of many batches from a Node stream, a web
// stream or any async iterable of pieces; the file format read by its footer or, streamed, in order;
// and every way of being cut short or damaged is an InvalidArgumentError saying what is wrong, with
// the symbol left as it was.

const NAT = -(2n ** 63n);
const T0 = 1_704_067_200_000_000_000n;
const SEC = 1_000_000_000n;

const opened: Arctic[] = [];
afterEach(async () => {
  for (const ac of opened.splice(0)) await ac.close();
});

async function library(kind: "mem" | "lmdb"): Promise<Library> {
  const ac = new Arctic(kind === "mem" ? "mem://" : `lmdb://${join(tempDir(), "imp")}`, { workers: 0 });
  opened.push(ac);
  return ac.createLibrary("lib", { rowsPerSegment: 500 });
}

function frame(rows: number): DataFrame {
  return new DataFrame(
    {
      px: Float64Array.from({ length: rows }, (_, i) => (i % 17 === 0 ? Number.NaN : 100 + i / 8)),
      qty: BigInt64Array.from({ length: rows }, (_, i) => BigInt(i) - 50n),
      small: Int16Array.from({ length: rows }, (_, i) => i % 3000),
      ok: Array.from({ length: rows }, (_, i) => i % 2 === 0),
      venue: Array.from({ length: rows }, (_, i) =>
        i % 4 === 0 ? null : i % 9 === 0 ? `ü${i}` : `v${i % 7}`,
      ),
      seen: BigInt64Array.from({ length: rows }, (_, i) => (i % 23 === 0 ? NAT : T0 - BigInt(i))),
    },
    {
      index: {
        name: "time",
        values: BigInt64Array.from({ length: rows }, (_, i) => T0 + BigInt(i) * SEC),
        tz: "Europe/London",
      },
    },
  );
}

/** `table` as an IPC stream of batches of uneven sizes (1 to `most` rows). */
async function ipcStream(table: Table, most: number): Promise<Uint8Array> {
  const writer = new RecordBatchStreamWriter();
  for (let at = 0, i = 0; at < table.numRows; i++) {
    const n = Math.min(table.numRows - at, 1 + ((i * 7919) % most));
    writer.write(table.slice(at, at + n).batches[0]);
    at += n;
  }
  writer.finish();
  return writer.toUint8Array();
}

/** The messages of an IPC stream part starting at `from`: where each begins, its header's and body's lengths. */
function messages(bytes: Uint8Array, from = 0): { at: number; header: number; body: number }[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: { at: number; header: number; body: number }[] = [];
  for (let at = from; ; ) {
    expect(view.getInt32(at, true)).toBe(-1);
    const header = view.getInt32(at + 4, true);
    if (header === 0) return out;
    const body = Message.decode(bytes.subarray(at + 8, at + 8 + header)).bodyLength;
    out.push({ at, header, body });
    at += 8 + header + body;
  }
}

/** `bytes` in pieces of `size` bytes, as a network would deliver them. */
async function* pieces(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

/** `bytes` as a web ReadableStream of pieces of `size` bytes. */
function webStream(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) controller.close();
      else controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

/**
 * `table` in the file format as pyarrow and arrow-rs write it: the stream (schema first) after the
 * 8-byte header, then the footer. (apache-arrow's JS writer leaves the schema out of the stream part.)
 */
async function fileWithSchemaInFront(table: Table): Promise<Uint8Array> {
  const stream = await ipcStream(table, 300);
  const blocks = messages(stream)
    .slice(1)
    .map((m) => new FileBlock(8 + m.header, m.body, 8 + m.at));
  const footer = Footer.encode(new Footer(table.schema, MetadataVersion.V5, blocks, []));
  const out = new Uint8Array(8 + stream.length + footer.length + 10);
  out.set(new TextEncoder().encode("ARROW1"));
  out.set(stream, 8);
  out.set(footer, 8 + stream.length);
  new DataView(out.buffer).setInt32(8 + stream.length + footer.length, footer.length, true);
  out.set(new TextEncoder().encode("ARROW1"), out.length - 6);
  return out;
}

describe("importArrow from an IPC stream", () => {
  it("imports a stream of many batches from a Node stream, a web stream and small pieces", async () => {
    const lib = await library("lmdb");
    const df = frame(20_000);
    const ipc = await ipcStream(toArrow(df), 400);
    expect(messages(ipc).length).toBeGreaterThan(90);
    const sources = {
      node: () => Readable.from(pieces(ipc, 65_536)),
      web: () => webStream(ipc, 10_000),
      tiny: () => pieces(ipc, 7),
      bytes: () => ipc,
    };
    for (const [name, source] of Object.entries(sources)) {
      const item = await importArrow(lib, name, source(), { chunkRows: 3000 });
      expect(item.rows).toBe(20_000);
      const back = (await lib.read(name)).data!;
      expect(back.equals(df), name).toBe(true);
      expect(back.index.kind === "timestamp" && back.index.tz).toBe("Europe/London");
      expect((await lib.listVersions(name)).length).toBe(1);
    }
  });

  it("reads dictionary batches (pyarrow's categoricals) between the schema and the record batches", async () => {
    const lib = await library("mem");
    const venues = Array.from({ length: 3000 }, (_, i) => `venue-${i % 5}`);
    const table = new Table({
      venue: vectorFromArray(venues, new Dictionary(new Utf8(), new Int32())),
      n: vectorFromArray(Float64Array.from({ length: 3000 }, (_, i) => i)),
    });
    const writer = new RecordBatchStreamWriter();
    for (let at = 0; at < 3000; at += 400) writer.write(table.slice(at, at + 400).batches[0]);
    writer.finish();
    const ipc = await writer.toUint8Array();
    expect(
      messages(ipc).some((m) =>
        Message.decode(ipc.subarray(m.at + 8, m.at + 8 + m.header)).isDictionaryBatch(),
      ),
    ).toBe(true);
    expect((await importArrow(lib, "d", pieces(ipc, 333))).rows).toBe(3000);
    expect((await lib.read("d")).data!.column("venue")).toEqual(venues);
  });

  it("reads a stream another Arrow writes (arrow-rs, through parquet-wasm)", async () => {
    const lib = await library("mem");
    const df = frame(3000);
    const rust = parquet.Table.fromIPCStream(await ipcStream(toArrow(df), 500)).intoIPCStream();
    const item = await importArrow(lib, "s", pieces(rust, 1000));
    expect(item.rows).toBe(3000);
    expect((await lib.read("s")).data!.equals(df)).toBe(true);
  });

  it("reads the file format by its footer from bytes and Blobs, and in order from a stream", async () => {
    const lib = await library("lmdb");
    const df = frame(5000);
    const writer = new RecordBatchFileWriter();
    const table = toArrow(df);
    for (let at = 0; at < 5000; at += 700) writer.write(table.slice(at, at + 700).batches[0]);
    writer.finish();
    const jsFile = await writer.toUint8Array(); // its schema is in the footer only
    const inFront = await fileWithSchemaInFront(table);
    expect(tableFromIPC(inFront).numRows).toBe(5000); // a valid file to apache-arrow too
    const dir = tempDir();
    writeFileSync(join(dir, "js.arrow"), jsFile);
    writeFileSync(join(dir, "front.arrow"), inFront);
    const cases: [string, () => Promise<unknown> | unknown][] = [
      ["js-bytes", () => jsFile],
      ["js-blob", () => openAsBlob(join(dir, "js.arrow"))],
      ["js-stream", () => pieces(jsFile, 4096)],
      ["front-bytes", () => inFront],
      ["front-stream", () => Readable.from(pieces(inFront, 3333))],
    ];
    for (const [name, source] of cases) {
      const item = await importArrow(lib, name, (await source()) as Uint8Array);
      expect(item.rows, name).toBe(5000);
      expect((await lib.read(name)).data!.equals(df), name).toBe(true);
    }
    for (const name of ["js.arrow", "front.arrow"]) {
      await importFile(lib, name, join(dir, name));
      expect((await lib.read(name)).data!.equals(df), name).toBe(true);
    }
  });

  it("is an InvalidArgumentError wherever a stream is cut short, and the symbol stays as it was", async () => {
    const lib = await library("lmdb");
    const before = frame(10);
    await lib.write("s", before);
    const ipc = await ipcStream(toArrow(frame(2000)), 300);
    const msgs = messages(ipc);
    // Every message's edges and insides: in its prefix, its length, its header, its body, and between messages.
    const cuts = new Set<number>([0, 1, 3, 4, 7]);
    for (const m of msgs) {
      for (const d of [0, 1, 3, 4, 5, 7, 8, 9, m.header + 7, m.header + 8, m.header + 9]) cuts.add(m.at + d);
      if (m.body > 0)
        for (const f of [0.1, 0.5, 0.99]) cuts.add(m.at + 8 + m.header + Math.floor(m.body * f));
    }
    cuts.add(ipc.length - 8); // the end marker missing
    cuts.add(ipc.length - 4);
    cuts.add(ipc.length - 1);
    for (const cut of cuts) {
      const err = await rejectsWith(
        importArrow(lib, "s", pieces(ipc.subarray(0, cut), 500)),
        "InvalidArgumentError",
      );
      expect(err.message, `cut at ${cut}`).toMatch(/cut short|not Arrow IPC data|is empty/);
    }
    // What the messages say, for a few of them.
    const cut = async (at: number) =>
      (await rejectsWith(importArrow(lib, "s", ipc.subarray(0, at)), "InvalidArgumentError")).message;
    expect(await cut(0)).toMatch(/the source is empty/);
    expect(await cut(msgs[2].at)).toMatch(
      /cut short: it ends after the schema and 1 record batch \(.* bytes\) without its end-of-stream marker/,
    );
    const body = msgs[3].at + 8 + msgs[3].header + 100;
    expect(await cut(body)).toMatch(
      /ends inside record batch 3 \(begun at byte \d+\), 100 bytes of its .* body arrived/,
    );
    expect(await cut(msgs[3].at + 10)).toMatch(/ends inside the header of message 4/);
    expect(await cut(msgs[3].at + 6)).toMatch(/ends inside the 8 bytes at byte \d+ that begin a message/);
    expect(await cut(ipc.length - 3)).toMatch(/end-of-stream marker/);
    // The file format cut short: no footer.
    const writer = new RecordBatchFileWriter();
    writer.write(toArrow(frame(100)).batches[0]);
    writer.finish();
    const file = await writer.toUint8Array();
    for (const at of [file.length - 1, file.length - 10, file.length - 30]) {
      for (const source of [file.subarray(0, at), pieces(file.subarray(0, at), 64)]) {
        const err = await rejectsWith(importArrow(lib, "s", source), "InvalidArgumentError");
        expect(err.message).toMatch(/the Arrow file is cut short/);
      }
    }
    expect((await lib.listVersions("s")).map((v) => v.version)).toEqual([0]);
    expect((await lib.read("s")).data!.equals(before)).toBe(true);
    // The whole stream, and one whose end marker was appended by hand, import.
    expect((await importArrow(lib, "s", ipc)).rows).toBe(2000);
    const noEnd = ipc.subarray(0, ipc.length - 8);
    const mended = new Uint8Array(ipc.length);
    mended.set(noEnd);
    mended.set([255, 255, 255, 255, 0, 0, 0, 0], noEnd.length);
    expect((await importArrow(lib, "t", mended)).rows).toBe(2000);
  });

  it("is an InvalidArgumentError for damaged or foreign bytes, and bytes after the end are not read", async () => {
    const lib = await library("mem");
    const ipc = await ipcStream(toArrow(frame(1000)), 300);
    const msgs = messages(ipc);
    const damaged = (edit: (b: Uint8Array, v: DataView) => void) => {
      const copy = ipc.slice();
      edit(copy, new DataView(copy.buffer));
      return copy;
    };
    const cases: [Uint8Array, RegExp][] = [
      [
        new TextEncoder().encode("time,price\n2024-01-02,1.5\n"),
        /not Arrow IPC data: message 1 .* header length/,
      ],
      [
        damaged((_, v) => v.setInt32(msgs[2].at + 4, 0x7fff_fff0, true)),
        /damaged: message 3 .* header length of/,
      ],
      [damaged((_, v) => v.setInt32(msgs[2].at + 4, -8, true)), /damaged: message 3 .* header length of -8/],
      // The header's root offset pointing past its end.
      [
        damaged((_, v) => v.setUint32(msgs[1].at + 8, 1 << 30, true)),
        /damaged: message 2 .* table lies outside/,
      ],
      [
        damaged((b) => b.set([255, 255, 255, 255, 8, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0], 0)),
        /not Arrow IPC data/,
      ],
    ];
    for (const [bytes, message] of cases) {
      const err = await rejectsWith(importArrow(lib, "s", bytes), "InvalidArgumentError");
      expect(err.message).toMatch(message);
    }
    expect(await lib.hasSymbol("s")).toBe(false);
    // Bytes after the end-of-stream marker are left unread, as pyarrow leaves them.
    const trailing = new Uint8Array(ipc.length + 5);
    trailing.set(ipc);
    trailing.set([1, 2, 3, 4, 5], ipc.length);
    expect((await importArrow(lib, "s", trailing)).rows).toBe(1000);
  });
});
