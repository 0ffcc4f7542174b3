// A process of open-close.test.ts: for `ms` milliseconds, opens the store, writes one small frame to its
// own symbol, reads it back and closes the store again, with a short random gap between rounds, so that
// often nobody has the store open and an open meets the last close. Counts what failed instead of
// stopping at the first failure, so the test can say how often.
// args: { path, lib, symbol, ms }.
import { Arctic, DataFrame } from "../../dist/node.js";
import { args, run, send } from "./channel.mjs";

await run(async () => {
  let rounds = 0;
  const versions = [];
  const failures = [];
  const end = Date.now() + args.ms;
  while (Date.now() < end) {
    const ac = new Arctic(`lmdb://${args.path}`, { workers: 0 });
    try {
      const lib = await ac.getLibrary(args.lib);
      const item = await lib.write(args.symbol, new DataFrame({ i: Float64Array.of(rounds) }));
      const back = await lib.read(args.symbol, { asOf: item.version });
      if (back.data.column("i")[0] !== rounds) throw new Error(`version ${item.version} read back wrong`);
      versions.push(item.version);
    } catch (err) {
      failures.push(`${err.name}: ${err.message}`);
    } finally {
      await ac.close().catch(() => {});
    }
    rounds++;
    const gap = Date.now() + Math.random() * 3;
    while (Date.now() < gap); // busy, so the gaps stay short and close together
  }
  await send({ type: "done", rounds, versions, failures });
});
