import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Arctic, DataFrame, type Library } from "../../runtimes/node.ts";
import { rejectsWith, tempDir } from "../helpers.ts";

// Behaviours of `update` ported from ArcticDB's python/tests/unit/arcticdb/version_store/test_update.py:
// same inputs, same outcome, in floe's API. Each `it` names the ArcticDB test it follows. ArcticDB's
// update replaces every stored row from the first to the last timestamp of the new data (or of
// `date_range`), so stored rows between two new rows are dropped: it is not pandas' `DataFrame.update`.

const DAY = 86_400_000_000_000n;
/** ns timestamps of `n` days from `start` (an ISO date). */
function days(start: string, n: number): BigInt64Array {
  const t0 = BigInt(Date.parse(`${start}T00:00:00Z`)) * 1_000_000n;
  return BigInt64Array.from({ length: n }, (_, i) => t0 + BigInt(i) * DAY);
}
const frame = (cols: Record<string, Float64Array | number[] | string[]>, index: BigInt64Array) =>
  new DataFrame(cols, { index: { name: "date", values: index } });
const at = (iso: string) => days(iso, 1)[0];

/** The expected result of an ArcticDB update, computed from plain rows: drop [lo, hi], insert, sort. */
function applyUpdate(stored: DataFrame, data: DataFrame, lo: bigint, hi: bigint): DataFrame {
  const t = (stored.index as { values: BigInt64Array }).values;
  const keep = [...t.keys()].filter((i) => t[i] < lo || t[i] > hi);
  const nt = (data.index as { values: BigInt64Array }).values;
  const take = [...nt.keys()].filter((i) => nt[i] >= lo && nt[i] <= hi);
  const rows = [
    ...keep.map((i) => ({ t: t[i], from: stored, i })),
    ...take.map((i) => ({ t: nt[i], from: data, i })),
  ].sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
  const cols: Record<string, unknown[]> = {};
  for (const name of stored.columnNames) {
    cols[name] = rows.map((r) => (r.from.column(name) as ArrayLike<unknown>)[r.i]);
  }
  const typed = Object.fromEntries(
    Object.entries(cols).map(([k, v]) => [
      k,
      typeof v[0] === "number" ? Float64Array.from(v as number[]) : (v as string[]),
    ]),
  );
  return new DataFrame(typed as Record<string, Float64Array | string[]>, {
    index: { name: "date", values: BigInt64Array.from(rows.map((r) => r.t)) },
    dtypes: Object.fromEntries(stored.columnNames.map((n) => [n, stored.dtypes[n]])),
  });
}

/** A library on a real LMDB file; the 16 repeated-update cases use mem:// (LMDB syncs every commit). */
async function library(
  options: { rowsPerSegment?: number; columnsPerSegment?: number } = {},
  where: "lmdb" | "mem" = "lmdb",
) {
  const uri = where === "mem" ? "mem://" : `lmdb://${join(tempDir(), "s.lmdb")}`;
  const ac = new Arctic(uri, { workers: 0 });
  return { ac, lib: await ac.createLibrary("lib", options) };
}

async function expectStored(lib: Library, symbol: string, expected: DataFrame, asOf?: number | string) {
  const got = (await lib.read(symbol, asOf === undefined ? {} : { asOf })).data!;
  if (!got.equals(expected)) expect(got.toString()).toBe(expected.toString());
  expect(got.equals(expected)).toBe(true);
}

describe("update, as ArcticDB's test_update.py", () => {
  it("test_update_single_dates: upserts into a missing symbol, then inserts before and between", async () => {
    const { ac, lib } = await library();
    const df1 = frame({ a: [2220103] }, days("2022-01-03", 1));
    const df2 = frame({ a: [211222] }, days("2021-12-22", 1));
    const df3 = frame({ a: [2211229] }, days("2021-12-29", 1));
    await lib.update("data6", df1, { upsert: true });
    await lib.update("data6", df2, { upsert: true });
    await lib.update("data6", df3, { upsert: true });
    const index = BigInt64Array.of(at("2021-12-22"), at("2021-12-29"), at("2022-01-03"));
    await expectStored(lib, "data6", frame({ a: [211222, 2211229, 2220103] }, index));
    await ac.close();
  });

  it("test_update: replaces 10 days of 100 across segments of 2 rows and tiles of 2 columns", async () => {
    const { ac, lib } = await library({ rowsPerSegment: 2, columnsPerSegment: 2 });
    const idx = days("1970-01-01", 100);
    const df = frame({ a: Float64Array.from(idx, (_, i) => i) }, idx);
    await lib.write("update_no_daterange", df);
    const idx2 = days("1970-01-12", 10);
    const df2 = frame({ a: Float64Array.from(idx2, (_, i) => 1000 + i) }, idx2);
    await lib.update("update_no_daterange", df2);
    const expected = Float64Array.from(idx, (_, i) => (i >= 11 && i < 21 ? 1000 + i - 11 : i));
    await expectStored(lib, "update_no_daterange", frame({ a: expected }, idx));
    await ac.close();
  });

  it("test_update_long_strides: stored rows between the first and last new row are dropped", async () => {
    const { ac, lib } = await library();
    const idx = days("2023-02-01", 7);
    await lib.write("s", frame({ A: new Float64Array(7).fill(1) }, idx));
    await lib.update("s", frame({ A: [999, 999] }, BigInt64Array.of(idx[0], idx[5])));
    await expectStored(lib, "s", frame({ A: [999, 999, 1] }, BigInt64Array.of(idx[0], idx[5], idx[6])));
    await ac.close();
  });

  // gen_params(): col_per_group 2..3, start_increment -1..0, end_increment -1..0, update_start 17..18,
  // iterations 7, start_dist 5; rows_per_segment 2. Floats and (test_update_repeatedly_with_strings) strings.
  const params: [number, number, number, number][] = [];
  for (const cols of [2, 3])
    for (const si of [-1, 0])
      for (const ei of [-1, 0]) for (const us of [17, 18]) params.push([cols, si, ei, us]);
  it.each(params)(
    "test_update_repeatedly(_with_strings): columnsPerSegment %i, start step %i, end step %i, start day %i",
    async (cols, startIncrement, endIncrement, updateStart) => {
      const { ac, lib } = await library({ rowsPerSegment: 2, columnsPerSegment: cols }, "mem");
      const idx = days("1970-01-01", 100);
      let expected = frame(
        { a: Float64Array.from(idx, (_, i) => i), s: Array.from(idx, (_, i) => `s${i}`) },
        idx,
      );
      await lib.write("sym", expected);
      const updateEnd = updateStart + 5;
      for (let x = 0; x < 7; x++) {
        const start = updateStart + x * startIncrement;
        const periods = updateEnd + x * endIncrement - updateStart;
        if (periods <= 0) continue;
        const idx2 = days(`1970-01-${String(start).padStart(2, "0")}`, periods);
        const df2 = frame(
          {
            a: Float64Array.from(idx2, (_, i) => 1000 + x + i),
            s: Array.from(idx2, (_, i) => `u${x}.${i}`),
          },
          idx2,
        );
        await lib.update("sym", df2);
        expected = applyUpdate(expected, df2, idx2[0], idx2[idx2.length - 1]);
        await expectStored(lib, "sym", expected);
      }
      await ac.close();
    },
  );

  it("test_update_with_snapshot: the snapshot and version 0 keep the original after update and delete", async () => {
    const { ac, lib } = await library({ rowsPerSegment: 2, columnsPerSegment: 2 });
    const idx = days("1970-01-01", 100);
    const original = frame({ a: Float64Array.from(idx, (_, i) => i) }, idx);
    await lib.write("update_no_daterange", original);
    await lib.snapshot("my_snap");
    const idx2 = days("1970-01-12", 10);
    const df2 = frame({ a: Float64Array.from(idx2, (_, i) => 1000 + i) }, idx2);
    await lib.update("update_no_daterange", df2);
    const updated = applyUpdate(original, df2, idx2[0], idx2[9]);
    await expectStored(lib, "update_no_daterange", original, 0);
    await expectStored(lib, "update_no_daterange", original, "my_snap");
    await expectStored(lib, "update_no_daterange", updated);
    await expectStored(lib, "update_no_daterange", updated, 1);
    await lib.delete("update_no_daterange");
    const versions = await lib.listVersions();
    expect(versions.map(({ date: _, ...v }) => v)).toEqual([
      { symbol: "update_no_daterange", version: 0, snapshots: ["my_snap"], deleted: true },
    ]);
    await expectStored(lib, "update_no_daterange", original, "my_snap");
    await ac.close();
  });

  it("test_update_with_daterange: a date range wider than the data drops every stored row in it", async () => {
    const { ac, lib } = await library();
    const span = (from: string, to: string) =>
      days(from, (Date.parse(to) - Date.parse(from)) / 86_400_000 + 1);
    const byDay = (idx: BigInt64Array) =>
      frame({ value: Float64Array.from(idx, (t) => new Date(Number(t / 1_000_000n)).getUTCDate()) }, idx);
    await lib.write("test", byDay(span("2020-01-01", "2021-01-01")));
    const df2 = byDay(span("2020-06-01", "2021-06-01"));
    await lib.update("test", df2, { dateRange: ["2020-01-01", "2022-01-01"] });
    const stored = (await lib.read("test")).data!;
    expect(stored.equals(df2)).toBe(true);
    await ac.close();
  });

  it("test_non_cstyle_numpy_update: an update overlapping the last stored row replaces it", async () => {
    const { ac, lib } = await library();
    const s = (secs: number[]) => BigInt64Array.from(secs, (x) => BigInt(x) * 1_000_000_000n);
    const df1 = frame(
      { volume: [1523618.28, 1091657.66, 2243057.35, 846373.91] },
      s([1673481600, 1673568000, 1673654400, 1673740800]),
    );
    const df2 = frame(
      { volume: [846373.91, 1602216.77, 873934.74, 990047.95] },
      s([1673740800, 1673827200, 1673913600, 1674000000]),
    );
    await lib.write("s", df1);
    await lib.update("s", df2);
    await expectStored(
      lib,
      "s",
      frame(
        { volume: [1523618.28, 1091657.66, 2243057.35, 846373.91, 1602216.77, 873934.74, 990047.95] },
        s([1673481600, 1673568000, 1673654400, 1673740800, 1673827200, 1673913600, 1674000000]),
      ),
    );
    await ac.close();
  });

  it("test_update_sortedness_checks: unsorted or descending new rows are refused, nothing changes", async () => {
    const { ac, lib } = await library();
    const asc = days("2024-01-15", 10);
    const data = Float64Array.from(asc, (_, i) => i);
    await lib.write("s", frame({ col: data }, asc));
    const desc = asc.slice().reverse();
    const rolled = BigInt64Array.from(asc, (_, i) => asc[(i + 5) % 10]);
    for (const idx of [desc, rolled]) {
      for (const options of [{}, { dateRange: [at("2024-01-13"), at("2024-01-17")] as [bigint, bigint] }]) {
        await rejectsWith(lib.update("s", frame({ col: data }, idx), options), "UnsortedIndexError");
      }
    }
    expect((await lib.listVersions("s")).length).toBe(1);
    await lib.update("s", frame({ col: data }, asc), { dateRange: [at("2024-01-13"), at("2024-01-17")] });
    expect((await lib.read("s")).version).toBe(1);
    await ac.close();
  });

  it("test_update_not_sorted_range_index_exception: a row-number index cannot be updated", async () => {
    const { ac, lib } = await library();
    await lib.write("bad_write", { c: Float64Array.from({ length: 20 }, (_, i) => i) });
    await rejectsWith(
      lib.update("bad_write", { c: Float64Array.from({ length: 20 }, (_, i) => i) }),
      "InvalidArgumentError",
    );
    expect((await lib.listVersions("bad_write")).length).toBe(1);
    await ac.close();
  });

  it("TestBatchUpdate.test_date_range: only the new rows inside dateRange are written", async () => {
    const { ac, lib } = await library();
    await lib.write("symbol_1", frame({ a: [0, 1, 2, 3, 4] }, days("2024-01-01", 5)));
    await lib.write("symbol_2", frame({ b: [10, 11, 12, 13, 14, 15] }, days("2024-01-05", 6)));
    const d1 = days("2024-01-01", 10);
    await lib.update("symbol_1", frame({ a: Float64Array.from(d1, (_, i) => i - 10) }, d1), {
      dateRange: ["2024-01-02", "2024-01-02"],
    });
    const d2 = days("2024-01-01", 20);
    await lib.update("symbol_2", frame({ b: Float64Array.from(d2, (_, i) => 100 + i) }, d2), {
      dateRange: ["2024-01-05", "2024-01-11"],
    });
    await expectStored(lib, "symbol_1", frame({ a: [0, -9, 2, 3, 4] }, days("2024-01-01", 5)));
    await expectStored(
      lib,
      "symbol_2",
      frame({ b: Float64Array.from({ length: 7 }, (_, i) => 104 + i) }, days("2024-01-05", 7)),
    );
    await ac.close();
  });

  it("TestBatchUpdate.test_missing_symbol_is_error: update of a missing symbol without upsert", async () => {
    const { ac, lib } = await library();
    await lib.write("symbol_1", frame({ a: [1] }, days("2024-01-01", 1)));
    const err = await rejectsWith(
      lib.update("symbol_3", frame({ a: [1, 2] }, days("2024-01-02", 2))),
      "SymbolNotFoundError",
    );
    expect(err.message).toMatch(/symbol_3/);
    expect(err.message).toMatch(/upsert/);
    expect(await lib.listSymbols()).toEqual(["symbol_1"]);
    await lib.update("symbol_1", frame({ a: [2, 3] }, days("2024-01-02", 2)));
    await expectStored(lib, "symbol_1", frame({ a: [1, 2, 3] }, days("2024-01-01", 3)));
    await ac.close();
  });
});
