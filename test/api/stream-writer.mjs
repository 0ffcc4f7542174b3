// A child process that streams frames to a symbol and hangs before the stream ends, to be killed:
// `node stream-writer.mjs <uri> <frames>`; prints "staged" once its frames are staged.
import { Arctic, DataFrame } from "../../dist/node.js";

const [uri, framesArg] = process.argv.slice(2);
const ac = new Arctic(uri, { workers: 0 });
const lib = await ac.getLibrary("lib");
async function* frames() {
  for (let i = 0; i < Number(framesArg); i++) {
    // A stream stores its chunks a few to a transaction, or when one comes a second after the first.
    if (i === Number(framesArg) - 1) await new Promise((r) => setTimeout(r, 1100));
    yield new DataFrame({ x: Float64Array.from([i, i + 0.5]) });
  }
  process.stdout.write("staged\n");
  await new Promise(() => {}); // never ends: the parent kills this process here
}
await lib.write("s", frames());
