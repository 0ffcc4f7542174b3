// Cross-runtime files: Node, Bun and Deno each write a symbol to the same lmdb:// store, then each
// reads all three back. Every runtime loads floe by package name, so this also checks that package.json
// hands each its own build (the bun and deno export conditions).
import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { tempDir } from "../helpers.ts";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const child = fileURLToPath(new URL("./cross-runtime-child.mjs", import.meta.url));
const bin = (name: string) => join(root, "node_modules", ".bin", name);

/** How to start `child.mjs` in each runtime. */
const RUNTIMES: Record<string, [string, string[]]> = {
  node: [process.execPath, [child]],
  bun: [bin("bun"), [child]],
  deno: [bin("deno"), ["run", "-A", child]],
};

async function inRuntime(runtime: string, mode: string, uri: string): Promise<Record<string, unknown>> {
  const [cmd, args] = RUNTIMES[runtime];
  const { stdout } = await run(cmd, [...args, mode, uri, runtime], {
    cwd: root,
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: "1" },
  });
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");
}

it("a store written by Node, Bun and Deno reads the same in each of them", async () => {
  const uri = `lmdb://${join(tempDir(), "cross.lmdb")}`;
  for (const runtime of Object.keys(RUNTIMES)) {
    const wrote = await inRuntime(runtime, "write", uri);
    expect(wrote.build).toMatch(new RegExp(`/dist/${runtime}\\.js$`));
  }
  const expected = Object.fromEntries(
    Object.keys(RUNTIMES).map((r) => [
      `from-${r}`,
      { metadata: { by: r }, versions: 2, equal: true, rows: 3001 },
    ]),
  );
  for (const runtime of Object.keys(RUNTIMES)) {
    const read = await inRuntime(runtime, "read", uri);
    expect([runtime, read.symbols]).toEqual([runtime, expected]);
  }
});
