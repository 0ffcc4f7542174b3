// Issue 22 (items 8, 10, 11): what the CLI says when there is nothing to show, in its own terms. Through
// the real CLI process (`node dist/cli.js …`) on a real lmdb:// store.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Arctic, DataFrame } from "../../runtimes/node.ts";

const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));

function floe(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let dir: string;
let uri: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "floe-cli-browse-"));
  uri = `lmdb://${join(dir, "s.lmdb")}`;
  const ac = new Arctic(uri, { workers: 0 });
  const lib = await ac.createLibrary("lib");
  const times = [
    "2023-11-27T10:00:00Z",
    "2023-11-28T00:00:00Z",
    "2023-11-28T09:30:00Z",
    "2023-11-28T23:59:59.999999999Z",
    "2023-11-29T00:00:00Z",
  ];
  await lib.write("px", new DataFrame({ v: [1, 2, 3, 4, 5] }, { index: times }));
  await lib.write(
    "ny",
    new DataFrame(
      { v: [1.5, 2.5] },
      {
        index: {
          name: "time",
          values: ["2024-01-02T14:30:00Z", "2024-01-02T21:00:00.25Z"],
          tz: "America/New_York",
        },
      },
    ),
  );
  await ac.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("--date-range", () => {
  it("takes an end date without a time as the whole day", async () => {
    const r = await floe("--json", "read", uri, "lib", "px", "--date-range", "2023-11-28..2023-11-28");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).rows.map((row: { v: number }) => row.v)).toEqual([2, 3, 4]);
    // A time given is kept as given.
    const timed = await floe("--json", "read", uri, "lib", "px", "--date-range", "..2023-11-28T09:30");
    expect(JSON.parse(timed.stdout).rows.map((row: { v: number }) => row.v)).toEqual([1, 2, 3]);
  });

  it("refuses a malformed or reversed range naming the flag, not the API's dateRange", async () => {
    const cases: [string[], string][] = [
      [
        ["read", uri, "lib", "px", "--date-range", "2023-11-01..2023-13-45"],
        "floe: InvalidArgumentError: --date-range END: '2023-13-45' is not a timestamp; give an ISO 8601 " +
          "date or time such as 2024-01-31 or 2024-01-31T09:30:00Z (UTC unless it has an offset).\n",
      ],
      [
        ["export", uri, "lib", "px", join(dir, "out.csv"), "--date-range", "x.."],
        "floe: InvalidArgumentError: --date-range START: 'x' is not a timestamp; give an ISO 8601 date or " +
          "time such as 2024-01-31 or 2024-01-31T09:30:00Z (UTC unless it has an offset).\n",
      ],
      [
        ["read", uri, "lib", "px", "--date-range", "2023-11-29..2023-11-28"],
        "floe: InvalidArgumentError: --date-range ends before it starts; give START..END with START at or " +
          "before END.\n",
      ],
    ];
    for (const [args, stderr] of cases) expect(await floe(...args)).toMatchObject({ code: 1, stderr });
  });

  it("prints the header and '0 rows' when no row matches", async () => {
    const r = await floe("read", uri, "lib", "px", "--date-range", "2024-01-01..");
    expect([r.code, r.stdout]).toEqual([0, "index  v\n0 rows\n"]);
  });
});

describe("nothing there", () => {
  it("versions of a symbol that was never written is SymbolNotFoundError (exit 1), as head", async () => {
    const versions = await floe("versions", uri, "lib", "NOPE");
    const head = await floe("head", uri, "lib", "NOPE");
    expect([versions.code, versions.stdout]).toEqual([1, ""]);
    expect(versions.stderr).toMatch(/^floe: SymbolNotFoundError: Symbol 'NOPE' does not exist/);
    expect(head.stderr).toBe(versions.stderr);
  });

  it("refuses mem:// for commands that read a store: a CLI process's memory holds nothing", async () => {
    for (const args of [["libraries"], ["symbols", "lib"], ["head", "lib", "px"]]) {
      const [command, ...rest] = args;
      const r = await floe(command, "mem://", ...rest);
      expect([r.code, r.stdout]).toEqual([1, ""]);
      expect(r.stderr).toMatch(
        /^floe: InvalidUriError: 'mem:\/\/' is a store in this command's own memory: it starts empty .* Give an lmdb:\/\/ store/,
      );
    }
  });
});

describe("messages in the CLI's terms, not the API's", () => {
  const PATTERNS =
    /listSymbols|listVersions|listSnapshots|createLibrary|createIfMissing|sortAndFinalize|\(\)/;

  it("names the floe command that lists what is there", async () => {
    const cases: [string[], string][] = [
      [["head", uri, "nolib", "px"], `'floe libraries ${uri}' lists the libraries`],
      [["head", uri, "lib", "NOPE"], `'floe symbols ${uri} lib' lists what is stored.`],
      [["head", uri, "lib", "px", "--as-of", "9"], `'floe versions ${uri} lib px' lists them.`],
      [["head", uri, "lib", "px", "--as-of", "nosnap"], `'floe snapshots ${uri} lib' lists them.`],
    ];
    for (const [args, hint] of cases) {
      const r = await floe(...args);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(hint);
      expect(r.stderr).not.toMatch(PATTERNS);
      const j = await floe("--json", ...args);
      expect(JSON.parse(j.stderr).error.message).toContain(hint);
    }
  });
});

describe("import's errors in the CLI's terms", () => {
  it("a refused --append names the flags, not write() or dynamicSchema", async () => {
    const file = (name: string, text: string) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };
    const a = file("a.csv", "time,v\n2023-11-27T10:00:00Z,1\n");
    expect((await floe("import", uri, "lib", "imp", a, "--index", "time")).code).toBe(0);
    const other = await floe(
      "import",
      uri,
      "lib",
      "imp",
      file("b.csv", "time,w\n2023-12-27T10:00:00Z,1\n"),
      "--index",
      "time",
      "--append",
    );
    expect(other.stderr).toMatch(
      /^floe: SchemaMismatchError: .* Match the names, order and dtypes, or import without --append to write a new version\.\n$/,
    );
    const before = await floe(
      "import",
      uri,
      "lib",
      "imp",
      file("c.csv", "time,v\n2023-11-01T10:00:00Z,1\n"),
      "--index",
      "time",
      "--append",
    );
    expect(before.stderr).toMatch(/^floe: UnsortedIndexError: .* Append only rows at or after the end/);
    expect(`${other.stderr}${before.stderr}`).not.toMatch(/write\(\)|dynamicSchema|use update\(\)/);
  });

  it("import to mem:// says on stderr that nothing is kept", async () => {
    const path = join(dir, "m.csv");
    writeFileSync(path, "time,v\n2023-11-27T10:00:00Z,1\n");
    const r = await floe("import", "mem://", "lib", "s", path, "--index", "time");
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /^floe: note: 'mem:\/\/' is a store in this command's own memory: what it stores is gone/,
    );
  });
});

describe("describe", () => {
  it("gives first and last as ISO timestamps, in the index's zone when it has one", async () => {
    const r = await floe("--json", "describe", uri, "lib", "ny");
    expect(JSON.parse(r.stdout).index).toEqual({
      kind: "timestamp",
      name: "time",
      tz: "America/New_York",
      first: "2024-01-02T09:30:00-05:00",
      last: "2024-01-02T16:00:00.250-05:00",
      sorted: true,
    });
    const text = await floe("describe", uri, "lib", "ny");
    expect(text.stdout).toContain(
      "index     timestamp 'time' (America/New_York), 2024-01-02T09:30:00-05:00 .. 2024-01-02T16:00:00.250-05:00",
    );
    const naive = await floe("--json", "describe", uri, "lib", "px");
    expect(JSON.parse(naive.stdout).index).toEqual({
      kind: "timestamp",
      name: "index",
      first: "2023-11-27T10:00:00Z",
      last: "2023-11-29T00:00:00Z",
      sorted: true,
    });
  });
});
