// The conformance suite in Node, under vitest: the same cases as Bun, Deno and Chromium run, through
// the Node entry (runtimes/node.ts), on mem://, lmdb:// and, where the Ceph binaries are installed,
// s3:// on a local RGW (started on first use; a new bucket per case).
import { afterAll, it } from "vitest";
import * as floe from "../../runtimes/node.ts";
import { type RgwEnv, rgwAvailable, skipReason, startRgw } from "../storage/s3/rgw.ts";
import { defineConformance } from "./cases.ts";
import { Suite } from "./harness.ts";
import { s3Stores, tempStores } from "./stores.ts";

const stores = tempStores();
let gateway: Promise<RgwEnv> | undefined;
const suite = new Suite();
defineConformance(suite, {
  runtime: "node",
  floe,
  lmdbUri: stores.uri,
  s3: rgwAvailable ? s3Stores(() => (gateway ??= startRgw()), "conf-node") : undefined,
  noS3: skipReason.replace(/^ \((.*)\)$/, "$1"),
});

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
