// A writer of one large frame, as a child process, for the crash test: builds frame `seed` of `rows`
// rows, says "writing" just before it calls write, and "done" if it ever finishes (the test kills it
// first). args: { path (lmdb://) or uri, lib, symbol, seed, rows }.
import { Arctic } from "../../dist/node.js";
import { args, run, send } from "./channel.mjs";
import { makeColumns } from "./frames.mjs";

await run(async () => {
  const ac = new Arctic(args.uri ?? `lmdb://${args.path}`);
  const lib = await ac.getLibrary(args.lib);
  const columns = makeColumns(args.seed, args.rows);
  await send({ type: "writing" });
  const item = await lib.write(args.symbol, columns);
  await send({ type: "done", version: item.version });
  await ac.close();
});
