// Crash soak (issue 7, item 4): several processes do random writes, appends, updates, range deletes,
// metadata writes, version deletes, prunes and snapshots on one lmdb:// store while this supervisor
// SIGKILLs them at random and starts them again. Afterwards every listed version must read back exactly
// as the journals the workers kept say it was made, every version they committed and did not delete must
// still be listed, every snapshot must hold what it pinned, and verify / cleanup must find the store sound.
// Bar: zero lost or wrong versions. FLOE_SOAK_SECONDS (default 20) runs it longer, FLOE_SOAK_WORKERS (4)
// with more processes, FLOE_SOAK_SEED replays the workers' choices (not the kill times), FLOE_SOAK_SYNC
// and FLOE_SOAK_DIR (below).
import { mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Arctic, type Library } from "../concurrency/floe.ts";
import { type Runner, startProcess } from "../concurrency/spawn.ts";
import { tempDir } from "../helpers.ts";
import {
  frameDifference,
  LIB,
  LIB_OPTIONS,
  type Model,
  type OpRecord,
  opId,
  parseJournal,
  privateSymbols,
  prng,
  replayJournal,
  rowsOf,
  SHARED,
  sameMetadata,
  sharedProblem,
  toFrame,
} from "./soak-model.mjs";

const SECONDS = Number(process.env.FLOE_SOAK_SECONDS ?? 20);
const WORKERS = Number(process.env.FLOE_SOAK_WORKERS ?? 4);
const SEED = Number(process.env.FLOE_SOAK_SEED ?? Date.now() % 1e9);
// FLOE_SOAK_SYNC=false opens the store with sync=false: some three times the operations a second, the
// same crash semantics (a killed process loses nothing either way).
const QUERY = process.env.FLOE_SOAK_SYNC === "false" ? "?sync=false" : "";
// FLOE_SOAK_DIR: make the store and the journals under this directory and keep them, to look into.
const KEEP = process.env.FLOE_SOAK_DIR;
const WORKER = fileURLToPath(new URL("./soak-worker.mjs", import.meta.url));
// DataFrame from the same bundle the workers and ../concurrency/floe.ts load (a frame of another build of
// the class would not be recognised by the bundle's Library).
const { DataFrame } = (await import(
  /* @vite-ignore */ new URL("../../dist/node.js", import.meta.url).href
)) as typeof import("../../runtimes/node.ts");

interface Slot {
  w: number;
  journal: string;
  runner: Runner;
  incarnations: number;
  killing: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("crash soak: random operations from processes killed at random", () => {
  it(
    "loses no version and returns none wrong",
    async () => {
      const dir = KEEP ? mkdtempSync(join(KEEP, "floe-soak-")) : tempDir("floe-soak-");
      const path = join(dir, "data.lmdb");
      const ac = new Arctic(`lmdb://${path}${QUERY}`, { workers: 0 });
      const lib = await ac.createLibrary(LIB, LIB_OPTIONS);
      const t0 = Date.now();
      const end = t0 + SECONDS * 1000;
      // Workers that died by themselves, with what they said: each is a failure, reported at the end.
      const faults: string[] = [];
      let stopping = false;
      let kills = 0;
      console.log(`soak seed ${SEED} (FLOE_SOAK_SEED=${SEED} replays the workers' choices)`);

      const start = (slot: Slot, mode: "run" | "resolve") => {
        const runner = startProcess(WORKER, {
          path: `${path}${QUERY}`,
          w: slot.w,
          journal: slot.journal,
          seed: (SEED * 31 + slot.w * 7919 + slot.incarnations * 1_000_003) >>> 0,
          mode,
          deadline: end + 30_000,
        });
        slot.incarnations++;
        slot.runner = runner;
        void runner.exited.then(({ code, signal }) => {
          if (slot.killing || (mode === "resolve" && code === 0)) return;
          const error = runner.messages.find((m) => m.type === "error");
          faults.push(`worker ${slot.w} exited (code ${code}, signal ${signal}): ${error?.message ?? ""}`);
          // Started again as after a kill: it settles the operation that failed and the run goes on,
          // so that the store is still checked in full before the faults fail the test.
          if (mode === "run" && !stopping) start(slot, "run");
        });
      };
      const kill = async (slot: Slot) => {
        slot.killing = true;
        slot.runner.kill("SIGKILL");
        const { signal } = await slot.runner.exited;
        slot.killing = false;
        return signal === "SIGKILL";
      };

      const slots: Slot[] = [];
      for (let w = 0; w < WORKERS; w++) {
        const slot = { w, journal: join(dir, `journal-${w}.jsonl`), incarnations: 0, killing: false } as Slot;
        start(slot, "run");
        slots.push(slot);
      }
      const rnd = prng(SEED ^ 0x2545f491);
      try {
        while (Date.now() < end && faults.length < 10) {
          await sleep(200 + (rnd() % 1300));
          // Kill a worker that is at work (not still starting up), whatever it is doing.
          const ready = slots.filter((s) => s.runner.messages.some((m) => m.type === "ready"));
          if (ready.length === 0) continue;
          const slot = ready[rnd() % ready.length];
          if (await kill(slot)) kills++;
          start(slot, "run");
        }
      } finally {
        stopping = true;
        // The last kills, one per worker, are not counted: they land wherever the workers are.
        for (const slot of slots) await kill(slot);
      }
      // The last kills left operations in flight: each worker settles its own, then exits.
      for (const slot of slots) start(slot, "resolve");
      for (const slot of slots) {
        await slot.runner.next("done");
        expect((await slot.runner.exited).code).toBe(0);
      }
      if (faults.length > 0) console.log(`soak faults (in ${dir}):\n${faults.join("\n")}`);
      const seconds = (Date.now() - t0) / 1000;

      const journals = slots.map((s) => replayJournal(s.w, parseJournal(readFileSync(s.journal, "utf8"))));
      const intents = new Map<number, OpRecord>();
      const tally = new Map<string, Record<string, number>>();
      for (const [w, j] of journals.entries()) {
        expect(j.pending, `writer ${w} left an operation unsettled`).toBeUndefined();
        for (const rec of j.ops) {
          intents.set(opId(w, rec.seq), rec);
          const t = tally.get(rec.op.kind) ?? {};
          t[rec.fate] = (t[rec.fate] ?? 0) + 1;
          tally.set(rec.op.kind, t);
        }
      }
      const models = journals.map((j) => j.model);
      const ops = [...intents.values()].filter((r) => r.fate === "done" || r.fate === "committed").length;

      // Check everything first and print the figures, then assert, so a failing run still shows them.
      const first = await checkStore(lib, models, intents);
      const before = await lib.verify();
      const { removed } = await lib.cleanup({ graceMs: 0 });
      const after = await lib.verify();
      // Cleanup took only orphans: everything still reads back as before.
      const second = await checkStore(lib, models, intents);
      const perKind = [...tally.entries()].sort().map(
        ([kind, t]) =>
          `${kind} ${Object.entries(t)
            .map(([f, n]) => `${f}:${n}`)
            .join("/")}`,
      );
      const starts = slots.reduce((n, s) => n + s.incarnations, 0);
      console.log(
        `soak: ${SECONDS} s of kills (${seconds.toFixed(1)} s with the settling), ${WORKERS} processes, ` +
          `${kills} kills (and ${WORKERS} at the end), ${starts} starts; ` +
          `${ops} operations completed (${intents.size} begun); ${first.versions} versions and ${first.pinned} snapshot pins ` +
          `read back and checked (twice), ${first.snapshots} snapshots; verify: ${before.records} records, ` +
          `${before.segments} segments, ${before.orphans.length} orphans, cleanup removed ${removed.length}\n` +
          `soak operations (kind fate:count): ${perKind.join("; ")}`,
      );
      expect(first.problems).toEqual([]);
      expect(before.problems).toEqual([]);
      // With no writer left, cleanup removes exactly the orphans verify found, and then there are none.
      expect([...removed].sort()).toEqual([...before.orphans].sort());
      expect(after.problems).toEqual([]);
      expect(after.orphans).toEqual([]);
      expect(after.ok).toBe(true);
      expect(second.problems).toEqual([]);
      // The store takes new writes: a new symbol, and the next version number of a worker's symbol.
      const fresh = rowsOf({ src: 999, rows: 10, lo: 1e15, hi: 1e15 + 1000 });
      expect((await lib.write("after-soak", toFrame(DataFrame, fresh))).version).toBe(0);
      expect(frameDifference((await lib.read("after-soak")).data!, fresh)).toBeNull();
      const sym = models[0].symbols[privateSymbols(0)[0]];
      expect((await lib.write(privateSymbols(0)[0], toFrame(DataFrame, fresh))).version).toBe(sym.next);
      expect(faults).toEqual([]);
      // The run did something: the bar is meaningless for a soak that never killed or wrote.
      expect(kills).toBeGreaterThanOrEqual(2);
      expect(ops).toBeGreaterThan(SECONDS);
      expect(first.versions).toBeGreaterThan(0);
      await ac.close();
    },
    SECONDS * 1000 + 120_000,
  );
});

/**
 * Checks the store against the workers' models: each private symbol lists exactly the live versions its
 * model has (and deleted ones only through a snapshot), each listed version reads back exactly; each
 * version of a shared symbol is the result of the operation its metadata names, and each one a worker
 * saw committed is listed unless a delete or prune may have taken it; the snapshots are exactly those
 * taken and not deleted, and each pin reads back as the version it holds.
 */
async function checkStore(lib: Library, models: Model[], intents: Map<number, OpRecord>) {
  const problems: string[] = [];
  let versions = 0;
  let pinned = 0;
  const entries = await lib.listVersions();
  const bySymbol = new Map<string, typeof entries>();
  for (const e of entries) bySymbol.set(e.symbol, [...(bySymbol.get(e.symbol) ?? []), e]);
  const known = new Set([...SHARED, ...models.flatMap((m) => Object.keys(m.symbols))]);
  for (const s of bySymbol.keys()) if (!known.has(s)) problems.push(`unknown symbol ${s} listed`);
  const snaps = await lib.listSnapshots();

  for (const model of models) {
    for (const [sym, m] of Object.entries(model.symbols)) {
      const listed = bySymbol.get(sym) ?? [];
      const live = listed.filter((e) => !e.deleted).map((e) => e.version);
      const want = [...m.live.keys()].sort((a, b) => b - a);
      if (live.join() !== want.join())
        problems.push(`${sym}: live versions [${live}], the journal says [${want}]`);
      for (const e of listed) {
        const content = m.all.get(e.version);
        if (!content) {
          problems.push(`${sym} v${e.version} is listed but was never made`);
          continue;
        }
        const check = (item: Awaited<ReturnType<Library["read"]>>, how: string) => {
          const diff =
            item.version === e.version ? frameDifference(item.data!, content.rows) : "another version";
          if (diff) problems.push(`${sym} v${e.version} (${how}): ${diff}`);
          else if (!sameMetadata(item.metadata, content.meta)) {
            problems.push(`${sym} v${e.version} (${how}): metadata ${JSON.stringify(item.metadata)}`);
          }
        };
        // A deleted version (listed because a snapshot holds it) reads only through the snapshot.
        if (!e.deleted) check(await lib.read(sym, { asOf: e.version }), "by number");
        versions++;
        for (const name of e.snapshots) {
          check(await lib.read(sym, { asOf: name }), `as of ${name}`);
          pinned++;
        }
      }
    }
  }

  for (const sym of SHARED) {
    const listed = bySymbol.get(sym) ?? [];
    const ids = new Set<string>();
    for (const e of listed) {
      const item = await lib.read(sym, { asOf: e.deleted ? e.snapshots[0] : e.version });
      const problem = sharedProblem(sym, e.version, item, intents);
      if (problem) problems.push(`${sym} v${e.version}: ${problem}`);
      const meta = item.metadata as { w: number; seq: number };
      const id = `${meta?.w}/${meta?.seq}`;
      if (ids.has(id)) problems.push(`${sym} v${e.version}: a second version of op ${id}`);
      ids.add(id);
      versions++;
      for (const name of e.snapshots) {
        const held = await lib.read(sym, { asOf: name });
        if (held.version !== e.version)
          problems.push(`${sym} as of ${name} is v${held.version}, not v${e.version}`);
        const p = sharedProblem(sym, e.version, held, intents);
        if (p) problems.push(`${sym} v${e.version} as of ${name}: ${p}`);
        pinned++;
      }
    }
    // Every version a worker saw committed is still there, unless a delete of it or a prune that may
    // have run after it (by any worker, finished or in flight) took it.
    const live = new Set(listed.filter((e) => !e.deleted).map((e) => e.version));
    const takers = [...intents.values()].filter(
      (r) => r.op.sym === sym && (r.op.kind === "sDelete" || r.op.kind === "sPrune") && r.fate !== "fail",
    );
    for (const [id, rec] of intents) {
      if (rec.op.sym !== sym || rec.fate !== "done" || rec.version === undefined) continue;
      if (!["sWrite", "sAppend", "sWriteMeta"].includes(rec.op.kind) || live.has(rec.version)) continue;
      const taken = takers.some((r) =>
        r.op.kind === "sDelete" ? r.op.version === rec.version : (r.doneT ?? Infinity) >= rec.t,
      );
      if (!taken)
        problems.push(`${sym} v${rec.version} (op ${id}, ${rec.op.kind}) was committed and is gone`);
    }
  }

  const wantSnaps = new Map(models.flatMap((m) => [...m.snapshots]));
  const names = Object.keys(snaps).sort();
  if (names.join() !== [...wantSnaps.keys()].sort().join()) {
    problems.push(`snapshots [${names}], the journals say [${[...wantSnaps.keys()].sort()}]`);
  }
  for (const [name, op] of wantSnaps) {
    if (!Object.hasOwn(snaps, name)) continue;
    if (!sameMetadata(snaps[name], op.meta))
      problems.push(`snapshot ${name}: metadata ${JSON.stringify(snaps[name])}`);
    if (!op.versions) continue;
    const [[sym, v]] = Object.entries(op.versions);
    const held = await lib.listSymbols({ snapshot: name });
    if (held.join() !== sym) problems.push(`snapshot ${name} holds [${held}], it pinned ${sym} only`);
    const item = await lib.read(sym, { asOf: name });
    if (item.version !== v) problems.push(`snapshot ${name} holds ${sym} v${item.version}, it pinned v${v}`);
  }
  for (const e of entries) {
    for (const name of e.snapshots)
      if (!wantSnaps.has(name)) problems.push(`${e.symbol} v${e.version} held by ${name}`);
  }
  return { problems, versions, pinned, snapshots: names.length };
}
