// A writer of open-race.test.ts: writes one small frame after another to its own symbol for `ms`
// milliseconds and reports the version each write returned. Nothing else writes that symbol, so the
// versions must run 0, 1, 2, ... with no number given out twice.
// args: { path, lib, symbol, ms }.
import { Arctic, DataFrame } from "../../dist/node.js";
import { args, run, send } from "./channel.mjs";

await run(async () => {
  const ac = new Arctic(`lmdb://${args.path}`, { workers: 0 });
  const lib = await ac.getLibrary(args.lib);
  const versions = [];
  const end = Date.now() + args.ms;
  for (let i = 0; Date.now() < end; i++) {
    const item = await lib.write(args.symbol, new DataFrame({ i: Float64Array.of(i, i, i) }));
    versions.push(item.version);
  }
  await ac.close();
  await send({ type: "done", versions });
});
