// The conformance suite in Bun: `bun test ./test/conformance/bun.conformance.ts` (scripts/test-runtimes.mjs
// runs it). Same cases as Node, Deno and Chromium, through the Bun entry (runtimes/bun.ts).
import { afterAll, test } from "bun:test";
import * as floe from "../../runtimes/bun.ts";
import { defineConformance } from "./cases.ts";
import { Suite } from "./harness.ts";
import { tempStores } from "./stores.ts";

const stores = tempStores();
const suite = new Suite();
defineConformance(suite, { runtime: "bun", floe, lmdbUri: stores.uri });

for (const c of suite.cases) {
  if (c.skip) test.skip(`${c.name} [skipped: ${c.skip}]`, () => {});
  else test(c.name, c.fn, 120_000);
}

afterAll(() => stores.remove());
