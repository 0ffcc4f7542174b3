import { describe, expect, it } from "vitest";
import { Arctic, DataFrame, type Library } from "../../runtimes/node.ts";
import { exportCsv, importCsv, readCsv } from "../../runtimes/node-io.ts";
import { rejectsWith } from "../helpers.ts";

// CSV import and export through floe/io: dtype inference, a timestamp index, chunked staging, exact
// round trips, and a typed error for every kind of bad input.

async function lib(options = {}): Promise<{ ac: Arctic; lib: Library }> {
  const ac = new Arctic("mem://", { workers: 0 });
  return { ac, lib: await ac.createLibrary("lib", options) };
}

async function text(chunks: AsyncIterable<Uint8Array>): Promise<string> {
  const dec = new TextDecoder();
  let out = "";
  for await (const c of chunks) out += dec.decode(c, { stream: true });
  return out;
}

async function frames(source: string | Uint8Array, options = {}): Promise<DataFrame[]> {
  const out: DataFrame[] = [];
  for await (const f of readCsv(source, options)) out.push(f);
  return out;
}

describe("readCsv", () => {
  it("infers int64, float64, bool, timestamp and string columns", async () => {
    const csv = [
      "i,f,b,t,s,e,m",
      "1,1.5,true,2024-01-01,x,,1",
      '-2,nan,False,2024-01-02T09:30:00.000000001Z,"a,b",,',
      "3,inf,TRUE,2024-01-03 10:00,,,3",
    ].join("\n");
    const [df] = await frames(csv);
    expect(df.dtypes).toEqual({
      i: "int64",
      f: "float64",
      b: "bool",
      t: "timestamp",
      s: "string",
      e: "float64",
      m: "float64",
    });
    expect([...(df.column("i") as BigInt64Array)]).toEqual([1n, -2n, 3n]);
    expect([...(df.column("f") as Float64Array)]).toEqual([1.5, Number.NaN, Number.POSITIVE_INFINITY]);
    expect([...(df.column("b") as Uint8Array)]).toEqual([1, 0, 1]);
    expect((df.column("t") as BigInt64Array)[1]).toBe(1704187800000000001n);
    expect(df.column("s")).toEqual(["x", "a,b", null]);
    expect([...(df.column("m") as Float64Array)]).toEqual([1, Number.NaN, 3]);
  });

  it("makes a timestamp index of the index column and cuts chunks of chunkRows", async () => {
    const lines = ["when,v"];
    for (let i = 0; i < 10; i++) lines.push(`2024-01-01T00:00:0${i}Z,${i}`);
    const out = await frames(lines.join("\r\n"), { index: "when", chunkRows: 4 });
    expect(out.map((f) => f.numRows)).toEqual([4, 4, 2]);
    expect(out[2].index).toEqual({
      kind: "timestamp",
      name: "when",
      values: BigInt64Array.from([8n, 9n], (s) => 1704067200000000000n + s * 1_000_000_000n),
    });
    expect(out[1].columnNames).toEqual(["v"]);
  });

  it("reports bytes and rows as it goes", async () => {
    const csv = `a\n${Array.from({ length: 100 }, (_, i) => i).join("\n")}\n`;
    const seen: { rowsDone: number; bytesDone: number; bytesTotal?: number }[] = [];
    await frames(csv, { chunkRows: 30, onProgress: (p: (typeof seen)[0]) => seen.push(p) });
    expect(seen.map((p) => p.rowsDone)).toEqual([30, 60, 90, 100, 100]);
    expect(seen.at(-1)).toMatchObject({ bytesDone: csv.length, bytesTotal: csv.length });
  });

  it("gives InvalidArgumentError for bad CSV and bad options", async () => {
    await rejectsWith(frames(""), "InvalidArgumentError");
    await rejectsWith(frames("a,b\n1,2\n3\n"), "InvalidArgumentError");
    await rejectsWith(frames('a\n"unclosed\n'), "InvalidArgumentError");
    await rejectsWith(frames("a,a\n1,2\n"), "InvalidArgumentError");
    await rejectsWith(frames("a,b\n1,2\n", { index: "c" }), "InvalidArgumentError");
    await rejectsWith(frames("a,b\n1,2\n", { index: "a" }), "InvalidArgumentError");
    await rejectsWith(frames("a\n1\n", { delimiter: ";;" }), "InvalidArgumentError");
    await rejectsWith(frames("a\n1\n", { dtypes: { a: "int65" } }), "InvalidArgumentError");
    await rejectsWith(frames("a\n1\n", { colour: "red" }), "InvalidArgumentError");
    // The first chunk says int64; a later one does not fit: the error names the row and the fix.
    const err = await rejectsWith(frames("a\n1\n2\n2.5\n", { chunkRows: 2 }), "InvalidArgumentError");
    expect(err.message).toContain("data row 3");
    expect(err.message).toContain("--dtype a=");
  });
});

describe("malformed CSV", () => {
  it("is an InvalidArgumentError saying the line and the problem, never csv-parse's CsvError", async () => {
    const cases: [string, RegExp][] = [
      [
        'a,b\n1,"x\n2,3\n',
        /^CSV: a quote is never closed: the file ends \(at line 3\) inside a quoted field/,
      ],
      [
        'a,b\n1,2\n3,x"y\n',
        /^CSV line 3: a quote in the middle of field 2, after "x"\. Quote the whole field/,
      ],
      ['a,b\n1,"x"y\n', /^CSV line 2: a quoted field goes on after its closing quote/],
      ["a,b\n1,2,3\n", /^CSV line 2: the row has 3 fields, the header 2\.$/],
    ];
    for (const [csv, message] of cases) {
      const err = await rejectsWith(frames(csv), "InvalidArgumentError");
      expect(err.message, csv).toMatch(message);
    }
  });

  it("says binary input is not CSV text, and never echoes raw control bytes", async () => {
    const binary = new Uint8Array([0x50, 0x41, 0x52, 0x31, 0x15, 0x00, 0x22, 0x1b, 0x5b, 0x33, 0x31, 0x6d]);
    const err = await rejectsWith(frames(binary), "InvalidArgumentError");
    expect(err.message).toMatch(/^CSV: the source holds binary data \(a zero byte at byte 5\), not CSV text/);
    // Control characters without a zero byte get through the parser: a message quoting them escapes them.
    const quoted = await rejectsWith(frames('a,b\n1,\u0007\u001b[31m"red\n'), "InvalidArgumentError");
    const typed = await rejectsWith(
      frames(`a\n1\n\u001b[2J${"x".repeat(500)}\n`, { dtypes: { a: "int64" } }),
      "InvalidArgumentError",
    );
    for (const e of [quoted, typed]) {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: checking that there are none
      expect(e.message).not.toMatch(/[\u0000-\u001f]/);
      expect(e.message).toContain("\\u001b");
      expect(e.message.length).toBeLessThan(400);
    }
  });
});

describe("timestamps floe cannot store", () => {
  it("are an InvalidArgumentError naming the value, the cell and the range, not a wrapped-around date", async () => {
    const cells = ["2300-01-01", "2262-04-11T23:47:16.854775808Z", "1677-09-21T00:12:43.145224192Z"];
    for (const cell of [...cells, "1600-01-01T00:00:00+01:00"]) {
      for (const options of [{ index: "ts" }, { dtypes: { ts: "timestamp" } }]) {
        const csv = `ts,v\n2024-01-01,1\n${cell},2\n`;
        const err = await rejectsWith(frames(csv, options), "InvalidArgumentError");
        expect(err.message, cell).toContain(cell);
        // A form with an offset goes through the shared conversion (src/frame), which words its own message.
        if (!cells.includes(cell)) continue;
        expect(err.message, cell).toContain(
          `data row 2: "${cell}" is outside the timestamps floe can store (1677-09-21T00:12:43.145224193Z … 2262-04-11T23:47:16.854775807Z`,
        );
      }
    }
    // The ends themselves are fine.
    const [df] = await frames("ts\n2262-04-11T23:47:16.854775807Z\n1677-09-21T00:12:43.145224193Z\n");
    expect([...(df.column("ts") as BigInt64Array)]).toEqual([2n ** 63n - 1n, -(2n ** 63n) + 1n]);
  });
});

describe("column names that are Object.prototype's", () => {
  it("read and import as ordinary columns, with dtypes given for them", async () => {
    const names = ["constructor", "toString", "valueOf", "hasOwnProperty", "__proto__"];
    const csv = `${names.join(",")}\n1,2,x,4.5,true\n`;
    const dtypes = JSON.parse('{"__proto__": "string", "constructor": "float64"}');
    const [df] = await frames(csv, { dtypes });
    expect(df.columnNames).toEqual(names);
    expect(names.map((n) => df.column(n)[0])).toEqual([1, 2n, "x", 4.5, "true"]);
  });
});

describe("importCsv / exportCsv", () => {
  it("imports in staged chunks as one version and exports the same text", async () => {
    const { ac, lib: l } = await lib({ rowsPerSegment: 1000 });
    const lines = ["time,price,qty,side,note"];
    for (let i = 0; i < 3500; i++) {
      const t = new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString().replace("T", " ").slice(0, 19);
      lines.push(`${t},${(100 + i / 7).toString()},${i},${i % 3 === 0},${i % 5 === 0 ? "" : `n${i}`}`);
    }
    const csv = `${lines.join("\n")}\n`;
    const item = await importCsv(l, "s", csv, { index: "time", metadata: { from: "test" } });
    expect(item).toMatchObject({ version: 0, rows: 3500, metadata: { from: "test" } });
    expect(await l.listVersions("s")).toHaveLength(1);
    const back = (await l.read("s")).data!;
    expect(back.numRows).toBe(3500);
    expect(back.dtypes).toEqual({ price: "float64", qty: "int64", side: "bool", note: "string" });
    expect(await text(exportCsv(l, "s", { chunkRows: 700 }))).toBe(csv);
    // A date range and a column subset.
    const part = await text(
      exportCsv(l, "s", { dateRange: ["2024-01-01T00:00:01Z", "2024-01-01T00:00:02Z"], columns: ["qty"] }),
    );
    expect(part).toBe("time,qty\n2024-01-01 00:00:01,1\n2024-01-01 00:00:02,2\n");
    await ac.close();
  });

  it("appends with mode append, and leaves the symbol as it was when the import fails", async () => {
    const { ac, lib: l } = await lib({ rowsPerSegment: 2 });
    await importCsv(l, "s", "a,b\n1,x\n2,y\n");
    await importCsv(l, "s", "a,b\n3,z\n", { mode: "append" });
    const df = (await l.read("s")).data!;
    expect([...(df.column("a") as BigInt64Array)]).toEqual([1n, 2n, 3n]);
    await rejectsWith(importCsv(l, "s", "a,b\n4,w\n5,v\nbad,u\n", { chunkRows: 2 }), "InvalidArgumentError");
    expect((await l.listVersions("s")).map((v) => v.version)).toEqual([1, 0]);
    // Nothing of the failed import is left staged, and chunks a killed import left are dropped: the
    // next import holds only its own rows.
    await l.write("s", { a: [1, 2], b: ["left", "over"] }, { staged: true });
    await importCsv(l, "s", "a,b\n9,q\n");
    expect((await l.read("s")).data!.numRows).toBe(1);
    // A header alone is a version with no rows.
    expect(await importCsv(l, "empty", "a,b\n")).toMatchObject({ version: 0, rows: 0 });
    expect((await l.read("empty")).data!.columnNames).toEqual(["a", "b"]);
    await rejectsWith(importCsv(l, "s", "a\n1\n", { mode: "overwrite" as "write" }), "InvalidArgumentError");
    await rejectsWith(importCsv(l, "", "a\n1\n"), "InvalidArgumentError");
    await ac.close();
  });

  it("writes quotes, NaN, NaT and nulls so they read back", async () => {
    const { ac, lib: l } = await lib();
    const df = new DataFrame(
      {
        s: ['a "quoted", text', "line\nbreak", null, " pad "],
        f: new Float64Array([0.1, Number.NaN, -0, 1e300]),
        t: new BigInt64Array([1n, -(2n ** 63n), 3n, 4n]),
      },
      { dtypes: { t: "timestamp" } },
    );
    await l.write("s", df);
    const csv = await text(exportCsv(l, "s"));
    await importCsv(l, "t", csv, { dtypes: { t: "timestamp" } });
    const back = (await l.read("t")).data!;
    expect(back.column("s")).toEqual(df.column("s"));
    expect([...(back.column("f") as Float64Array)]).toEqual([0.1, Number.NaN, -0, 1e300]);
    expect([...(back.column("t") as BigInt64Array)]).toEqual([...(df.column("t") as BigInt64Array)]);
    await ac.close();
  });
});
