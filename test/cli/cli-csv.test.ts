import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// `floe import` of CSV with missing values, notes and time zones, as a user runs it: `node dist/cli.js`
// in a child process on a real lmdb:// store (issue 22, items 3, 4 and 8).

const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));

function floe(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number) : 0;
      resolve({ code: typeof code === "number" ? code : -1, stdout, stderr });
    });
  });
}

let dir: string;
let uri: string;
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error("dist/cli.js is missing: run `npm run build` first.");
  dir = mkdtempSync(join(tmpdir(), "floe-cli-csv-"));
  uri = `lmdb://${join(dir, "store")}`;
  writeFileSync(
    join(dir, "t.csv"),
    "time,size,ok,venue\n2024-01-02T14:30:00Z,100,true,XNAS\n2024-01-02T14:30:01Z,-,,N/A\n2024-01-02T14:30:02Z,7,false,XNYS\n",
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("floe import of CSV", () => {
  it("notes a column read as string because of one odd cell on stderr, with the CLI's fix, and exits 0", async () => {
    const r = await floe("import", uri, "lib", "t", join(dir, "t.csv"), "--index", "time");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Imported 3 rows into lib\/t, version 0/);
    expect(r.stderr).toBe(
      `floe: note: CSV column 'size' was read as string because of "-" at data row 2 (line 3); its other cells ` +
        'are numbers. If "-" means a missing value, give --na-values -; to read the column as float64 and have ' +
        "each odd cell reported as an error, give --dtype size=float64.\n",
    );
    const json = await floe("import", uri, "lib", "t", join(dir, "t.csv"), "--index", "time", "--json");
    expect(JSON.parse(json.stdout).notes).toHaveLength(1);
  });

  it("reads --na-values as missing, with pandas' defaults; --no-default-na keeps those as text", async () => {
    const r = await floe(
      "import",
      uri,
      "lib",
      "t",
      join(dir, "t.csv"),
      "--index",
      "time",
      "--na-values",
      "-",
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const head = await floe("head", uri, "lib", "t", "--json");
    const frame = JSON.parse(head.stdout);
    expect(frame.columns).toEqual([
      { name: "size", dtype: "float64" },
      { name: "ok", dtype: "float64" },
      { name: "venue", dtype: "string" },
    ]);
    expect(frame.rows[1]).toMatchObject({ size: null, ok: null, venue: null });
    const kept = await floe(
      "import",
      uri,
      "lib",
      "t",
      join(dir, "t.csv"),
      "--index",
      "time",
      "--na-values",
      "-,",
      "--no-default-na",
    );
    expect(kept.code).toBe(0);
    const again = JSON.parse((await floe("head", uri, "lib", "t", "--json")).stdout);
    expect(again.rows[1]).toMatchObject({ size: null, ok: null, venue: "N/A" });
  });

  it("gives the index a zone with --tz; export writes local time with its offset and re-imports the same", async () => {
    const r = await floe(
      "import",
      uri,
      "lib",
      "z",
      join(dir, "t.csv"),
      "--index",
      "time",
      "--na-values",
      "-",
      "--tz",
      "America/New_York",
    );
    expect(r.code).toBe(0);
    const out = await floe("export", uri, "lib", "z", "-");
    expect(out.stdout).toBe(
      "time,size,ok,venue\n2024-01-02 09:30:00-05:00,100,1,XNAS\n2024-01-02 09:30:01-05:00,,,\n2024-01-02 09:30:02-05:00,7,0,XNYS\n",
    );
    writeFileSync(join(dir, "z.csv"), out.stdout);
    await floe("import", uri, "lib", "z2", join(dir, "z.csv"), "--index", "time", "--tz", "America/New_York");
    const a = JSON.parse((await floe("read", uri, "lib", "z", "--json")).stdout);
    const b = JSON.parse((await floe("read", uri, "lib", "z2", "--json")).stdout);
    expect(b.rows).toEqual(a.rows);
    expect((await floe("head", uri, "lib", "z2", "-n", "1")).stdout).toMatch(/2024-01-02 09:30:00-05:00/);
    const bad = await floe("import", uri, "lib", "z3", join(dir, "t.csv"), "--tz", "America/New_York");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--tz is the zone of the timestamp index: give --index <column> too/);
  });
});
