#!/usr/bin/env node
/**
 * Runs every code block of README.md and docs/*.md, so no example in the documentation can rot.
 *
 * - ```js / ```mjs / ```ts blocks run as ES modules (ts through esbuild) that import `floe` by its
 *   package name, resolved to this checkout's dist/ (run `npm run build` first).
 * - ```console blocks are shell sessions: each `$ command` line runs in bash with `floe` on the PATH
 *   (this checkout's CLI), and the lines after it are its expected output; `…` in an expected line
 *   matches any text (a duration, a date).
 * - ```sh / ```bash blocks run in bash, with `floe` on the PATH.
 * - A block right after `<!-- doctest: output -->` (any language) must equal the stdout of the block
 *   before it.
 * - `<!-- doctest: skip REASON -->` before a block skips it; the reason is printed, so nothing is skipped
 *   silently. ```text, ```html and other languages are not run (html needs a page: see the browser
 *   conformance suite).
 *
 * The blocks of one file run in order in one fresh working directory (so a guide can write a store in
 * one block and read it in the next), which starts with a copy of docs/fixtures/.
 * Usage: node scripts/doc-tests.mjs [file.md …]
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(fileURLToPath(new URL("..", import.meta.url)));
const files = process.argv.slice(2).length
  ? process.argv.slice(2).map((f) => resolve(f))
  : [
      join(root, "README.md"),
      ...readdirSync(join(root, "docs"))
        .filter((f) => f.endsWith(".md"))
        .sort()
        .map((f) => join(root, "docs", f)),
    ];

if (!existsSync(join(root, "dist", "node.js")) || !existsSync(join(root, "dist", "cli.js"))) {
  console.error("doc-tests: dist/ is missing; run `npm run build` first");
  process.exit(1);
}

/** The fenced blocks of a Markdown text, each with its language, body, line and doctest directive. */
function blocks(text) {
  const out = [];
  const lines = text.split("\n");
  let directive;
  for (let i = 0; i < lines.length; i++) {
    const d = /^<!--\s*doctest:\s*(\w+)\s*(.*?)\s*-->\s*$/.exec(lines[i]);
    if (d) {
      directive = { kind: d[1], reason: d[2] };
      continue;
    }
    const open = /^(`{3,})(\S*)\s*$/.exec(lines[i]);
    if (!open) {
      if (lines[i].trim() !== "") directive = undefined;
      continue;
    }
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end] !== open[1]) end++;
    out.push({ lang: open[2], body: lines.slice(start, end).join("\n"), line: start, directive });
    directive = undefined;
    i = end;
  }
  return out;
}

// A `floe` command on the PATH that runs this checkout's CLI.
const bin = mkdtempSync(join(tmpdir(), "floe-doctest-bin-"));
writeFileSync(
  join(bin, "floe"),
  `#!/bin/sh\nexec node ${JSON.stringify(join(root, "dist", "cli.js"))} "$@"\n`,
  { mode: 0o755 },
);
const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, FORCE_COLOR: "0", NO_COLOR: "1" };

// Scripts live inside the package so that `import "floe"` resolves to it by its own name.
const scripts = join(root, "build", "doctest");
rmSync(scripts, { recursive: true, force: true });
mkdirSync(scripts, { recursive: true });

function runScript(lang, body, cwd, name) {
  let code = body;
  if (lang === "ts") {
    const esbuild = join(root, "node_modules", ".bin", "esbuild");
    code = execFileSync(esbuild, ["--loader=ts", "--format=esm"], { input: body, encoding: "utf8" });
  }
  const path = join(scripts, `${name}.mjs`);
  writeFileSync(path, code);
  return spawnSync(process.execPath, [path], { cwd, env, encoding: "utf8", timeout: 120_000 });
}

function runShell(body, cwd) {
  return spawnSync("bash", ["-eo", "pipefail", "-c", body], { cwd, env, encoding: "utf8", timeout: 120_000 });
}

/** Whether `actual` output matches `expected`, where `…` in an expected line matches any text. */
function matches(expected, actual) {
  const norm = (s) => s.replace(/\s+$/gm, "").replace(/\n+$/, "").split("\n");
  const want = norm(expected);
  const got = norm(actual);
  if (want.length !== got.length) return false;
  return want.every((line, i) => {
    if (!line.includes("…")) return line === got[i];
    const pattern = line
      .split("…")
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*");
    return new RegExp(`^${pattern}$`).test(got[i]);
  });
}

let passed = 0;
const failures = [];
const skipped = [];
for (const file of files) {
  const rel = file.startsWith(root) ? file.slice(root.length + 1) : file;
  const cwd = mkdtempSync(join(tmpdir(), "floe-doctest-"));
  const fixtures = join(root, "docs", "fixtures");
  if (existsSync(fixtures)) cpSync(fixtures, cwd, { recursive: true });
  let previous;
  for (const [n, block] of blocks(readFileSync(file, "utf8")).entries()) {
    const where = `${rel}:${block.line}`;
    const fail = (why, result) => {
      failures.push(
        `${where} (${block.lang}): ${why}${result ? `\n${(result.stdout ?? "") + (result.stderr ?? "")}` : ""}`,
      );
    };
    if (block.directive?.kind === "skip") {
      skipped.push(`${where}: ${block.directive.reason || "(no reason given)"}`);
      continue;
    }
    if (block.directive?.kind === "output") {
      if (previous === undefined) fail("an output block follows no block that ran");
      else if (!matches(block.body, previous)) fail(`output differs; the block before printed:\n${previous}`);
      else passed++;
      continue;
    }
    let result;
    if (["js", "mjs", "ts"].includes(block.lang)) {
      result = runScript(block.lang, block.body, cwd, `${basename(rel, ".md")}-${n}`);
    } else if (block.lang === "sh" || block.lang === "bash") {
      result = runShell(block.body, cwd);
    } else if (block.lang === "console") {
      // Each `$ command` with the output lines after it.
      const steps = [];
      for (const line of block.body.split("\n")) {
        if (line.startsWith("$ ")) steps.push({ command: line.slice(2), expected: [] });
        else if (steps.length) steps.at(-1).expected.push(line);
      }
      let ok = true;
      for (const step of steps) {
        const r = runShell(step.command, cwd);
        const out = r.stdout + r.stderr;
        if (r.status !== 0 && !step.expected.join("\n").startsWith("floe:")) {
          fail(`\`${step.command}\` exited ${r.status}`, r);
          ok = false;
          break;
        }
        if (!matches(step.expected.join("\n"), out)) {
          fail(`\`${step.command}\` printed:\n${out}`);
          ok = false;
          break;
        }
      }
      if (ok) passed++;
      continue;
    } else {
      continue;
    }
    if (result.status !== 0) fail(`exited ${result.status ?? result.signal}`, result);
    else passed++;
    previous = result.stdout;
  }
  rmSync(cwd, { recursive: true, force: true });
}
rmSync(bin, { recursive: true, force: true });

for (const s of skipped) console.log(`skipped ${s}`);
for (const f of failures) console.error(`FAILED ${f}\n`);
console.log(`doc-tests: ${passed} passed, ${failures.length} failed, ${skipped.length} skipped`);
process.exit(failures.length ? 1 : 0);
