import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Arctic, col, DataFrame, QueryBuilder, runQuery } from "../../runtimes/node.ts";

// `floe query` as a user runs it: `node dist/cli.js query …` in a child process on a real lmdb:// store;
// its answer equals the same query built with col/lit and run on the frame.

const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));

function floe(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number) : 0;
      resolve({ code: typeof code === "number" ? code : -1, stdout, stderr });
    });
  });
}

const frame = new DataFrame(
  {
    sym: ["A", "B", "A", "C", "B", "A"],
    venue: ["X", "Y", null, "X", "X", "Y"],
    px: [101, 99, 103, 150, 120, Number.NaN],
    bid: [1, 2, 3, 4, 5, 6],
    ask: [2, 3, 4, 5, 6, 7],
  },
  {
    index: [
      "2024-01-02T09:30:00Z",
      "2024-01-02T09:31:00Z",
      "2024-01-02T10:32:00Z",
      "2024-01-02T10:33:00Z",
      "2024-01-02T11:00:00Z",
      "2024-01-02T11:01:00Z",
    ],
  },
);

let dir: string;
let uri: string;
beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error("dist/cli.js is missing: run `npm run build` first.");
  dir = mkdtempSync(join(tmpdir(), "floe-cli-query-"));
  uri = `lmdb://${join(dir, "store")}`;
  const ac = new Arctic(uri);
  const lib = await ac.createLibrary("bars");
  await lib.write("minute", frame);
  await ac.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The JSON rows of a `floe --json query` answer. */
async function rows(...args: string[]): Promise<Record<string, unknown>[]> {
  const r = await floe("--json", "query", uri, "bars", "minute", ...args);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout).rows;
}

function expected(q: QueryBuilder): Record<string, unknown>[] {
  return JSON.parse(
    JSON.stringify(runQuery(frame, q).toRecords(), (_, v) => (typeof v === "bigint" ? Number(v) : v)),
  );
}

describe("floe query", () => {
  it("filters, applies, groups and resamples as the built query", async () => {
    const filtered = await rows("--filter", "px > 100 and sym in ('A','B')", "--apply", "mid=(bid+ask)/2");
    expect(filtered.map((r) => [r.sym, r.px, r.mid])).toEqual([
      ["A", 101, 1.5],
      ["A", 103, 3.5],
      ["B", 120, 5.5],
    ]);
    // --apply then --filter on the new column, in the order given; groupby on two keys.
    const grouped = await rows(
      "--apply",
      "mid=(bid+ask)/2",
      "--filter",
      "mid > 2 and venue is not null",
      "--groupby",
      "sym,venue",
      "--agg",
      "px=mean,n=px:count,top=mid:max",
    );
    const q = new QueryBuilder()
      .apply("mid", col("bid").add(col("ask")).div(2))
      .filter(col("mid").gt(2).and(col("venue").notnull()))
      .groupby(["sym", "venue"])
      .agg({ px: "mean", n: ["px", "count"], top: ["mid", "max"] });
    expect(grouped.map(({ index: _, ...r }) => r)).toEqual(expected(q).map(({ index: _, ...r }) => r));
    const hourly = await rows(
      "--resample",
      "1h",
      "--agg",
      "hi=px:max,n=px:count",
      "--date-range",
      "2024-01-02T09:31:00Z..",
    );
    expect(hourly.map((r) => [r.index, r.hi, r.n])).toEqual([
      ["2024-01-02T09:00:00Z", 99, 1],
      ["2024-01-02T10:00:00Z", 150, 2],
      ["2024-01-02T11:00:00Z", 120, 1],
    ]);
    const last = await rows("--filter", "sym ~ '^A'", "--tail", "1", "--columns", "px");
    expect(last).toEqual([{ index: "2024-01-02T11:01:00Z", px: null }]);
    const table = await floe("query", uri, "bars", "minute", "--filter", "`px` >= 150");
    expect(table.stdout).toContain("10:33:00");
    expect(table.stdout.trim().split("\n")).toHaveLength(2);
  });

  it("reports a bad expression with its position (usage, exit 2) and a missing column (exit 1)", async () => {
    const bad = await floe("query", uri, "bars", "minute", "--filter", "px > > 1");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("floe: usage: --filter: expected a value");
    expect(bad.stderr).toContain("at position 6:\n  px > > 1\n       ^");
    const json = await floe("--json", "query", uri, "bars", "minute", "--filter", "sym in 'A'");
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr).error.code).toBe("InvalidArgumentError");
    const missing = await floe("query", uri, "bars", "minute", "--filter", "pz > 1");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no column 'pz'");
    for (const argv of [
      ["--groupby", "sym"],
      ["--agg", "px=mean"],
      ["--groupby", "sym", "--agg", "px"],
      ["--groupby", "sym", "--agg", "px=median"],
      ["--apply", "(bid+ask)/2"],
      ["--resample", "fortnight", "--agg", "px=max"],
    ]) {
      const r = await floe("query", uri, "bars", "minute", ...argv);
      expect([argv, r.code]).toEqual([argv, 2]);
    }
  });
});
