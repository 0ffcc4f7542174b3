// A child process that stages chunks of one symbol: `node stage-writer.mjs <uri> <writer> <chunks>`.
// Writer w stages chunk c as 10 rows at minutes (c * writers + w) * 10 .. + 9, so chunks of all
// writers interleave in time and only a finalize that orders them by timestamp gets the rows right.
import { Arctic, DataFrame } from "../../dist/node.js";

const [uri, writerArg, chunksArg, writersArg] = process.argv.slice(2);
const writer = Number(writerArg);
const chunks = Number(chunksArg);
const writers = Number(writersArg);
const ac = new Arctic(uri);
const lib = await ac.getLibrary("lib");
for (let c = 0; c < chunks; c++) {
  const start = (c * writers + writer) * 10;
  const minutes = Array.from({ length: 10 }, (_, i) => start + i);
  const index = new BigInt64Array(minutes.map((m) => BigInt(m) * 60_000_000_000n));
  await lib.write(
    "sym",
    new DataFrame({ minute: minutes, writer: new Int32Array(10).fill(writer) }, { index }),
    { staged: true },
  );
}
await ac.close();
