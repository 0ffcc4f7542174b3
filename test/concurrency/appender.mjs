// An appending writer, as a child process: appends chunks `ids` to `symbol` one after another and
// reports the version each append made. args: { path (lmdb://) or uri, lib, symbol, ids, rows, barrier }.
import { Arctic } from "../../dist/node.js";
import { args, now, run, send, waitFor } from "./channel.mjs";
import { makeChunk } from "./frames.mjs";

await run(async () => {
  const ac = new Arctic(args.uri ?? `lmdb://${args.path}`);
  const lib = await ac.getLibrary(args.lib);
  const chunks = args.ids.map((id) => makeChunk(id, args.rows));
  if (args.barrier) {
    const go = waitFor("go");
    await send({ type: "ready" });
    await go;
  }
  const start = now();
  const versions = [];
  for (const chunk of chunks) versions.push((await lib.append(args.symbol, chunk)).version);
  const end = now();
  await ac.close();
  await send({ type: "done", ids: args.ids, versions, start, end });
});
