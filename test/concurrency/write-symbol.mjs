// One concurrent writer, as a child process or a worker thread: opens its own Arctic on the shared
// store (an lmdb:// path or any URI), writes frame `seed` to `symbol`, and reports its version and when it wrote.
//
// args: { path (an lmdb:// directory) or uri (any store), lib, symbol, seed, rows, barrier }. With `barrier` it says "ready" once opened and its
// frame is built, and writes only on "go", so all writers hit the store at the same moment instead of
// one after another as they finish starting up.
import { Arctic } from "../../dist/node.js";
import { args, now, run, send, waitFor } from "./channel.mjs";
import { makeColumns } from "./frames.mjs";

await run(async () => {
  const opened = now();
  const ac = new Arctic(args.uri ?? `lmdb://${args.path}`);
  const lib = await ac.getLibrary(args.lib);
  const columns = makeColumns(args.seed, args.rows);
  if (args.barrier) {
    const go = waitFor("go");
    await send({ type: "ready" });
    await go;
  }
  const start = now();
  const item = await lib.write(args.symbol, columns);
  const end = now();
  await ac.close();
  await send({
    type: "done",
    symbol: args.symbol,
    seed: args.seed,
    version: item.version,
    opened,
    start,
    end,
  });
});
