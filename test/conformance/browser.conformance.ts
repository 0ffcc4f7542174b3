// The conformance suite in a browser page (scripts/test-runtimes.mjs bundles this file, serves it with
// dist/ and drives headless Chromium). Same cases as Node, Bun and Deno, through the browser build
// (dist/browser.js, as a page would import it), on mem:// with a pool of module Web Workers; then the
// s3:// cases (browser-s3.ts) on a bucket Node prepared, which the runner describes in /s3.json.
import { defineS3BrowserCases, type S3Fixture } from "./browser-s3.ts";
import { type ConformanceEnv, defineConformance, type Floe } from "./cases.ts";
import { type RunResult, runCases, Suite } from "./harness.ts";

/** Where the page finds the result: scripts/test-runtimes.mjs waits for it. */
interface ConformanceWindow {
  conformance?: RunResult & { ms: number };
}

// A URL, not a module specifier: the page loads the browser build exactly as a user's page would.
const floe = (await import(new URL("/dist/browser.js", location.href).href)) as Floe;
const suite = new Suite();
const env: ConformanceEnv = {
  runtime: "browser",
  floe,
  noS3: "a page's bucket needs a CORS rule Node sets first: the page's s3:// cases are browser-s3.ts's",
};
defineConformance(suite, env);
const s3 = await fetch("/s3.json");
const fixture: S3Fixture = s3.ok ? await s3.json() : { skip: `the runner served no /s3.json (${s3.status})` };
defineS3BrowserCases(suite, floe, fixture);
const started = performance.now();
const result = await runCases(suite.cases, (line) => console.log(line));
console.log(`chromium: ${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped`);
(globalThis as ConformanceWindow).conformance = { ...result, ms: performance.now() - started };
