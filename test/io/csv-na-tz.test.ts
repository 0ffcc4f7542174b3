import { describe, expect, it } from "vitest";
import { Arctic, type DataFrame, type Library } from "../../runtimes/node.ts";
import { DEFAULT_NA_VALUES, exportCsv, importCsv, readCsv } from "../../runtimes/node-io.ts";
import { rejectsWith } from "../helpers.ts";

// Missing values, notes on columns read as string, time zones and a path given as CSV text, through
// floe/io's public calls (issue 22, items 3, 4 and 8).

async function lib(): Promise<{ ac: Arctic; lib: Library }> {
  const ac = new Arctic("mem://", { workers: 0 });
  return { ac, lib: await ac.createLibrary("lib") };
}

async function text(chunks: AsyncIterable<Uint8Array>): Promise<string> {
  const dec = new TextDecoder();
  let out = "";
  for await (const c of chunks) out += dec.decode(c, { stream: true });
  return out;
}

async function frame(source: string, options = {}): Promise<DataFrame> {
  const out: DataFrame[] = [];
  for await (const f of readCsv(source, { onNote: () => undefined, ...options })) out.push(f);
  expect(out).toHaveLength(1);
  return out[0];
}

describe("missing values in CSV", () => {
  it("reads pandas' default NA strings as NaN, NaT or null, keeping the column's dtype", async () => {
    const csv = [
      "n,i,b,t,s",
      "1.5,1,true,2024-01-02,x",
      "N/A,NA,,NULL,null",
      "nan,3,false,#N/A,<NA>",
      "-1.#IND,None,n/a,,y",
    ].join("\n");
    const df = await frame(csv);
    // As pandas: a numeric column stays numeric, ints with missing cells and bools with missing cells
    // become float64 (1/0/NaN), timestamps get NaT, strings null.
    expect(df.dtypes).toEqual({ n: "float64", i: "float64", b: "float64", t: "timestamp", s: "string" });
    expect(Array.from(df.column("n") as Float64Array)).toEqual([1.5, Number.NaN, Number.NaN, Number.NaN]);
    expect(Array.from(df.column("i") as Float64Array)).toEqual([1, Number.NaN, 3, Number.NaN]);
    expect(Array.from(df.column("b") as Float64Array)).toEqual([1, Number.NaN, 0, Number.NaN]);
    const t = df.column("t") as BigInt64Array;
    expect(t[0]).toBe(1704153600000000000n);
    expect([t[1], t[2], t[3]]).toEqual([-(2n ** 63n), -(2n ** 63n), -(2n ** 63n)]);
    expect(df.column("s")).toEqual(["x", null, null, "y"]);
    expect(DEFAULT_NA_VALUES).toHaveLength(19);
  });

  it("takes naValues besides the defaults, and keepDefaultNa: false for only those", async () => {
    const csv = "q,s\n1,NA\n-,\n3,x\n";
    const df = await frame(csv, { naValues: ["-"] });
    expect(df.dtypes).toEqual({ q: "float64", s: "string" });
    expect(Array.from(df.column("q") as Float64Array)).toEqual([1, Number.NaN, 3]);
    expect(df.column("s")).toEqual([null, null, "x"]);
    // Only "-" is missing: "NA" is text (a ticker, say) and the empty cell an empty string, as pandas.
    const kept = await frame(csv, { naValues: ["-"], keepDefaultNa: false });
    expect(kept.column("s")).toEqual(["NA", "", "x"]);
    expect(Array.from(kept.column("q") as Float64Array)).toEqual([1, Number.NaN, 3]);
    // A sentinel that is itself a number or a timestamp is missing too, as pandas' na_values.
    const sentinel = await frame("x,t\n1,2024-01-02\n-999,1970-01-01\n", {
      naValues: ["-999", "1970-01-01"],
    });
    expect(Array.from(sentinel.column("x") as Float64Array)).toEqual([1, Number.NaN]);
    expect((sentinel.column("t") as BigInt64Array)[1]).toBe(-(2n ** 63n));
    await rejectsWith(frame(csv, { naValues: "-" }), "InvalidArgumentError");
    await rejectsWith(frame(csv, { keepDefaultNa: "no" }), "InvalidArgumentError");
  });

  it("gives a bool column with missing cells found in a later chunk the float64 fix", async () => {
    const err = await rejectsWith(
      frame("b\ntrue\nfalse\nNA\n", { chunkRows: 2 }).catch((e) => {
        throw e;
      }),
      "InvalidArgumentError",
    );
    expect(err.message).toMatch(/--dtype b=float64/);
    const [a, b] = await (async () => {
      const out: DataFrame[] = [];
      for await (const f of readCsv("b\ntrue\nfalse\nNA\n", { chunkRows: 2, dtypes: { b: "float64" } }))
        out.push(f);
      return out;
    })();
    expect([...(a.column("b") as Float64Array), ...(b.column("b") as Float64Array)]).toEqual([
      1,
      0,
      Number.NaN,
    ]);
  });

  it("says float64, not string, for a fraction in a column inferred int64 (issue item 8)", async () => {
    const err = await rejectsWith(frame("size\n1\n2\n2.5\n", { chunkRows: 2 }), "InvalidArgumentError");
    expect(err.message).toMatch(/data row 3 holds "2\.5"/);
    expect(err.message).toMatch(/dtypes: \{ "size": "float64" \} \(--dtype size=float64\)/);
    expect(err.message).not.toMatch(/size=string/);
  });

  it("imports and exports missing values so they read back", async () => {
    const { ac, lib: l } = await lib();
    const result = await importCsv(l, "s", "q,b\n1,true\nN/A,\n3,false\n");
    expect(result.notes).toEqual([]);
    const df = (await l.read("s")).data;
    expect(df.dtypes).toEqual({ q: "float64", b: "float64" });
    expect(await text(exportCsv(l, "s"))).toBe("q,b\n1,1\n,\n3,0\n");
    await ac.close();
  });
});

describe("a column read as string because of a few odd cells", () => {
  it("gets a note naming the column, the cell, its line and both fixes", async () => {
    const notes: string[] = [];
    const csv =
      "time,size,ok\n2024-01-02T09:30:00Z,100,true\n2024-01-02T09:30:01Z,-,?\n2024-01-02T09:30:02Z,7,false\n";
    const out: DataFrame[] = [];
    for await (const f of readCsv(csv, { index: "time", onNote: (n) => notes.push(n) })) out.push(f);
    expect(out[0].dtypes).toEqual({ size: "string", ok: "string" });
    expect(notes).toHaveLength(2);
    expect(notes[0]).toBe(
      `CSV column 'size' was read as string because of "-" at data row 2 (line 3); its other cells are numbers. ` +
        `If "-" means a missing value, give naValues: ["-"] (--na-values -); to read the column as float64 and ` +
        `have each odd cell reported as an error, give dtypes: { "size": "float64" } (--dtype size=float64).`,
    );
    expect(notes[1]).toMatch(
      /'ok' .*"\?".*its other cells are true\/false.*--na-values '\?'.*--dtype ok=float64/,
    );
    // The fix works: no note, numbers.
    const fixed = await frame(csv, {
      index: "time",
      naValues: ["-", "?"],
      onNote: (n: string) => notes.push(n),
    });
    expect(fixed.dtypes).toEqual({ size: "float64", ok: "float64" });
    expect(notes).toHaveLength(2);
  });

  it("comes back in importCsv's result; a column of text gets none", async () => {
    const { ac, lib: l } = await lib();
    const result = await importCsv(l, "s", "a,name\n1,x\n2,y\nn.a.,z\n4,w\n");
    expect(result.notes).toHaveLength(1);
    expect(result.notes[0]).toMatch(
      /^CSV column 'a' was read as string because of "n\.a\." at data row 3 \(line 4\)/,
    );
    await ac.close();
  });
});

describe("time zones in CSV", () => {
  it("reads cells without an offset as UTC, honours offsets, and refuses zone names as toNanos does", async () => {
    const df = await frame(
      "t,x\n2024-01-02 09:30:00,1\n2024-01-02T09:30:00-05:00,2\n2024-01-02T09:30:00.5+01:00,3\n",
      {
        index: "t",
      },
    );
    const idx = df.index as { values: BigInt64Array };
    expect(Array.from(idx.values, (v) => new Date(Number(v / 1_000_000n)).toISOString())).toEqual([
      "2024-01-02T09:30:00.000Z",
      "2024-01-02T14:30:00.000Z",
      "2024-01-02T08:30:00.500Z",
    ]);
    const err = await rejectsWith(
      frame("t,x\n2024-01-02 09:30:00 EST,1\n", { index: "t" }),
      "InvalidArgumentError",
    );
    expect(err.message).toMatch(
      /data row 1: "2024-01-02 09:30:00 EST" names a time zone; write the offset instead/,
    );
    const forced = await rejectsWith(
      frame("t\n2024-01-02 09:30:00 EST\n", { dtypes: { t: "timestamp" } }),
      "InvalidArgumentError",
    );
    expect(forced.message).toMatch(/names a time zone/);
  });

  it("sets the index's zone with tz, exports local time with its offset, and re-imports the same instants", async () => {
    const { ac, lib: l } = await lib();
    const csv = "time,px\n2024-01-02T14:30:00Z,1.5\n2024-07-02T13:30:00.25Z,2.5\n";
    await importCsv(l, "s", csv, { index: "time", tz: "America/New_York" });
    const df = (await l.read("s")).data;
    expect(df.index).toMatchObject({ name: "time", tz: "America/New_York" });
    const out = await text(exportCsv(l, "s"));
    expect(out).toBe("time,px\n2024-01-02 09:30:00.000-05:00,1.5\n2024-07-02 09:30:00.250-04:00,2.5\n");
    await importCsv(l, "again", out, { index: "time", tz: "America/New_York" });
    expect((await l.read("again")).data.equals(df)).toBe(true);
    // Without tz the same instants, in UTC.
    await importCsv(l, "utc", out, { index: "time" });
    const utc = (await l.read("utc")).data.index as { values: BigInt64Array; tz?: string };
    expect(utc.tz).toBeUndefined();
    expect(utc.values).toEqual((df.index as { values: BigInt64Array }).values);
    // Across a DST change, and before 1883 (New York's local mean time, an offset with seconds).
    const dst = "time,px\n1880-01-01T00:00:00Z,1\n2024-03-10T06:59:59Z,2\n2024-03-10T07:00:00Z,3\n";
    await importCsv(l, "dst", dst, { index: "time", tz: "America/New_York" });
    expect(await text(exportCsv(l, "dst"))).toBe(
      "time,px\n1879-12-31 19:03:58-04:56:02,1\n2024-03-10 01:59:59-05:00,2\n2024-03-10 03:00:00-04:00,3\n",
    );
    await importCsv(l, "dst2", await text(exportCsv(l, "dst")), { index: "time", tz: "America/New_York" });
    expect((await l.read("dst2")).data.equals((await l.read("dst")).data)).toBe(true);
    await rejectsWith(importCsv(l, "x", csv, { index: "time", tz: "Mars/Olympus" }), "InvalidArgumentError");
    const noIndex = await rejectsWith(importCsv(l, "x", csv, { tz: "UTC" }), "InvalidArgumentError");
    expect(noIndex.message).toMatch(/give the index column too/);
    await ac.close();
  });
});

describe("a file path given as CSV text", () => {
  it("is an InvalidArgumentError that says to use importFile or pass the contents", async () => {
    const err = await rejectsWith(frame("trades.csv", { index: "time" }), "InvalidArgumentError");
    expect(err.message).toMatch(/'trades\.csv', which looks like a file path.*importFile/);
    const { ac, lib: l } = await lib();
    await rejectsWith(importCsv(l, "s", "data/2024/trades.TSV"), "InvalidArgumentError");
    // A one-column CSV whose header happens to end in .csv still reads, given a newline.
    const df = await frame("file.csv\na.csv\n");
    expect(df.column("file.csv")).toEqual(["a.csv"]);
    await ac.close();
  });
});
