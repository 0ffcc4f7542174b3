/**
 * Temporary `lmdb://` stores for the runtimes with a file system (Node, Bun and Deno all provide
 * `node:fs`): one directory per run, a store per call, all removed by `remove()`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A temporary directory handing out fresh `lmdb://` URIs inside it. */
export function tempStores(prefix = "floe-conformance-"): { uri: () => string; remove: () => void } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  let n = 0;
  return {
    uri: () => `lmdb://${join(root, `store-${n++}`)}`,
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
