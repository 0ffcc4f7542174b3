// The conformance suite in Node, under vitest: the same cases as Bun, Deno and Chromium run, through
// the Node entry (runtimes/node.ts), on mem:// and lmdb://.
import { afterAll, it } from "vitest";
import * as floe from "../../runtimes/node.ts";
import { defineConformance } from "./cases.ts";
import { Suite } from "./harness.ts";
import { tempStores } from "./stores.ts";

const stores = tempStores();
const suite = new Suite();
defineConformance(suite, { runtime: "node", floe, lmdbUri: stores.uri });

let passed = 0;
for (const c of suite.cases) {
  if (c.skip) it.skip(`${c.name} [skipped: ${c.skip}]`, () => {});
  else
    it(c.name, async () => {
      await c.fn();
      passed++;
    });
}

afterAll(() => {
  stores.remove();
  console.log(`node: ${passed} passed`);
});
