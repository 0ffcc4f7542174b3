// A child process that streams frames to a symbol and hangs before the stream ends, to be killed:
// `node stream-writer.mjs <uri> <frames> [update]`; prints "staged" once its frames are staged. With
// `update`, the frames (timestamped from 2024-01-01, a minute a row) update the symbol instead.
import { Arctic, DataFrame } from "../../dist/node.js";

const [uri, framesArg, mode] = process.argv.slice(2);
const T0 = 1_704_067_200_000_000_000n;
const MINUTE = 60_000_000_000n;
const ac = new Arctic(uri, { workers: 0 });
const lib = await ac.getLibrary("lib");
async function* frames() {
  for (let i = 0; i < Number(framesArg); i++) {
    // A stream stores its chunks a few to a transaction, or when one comes a second after the first.
    if (i === Number(framesArg) - 1) await new Promise((r) => setTimeout(r, 1100));
    const x = Float64Array.from([i, i + 0.5]);
    yield mode === "update"
      ? new DataFrame({ x }, { index: [T0 + BigInt(2 * i) * MINUTE, T0 + BigInt(2 * i + 1) * MINUTE] })
      : new DataFrame({ x });
  }
  process.stdout.write("staged\n");
  await new Promise(() => {}); // never ends: the parent kills this process here
}
if (mode === "update") await lib.update("s", frames());
else await lib.write("s", frames());
