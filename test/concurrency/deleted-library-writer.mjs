// A writer that keeps writing one symbol through one Library handle while another process deletes the
// library: reports each acknowledged version ("ack"), and ends ("done") at its first refusal, or after
// `limit` writes or `ms` milliseconds if no refusal ever comes.
//
// args: { path, lib, symbol, limit, ms }
import { Arctic } from "../../dist/node.js";
import { args, run, send } from "./channel.mjs";

await run(async () => {
  const ac = new Arctic(`lmdb://${args.path}`, { workers: 0 });
  const lib = await ac.getLibrary(args.lib);
  const acks = [];
  let refused = null;
  const until = Date.now() + args.ms;
  for (let i = 0; i < args.limit && Date.now() < until; i++) {
    try {
      const item = await lib.write(args.symbol, { x: [i] });
      acks.push(item.version);
      await send({ type: "ack", version: item.version, i });
    } catch (err) {
      refused = { code: err.code ?? null, message: String(err.message) };
      break;
    }
  }
  await ac.close();
  await send({ type: "done", acks, refused });
});
