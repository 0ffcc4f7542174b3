// Child process of the store-file tests (store-files.test.ts): opens each lmdb:// store named on the
// command line in turn, through floe's public API, reads every symbol of every library and writes one
// version, and prints one JSON line per store: `{ path, ok: true }` or `{ path, ok: false, code, message }`.
// A native crash in LMDB ends the process by a signal instead; the lines before it say how far it got.
// `--read-only` first: skip the write.
import { Arctic } from "../../dist/node.js";

const args = process.argv.slice(2);
const write = args[0] !== "--read-only";
for (const path of write ? args : args.slice(1)) {
  let outcome;
  try {
    const ac = new Arctic(`lmdb://${path}`, { workers: 0 });
    try {
      for (const name of await ac.listLibraries()) {
        const lib = await ac.getLibrary(name);
        for (const symbol of await lib.listSymbols()) await lib.read(symbol);
      }
      if (write) {
        const lib = await ac.getLibrary("probe", { createIfMissing: true });
        await lib.write("probe", { x: [1, 2, 3] });
      }
    } finally {
      await ac.close();
    }
    outcome = { path, ok: true };
  } catch (err) {
    outcome = { path, ok: false, code: err?.code ?? null, message: String(err?.message ?? err) };
  }
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
}
