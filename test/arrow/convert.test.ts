import {
  Bool,
  DateDay,
  Dictionary,
  Field,
  Float16,
  Int32,
  List,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMillisecond,
  tableFromArrays,
  tableFromIPC,
  tableToIPC,
  Utf8,
  vectorFromArray,
} from "apache-arrow";
import { describe, expect, it } from "vitest";
import { Arctic, DataFrame } from "../../runtimes/node.ts";
import { fromArrow, INDEX_METADATA_KEY, toArrow } from "../../src/arrow/index.ts";

// floe/arrow: toArrow / fromArrow, the DataFrame methods it adds, zero-copy where layouts allow, and the
// mapping of Arrow types floe does and does not store.

const NAT = -(2n ** 63n);

function sample(): DataFrame {
  return new DataFrame(
    {
      f64: new Float64Array([1.5, Number.NaN, -0]),
      f32: new Float32Array([1, 2, 3]),
      i8: new Int8Array([-1, 0, 1]),
      u16: new Uint16Array([1, 2, 65535]),
      i64: new BigInt64Array([-(2n ** 63n) + 1n, 0n, 2n ** 62n]),
      u64: new BigUint64Array([0n, 1n, 2n ** 64n - 1n]),
      flag: [true, false, true],
      text: ["a", null, ""],
      when: new BigInt64Array([1n, NAT, 3n]),
    },
    {
      index: { name: "time", values: new BigInt64Array([10n, 20n, 30n]) },
      dtypes: { when: "timestamp" },
    },
  );
}

describe("toArrow / fromArrow", () => {
  it("round-trips every dtype and the timestamp index", () => {
    const df = sample();
    const table = toArrow(df);
    expect(table.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      "time:Timestamp<NANOSECOND>",
      "f64:Float64",
      "f32:Float32",
      "i8:Int8",
      "u16:Uint16",
      "i64:Int64",
      "u64:Uint64",
      "flag:Bool",
      "text:Utf8",
      "when:Timestamp<NANOSECOND>",
    ]);
    expect(table.schema.metadata.get(INDEX_METADATA_KEY)).toBe("time");
    expect(table.getChild("when")!.nullCount).toBe(1);
    expect(table.getChild("text")!.toArray()).toEqual(["a", null, ""]);
    expect(fromArrow(table).equals(df)).toBe(true);
    // Through IPC bytes too, as another Arrow program would read them.
    expect(fromArrow(tableFromIPC(tableToIPC(table))).equals(df)).toBe(true);
    // Without the metadata, or told so, the index is an ordinary column.
    const plain = fromArrow(table, { index: null });
    expect(plain.index.kind).toBe("row");
    expect(plain.columnNames[0]).toBe("time");
  });

  it("shares memory with numeric and timestamp columns (same buffer), both ways", () => {
    const df = sample();
    const table = toArrow(df);
    for (const name of ["f64", "f32", "i8", "u16", "i64", "u64", "when"]) {
      const values = table.getChild(name)!.data[0].values as ArrayBufferView;
      expect(values.buffer, name).toBe((df.column(name) as Float64Array).buffer);
    }
    const index = df.index.kind === "timestamp" ? df.index.values : undefined;
    expect(table.getChild("time")!.data[0].values.buffer).toBe(index!.buffer);

    const ipc = tableToIPC(table, "stream");
    const read = tableFromIPC(ipc);
    const back = fromArrow(read);
    for (const name of ["f64", "i64", "u64"]) {
      const column = back.column(name) as Float64Array;
      expect(column.buffer, name).toBe(read.getChild(name)!.data[0].values.buffer);
      expect(column.buffer, name).toBe(ipc.buffer);
    }
    // A column with nulls cannot be viewed: it is converted (NaT for null).
    expect(back.column("when")).toEqual(new BigInt64Array([1n, NAT, 3n]));
  });

  it("adds DataFrame.prototype.toArrow and DataFrame.fromArrow, also to frames read from a store", async () => {
    const ac = new Arctic("mem://", { workers: 0 });
    const lib = await ac.createLibrary("lib");
    await lib.write("s", sample());
    const read = (await lib.read("s")).data!;
    const table = read.toArrow();
    expect(table).toBeInstanceOf(Table);
    expect(DataFrame.fromArrow(table).equals(read)).toBe(true);
    expect(DataFrame.fromArrow(table.batches[0]).equals(read)).toBe(true);
    await ac.close();
  });

  it("maps other Arrow types: nullable ints to float64, dates, ms timestamps, float16, dictionaries", () => {
    const dict = vectorFromArray(["x", "y", "x", null], new Dictionary(new Utf8(), new Int32()));
    const table = new Table({
      ints: vectorFromArray([1, null, 3], new Int32()),
      bools: vectorFromArray([true, null, false, true], new Bool()).slice(0, 3),
      day: vectorFromArray(
        [0, 1, null].map((d) => (d === null ? null : new Date(d * 86_400_000))),
        new DateDay(),
      ),
      ms: vectorFromArray([new Date(5), new Date(6), new Date(7)], new TimestampMillisecond()),
      half: vectorFromArray([0.5, 1.5, null], new Float16()),
      cat: dict.slice(0, 3),
    });
    const df = fromArrow(table);
    expect(df.dtypes).toEqual({
      ints: "float64",
      bools: "float64",
      day: "timestamp",
      ms: "timestamp",
      half: "float64",
      cat: "string",
    });
    expect([...(df.column("ints") as Float64Array)]).toEqual([1, Number.NaN, 3]);
    expect([...(df.column("bools") as Float64Array)]).toEqual([1, Number.NaN, 0]);
    expect([...(df.column("day") as BigInt64Array)]).toEqual([0n, 86_400_000_000_000n, NAT]);
    expect([...(df.column("ms") as BigInt64Array)]).toEqual([5_000_000n, 6_000_000n, 7_000_000n]);
    expect([...(df.column("half") as Float64Array)]).toEqual([0.5, 1.5, Number.NaN]);
    expect(df.column("cat")).toEqual(["x", "y", "x"]);
    // Several chunks are joined into one array.
    const chunked = new Table([
      tableFromArrays({ a: new Float64Array([1, 2]) }).batches[0],
      tableFromArrays({ a: new Float64Array([3]) }).batches[0],
    ]);
    expect([...(fromArrow(chunked).column("a") as Float64Array)]).toEqual([1, 2, 3]);
  });

  it("rejects what floe cannot store with InvalidArgumentError", () => {
    const listType = new List(new Field("item", new Int32()));
    const lists = new Table({ l: vectorFromArray([[1], [2, 3]], listType) });
    expect(() => fromArrow(lists)).toThrow(
      expect.objectContaining({
        code: "InvalidArgumentError",
        message: expect.stringContaining("column 'l'"),
      }),
    );
    const t = tableFromArrays({ a: new Float64Array([1]) });
    expect(() => fromArrow(t, { index: "zz" })).toThrow(
      expect.objectContaining({ code: "InvalidArgumentError" }),
    );
    expect(() => fromArrow(t, { index: "a" })).toThrow(
      expect.objectContaining({ code: "InvalidArgumentError" }),
    );
    expect(() => fromArrow({} as Table)).toThrow(expect.objectContaining({ code: "InvalidArgumentError" }));
    expect(() => toArrow({} as DataFrame)).toThrow(expect.objectContaining({ code: "InvalidArgumentError" }));
    // A struct column.
    const inner = [new Field("x", new Int32())];
    const structData = makeData({
      type: new Struct(inner),
      length: 1,
      nullCount: 0,
      children: [makeData({ type: new Int32(), data: new Int32Array([1]) })],
    });
    const schema = new Schema([new Field("s", new Struct(inner))]);
    const batch = new RecordBatch(
      schema,
      makeData({ type: new Struct(schema.fields), length: 1, nullCount: 0, children: [structData] }),
    );
    expect(() => fromArrow(batch)).toThrow(expect.objectContaining({ code: "InvalidArgumentError" }));
  });
});

describe("string columns to Arrow", () => {
  it("keep every string, null and non-ASCII character through an IPC round trip", () => {
    const values = ["AAPL", null, "", "Zürich", "東京", "🚀 rocket", "a\u0000b", null, "x".repeat(1000)];
    const df = new DataFrame({ s: values, n: new Int32Array(values.length) });
    const table = tableFromIPC(tableToIPC(toArrow(df)));
    expect(table.getChild("s")?.toArray()).toEqual(values);
    expect(table.getChild("s")?.nullCount).toBe(2);
    expect(fromArrow(table).equals(df)).toBe(true);
  });

  it("encode an all-ASCII column and a mixed one alike", () => {
    const ascii = Array.from({ length: 1000 }, (_, i) => (i % 3 ? `s${i}` : null));
    const mixed = ascii.map((v, i) => (v !== null && i % 10 === 1 ? `${v}é` : v));
    for (const values of [ascii, mixed]) {
      const table = tableFromIPC(tableToIPC(toArrow(new DataFrame({ s: values }))));
      expect(table.getChild("s")?.toArray()).toEqual(values);
    }
  });
});
