import { Table, TimestampSecond, vectorFromArray } from "apache-arrow";
import { describe, expect, it } from "vitest";
import { Arctic, DataFrame, type Library } from "../../runtimes/node.ts";
import { fromArrow } from "../../src/arrow/index.ts";
import { rejectsWith } from "../helpers.ts";

// Issue 21, item 1: floe stores timestamps as signed 64-bit nanoseconds, 1677-09-21T00:12:43.145224193 …
// 2262-04-11T23:47:16.854775807. A value outside that span used to wrap around (2300-01-01 stored as
// 1715-06-13); now every way a timestamp enters is an InvalidArgumentError naming the value and the span.

const RANGE = /1677-09-21T00:12:43\.145224193.*2262-04-11T23:47:16\.854775807/;
const day = (iso: string) => new Date(`${iso}T00:00:00Z`);

function throwsOutOfRange(build: () => unknown, shown: RegExp): void {
  let caught: unknown;
  try {
    build();
  } catch (err) {
    caught = err;
  }
  expect(caught).toMatchObject({ code: "InvalidArgumentError" });
  expect((caught as Error).message).toMatch(shown);
  expect((caught as Error).message).toMatch(RANGE);
}

async function library(): Promise<[Arctic, Library]> {
  const ac = new Arctic("mem://");
  const lib = await ac.createLibrary("lib");
  await lib.write("s", new DataFrame({ a: [1, 2] }, { index: [day("2024-01-01"), day("2024-01-02")] }));
  return [ac, lib];
}

describe("timestamps outside the int64 nanosecond range", () => {
  it("are refused in a DataFrame index, as a Date, an ISO string or a bigint", () => {
    throwsOutOfRange(() => new DataFrame({ a: [1] }, { index: [day("2300-01-01")] }), /2300-01-01/);
    throwsOutOfRange(() => new DataFrame({ a: [1] }, { index: ["2300-01-01"] }), /2300-01-01/);
    throwsOutOfRange(() => new DataFrame({ a: [1] }, { index: ["1600-06-30T12:00:00Z"] }), /1600-06-30/);
    throwsOutOfRange(
      () => new DataFrame({ a: [1] }, { index: { name: "t", values: [2n ** 63n] } }),
      /9223372036854775808/,
    );
  });

  it("are refused in a timestamp column and in fromRecords", () => {
    throwsOutOfRange(
      () => new DataFrame({ t: [day("2024-01-01"), day("2300-01-01")] }),
      /row 1.*2300-01-01/s,
    );
    throwsOutOfRange(
      () => new DataFrame({ t: ["2262-04-12"] }, { dtypes: { t: "timestamp" } }),
      /2262-04-12/,
    );
    throwsOutOfRange(
      () => DataFrame.fromRecords([{ t: day("2300-01-01"), a: 1 }], { index: "t" }),
      /2300-01-01/,
    );
  });

  it("are refused in an Arrow timestamp column of a coarser unit", () => {
    const seconds = vectorFromArray([1_700_000_000_000, 10_413_792_000_000], new TimestampSecond()); // ms in, s stored;
    throwsOutOfRange(() => fromArrow(new Table({ t: seconds })), /'t'.*row 1/s);
  });

  it("keep the very ends of the range exactly", () => {
    const ends = ["1677-09-21T00:12:43.145224193Z", "2262-04-11T23:47:16.854775807Z"];
    const df = new DataFrame({ a: [1, 2] }, { index: ends });
    expect(df.index.kind === "timestamp" && [...df.index.values]).toEqual([
      -(2n ** 63n) + 1n,
      2n ** 63n - 1n,
    ]);
    throwsOutOfRange(() => new DataFrame({ a: [1] }, { index: ["2262-04-11T23:47:16.854775808Z"] }), /2262/);
    throwsOutOfRange(() => new DataFrame({ a: [1] }, { index: ["1677-09-21T00:12:43.145224191Z"] }), /1677/);
    // The lowest int64 is NaT, not an instant: as a given time it would read back as missing.
    throwsOutOfRange(() => new DataFrame({ a: [1] }, { index: ["1677-09-21T00:12:43.145224192Z"] }), /1677/);
  });

  it("are refused in update's data and dateRange, and nothing is stored", async () => {
    const [ac, lib] = await library();
    const late = { a: [9] };
    throwsOutOfRange(() => new DataFrame(late, { index: [day("2300-01-01")] }), /2300/);
    const err = await rejectsWith(
      lib.update("s", new DataFrame(late, { index: [day("2024-01-02")] }), {
        dateRange: [day("2024-01-02"), day("2300-01-01")],
      }),
      "InvalidArgumentError",
    );
    expect(err.message).toMatch(/dateRange end.*2300-01-01/);
    expect(err.message).toMatch(RANGE);
    expect((await lib.listVersions("s")).length).toBe(1);
    expect([...((await lib.read("s")).data!.column("a") as Float64Array)]).toEqual([1, 2]);
    await ac.close();
  });

  it("are refused as read dateRange bounds instead of wrapping round", async () => {
    const [ac, lib] = await library();
    const err = await rejectsWith(
      lib.read("s", { dateRange: [day("2024-01-01"), "2300-01-01"] }),
      "InvalidArgumentError",
    );
    expect(err.message).toMatch(/2300-01-01/);
    expect(err.message).toMatch(RANGE);
    await rejectsWith(lib.read("s", { dateRange: [-(2n ** 64n), null] }), "InvalidArgumentError");
    await ac.close();
  });
});
