// Deno's permissions: a program that only uses mem:// runs with none (floe loads LMDB's native addon only
// where Deno allows it), through the source entry (JSR) and the package build (npm); lmdb:// without them
// fails with a StorageError that names the flags to grant.
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { tempDir } from "../helpers.ts";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const deno = join(root, "node_modules", ".bin", "deno");

/** Runs `body` (with `floe` imported from `entry`) in Deno with no permissions: its stdout, or its error. */
async function denoNoPermissions(entry: string, body: string): Promise<string> {
  const file = join(tempDir(), "program.mjs");
  const from = pathToFileURL(join(root, entry)).href;
  writeFileSync(file, `import { Arctic, DataFrame } from ${JSON.stringify(from)};\n${body}\n`);
  try {
    const { stdout } = await run(
      deno,
      ["run", "--no-check", "--no-prompt", "--config", join(root, "deno.json"), file],
      {
        cwd: root,
        timeout: 60_000,
        env: { ...process.env, NO_COLOR: "1" },
      },
    );
    return stdout.trim();
  } catch (err) {
    const { stdout, stderr } = err as { stdout: string; stderr: string };
    return `${stdout}\n${stderr}`.trim();
  }
}

const MEM_PROGRAM = `
const ac = new Arctic("mem://", { workers: 2 });
const lib = await ac.createLibrary("l");
const n = 200_000;
const index = new BigInt64Array(n).map((_, i) => BigInt(i) * 1_000_000_000n);
await lib.write("s", new DataFrame({ v: new Float64Array(n).fill(1.5) }, { index }));
const { data } = await lib.read("s");
await ac.close();
console.log("rows", data.numRows);`;

for (const entry of ["runtimes/deno.ts", "dist/deno.js"]) {
  it(`${entry}: mem:// (with pool workers) needs no Deno permissions`, async () => {
    expect(await denoNoPermissions(entry, MEM_PROGRAM)).toBe("rows 200000");
  });

  it(`${entry}: lmdb:// without permissions is a StorageError naming the flags`, async () => {
    const out = await denoNoPermissions(
      entry,
      `try { new Arctic("lmdb:///tmp/floe-denied.lmdb"); } catch (e) { console.log(e.name, e.message); }`,
    );
    expect(out).toBe(
      "StorageError lmdb:// in Deno needs permission to load LMDB's native library, and this process " +
        "lacks --allow-env --allow-read --allow-ffi. Run deno with --allow-env --allow-read --allow-write " +
        "--allow-ffi (or -A); mem:// needs no permissions.",
    );
  });
}
