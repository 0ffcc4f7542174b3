import { describe, expect, it, vi } from "vitest";
import { DataFrame, InvalidArgumentError } from "../../src/api/index.ts";

// Issue 22, item 5: one rule for time. Instants are UTC; an ISO string without an offset reads as UTC,
// an offset is honoured; zone abbreviations are refused with a message saying what to write instead. An
// index may carry a zone (as pandas' tz-aware index) that changes how it prints, not what it holds. A
// BigInt64Array index that holds seconds, ms or µs by mistake is refused rather than stored as 1970.

const message = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return (err as Error).message;
  }
  throw new Error("expected an InvalidArgumentError");
};

describe("time zones", () => {
  it("reads ISO strings without an offset as UTC and honours offsets", () => {
    const df = new DataFrame(
      { x: [1, 2, 3, 4] },
      {
        index: [
          "2024-01-02T09:30:00",
          "2024-01-02T09:30:00Z",
          "2024-01-02T04:30:00-05:00",
          "2024-01-02T15:00:00+0530",
        ],
      },
    );
    expect(new Set(df.index.kind === "timestamp" ? df.index.values : []).size).toBe(1);
  });

  it("reads a string without an offset as UTC whatever the process's TZ, unlike new Date(string)", () => {
    const saved = process.env.TZ;
    process.env.TZ = "America/New_York";
    try {
      const df = new DataFrame({ x: [1] }, { index: ["2024-01-02T09:30:00"] });
      expect(df.toRecords()[0].index).toEqual(new Date("2024-01-02T09:30:00Z"));
      // The runtime's own parse is local time (documented in docs/guide.md; floe cannot see it).
      expect(new Date("2024-01-02T09:30:00").toISOString()).toBe("2024-01-02T14:30:00.000Z");
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it("refuses zone abbreviations and names in a string, saying to write an offset or use tz", () => {
    for (const text of ["2024-01-02 09:30:00 EST", "2024-01-02T09:30:00 America/New_York"]) {
      const m = message(() => new DataFrame({ x: [1] }, { index: [text] }));
      expect(m).toMatch(/write the offset instead, such as -05:00/);
      expect(m).toMatch(/tz/);
    }
  });

  it("prints a zoned index in local time with its offset, as pandas prints a tz-aware index", () => {
    const df = new DataFrame(
      { px: [1.5, 2.5] },
      {
        index: {
          name: "time",
          values: ["2024-01-02T14:30:00Z", "2024-07-02T13:30:00.25Z"],
          tz: "America/New_York",
        },
      },
    );
    expect(df.index).toMatchObject({ kind: "timestamp", name: "time", tz: "America/New_York" });
    expect(df.toString()).toBe(
      [
        "time                            px",
        "2024-01-02 09:30:00.000-05:00  1.5",
        "2024-07-02 09:30:00.250-04:00  2.5",
      ].join("\n"),
    );
    // The values are the same UTC instants as without a zone; only the printing differs.
    const plain = new DataFrame(
      { px: [1.5, 2.5] },
      { index: { name: "time", values: df.index.kind === "timestamp" ? df.index.values : [] } },
    );
    expect(df.equals(plain)).toBe(false);
    expect(df.toRecords()[0].time).toEqual(new Date("2024-01-02T14:30:00Z"));
  });

  it("prints midnight in a zone with its time, as pandas does", () => {
    const df = new DataFrame(
      { x: [1] },
      { index: { name: "d", values: ["2024-01-02T05:00:00Z"], tz: "America/New_York" } },
    );
    expect(df.toString()).toBe(
      ["d                            x", "2024-01-02 00:00:00-05:00  1.0"].join("\n"),
    );
  });

  it("refuses an unknown zone", () => {
    const m = message(
      () => new DataFrame({ x: [1] }, { index: { name: "t", values: ["2024-01-02"], tz: "Mars/Olympus" } }),
    );
    expect(m).toMatch(/'Mars\/Olympus' is not a time zone.*America\/New_York/);
  });

  it("takes fromRecords' tz option", () => {
    const df = DataFrame.fromRecords([{ t: "2024-01-02T14:30:00Z", x: 1 }], {
      index: "t",
      tz: "Europe/London",
    });
    expect(df.index).toMatchObject({ tz: "Europe/London" });
  });
});

describe("timestamps that look like the wrong unit", () => {
  const ms = [1704187800000n, 1704187860000n];

  it("warns, once per process, of a BigInt64Array index of milliseconds, which is stored as January 1970", () => {
    const warnings: string[] = [];
    const spy = vi.spyOn(console, "warn").mockImplementation((m: string) => {
      warnings.push(m);
    });
    try {
      const df = new DataFrame({ x: [1, 2] }, { index: BigInt64Array.from(ms) });
      // Stored as given: nanoseconds are the documented input.
      expect(df.index.kind === "timestamp" && df.index.values[0]).toBe(ms[0]);
      new DataFrame({ x: [1, 2] }, { index: BigInt64Array.from(ms) });
      new DataFrame({ x: [1, 2] }, { index: { name: "t", values: ms.map((v) => v * 1000n) } });
      new DataFrame({ x: [1, 2] }, { index: { name: "t", values: ms.map((v) => v / 1000n) } });
      new DataFrame({ x: [1, 2] }, { index: { name: "t", values: BigInt64Array.from(ms), unit: "ns" } });
    } finally {
      spy.mockRestore();
    }
    // One warning per unit mistake (ms, µs, s), however many frames; none when the unit is given.
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/1970-01-01 00:28:24.187800000.*milliseconds.*2024-01-02 09:30:00/);
    expect(warnings[0]).toMatch(/unit: "ms"/);
    expect(warnings[1]).toMatch(/microseconds/);
    expect(warnings[2]).toMatch(/seconds/);
  });

  it("converts with an explicit unit, and keeps nanoseconds near 1970 when the unit says ns", () => {
    const fromMs = new DataFrame(
      { x: [1, 2] },
      { index: { name: "t", values: BigInt64Array.from(ms), unit: "ms" } },
    );
    const fromNumbers = new DataFrame(
      { x: [1, 2] },
      { index: { name: "t", values: ms.map(Number), unit: "ms" } },
    );
    const fromSeconds = new DataFrame(
      { x: [1, 2] },
      { index: { name: "t", values: [1704187800, 1704187860], unit: "s" } },
    );
    const iso = new DataFrame(
      { x: [1, 2] },
      { index: { name: "t", values: ["2024-01-02T09:30:00Z", "2024-01-02T09:31:00Z"] } },
    );
    expect(fromMs.equals(iso) && fromNumbers.equals(iso) && fromSeconds.equals(iso)).toBe(true);
    const ns = new DataFrame(
      { x: [1, 2] },
      { index: { name: "t", values: BigInt64Array.from(ms), unit: "ns" } },
    );
    expect(ns.index.kind === "timestamp" && ns.index.values[0]).toBe(1704187800000n);
    // Small values (0, 1, 2 ns) look like no other unit's dates and are kept.
    expect(() => new DataFrame({ x: [1, 2] }, { index: new BigInt64Array([0n, 1n]) })).not.toThrow();
  });

  it("refuses plain numbers without a unit, showing how to give one", () => {
    const m = message(() => new DataFrame({ x: [1] }, { index: [1704187800000] as never }));
    expect(m).toMatch(/unit: "ms"/);
    expect(m).toMatch(/BigInt\(ms\) \* 1_000_000n/);
  });

  it("refuses a unit for Dates or strings, and a fractional number", () => {
    expect(
      message(() => new DataFrame({ x: [1] }, { index: { name: "t", values: [new Date(0)], unit: "ms" } })),
    ).toMatch(/unit/);
    expect(
      message(() => new DataFrame({ x: [1] }, { index: { name: "t", values: [1.5], unit: "ms" } })),
    ).toMatch(/1\.5/);
  });
});

describe("an index of numbers (issue 22, item 8)", () => {
  const ms = [1704187800000, 1704187860000];

  it("refuses a typed array of numbers saying the index must be timestamps and how to give ms", () => {
    const m = message(() => new DataFrame({ x: [1, 2] }, { index: new Float64Array(ms) as never }));
    expect(m).toBe(
      "DataFrame: the index must be timestamps, got a Float64Array. Numbers of milliseconds (or s, us, ns) " +
        'since 1970 need their unit: { name: "time", values, unit: "ms" }; or give a BigInt64Array of ' +
        "nanoseconds, Dates or ISO strings.",
    );
    expect(
      message(() => new DataFrame({ x: [1, 2] }, { index: { name: "t", values: new Float64Array(ms) } })),
    ).toMatch(
      /^DataFrame: index.values must be timestamps, got a Float64Array without a unit\. .*unit: "ms"/,
    );
    expect(message(() => new DataFrame({ x: [1] }, { index: new Date(0) as never }))).toMatch(
      /index must be timestamps .* got a single Date/,
    );
  });

  it("takes a typed array of numbers with its unit", () => {
    const df = new DataFrame(
      { x: [1, 2] },
      { index: { name: "t", values: new Float64Array(ms), unit: "ms" } },
    );
    expect(df.index.kind === "timestamp" && [...df.index.values]).toEqual([
      1704187800000000000n,
      1704187860000000000n,
    ]);
  });
});

describe("getDescription (issue 22, item 11)", () => {
  it("reports the index's zone, and none for a naive index", async () => {
    const { Arctic } = await import("../../runtimes/node.ts");
    const ac = new Arctic("mem://", { workers: 0 });
    const lib = await ac.createLibrary("l");
    const values = ["2024-01-02T14:30:00Z"];
    await lib.write(
      "ny",
      new DataFrame({ x: [1] }, { index: { name: "t", values, tz: "America/New_York" } }),
    );
    await lib.write("utc", new DataFrame({ x: [1] }, { index: { name: "t", values } }));
    const ny = (await lib.getDescription("ny")).index;
    const utc = (await lib.getDescription("utc")).index;
    expect(ny.kind === "timestamp" && ny.tz).toBe("America/New_York");
    expect(utc.kind === "timestamp" && "tz" in utc).toBe(false);
    await ac.close();
  });
});
