// A worker of the crash soak (soak.test.ts): writer slot `w` loops over random operations on its own
// symbols (privateSymbols(w): the full mix) and the shared ones (self-describing writes, appends and
// metadata writes, deletes and prunes), until the supervisor SIGKILLs it. Each operation is journaled to
// `journal` (one file per slot, JSON lines) as an intent before the floe call and as done or failed after
// it resolves. A restarted worker replays its journal into the model and first settles the private
// operation its predecessor left in flight, by looking at the store (only this slot changes its private
// symbols and snapshots, so what it finds is that operation's doing). With `mode: "resolve"` it settles
// and exits; the supervisor runs that after the last kills.
//
// The journal is written with one write(2) per line on an O_APPEND descriptor: a SIGKILL cannot cut a
// line short or lose it (the kernel has it), so no fsync is needed for this test, which kills processes,
// not the machine. A torn last line is still dropped on start, to be safe.
// args: { path (with lmdb:// options, if any), w, journal, seed, mode, deadline }.
import { closeSync, existsSync, ftruncateSync, openSync, readFileSync, writeSync } from "node:fs";
import { Arctic, DataFrame } from "../../dist/node.js";
import { args, run, send } from "../concurrency/channel.mjs";
import {
  applyOp,
  forgetShared,
  frameDifference,
  LIB,
  latestLive,
  opId,
  parseJournal,
  privateSymbols,
  prng,
  replayJournal,
  rowsOf,
  SHARED,
  sameMetadata,
  toFrame,
  VERSIONING,
} from "./soak-model.mjs";

const { path, w, journal, seed, mode, deadline } = args;

// Failures that are the right answer for an operation on a shared symbol, which other writers change
// meanwhile: an append that lands before another writer's newer rows, a metadata write or prune after
// every version was deleted, a delete of a version someone pruned.
const ALLOWED = {
  sAppend: ["UnsortedIndexError"],
  sWriteMeta: ["SymbolNotFoundError"],
  sDelete: ["VersionNotFoundError", "SymbolNotFoundError"],
  sPrune: ["SymbolNotFoundError"],
  // A whole-library snapshot before any symbol has a live version pins nothing, which floe refuses.
  snapshot: ["VersionNotFoundError"],
};

await run(async () => {
  let text = existsSync(journal) ? readFileSync(journal, "utf8") : "";
  const fd = openSync(journal, "a");
  if (text.length > 0 && !text.endsWith("\n")) {
    text = text.slice(0, text.lastIndexOf("\n") + 1);
    ftruncateSync(fd, Buffer.byteLength(text));
  }
  const log = (entry) => writeSync(fd, `${JSON.stringify({ ...entry, t: Date.now() })}\n`);
  const ac = new Arctic(`lmdb://${path}`, { workers: 0 });
  const lib = await ac.getLibrary(LIB);
  const { model, pending, lastSeq } = replayJournal(w, parseJournal(text));
  if (pending) {
    const committed = await settle(lib, model, pending.op);
    const version = committed ? applyOp(model, pending.op) : undefined;
    log({ k: "resolve", seq: pending.seq, committed, version });
  }
  if (mode === "resolve") {
    closeSync(fd);
    await ac.close();
    await send({ type: "done" });
    return;
  }
  await send({ type: "ready" });
  const rnd = prng(seed);
  const pick = (n) => Math.floor((rnd() / 2 ** 32) * n);
  const chance = (p) => rnd() / 2 ** 32 < p;
  // Until killed; or, if the supervisor is gone, not long after.
  for (let seq = lastSeq + 1; Date.now() < deadline && process.connected; seq++) {
    const op = choose(model, seq, pick, chance);
    log({ k: "intent", seq, op });
    let version;
    try {
      version = await execute(lib, model, op);
    } catch (err) {
      if (ALLOWED[op.kind]?.includes(err?.code)) {
        log({ k: "fail", seq, code: err.code });
        if (op.kind === "sDelete") forgetShared(model, op);
        continue;
      }
      // Anything else is a fault the test reports. The operation stays in flight in the journal (the
      // "error" line is a note the replay skips), so the next incarnation settles whether it committed
      // and the supervisor can still check the whole store.
      log({ k: "error", seq, code: err?.code ?? "ERROR", message: String(err?.message ?? err) });
      throw new Error(`writer ${w} op ${seq} ${JSON.stringify(op)}: ${err?.stack ?? err}`);
    }
    const expected = applyOp(model, op, version);
    if (expected !== undefined && expected !== version) {
      throw new Error(
        `writer ${w} op ${seq} (${op.kind} ${op.sym}) made version ${version}, expected ${expected}`,
      );
    }
    log({ k: "done", seq, version });
  }
  closeSync(fd);
  await ac.close();
  await send({ type: "done" });
});

/** Did `op`, in flight when the previous incarnation was killed, commit? Looks at the store. */
async function settle(lib, model, op) {
  if (op.kind === "snapshot") return Object.hasOwn(await lib.listSnapshots(), op.name);
  if (op.kind === "deleteSnapshot") return !Object.hasOwn(await lib.listSnapshots(), op.name);
  const live = new Set((await lib.listVersions(op.sym)).filter((e) => !e.deleted).map((e) => e.version));
  const sym = model.symbols[op.sym];
  if (VERSIONING.has(op.kind)) return live.has(sym.next);
  if (op.kind === "deleteVersions") return op.versions.every((v) => !live.has(v));
  if (op.kind === "deleteSymbol") return live.size === 0;
  if (op.kind === "prune") return live.size <= 1;
  throw new Error(`cannot settle ${op.kind}`);
}

function privateMeta(op, seq, chance) {
  if (chance(0.2)) return undefined;
  return { w, seq, op, note: chance(0.5) ? `n${seq}` : [seq, { nested: true, s: "é" }] };
}

/** The next operation, from the model and the random stream. */
function choose(model, seq, pick, chance) {
  const src = opId(w, seq);
  const r = pick(100);
  if (r < 18) {
    // Shared symbols: every version names its operation in its metadata.
    const sym = SHARED[pick(SHARED.length)];
    const k = pick(100);
    const lo = Date.now() * 1000;
    const rows = 1 + pick(30);
    const mine = model.sharedVersions.filter((s) => s.sym === sym);
    if (k < 25)
      return {
        kind: "sWrite",
        sym,
        spec: { src, rows, lo, hi: lo + rows * 10 },
        meta: { w, seq, op: "sWrite" },
      };
    if (k < 75)
      return {
        kind: "sAppend",
        sym,
        spec: { src, rows, lo, hi: lo + rows * 10 },
        meta: { w, seq, op: "sAppend" },
      };
    if (k < 85) return { kind: "sWriteMeta", sym, meta: { w, seq, op: "sWriteMeta" } };
    if (k < 96 && mine.length > 0) {
      return { kind: "sDelete", sym, version: mine[pick(mine.length)].version };
    }
    return { kind: "sPrune", sym };
  }
  if (r < 26) {
    const names = [...model.snapshots.keys()];
    if (names.length > 0 && (names.length >= 4 || chance(0.4))) {
      return { kind: "deleteSnapshot", name: names[pick(names.length)] };
    }
    const name = `s${w}_${seq}`;
    const meta = { w, seq, op: "snapshot" };
    const withLive = privateSymbols(w).filter((s) => model.symbols[s].live.size > 0);
    if (withLive.length > 0 && chance(0.5)) {
      const sym = withLive[pick(withLive.length)];
      const live = [...model.symbols[sym].live.keys()];
      return { kind: "snapshot", name, meta, versions: { [sym]: live[pick(live.length)] } };
    }
    return { kind: "snapshot", name, meta };
  }
  const sym = privateSymbols(w)[pick(3)];
  const state = model.symbols[sym];
  const latest = latestLive(state);
  const base = latest === undefined ? undefined : state.live.get(latest).rows;
  const origin = 1e15 + w * 1e12;
  const write = () => {
    const rows = chance(0.04) ? 0 : 1 + pick(150);
    const lo = origin + pick(1e6);
    // Sometimes so dense that timestamps repeat.
    const step = chance(0.3) ? 1 : 300;
    return {
      kind: "write",
      sym,
      spec: { src, rows, lo, hi: lo + rows * step },
      meta: privateMeta("write", seq, chance),
      prune: chance(0.1),
    };
  };
  const append = () => {
    const rows = 1 + pick(60);
    const last = base?.ts.at(-1);
    const lo = last === undefined ? origin + pick(1e6) : last + pick(3);
    return {
      kind: "append",
      sym,
      spec: { src, rows, lo, hi: lo + rows * 300 },
      meta: privateMeta("append", seq, chance),
      prune: chance(0.05),
    };
  };
  if (!base) return chance(0.7) ? write() : append();
  const k = pick(100);
  const first = base.ts[0] ?? origin;
  const last = base.ts.at(-1) ?? origin;
  const span = last - first;
  // Ends often on a stored timestamp (which may repeat), where inclusive and exclusive differ.
  const stored = () => base.ts[pick(base.ts.length)];
  const range = () => {
    const a = base.ts.length > 0 && chance(0.5) ? stored() : first - 50 + pick(span + 100);
    const b = base.ts.length > 0 && chance(0.5) ? stored() : a + pick(Math.floor(span / 3) + 50);
    return a <= b ? [a, b] : [b, a];
  };
  if (k < 14) return write();
  if (k < 38) return base.ts.length > 1200 ? write() : append();
  if (k < 52) {
    const [a, b] = range();
    const rows = chance(0.1) ? 0 : 1 + pick(30);
    return {
      kind: "update",
      sym,
      range: [a, b],
      spec: { src, rows, lo: a, hi: b },
      meta: privateMeta("update", seq, chance),
    };
  }
  if (k < 60) {
    const [a, b] = range();
    return {
      kind: "deleteRange",
      sym,
      range: [chance(0.1) ? null : a, chance(0.1) ? null : b],
      meta: privateMeta("deleteRange", seq, chance),
    };
  }
  if (k < 68)
    return { kind: "writeMeta", sym, meta: { w, seq, op: "writeMeta", big: "m".repeat(pick(200)) } };
  if (k < 78) {
    const live = [...state.live.keys()];
    const versions = [live[pick(live.length)]];
    if (live.length > 2 && chance(0.3)) versions.push(live.find((v) => v !== versions[0]));
    return { kind: "deleteVersions", sym, versions };
  }
  if (k < 80) return { kind: "deleteSymbol", sym };
  if (k < 85) return { kind: "prune", sym };
  const live = [...state.live.keys()];
  return { kind: "read", sym, version: live[pick(live.length)] };
}

function dateRange(range) {
  return range.map((t) => (t === null ? null : BigInt(t)));
}

function withMeta(meta, rest = {}) {
  return meta === undefined ? rest : { ...rest, metadata: meta };
}

/** Runs `op`; returns the version it made, if any. Throws what floe throws. */
async function execute(lib, model, op) {
  const frame = op.spec ? toFrame(DataFrame, rowsOf(op.spec)) : undefined;
  switch (op.kind) {
    case "write":
    case "sWrite":
      return (
        await lib.write(op.sym, frame, withMeta(op.meta, op.prune ? { prunePreviousVersions: true } : {}))
      ).version;
    case "append":
    case "sAppend":
      return (
        await lib.append(op.sym, frame, withMeta(op.meta, op.prune ? { prunePreviousVersions: true } : {}))
      ).version;
    case "update":
      return (await lib.update(op.sym, frame, withMeta(op.meta, { dateRange: dateRange(op.range) }))).version;
    case "deleteRange":
      return (await lib.deleteDataInRange(op.sym, dateRange(op.range), withMeta(op.meta))).version;
    case "writeMeta":
    case "sWriteMeta":
      return (await lib.writeMetadata(op.sym, op.meta)).version;
    case "deleteVersions":
      return void (await lib.delete(op.sym, { versions: op.versions }));
    case "sDelete":
      return void (await lib.delete(op.sym, { versions: [op.version] }));
    case "deleteSymbol":
      return void (await lib.delete(op.sym));
    case "prune":
    case "sPrune":
      return void (await lib.prunePreviousVersions(op.sym));
    case "snapshot":
      return void (await lib.snapshot(op.name, {
        metadata: op.meta,
        ...(op.versions ? { versions: op.versions } : {}),
      }));
    case "deleteSnapshot":
      return void (await lib.deleteSnapshot(op.name));
    case "read": {
      // A check while the others write and die: the version reads back as the model has it, and so
      // does one of this writer's pinned snapshots.
      const want = model.symbols[op.sym].all.get(op.version);
      const item = await lib.read(op.sym, { asOf: op.version });
      const diff = frameDifference(item.data, want.rows);
      if (diff || !sameMetadata(item.metadata, want.meta)) {
        throw new Error(
          `read ${op.sym} v${op.version}: ${diff ?? `metadata ${JSON.stringify(item.metadata)}`}`,
        );
      }
      for (const [name, snap] of model.snapshots) {
        if (!snap.versions) continue;
        const [[sym, v]] = Object.entries(snap.versions);
        const pinned = await lib.read(sym, { asOf: name });
        const held = model.symbols[sym].all.get(v);
        const d =
          pinned.version === v ? frameDifference(pinned.data, held.rows) : `version ${pinned.version}`;
        if (d) throw new Error(`read ${sym} asOf ${name} (v${v}): ${d}`);
        break;
      }
      return undefined;
    }
  }
  throw new Error(`unknown op ${op.kind}`);
}
