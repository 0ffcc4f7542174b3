// The conformance suite in Deno: `deno test -A test/conformance/deno.conformance.ts`
// (scripts/test-runtimes.mjs runs it). Same cases as Node, Bun and Chromium, through the Deno entry
// (runtimes/deno.ts).
import * as floe from "../../runtimes/deno.ts";
import { defineConformance, NO_GATEWAY } from "./cases.ts";
import { Suite } from "./harness.ts";
import { gatewayFromEnv, s3Stores, tempStores } from "./stores.ts";

/** The part of Deno's test API used here (declared locally, so tsc and Deno both check this file). */
interface DenoTest {
  test(options: {
    name: string;
    fn: () => unknown;
    ignore?: boolean;
    sanitizeOps?: boolean;
    sanitizeResources?: boolean;
  }): void;
  env: { get(name: string): string | undefined };
}
const Deno = (globalThis as unknown as { Deno: DenoTest }).Deno;

const stores = tempStores();
// The S3 gateway scripts/test-runtimes.mjs started; Deno's stores live under a path_prefix.
const gateway = gatewayFromEnv((name) => Deno.env.get(name));
const suite = new Suite();
defineConformance(suite, {
  runtime: "deno",
  floe,
  lmdbUri: stores.uri,
  s3: gateway && s3Stores(gateway, "conf-deno", "conformance/deno"),
  noS3: NO_GATEWAY,
});

for (const c of suite.cases) {
  Deno.test({
    name: c.skip ? `${c.name} [skipped: ${c.skip}]` : c.name,
    ignore: c.skip !== undefined,
    fn: c.fn,
    // lmdb-js keeps one environment per path open for the process (shared by every handle), and pool
    // workers end asynchronously after close(): neither is a leak of the test, so do not flag them.
    sanitizeOps: false,
    sanitizeResources: false,
  });
}

// Deno.test has no afterAll; "unload" fires once every test has run.
globalThis.addEventListener("unload", () => stores.remove());
