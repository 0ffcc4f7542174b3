import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { open } from "lmdb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Arctic } from "../../runtimes/node.ts";

// The floe CLI as a user runs it: `node dist/cli.js …` in a child process, on a real lmdb:// store in a
// temp dir and real files, checking the printed text, the --json output and the exit codes.

const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function floe(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number) : 0;
      resolve({ code: typeof code === "number" ? code : -1, stdout, stderr });
    });
  });
}

const CSV = [
  "time,price,qty,side,venue",
  "2024-01-02T09:30:00Z,101.5,100,true,XNAS",
  "2024-01-02T09:30:01Z,101.25,-5,false,",
  '2024-01-02T09:30:02.5Z,nan,7,true,"A, B"',
  "2024-01-02T09:30:03Z,99,8,false,XNYS",
].join("\n");

let dir: string;
let uri: string;
const made: string[] = [];

// One store for the tests that only read (spawning the CLI is the slow part); the test that changes
// the store makes its own.
let shared: { dir: string; uri: string };
beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error("dist/cli.js is missing: run `npm run build` first.");
  await freshStore();
  const ac = new Arctic(uri, { workers: 0 });
  const lib = await ac.getLibrary("lib");
  await lib.writeMetadata("trades", { feed: "test" });
  await lib.snapshot("eod", { metadata: { day: 2 } });
  await ac.close();
  shared = { dir, uri };
});
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function useShared(): void {
  ({ dir, uri } = shared);
}

async function freshStore(): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), "floe-cli-"));
  made.push(dir);
  uri = `lmdb://${join(dir, "store.lmdb")}`;
  writeFileSync(join(dir, "t.csv"), `${CSV}\n`);
  const r = await floe("import", uri, "lib", "trades", join(dir, "t.csv"), "--index", "time");
  expect(r).toMatchObject({ code: 0, stderr: "" });
  expect(r.stdout).toMatch(/^Imported 4 rows into lib\/trades, version 0 \(\d+\.\d s\)\.\n$/);
}

describe("floe CLI", () => {
  it("lists and describes, as tables and as JSON", async () => {
    useShared();
    const [libs, syms, vers, snaps, desc, descJson] = await Promise.all([
      floe("libraries", uri),
      floe("--json", "symbols", uri, "lib"),
      floe("versions", uri, "lib", "trades"),
      floe("snapshots", uri, "lib"),
      floe("describe", uri, "lib", "trades", "--as-of", "0"),
      floe("describe", uri, "lib", "trades", "--json"),
    ]);
    expect(libs).toEqual({ code: 0, stdout: "lib\n", stderr: "" });
    expect(JSON.parse(syms.stdout)).toEqual(["trades"]);
    const lines = vers.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^symbol\s+version\s+date\s+snapshots\s+deleted$/);
    expect(lines[1]).toMatch(/^trades\s+1\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+eod$/);
    expect(lines[2]).toMatch(/^trades\s+0\s+\S+$/);
    // Whole, so a failure shows the exit code and stderr too (it once printed nothing in CI).
    expect(snaps).toEqual({ code: 0, stdout: 'snapshot  metadata\neod       {"day":2}\n', stderr: "" });
    expect(desc.stdout).toContain("rows      4\n");
    expect(desc.stdout).toContain(
      "index     timestamp 'time', 2024-01-02T09:30:00Z .. 2024-01-02T09:30:03Z\n",
    );
    expect(desc.stdout).toContain(
      "column  dtype\nprice   float64\nqty     int64\nside    bool\nvenue   string\n",
    );
    expect(JSON.parse(descJson.stdout)).toMatchObject({
      symbol: "trades",
      version: 1,
      rowCount: 4,
      metadata: { feed: "test" },
      index: { kind: "timestamp", name: "time", first: "2024-01-02T09:30:00Z", sorted: true },
    });
  });

  it("prints head, tail and reads with date range, rows, columns and as-of", async () => {
    useShared();
    const [head, tail, range, rows, json] = await Promise.all([
      floe("head", uri, "lib", "trades", "-n", "2"),
      floe("tail", uri, "lib", "trades", "--rows", "1", "--columns", "venue"),
      floe(
        "read",
        uri,
        "lib",
        "trades",
        "--date-range",
        "2024-01-02T09:30:01..2024-01-02T09:30:02.5",
        "--columns",
        "qty,price",
      ),
      floe("read", uri, "lib", "trades", "--rows", "3:", "--as-of", "0"),
      floe("--json", "read", uri, "lib", "trades", "--columns", "price,side,venue"),
    ]);
    expect(head.stdout).toBe(
      [
        "time                  price  qty   side  venue",
        "2024-01-02 09:30:00   101.5  100   true   XNAS",
        "2024-01-02 09:30:01  101.25   -5  false   null",
        "",
      ].join("\n"),
    );
    expect(tail.stdout).toBe("time                 venue\n2024-01-02 09:30:03   XNYS\n");
    expect(range.stdout).toBe(
      [
        "time                     qty   price",
        "2024-01-02 09:30:01.000   -5  101.25",
        "2024-01-02 09:30:02.500    7     NaN",
        "",
      ].join("\n"),
    );
    expect(rows.stdout).toBe(
      "time                 price  qty   side  venue\n2024-01-02 09:30:03     99    8  false   XNYS\n",
    );
    expect(JSON.parse(json.stdout)).toEqual({
      symbol: "trades",
      version: 1,
      index: { kind: "timestamp", name: "time" },
      columns: [
        { name: "price", dtype: "float64" },
        { name: "side", dtype: "bool" },
        { name: "venue", dtype: "string" },
      ],
      rows: [
        { time: "2024-01-02T09:30:00Z", price: 101.5, side: true, venue: "XNAS" },
        { time: "2024-01-02T09:30:01Z", price: 101.25, side: false, venue: null },
        { time: "2024-01-02T09:30:02.5Z", price: null, side: true, venue: "A, B" },
        { time: "2024-01-02T09:30:03Z", price: 99, side: false, venue: "XNYS" },
      ],
    });
  });

  it("exports and re-imports CSV, Arrow and Parquet exactly", async () => {
    useShared();
    const csvOut = join(dir, "out.csv");
    const exported = await floe("export", uri, "lib", "trades", csvOut);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/^Exported 4 rows of trades to .*out\.csv \([\d.]+ B, [\d.]+ s\)\.\n$/);
    expect(readFileSync(csvOut, "utf8")).toBe(
      [
        "time,price,qty,side,venue",
        "2024-01-02 09:30:00.000,101.5,100,true,XNAS",
        "2024-01-02 09:30:01.000,101.25,-5,false,",
        '2024-01-02 09:30:02.500,,7,true,"A, B"',
        "2024-01-02 09:30:03.000,99,8,false,XNYS",
        "",
      ].join("\n"),
    );
    const stdout = await floe(
      "export",
      uri,
      "lib",
      "trades",
      "-",
      "--columns",
      "qty",
      "--date-range",
      "..2024-01-02T09:30:01",
    );
    expect(stdout.stdout).toBe("time,qty\n2024-01-02 09:30:00,100\n2024-01-02 09:30:01,-5\n");
    for (const ext of ["arrows", "parquet"]) {
      const file = join(dir, `out.${ext}`);
      const ex = await floe("--json", "export", uri, "lib", "trades", file);
      expect(ex.code).toBe(0);
      expect(JSON.parse(ex.stdout)).toMatchObject({
        symbol: "trades",
        rows: 4,
        format: ext === "parquet" ? "parquet" : "arrow",
      });
      const im = await floe("--json", "import", uri, "lib", `copy_${ext}`, file);
      expect(JSON.parse(im.stdout)).toMatchObject({
        symbol: `copy_${ext}`,
        library: "lib",
        version: 0,
        rows: 4,
      });
    }
    const ac = new Arctic(uri, { workers: 0 });
    const lib = await ac.getLibrary("lib");
    const original = (await lib.read("trades")).data!;
    for (const ext of ["arrows", "parquet"]) {
      expect((await lib.read(`copy_${ext}`)).data!.equals(original), ext).toBe(true);
    }
    await ac.close();
  });

  it("appends, verifies (exit 3 when damaged) and deletes", async () => {
    await freshStore();
    const more = join(dir, "more.csv");
    writeFileSync(more, "time,price,qty,side,venue\n2024-01-02T09:31:00Z,1,2,true,X\n");
    const app = await floe(
      "import",
      uri,
      "lib",
      "trades",
      more,
      "--index",
      "time",
      "--append",
      "--metadata",
      '{"n":2}',
    );
    expect(app.stdout).toMatch(/^Imported 1 rows into lib\/trades, version 1/);
    const early = join(dir, "early.csv");
    writeFileSync(early, "time,price,qty,side,venue\n2020-01-01T00:00:00Z,1,2,true,X\n");
    const unsorted = await floe("import", uri, "lib", "trades", early, "--index", "time", "--append");
    expect(unsorted.code).toBe(1);
    expect(unsorted.stderr).toMatch(/^floe: UnsortedIndexError: /);
    const ok = await floe("verify", uri, "lib");
    expect(ok).toMatchObject({
      code: 0,
      stdout: "OK: 4 records, 2 segments checked, 0 problems, 0 orphaned keys.\n",
    });
    const del = await floe("delete", uri, "lib", "trades", "--versions", "0");
    expect(del).toMatchObject({ code: 0, stdout: "Deleted versions 0 of trades.\n" });
    // Damage a segment behind floe's back: verify names it and exits 3.
    const raw = open<Uint8Array, string>({
      path: join(dir, "store.lmdb"),
      encoding: "binary",
      noSubdir: false,
    });
    const key = [...raw.getKeys({ start: "S:lib/trades/", end: "S:lib/trades/\u{10ffff}" })][0] as string;
    const bytes = Uint8Array.from(raw.getBinary(key) as Uint8Array);
    bytes[bytes.length - 2] ^= 0x40;
    await raw.put(key, bytes);
    await raw.close();
    const bad = await floe("--json", "verify", uri, "lib");
    expect(bad.code).toBe(3);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, problems: [{ key }] });
    expect((await floe("delete", uri, "lib", "trades")).stdout).toBe("Deleted trades.\n");
    expect((await floe("symbols", uri, "lib")).stdout).toBe("");
    const again = await floe("delete", uri, "lib", "trades");
    expect([again.code, again.stderr]).toEqual([1, expect.stringMatching(/^floe: SymbolNotFoundError: /)]);
  });

  it("exits 1 with the floe error's code and message, 2 on usage errors, 0 on --help", async () => {
    useShared();
    const cases = await Promise.all([
      floe("head", uri, "lib", "nope"),
      floe("--json", "head", uri, "nolib", "trades"),
      floe("libraries", `lmdb://${join(dir, "typo.lmdb")}`),
      floe("read", uri, "lib", "trades", "--columns", "nope"),
      floe("import", uri, "lib", "x", join(dir, "missing.csv")),
      floe("import", uri, "lib", "x", join(dir, "t.csv"), "--index", "price"),
      floe("bogus"),
      floe("head", uri),
      floe("head", uri, "lib", "trades", "--rows", "many"),
      floe("read", uri, "lib", "trades", "--date-range", "yesterday"),
      floe("import", uri, "lib", "x", join(dir, "t.xlsx")),
    ]);
    const summary = cases.map((r) => [r.code, r.stderr.split("\n")[0]]);
    expect(summary).toEqual([
      [1, expect.stringMatching(/^floe: SymbolNotFoundError: Symbol 'nope' does not exist/)],
      [1, expect.stringMatching(/^\{"error":\{"code":"LibraryNotFoundError","message":"Library 'nolib'/)],
      [1, expect.stringMatching(/^floe: InvalidUriError: There is no floe store at '.*typo\.lmdb'/)],
      [1, expect.stringMatching(/^floe: InvalidArgumentError: column 'nope' is not stored/)],
      [1, expect.stringMatching(/^floe: InvalidArgumentError: There is no file '.*missing\.csv'/)],
      [
        1,
        expect.stringMatching(
          /^floe: InvalidArgumentError: .*t\.csv: CSV: the index column 'price' holds float64 values/,
        ),
      ],
      [2, "error: unknown command 'bogus'"],
      [2, "error: missing required argument 'library'"],
      [2, "floe: usage: --rows must be a whole number, got 'many'."],
      [2, expect.stringMatching(/^floe: usage: --date-range must be START\.\.END/)],
      [1, expect.stringMatching(/^floe: InvalidArgumentError: Cannot tell the format of '.*t\.xlsx'/)],
    ]);
    for (const r of cases) expect(r.stdout).toBe("");
    // Nothing was written by the failed imports, and no store was made by the typo.
    expect(existsSync(join(dir, "typo.lmdb"))).toBe(false);
    const [symbols, main, ...helps] = await Promise.all([
      floe("symbols", uri, "lib"),
      floe("--help"),
      ...["import"].map((cmd) => floe(cmd, "--help")),
    ]);
    expect(symbols.stdout.split("\n")).toContain("trades");
    expect(symbols.stdout.split("\n")).not.toContain("x"); // the failed imports left no symbol
    // Every command is listed, and each has its own --help (commander adds it to all of them).
    for (const cmd of [
      "libraries",
      "symbols",
      "versions",
      "snapshots",
      "describe",
      "head",
      "tail",
      "read",
      "import",
      "export",
      "verify",
      "delete",
    ]) {
      expect(main.stdout).toMatch(new RegExp(`\\n  ${cmd} `));
    }
    expect(main.stdout).toContain("Exit codes: 0 ok, 1 the command failed");
    for (const h of helps) {
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(/^Usage: floe \w+ \[options\] <uri> <library> <symbol>/);
    }
  });
});
