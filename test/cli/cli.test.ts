import { execFile, execFileSync, spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { open } from "lmdb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Arctic } from "../../runtimes/node.ts";
import { exportParquet } from "../../runtimes/node-io.ts";

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

  it("reads --rows as a Python slice: a negative end counts from the last row", async () => {
    useShared();
    const [last, allButLast] = await Promise.all([
      floe("read", uri, "lib", "trades", "--rows", "-1:", "--as-of", "0", "--columns", "venue"),
      floe("read", uri, "lib", "trades", "--rows=:-3", "--as-of", "0", "--columns", "venue"),
    ]);
    expect(last.stdout).toBe("time                 venue\n2024-01-02 09:30:03   XNYS\n");
    expect(allButLast.stdout).toBe("time                 venue\n2024-01-02 09:30:00   XNAS\n");
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
        "2024-01-02 09:30:00  101.50  100   true   XNAS",
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
      "time                 price  qty   side  venue\n2024-01-02 09:30:03   99.0    8  false   XNYS\n",
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

describe("floe CLI on bad files and full disks (issue 21)", () => {
  const noStack = (r: Run) => {
    expect(r.stderr).not.toMatch(/\n\s+at |wasm:\/\/|node:internal/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking that there are none
    expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
  };

  it("exports through a symlink to its target, and refuses a FIFO, a device link and a directory", async () => {
    useShared();
    const out = mkdtempSync(join(tmpdir(), "floe-cli-out-"));
    made.push(out);
    mkdirSync(join(out, "sub"));
    symlinkSync(join("sub", "target.csv"), join(out, "dangling.csv"));
    writeFileSync(join(out, "old.csv"), "old\n");
    symlinkSync("old.csv", join(out, "link.csv"));
    const a = await floe("export", uri, "lib", "trades", join(out, "dangling.csv"));
    const b = await floe("export", uri, "lib", "trades", join(out, "link.csv"));
    expect([a.code, b.code, a.stderr, b.stderr]).toEqual([0, 0, "", ""]);
    // The links are still links, and the files they point to hold the export.
    expect(lstatSync(join(out, "dangling.csv")).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(out, "link.csv")).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(out, "sub", "target.csv"), "utf8")).toMatch(/^time,price,qty,side,venue\n/);
    expect(readFileSync(join(out, "old.csv"), "utf8")).toMatch(/^time,price,qty,side,venue\n/);
    expect(readdirSync(out).sort()).toEqual(["dangling.csv", "link.csv", "old.csv", "sub"]);

    execFileSync("mkfifo", [join(out, "fifo.csv")]);
    symlinkSync("/dev/null", join(out, "null.csv"));
    mkdirSync(join(out, "dir.csv"));
    const refused = await Promise.all(
      ["fifo.csv", "null.csv", "dir.csv"].map((f) => floe("export", uri, "lib", "trades", join(out, f))),
    );
    expect(refused.map((r) => [r.code, r.stdout])).toEqual([
      [1, ""],
      [1, ""],
      [1, ""],
    ]);
    expect(refused[0].stderr).toMatch(
      /^floe: InvalidArgumentError: Cannot export to '.*fifo\.csv': it is a pipe \(FIFO\), not a regular file\. .*give - \(standard output\)/,
    );
    expect(refused[1].stderr).toMatch(
      /^floe: InvalidArgumentError: .*null\.csv' \(a link to '\/dev\/null'\): it is a device/,
    );
    expect(refused[2].stderr).toMatch(
      /it is a directory, not a regular file\. .*Give the path of a file inside it\.\n$/,
    );
    for (const r of refused) noStack(r);
    expect(lstatSync(join(out, "fifo.csv")).isFIFO()).toBe(true);
    expect(lstatSync(join(out, "null.csv")).isSymbolicLink()).toBe(true);
    expect(lstatSync("/dev/null").isCharacterDevice()).toBe(true);
    expect(readdirSync(join(out, "dir.csv"))).toEqual([]);
  });

  // A full disk is a 64 KB tmpfs, which only root on Linux can mount (and not in every container).
  it.skipIf(process.platform !== "linux" || process.getuid?.() !== 0)(
    "on a full disk, says so (StorageError) and leaves no partial file; to stdout, says the output is incomplete",
    async (ctx) => {
      await freshStore();
      const ac = new Arctic(uri, { workers: 0 });
      const lib = await ac.getLibrary("lib");
      const n = 20_000;
      await lib.write("big", { x: new Float64Array(n).map((_, i) => i / 7), y: new BigInt64Array(n) });
      await ac.close();
      const disk = join(dir, "disk");
      mkdirSync(disk);
      try {
        execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", disk], { stdio: "ignore" });
      } catch {
        ctx.skip("cannot mount a tmpfs here");
      }
      try {
        const file = await floe("export", uri, "lib", "big", join(disk, "big.csv"));
        expect(file.code).toBe(1);
        expect(file.stderr).toMatch(
          /^floe: StorageError: The disk is full \(ENOSPC\): cannot write '.*big\.csv' after [\d,]+ bytes\. The partial file was removed/,
        );
        noStack(file);
        expect(readdirSync(disk)).toEqual([]);
        // `floe export … - > file`: the bytes on stdout cannot be unwritten; the message says so.
        const fd = openSync(join(disk, "out.csv"), "w");
        const piped = await new Promise<Run>((done) => {
          const child = spawn(process.execPath, [CLI, "export", uri, "lib", "big", "-"], {
            stdio: ["ignore", fd, "pipe"],
          });
          let stderr = "";
          child.stderr?.on("data", (d) => {
            stderr += d;
          });
          child.on("close", (code) => done({ code: code ?? -1, stdout: "", stderr }));
        });
        closeSync(fd);
        expect(piped.code).toBe(1);
        expect(piped.stderr).toMatch(
          /^floe: StorageError: The disk is full \(ENOSPC\): writing to standard output failed after [\d,]+ bytes\. The output written before is incomplete/,
        );
        noStack(piped);
      } finally {
        execFileSync("umount", [disk]);
      }
    },
  );

  it("answers damaged Parquet, malformed CSV and a bad --regex with a floe error, no stack", async () => {
    useShared();
    const out = mkdtempSync(join(tmpdir(), "floe-cli-in-"));
    made.push(out);
    // A Parquet file whose pages are damaged: parquet-wasm trapped in a microtask and the CLI died.
    const ac = new Arctic("mem://", { workers: 0 });
    const lib = await ac.createLibrary("lib");
    const n = 20_000;
    await lib.write("s", { x: new Float64Array(n).map((_, i) => i / 7), y: new BigInt64Array(n).fill(3n) });
    const pieces: Uint8Array[] = [];
    for await (const p of exportParquet(lib, "s", { chunkRows: 5000 })) pieces.push(p);
    await ac.close();
    const good = Buffer.concat(pieces);
    const bad = Uint8Array.from(good);
    for (let i = good.length >> 2; i < (good.length >> 2) + 16; i++) bad[i] ^= 0xa5;
    writeFileSync(join(out, "bad.parquet"), bad);
    writeFileSync(join(out, "quote.csv"), 'a,b\n1,2\n3,x"y\n');
    writeFileSync(
      join(out, "binary.csv"),
      Buffer.from([0x50, 0x41, 0x52, 0x31, 0x1b, 0x5b, 0x32, 0x4a, 0x00, 0x07]),
    );
    writeFileSync(join(out, "unsorted.csv"), "ts,v\n2024-01-02,1\n2024-01-01,2\n");
    const [pq, quote, binary, unsorted, regex] = await Promise.all([
      floe("import", uri, "lib", "bad", join(out, "bad.parquet")),
      floe("import", uri, "lib", "bad", join(out, "quote.csv")),
      floe("import", uri, "lib", "bad", join(out, "binary.csv")),
      floe("import", uri, "lib", "bad", join(out, "unsorted.csv"), "--index", "ts"),
      floe("symbols", uri, "lib", "--regex", "("),
    ]);
    expect(pq.stderr).toMatch(
      /^floe: InvalidArgumentError: .*bad\.parquet: importParquet: the Parquet file is damaged: row group \d \(of 4\) does not decode \(.*\)\. Nothing was imported/,
    );
    expect(quote.stderr).toMatch(
      /^floe: InvalidArgumentError: .*quote\.csv: CSV line 3: a quote in the middle of field 2, after "x"\./,
    );
    expect(binary.stderr).toMatch(
      /^floe: InvalidArgumentError: .*binary\.csv: CSV: the source holds binary data \(a zero byte at byte 8\), not CSV text/,
    );
    expect(unsorted.stderr).toMatch(
      /^floe: UnsortedIndexError: .*not in timestamp order; import them with --sort /,
    );
    expect(unsorted.stderr).not.toContain("sortAndFinalizeStagedData");
    expect(regex).toMatchObject({ code: 2, stdout: "" });
    expect(regex.stderr).toMatch(/^floe: usage: --regex: '\(' is not a regular expression/);
    for (const r of [pq, quote, binary, unsorted]) {
      expect([r.code, r.stdout]).toEqual([1, ""]);
      noStack(r);
    }
    noStack(regex);
    expect((await floe("symbols", uri, "lib")).stdout.split("\n")).not.toContain("bad");
  });
});
