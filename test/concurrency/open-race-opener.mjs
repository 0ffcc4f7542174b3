// An opener of open-race.test.ts: opens the store, lists its libraries and closes it again, over and over
// for `ms` milliseconds, each time as a fresh environment (the process holds no other handle on it).
// args: { path, ms }.
import { Arctic } from "../../dist/node.js";
import { args, run, send } from "./channel.mjs";

await run(async () => {
  let opens = 0;
  const end = Date.now() + args.ms;
  while (Date.now() < end) {
    const ac = new Arctic(`lmdb://${args.path}`, { workers: 0 });
    await ac.listLibraries();
    await ac.close();
    opens++;
  }
  await send({ type: "done", opens });
});
