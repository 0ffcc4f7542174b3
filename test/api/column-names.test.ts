import { describe, expect, it } from "vitest";
import { Arctic, DataFrame } from "../../runtimes/node.ts";

// Issue 21, item 5 and the column-name part of "every bad input a typed error": columns named like
// Object.prototype's members are ordinary columns. fromRecords dropped a `__proto__` column, and a name
// like `constructor` met a `dtypes[name]` lookup on `{}`: TypeError: Cannot read properties of undefined.

const RESERVED = ["constructor", "toString", "valueOf", "hasOwnProperty", "__proto__"];

describe("columns named like Object.prototype's members", () => {
  const columns = () =>
    Object.fromEntries(RESERVED.map((name, i) => [name, [i, i + 0.5]])) as Record<string, number[]>;
  const dates = [new Date("2024-01-01T00:00:00Z"), new Date("2024-01-02T00:00:00Z")];

  it("build a frame with their dtypes, records and printout", () => {
    const df = new DataFrame(columns(), { index: dates, dtypes: { valueOf: "float32" as const } });
    expect(df.columnNames).toEqual(RESERVED);
    expect(Object.keys(df.dtypes)).toEqual(RESERVED);
    expect(Object.getOwnPropertyDescriptor(df.dtypes, "__proto__")?.value).toBe("float64");
    expect(df.dtypes.constructor).toBe("float64");
    expect(df.dtypes.valueOf).toBe("float32");
    expect(df.dtype("toString")).toBe("float64");
    const records = df.toRecords();
    expect(Object.keys(records[1])).toEqual(["index", ...RESERVED]);
    expect(Object.getOwnPropertyDescriptor(records[1], "__proto__")?.value).toBe(4.5);
    expect(Object.getPrototypeOf(records[1])).toBe(Object.prototype);
    expect(
      DataFrame.fromRecords(records, { index: "index", dtypes: { valueOf: "float32" as const } }).equals(df),
    ).toBe(true);
    expect(df.toString().split("\n")[0].trim().split(/\s+/)).toEqual(["index", ...RESERVED]);
  });

  it("keeps a __proto__ column of fromRecords (JSON.parse rows)", () => {
    const df = DataFrame.fromRecords(JSON.parse('[{"__proto__": 1, "b": 2}, {"__proto__": 3, "b": 4}]'));
    expect(df.columnNames).toEqual(["__proto__", "b"]);
    expect([...(df.column("__proto__") as Float64Array)]).toEqual([1, 3]);
  });

  it("write, read (all and by name), append, update, describe", async () => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib");
    const df = new DataFrame(columns(), { index: dates });
    await lib.write("s", df);
    expect((await lib.read("s")).data!.equals(df)).toBe(true);
    const picked = (await lib.read("s", { columns: ["__proto__", "constructor"] })).data!;
    expect(picked.columnNames).toEqual(["__proto__", "constructor"]);
    expect([...(picked.column("__proto__") as Float64Array)]).toEqual([4, 4.5]);
    const next = new DataFrame(Object.fromEntries(RESERVED.map((name) => [name, [9]])), {
      index: [new Date("2024-01-03T00:00:00Z")],
    });
    await lib.append("s", next);
    await lib.update("s", next);
    const read = (await lib.read("s")).data!;
    expect(read.numRows).toBe(3);
    expect([...(read.column("hasOwnProperty") as Float64Array)]).toEqual([3, 3.5, 9]);
    const description = await lib.getDescription("s");
    expect(description.columns.map((c) => c.name)).toEqual(RESERVED);
    await ac.close();
  });

  it("work under dynamic schema, as a column one version adds", async () => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib", { dynamicSchema: true });
    await lib.write("s", { a: [1] });
    await lib.append(
      "s",
      Object.fromEntries([
        ["a", [2]],
        ["__proto__", [7]],
        ["constructor", ["x"]],
      ]),
    );
    const read = (await lib.read("s")).data!;
    expect(read.columnNames).toEqual(["a", "__proto__", "constructor"]);
    expect([...(read.column("__proto__") as Float64Array)]).toEqual([Number.NaN, 7]);
    expect(read.column("constructor")).toEqual([null, "x"]);
    await ac.close();
  });
});
