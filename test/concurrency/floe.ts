import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type * as Floe from "../../runtimes/node.ts";

// The tests drive the store through the built bundle, the same code their child scripts import, so a
// parent and its children never disagree on the format while the sources change under a stale build.
const bundle = new URL("../../dist/node.js", import.meta.url);
if (!existsSync(bundle)) {
  throw new Error(`${fileURLToPath(bundle)} is missing: run \`npm run build\` before these tests.`);
}
const floe = (await import(/* @vite-ignore */ bundle.href)) as typeof Floe;

export const { Arctic } = floe;
export type Library = Floe.Library;
