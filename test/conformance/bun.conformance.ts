// The conformance suite in Bun: `bun test ./test/conformance/bun.conformance.ts` (scripts/test-runtimes.mjs
// runs it). Same cases as Node, Deno and Chromium, through the Bun entry (runtimes/bun.ts).
import { afterAll, test } from "bun:test";
import * as floe from "../../runtimes/bun.ts";
import { defineConformance, NO_GATEWAY } from "./cases.ts";
import { Suite } from "./harness.ts";
import { gatewayFromEnv, s3Stores, tempStores } from "./stores.ts";

const stores = tempStores();
// The S3 gateway scripts/test-runtimes.mjs started; Bun's stores live under a path_prefix, Node's at
// the bucket root, so both layouts are covered.
const gateway = gatewayFromEnv((name) => process.env[name]);
const suite = new Suite();
defineConformance(suite, {
  runtime: "bun",
  floe,
  lmdbUri: stores.uri,
  s3: gateway && s3Stores(gateway, "conf-bun", "conformance/bun"),
  noS3: NO_GATEWAY,
});

for (const c of suite.cases) {
  if (c.skip) test.skip(`${c.name} [skipped: ${c.skip}]`, () => {});
  else test(c.name, c.fn, 120_000);
}

afterAll(() => stores.remove());
