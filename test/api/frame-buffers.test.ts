import { describe, expect, it } from "vitest";
import { Arctic, DataError, DataFrame, type Library } from "../../runtimes/node.ts";
import { rejectsWith } from "../helpers.ts";

// Issue 21, item 4 and the detached-buffer part of "every bad input a typed error": a frame holds its
// columns as given, so a resizable ArrayBuffer shrunk (or any buffer detached) after the frame was built
// changes what it holds. Such a write used to be acknowledged and leave a version every read refused
// (CorruptSegmentError); now it is an InvalidArgumentError where the frame enters the write, and nothing
// is stored.

type Resizable = ArrayBuffer & { resize(bytes: number): void };

function resizable(bytes: number): Resizable {
  const Ctor = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => Resizable;
  return new Ctor(bytes, { maxByteLength: bytes });
}

function detach(buffer: ArrayBufferLike): void {
  structuredClone(buffer, { transfer: [buffer as ArrayBuffer] });
}

const day = (d: number) => new Date(Date.UTC(2024, 0, d));

async function stored(): Promise<[Arctic, Library]> {
  const ac = new Arctic("mem://");
  const lib = await ac.createLibrary("lib");
  await lib.write("s", new DataFrame({ a: [1, 2] }, { index: [day(1), day(2)] }));
  return [ac, lib];
}

/** The store still holds exactly version 0 with its two rows, and it reads. */
async function unchanged(lib: Library): Promise<void> {
  expect((await lib.listVersions("s")).map((v) => v.version)).toEqual([0]);
  expect([...((await lib.read("s")).data!.column("a") as Float64Array)]).toEqual([1, 2]);
  expect((await lib.verify()).ok).toBe(true);
  expect(await lib.listSymbols()).toEqual(["s"]);
}

/** A two-row frame (days 3 and 4) whose column, or index, is then shrunk to one row. */
function shrunkFrame(what: "column" | "index"): DataFrame {
  const colBuf = resizable(16);
  const column = new Float64Array(colBuf);
  column.set([3, 4]);
  const indexBuf = resizable(16);
  const index = new BigInt64Array(indexBuf);
  index.set([BigInt(day(3).getTime()) * 1_000_000n, BigInt(day(4).getTime()) * 1_000_000n]);
  const df = new DataFrame({ a: column }, { index });
  (what === "column" ? colBuf : indexBuf).resize(8);
  return df;
}

describe("a frame whose buffers changed after it was built", () => {
  it.each(["column", "index"] as const)("with a shrunk %s is refused by every write", async (what) => {
    const [ac, lib] = await stored();
    const calls: [string, () => Promise<unknown>][] = [
      ["append", () => lib.append("s", shrunkFrame(what))],
      ["write", () => lib.write("s", shrunkFrame(what))],
      ["update", () => lib.update("s", shrunkFrame(what))],
      ["staged write", () => lib.write("s", shrunkFrame(what), { staged: true })],
    ];
    for (const [, call] of calls) {
      const err = await rejectsWith(call(), "InvalidArgumentError");
      expect(err.message).toMatch(
        what === "column"
          ? /column 'a' has 1 rows? but the frame has 2/
          : /index has 1 rows? but the frame has 2/,
      );
      expect(err.message).toMatch(/resized|detached/);
    }
    for (const batch of [lib.writeBatch.bind(lib), lib.appendBatch.bind(lib)]) {
      const [result] = await batch([{ symbol: "s", data: shrunkFrame(what) }]);
      expect(result).toBeInstanceOf(DataError);
      expect((result as DataError).errorCode).toBe("InvalidArgumentError");
    }
    const none = await rejectsWith(lib.finalizeStagedData("s", { mode: "append" }), "InvalidArgumentError");
    expect(none.message).toMatch(/No staged data/);
    await unchanged(lib);
    await ac.close();
  });

  it("shrunk while the write is under way is refused, not stored short", async () => {
    const [ac, lib] = await stored();
    for (const what of ["column", "index"] as const) {
      const buffer = resizable(16);
      const values = what === "column" ? new Float64Array(buffer) : new BigInt64Array(buffer);
      if (values instanceof Float64Array) values.set([3, 4]);
      else values.set([BigInt(day(3).getTime()) * 1_000_000n, BigInt(day(4).getTime()) * 1_000_000n]);
      const df =
        values instanceof Float64Array
          ? new DataFrame({ a: values }, { index: [day(3), day(4)] })
          : new DataFrame({ a: [3, 4] }, { index: values });
      const pending = lib.append("s", df);
      buffer.resize(8); // after the call has taken the frame, before it encodes
      await rejectsWith(pending, "InvalidArgumentError");
    }
    await unchanged(lib);
    await ac.close();
  });

  it("with a detached column or index is refused when the frame is built", () => {
    const column = new Float64Array([1, 2]);
    detach(column.buffer);
    expect(() => new DataFrame({ a: column })).toThrow(
      expect.objectContaining({
        code: "InvalidArgumentError",
        message: expect.stringMatching(/column 'a'.*detached/),
      }),
    );
    const index = new BigInt64Array([1n, 2n]);
    detach(index.buffer);
    expect(() => new DataFrame({ a: [1, 2] }, { index })).toThrow(
      expect.objectContaining({
        code: "InvalidArgumentError",
        message: expect.stringMatching(/index.*detached/),
      }),
    );
  });

  it("with a column detached after it was built is refused by the write", async () => {
    const [ac, lib] = await stored();
    const column = new Float64Array([3, 4]);
    const df = new DataFrame({ a: column }, { index: [day(3), day(4)] });
    detach(column.buffer);
    const err = await rejectsWith(lib.append("s", df), "InvalidArgumentError");
    expect(err.message).toMatch(/column 'a'.*detached/);
    const empty = new DataFrame({ a: new Float64Array(0) }, { index: new BigInt64Array(0) });
    detach((empty.column("a") as Float64Array).buffer);
    await rejectsWith(lib.append("s", empty), "InvalidArgumentError");
    await unchanged(lib);
    await ac.close();
  });
});
