// Runs the conformance suite (test/conformance/) in Bun, Deno and headless Chromium, after vitest has
// run it in Node: prints "<runtime>: N passed" for each and exits non-zero if any case failed (or none
// ran). Chromium is Debian's /usr/bin/chromium (or $CHROMIUM), driven by playwright-core; the page and
// dist/ are served from a local node:http server. For the page's s3:// cases, Node (dist/node.js) first
// writes a store into a bucket on the local Ceph RGW whose CORS rule allows the page's origin, and
// afterwards reads back what the page wrote (test/conformance/browser-s3-node.ts). Bun and Deno get the
// gateway's FLOE_S3_* variables and run the s3:// conformance cases on buckets of their own.
import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { chromium } from "playwright-core";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name) => join(root, "node_modules", ".bin", name);
// biome-ignore lint/suspicious/noControlCharactersInRegex: strips terminal colours
const plain = (text) => text.replace(/\x1b\[[0-9;]*m/g, "");

/**
 * The FLOE_S3_* variables of an S3 gateway for the s3:// cases in Bun and Deno: the caller's when
 * FLOE_S3_ENDPOINT is set, else the local Ceph RGW (scripts/rgw.sh, started if need be) when its
 * binaries are installed, else none (those cases are then skipped, saying why).
 */
function s3Gateway() {
  if (process.env.FLOE_S3_ENDPOINT) return {};
  try {
    execFileSync("bash", ["-c", "command -v ceph-mon && command -v ceph-osd && command -v radosgw"], {
      stdio: "ignore",
    });
  } catch {
    console.log("s3:// cases will be skipped in Bun and Deno: the Ceph binaries are not installed");
    return {};
  }
  const rgw = join(root, "scripts/rgw.sh");
  execFileSync("bash", [rgw, "start"], { stdio: ["ignore", "ignore", "inherit"], timeout: 120_000 });
  const out = execFileSync("bash", [rgw, "env"], { encoding: "utf8" });
  return Object.fromEntries(Array.from(out.matchAll(/^export (\w+)=(.*)$/gm), (m) => [m[1], m[2]]));
}

let gatewayEnv;

/** Runs a command in the repository, echoing its output; resolves to its exit code and output. */
function exec(cmd, args) {
  gatewayEnv ??= s3Gateway();
  return new Promise((resolve) => {
    const env = { ...process.env, ...gatewayEnv, NO_COLOR: "1", FORCE_COLOR: "0" };
    const child = spawn(cmd, args, { cwd: root, env });
    let out = "";
    const take = (stream, sink) =>
      stream.on("data", (chunk) => {
        out += chunk;
        sink.write(chunk);
      });
    take(child.stdout, process.stdout);
    take(child.stderr, process.stderr);
    child.on("error", (err) => resolve({ code: 1, out: `${out}\n${err.message}` }));
    child.on("close", (code) => resolve({ code: code ?? 1, out: plain(out) }));
  });
}

/** A count from a test runner's summary line, or 0. */
const count = (out, pattern) => Number(out.match(pattern)?.[1] ?? 0);

async function runBun() {
  const { code, out } = await exec(bin("bun"), [
    "test",
    "--timeout",
    "120000",
    "./test/conformance/bun.conformance.ts",
  ]);
  return {
    code,
    passed: count(out, /^\s*(\d+) pass\b/m),
    failed: count(out, /^\s*(\d+) fail\b/m),
    skipped: count(out, /^\s*(\d+) skip\b/m),
  };
}

async function runDeno() {
  // --no-check: `npm run check` (tsc) already type-checks these files; Deno would check them again, and
  // once more in every pool worker it starts.
  const { code, out } = await exec(bin("deno"), [
    "test",
    "-A",
    "--no-check",
    "test/conformance/deno.conformance.ts",
  ]);
  const summary = out.match(
    /(ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed(?: \| (\d+) ignored)?/,
  );
  return {
    code,
    passed: Number(summary?.[2] ?? 0),
    failed: Number(summary?.[3] ?? 0),
    skipped: Number(summary?.[4] ?? 0),
  };
}

const TYPES = {
  ".js": "text/javascript",
  ".html": "text/html",
  ".map": "application/json",
  ".json": "application/json",
};

/** Node's side of the page's s3:// cases (test/conformance/browser-s3-node.ts), bundled for Node. */
async function loadS3Node() {
  const bundled = await build({
    entryPoints: [join(root, "test/conformance/browser-s3-node.ts")],
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    write: false,
    logLevel: "warning",
  });
  const dir = await mkdtemp(join(tmpdir(), "floe-browser-s3-"));
  const file = join(dir, "browser-s3-node.mjs");
  await writeFile(file, bundled.outputFiles[0].contents);
  try {
    return await import(pathToFileURL(file).href);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function runChromium() {
  const page = `<!doctype html><meta charset="utf-8"><title>floe conformance</title>
<script type="module" src="/conformance.js"></script>`;
  const bundled = await build({
    entryPoints: [join(root, "test/conformance/browser.conformance.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "warning",
  });
  const script = bundled.outputFiles[0].contents;
  const requested = new Set();
  let s3Fixture; // set before the page loads
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    requested.add(path);
    if (path === "/favicon.ico") return res.writeHead(204).end();
    try {
      let body;
      if (path === "/") body = page;
      else if (path === "/conformance.js") body = script;
      else if (path === "/s3.json") body = JSON.stringify(s3Fixture);
      else if (path.startsWith("/dist/"))
        body = await readFile(join(root, normalize(path).replace(/^\/+/, "")));
      else throw new Error("not found");
      res.writeHead(200, { "content-type": TYPES[extname(path)] ?? TYPES[".html"] });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  const s3Node = await loadS3Node();
  const nodeFloe = await import(pathToFileURL(join(root, "dist/node.js")).href);
  // Outside the try below, so that a gateway that will not start fails the run rather than skipping.
  let s3Failure;
  try {
    s3Fixture = await s3Node.prepareS3Store(nodeFloe, origin, root);
  } catch (err) {
    s3Failure = `Node could not prepare the s3:// store for the page: ${err?.stack ?? err}`;
    s3Fixture = { skip: "Node could not prepare the store (see the runner's failure)" };
  }
  if (s3Fixture.skip) console.log(`[chromium] s3:// cases skipped: ${s3Fixture.skip}`);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium" });
  try {
    const tab = await browser.newPage();
    tab.on("console", (msg) => console.log(`[chromium] ${msg.text()}`));
    tab.on("pageerror", (err) => console.log(`[chromium] page error: ${err.message}`));
    await tab.goto(`${origin}/`);
    await tab.waitForFunction(() => globalThis.conformance !== undefined, null, { timeout: 600_000 });
    const result = await tab.evaluate(() => globalThis.conformance);
    // Node reads what the page wrote: counted with the page's cases.
    const check = "s3 (node): reads the version and the symbol the page wrote";
    if (s3Failure) {
      console.log(`[chromium] FAIL ${s3Failure}`);
      result.failed++;
    } else if (s3Fixture.skip || s3Fixture.nodeError) {
      result.skipped++;
    } else {
      try {
        await s3Node.verifyPageWrites(nodeFloe, s3Fixture);
        console.log(`[node] ok   ${check}`);
        result.passed++;
      } catch (err) {
        console.log(`[node] FAIL ${check}: ${err?.stack ?? err}`);
        result.failed++;
      }
    }
    // The pool case passes only through workers; this shows they were the browser build's module workers.
    if (!requested.has("/dist/browser-worker.js")) {
      console.log("[chromium] the page never loaded /dist/browser-worker.js: the worker pool did not start");
      return { ...result, code: 1 };
    }
    return { code: result.failed === 0 ? 0 : 1, ...result };
  } finally {
    await browser.close();
    server.close();
    if (s3Fixture?.bucket) await s3Node.emptyS3Buckets(s3Fixture).catch(() => {});
  }
}

const runners = { bun: runBun, deno: runDeno, chromium: runChromium };
const only = process.argv.slice(2);
const lines = [];
let ok = true;
for (const [name, runner] of Object.entries(runners)) {
  if (only.length && !only.includes(name)) continue;
  console.log(`\n=== conformance in ${name} ===`);
  const started = Date.now();
  let result;
  try {
    result = await runner();
  } catch (err) {
    console.error(err);
    result = { code: 1, passed: 0, failed: 0, skipped: 0 };
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const good = result.code === 0 && result.failed === 0 && result.passed > 0;
  ok &&= good;
  const skipped = result.skipped ? `, ${result.skipped} skipped` : "";
  lines.push(
    `${name}: ${result.passed} passed, ${result.failed} failed${skipped} (${seconds} s)${good ? "" : "  FAILED"}`,
  );
  console.log(lines.at(-1));
}
console.log(`\n${lines.join("\n")}`);
process.exit(ok ? 0 : 1);
