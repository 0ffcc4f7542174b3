// The CLI on an s3:// store, as on lmdb://: `node dist/cli.js …` in a child process against the real
// Ceph gateway (issue 25: "the CLI (`floe … s3://…`), import/export, on s3:// exactly as on lmdb://").
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rgwAvailable, skipReason, useBucket } from "../storage/s3/rgw.ts";

const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));

function floe(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number) : 0;
      resolve({ code: typeof code === "number" ? code : -1, stdout, stderr });
    });
  });
}

const CSV = [
  "time,price,qty,venue",
  "2024-01-02T09:30:00Z,101.5,100,XNAS",
  "2024-01-02T09:30:01Z,101.25,-5,",
  "2024-01-02T09:30:02Z,102,7,ARCX",
  "2024-01-02T09:30:03Z,99,8,XNYS",
].join("\n");

describe.skipIf(!rgwAvailable)(`floe CLI on s3://${skipReason}`, () => {
  const ctx = useBucket("cli");
  let dir: string;
  let uri: string;
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error("dist/cli.js is missing: run `npm run build` first.");
    dir = mkdtempSync(join(tmpdir(), "floe-cli-s3-"));
    writeFileSync(join(dir, "trades.csv"), CSV);
    const { hostname, port } = new URL(ctx.env.endpoint);
    uri = `s3://${hostname}:${ctx.s3.bucket}?port=${port}&access=${ctx.env.accessKeyId}&secret=${ctx.env.secretAccessKey}&path_prefix=cli`;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("imports, browses, queries, exports, verifies and deletes", async () => {
    const imported = await floe("import", uri, "prices", "AAPL", join(dir, "trades.csv"), "--index", "time");
    expect(imported.stderr).toBe("");
    expect(imported.stdout).toMatch(/Imported 4 rows into prices\/AAPL, version 0/);
    expect((await floe("libraries", uri)).stdout.trim()).toBe("prices");
    expect((await floe("symbols", uri, "prices")).stdout.trim()).toBe("AAPL");
    const head = await floe("head", uri, "prices", "AAPL", "-n", "2");
    expect(head.stdout).toMatch(/101\.50\s+100\s+XNAS/);
    const query = await floe("query", uri, "prices", "AAPL", "--filter", "price > 101.3");
    expect(query.stdout).toMatch(/101\.5\s+100/);
    expect(query.stdout).toMatch(/102\.0\s+7/);
    expect(query.stdout).not.toMatch(/\b99\b/);
    const out = join(dir, "out.csv");
    expect((await floe("export", uri, "prices", "AAPL", out)).code).toBe(0);
    expect(readFileSync(out, "utf8")).toMatch(/2024-01-02[ T]09:30:03(\.0+)?Z?,99(\.0)?,8,XNYS/);
    const verify = await floe("verify", uri, "prices");
    expect(verify.code).toBe(0);
    expect((await floe("delete", uri, "prices", "AAPL")).code).toBe(0);
    expect((await floe("symbols", uri, "prices")).stdout.trim()).toBe("");
  });

  it("says what is wrong with a bad s3:// URI, and never prints the secret", async () => {
    const bad = await floe("libraries", `${uri}&colour=blue`);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/colour/);
    expect(bad.stderr).not.toContain(ctx.env.secretAccessKey);
    const wrong = await floe("libraries", uri.replace(/secret=[^&]*/, "secret=wrong-secret-123"));
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/credentials|signature|access/i);
    expect(wrong.stderr).not.toContain("wrong-secret-123");
  });
});
