import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Arctic, DataFrame } from "../../runtimes/node.ts";
import { LmdbStorage } from "../../src/storage/lmdb-storage.ts";
import { tempDir } from "../helpers.ts";

// Issue 3: a ranged read fetches only the segments it needs. The spy counts the real LmdbStorage's gets
// (it calls through; nothing is mocked).

const MINUTE = 60_000_000_000n;
const START = BigInt(Date.UTC(2015, 0, 1)) * 1_000_000n;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("read cost", () => {
  it("one day of a ten-year minute series touches a handful of segments", async () => {
    const ac = new Arctic(`lmdb://${join(tempDir(), "ten-years.lmdb")}`);
    const lib = await ac.createLibrary("lib");
    const rows = 10 * 365 * 1440;
    const index = new BigInt64Array(rows);
    const price = new Float64Array(rows);
    let p = 100;
    for (let i = 0; i < rows; i++) {
      index[i] = START + BigInt(i) * MINUTE;
      p += Math.sin(i) * 0.01;
      price[i] = p;
    }
    await lib.write("bars", new DataFrame({ price }, { index }));
    const segmentsStored = Math.ceil(rows / 100_000);

    const gets: string[] = [];
    const record = (key: string) => {
      gets.push(key);
    };
    const getView = LmdbStorage.prototype.getView;
    const get = LmdbStorage.prototype.get;
    vi.spyOn(LmdbStorage.prototype, "getView").mockImplementation(function (this: LmdbStorage, key: string) {
      record(key);
      return getView.call(this, key);
    });
    vi.spyOn(LmdbStorage.prototype, "get").mockImplementation(function (this: LmdbStorage, key: string) {
      record(key);
      return get.call(this, key);
    });

    const dayStart = START + 2000n * 1440n * MINUTE; // a day in 2020
    const item = await lib.read("bars", { dateRange: [dayStart, dayStart + 1439n * MINUTE] });
    const df = item.data!;
    expect(df.numRows).toBe(1440);
    const first = 2000 * 1440;
    const got = df.column("price") as Float64Array;
    for (let i = 0; i < 1440; i++) if (got[i] !== price[first + i]) throw new Error(`row ${i} differs`);

    const segmentGets = gets.filter((k) => k.startsWith("S:"));
    // The day lies in at most two segments; the boundary lookups decode those same segments.
    expect(new Set(segmentGets).size).toBeLessThanOrEqual(2);
    expect(segmentGets.length).toBeLessThanOrEqual(4);
    expect(gets.length).toBeLessThanOrEqual(8); // plus the version and index records
    expect(segmentsStored).toBeGreaterThan(50);

    // A column-subset read of the same day fetches the same few segments, not more.
    gets.length = 0;
    await lib.read("bars", { dateRange: [dayStart, dayStart + 1439n * MINUTE], columns: [] });
    expect(new Set(gets.filter((k) => k.startsWith("S:"))).size).toBeLessThanOrEqual(2);
    await ac.close();
  });
});
