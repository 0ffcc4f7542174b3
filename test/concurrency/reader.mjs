// A reader, as a child process or worker thread, that reads `symbol` over and over while others append
// to it, checking every frame it gets: whole chunks only, each exact (see chunksOf), and each read's
// chunks a prefix-extension of the previous read's (the rows of a version never change or reorder, and
// versions never go back). It stops once it has seen `finalChunks` chunks, or fails at `deadlineMs`.
//
// The loop awaits each read and nothing else, the way a user's polling loop looks; it never yields to
// a macrotask, which is what once kept lmdb-js's read snapshot from ever moving on.
// args: { path, lib, symbol, rows, finalChunks, deadlineMs }.
import { Arctic } from "../../dist/node.js";
import { args, now, run, send } from "./channel.mjs";
import { chunksOf } from "./frames.mjs";

await run(async () => {
  const ac = new Arctic(`lmdb://${args.path}`);
  const lib = await ac.getLibrary(args.lib);
  let previous = [];
  let previousVersion = -1;
  const versionsSeen = new Set();
  let reads = 0;
  const check = async () => {
    const item = await lib.read(args.symbol);
    reads++;
    const got = chunksOf(item.data, args.rows);
    const where = `read ${reads}, version ${item.version}`;
    if (got.error) throw new Error(`${where}: torn or wrong frame: ${got.error}`);
    if (item.version < previousVersion)
      throw new Error(`${where}: went back from version ${previousVersion}`);
    if (got.ids.length < previous.length || previous.some((id, i) => got.ids[i] !== id)) {
      throw new Error(`${where}: chunks [${got.ids}] do not extend the previous read's [${previous}]`);
    }
    if (item.version === previousVersion && got.ids.length !== previous.length) {
      throw new Error(`${where}: same version, different rows`);
    }
    previous = got.ids;
    previousVersion = item.version;
    versionsSeen.add(item.version);
  };
  await check();
  await send({ type: "ready" });
  const deadline = Date.now() + args.deadlineMs;
  const start = now();
  while (previous.length < args.finalChunks) {
    if (Date.now() > deadline) {
      throw new Error(
        `after ${reads} reads in ${args.deadlineMs} ms still at version ${previousVersion} with ` +
          `${previous.length} of ${args.finalChunks} chunks: the reader does not see new versions`,
      );
    }
    await check();
  }
  const end = now();
  await ac.close();
  await send({
    type: "done",
    reads,
    versionsSeen: versionsSeen.size,
    ids: previous,
    version: previousVersion,
    start,
    end,
  });
});
