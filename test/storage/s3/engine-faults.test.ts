/**
 * Issue 25 through the public API: floe on the real Ceph RGW, with a fault-injecting proxy between them
 * (latency, 500, 503 SlowDown, resets, uploads cut off, truncated bodies, lost answers) and a gateway
 * killed mid-write and restarted. Faults are retried; faults that persist end as a StorageError saying
 * which, in bounded time; no read returns wrong data; no acknowledged write is lost or doubled; a write
 * that was refused is either invisible or whole; and what failed writes leave behind, cleanup removes.
 */
import { execFile } from "node:child_process";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Arctic, DataFrame, type Library, StorageError } from "../../../runtimes/node.ts";
import { type Fault, type FaultProxy, type PlannedRequest, startFaultProxy } from "./fault-proxy.ts";
import { rgwAvailable, skipReason, useBucket } from "./rgw.ts";

const MINUTE = 60_000_000_000n;
const T0 = 1_700_000_000_000_000_000n;
const script = join(dirname(fileURLToPath(import.meta.url)), "../../../scripts/rgw.sh");
const run = promisify(execFile);

/** A pseudo-random sequence (mulberry32), so a failure replays from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Rows `start .. start + rows - 1` (their timestamps, in minutes after T0) of the data `seed` names: each
 * value is a function of (seed, minute), so any part of a chunk is a chunk, and a symbol's content is a
 * list of chunks in ascending, disjoint minutes.
 */
interface Chunk {
  seed: number;
  start: number;
  rows: number;
}

const valueAt = (seed: number, t: number) => Math.sin(seed * 7919 + t * 0.731) * 1e6;
const intAt = (seed: number, t: number) => BigInt(seed) * 1_000_000_007n + BigInt(t) * 31n;

/** The frame of `chunks` (with a string column unless `narrow`). */
function frameOf(chunks: readonly Chunk[], narrow = false): DataFrame {
  const total = chunks.reduce((s, c) => s + c.rows, 0);
  const index = new BigInt64Array(total);
  const v = new Float64Array(total);
  const n = new BigInt64Array(total);
  const s: string[] = narrow ? [] : new Array(total);
  let i = 0;
  for (const c of chunks) {
    for (let t = c.start; t < c.start + c.rows; t++, i++) {
      index[i] = T0 + BigInt(t) * MINUTE;
      v[i] = valueAt(c.seed, t);
      n[i] = intAt(c.seed, t);
      if (!narrow) s[i] = `${c.seed}:${t}`;
    }
  }
  return new DataFrame(narrow ? { v, n } : { v, n, s }, { index });
}

/** The parts of `chunks` with minutes in [from, to]. */
function within(chunks: readonly Chunk[], from: number, to: number): Chunk[] {
  const out: Chunk[] = [];
  for (const c of chunks) {
    const a = Math.max(c.start, from);
    const b = Math.min(c.start + c.rows - 1, to);
    if (a <= b) out.push({ seed: c.seed, start: a, rows: b - a + 1 });
  }
  return out;
}

const lastMinute = (chunks: readonly Chunk[]) => {
  const c = chunks[chunks.length - 1];
  return c ? c.start + c.rows - 1 : -1;
};

/** `content` after an update with `chunk`: its minutes replaced. */
const updated = (content: readonly Chunk[], chunk: Chunk): Chunk[] => [
  ...within(content, Number.NEGATIVE_INFINITY, chunk.start - 1),
  chunk,
  ...within(content, chunk.start + chunk.rows, Number.POSITIVE_INFINITY),
];

/** Whether `err` is floe's StorageError (public class and code) with an S3 failure `kind`. */
function storageKind(err: unknown): string | undefined {
  if (!(err instanceof StorageError) || err.code !== "StorageError") return undefined;
  return (err as { kind?: string }).kind ?? "(no kind)";
}

/** Runs `fn`; its error if it rejects with anything other than a StorageError is rethrown. */
async function outcome<T>(
  fn: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; err: StorageError }> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    if (storageKind(err) === undefined) throw err;
    return { ok: false, err: err as StorageError };
  }
}

const versionsOf = async (lib: Library, symbol: string) =>
  (await lib.listVersions(symbol)).map((v) => v.version).sort((a, b) => a - b);

/** Faults in a plan: a fraction `rate` of the requests get one of `faults`, picked by `random`. */
function randomPlan(random: () => number, rate: number, faults: readonly Fault[]) {
  return (): Fault => (random() < rate ? faults[Math.floor(random() * faults.length)] : "pass");
}

const isCommitPut = (r: PlannedRequest) => r.method === "PUT" && /\/V\/[^/]+\/\d{10}$/.test(r.url);
const isSegmentPut = (r: PlannedRequest) => r.method === "PUT" && /\/S\/[^/]+\/[^/]+$/.test(r.url);

describe.skipIf(!rgwAvailable)(`s3:// engine through faults and a gateway restart${skipReason}`, () => {
  const ctx = useBucket("engfaults");
  let proxy: FaultProxy;

  beforeAll(async () => {
    proxy = await startFaultProxy(ctx.env.endpoint);
  });
  afterEach(() => {
    proxy.plan = () => "pass";
    proxy.latencyMs = 0;
    proxy.log.length = 0;
  });
  afterAll(async () => {
    await proxy?.close();
  });

  /** A URI for the bucket through `via` (a proxy's endpoint), with the client's retry settings. */
  const uriVia = (via: string, options: { attempts: number; timeoutMs: number }) => {
    const { accessKeyId, secretAccessKey } = ctx.env;
    const { hostname, port } = new URL(via);
    return (
      `s3://${hostname}:${ctx.s3.bucket}?port=${port}&access=${accessKeyId}&secret=${secretAccessKey}` +
      `&max_attempts=${options.attempts}&request_timeout_ms=${options.timeoutMs}`
    );
  };

  it("under intermittent faults, every acknowledged write reads back exactly and no read is wrong", async () => {
    const faults: Fault[] = [
      "slowdown",
      "error500",
      "reset",
      "truncate",
      "lose-answer",
      "cut-upload",
      "delay",
    ];
    proxy.delayMs = 150;
    let paused = 0;
    const faulty = randomPlan(prng(25), 0.25, faults);
    proxy.plan = () => (paused > 0 ? "pass" : faulty());

    const ac = new Arctic(uriVia(proxy.endpoint, { attempts: 10, timeoutMs: 5_000 }));
    // Creating the library goes through the faults too.
    const lib = await ac.createLibrary("intermittent", { rowsPerSegment: 400 });
    const stats = { acknowledged: 0, refused: 0, deleted: 0, readsExact: 0, readsRefused: 0 };

    /** One symbol's life: writes, appends, updates, deletes of old versions, reads; checked as it goes. */
    async function life(symbol: string, seedBase: number, ops: number): Promise<Map<number, Chunk[]>> {
      const random = prng(seedBase);
      const live = new Map<number, Chunk[]>(); // what each live version holds
      const numbers = new Set<number>(); // every number acknowledged or seen committed
      const latest = () => {
        const v = Math.max(-1, ...live.keys());
        return v < 0 ? undefined : { v, content: live.get(v) as Chunk[] };
      };
      for (let op = 0; op < ops; op++) {
        const r = random();
        const top = latest();
        const seed = seedBase + op;
        let attempt:
          | { kind: "version"; content: Chunk[]; call: () => Promise<{ version: number }> }
          | undefined;
        if (!top || r < 0.2) {
          const chunk = { seed, start: Math.floor(random() * 100), rows: 1 + Math.floor(random() * 1500) };
          attempt = { kind: "version", content: [chunk], call: () => lib.write(symbol, frameOf([chunk])) };
        } else if (r < 0.45) {
          const start = lastMinute(top.content) + 1 + Math.floor(random() * 3);
          const chunk = { seed, start, rows: 1 + Math.floor(random() * 800) };
          attempt = {
            kind: "version",
            content: [...top.content, chunk],
            call: () => lib.append(symbol, frameOf([chunk])),
          };
        } else if (r < 0.55) {
          const start = top.content[0].start + Math.floor(random() * (lastMinute(top.content) + 1));
          const chunk = { seed, start, rows: 1 + Math.floor(random() * 300) };
          attempt = {
            kind: "version",
            content: updated(top.content, chunk),
            call: () => lib.update(symbol, frameOf([chunk])),
          };
        } else if (r < 0.66 && live.size >= 2) {
          const old = [...live.keys()].sort((a, b) => a - b)[0];
          const done = await outcome(() => lib.delete(symbol, { versions: [old] }));
          paused++;
          try {
            const listed = await versionsOf(lib, symbol);
            // Refused or not, the deletion applies wholly or not at all, and touches nothing else.
            if (done.ok || !listed.includes(old)) {
              live.delete(old);
              stats.deleted++;
            }
            expect(listed).toEqual([...live.keys()].sort((a, b) => a - b));
          } finally {
            paused--;
          }
          continue;
        } else {
          // A read: exact, or a StorageError; never other data.
          const versions = [...live.keys()];
          const v = versions[Math.floor(random() * versions.length)];
          const content = live.get(v) as Chunk[];
          const ranged = random() < 0.4;
          const from = content[0].start + Math.floor(random() * 50);
          const to = from + Math.floor(random() * 600);
          const read = await outcome(() =>
            lib.read(
              symbol,
              ranged
                ? { asOf: v, dateRange: [T0 + BigInt(from) * MINUTE, T0 + BigInt(to) * MINUTE] }
                : { asOf: v },
            ),
          );
          if (read.ok) {
            const expected = frameOf(ranged ? within(content, from, to) : content);
            expect(
              read.value.data?.equals(expected),
              `${symbol} v${v} ${ranged ? `[${from}, ${to}]` : ""}`,
            ).toBe(true);
            stats.readsExact++;
          } else stats.readsRefused++;
          continue;
        }
        const done = await outcome(attempt.call);
        if (done.ok) {
          const v = done.value.version;
          // Acknowledged once: a number never handed out before, after all known ones.
          expect(numbers.has(v), `${symbol}: version ${v} acknowledged twice`).toBe(false);
          expect(v).toBeGreaterThan(Math.max(-1, ...numbers));
          numbers.add(v);
          live.set(v, attempt.content);
          stats.acknowledged++;
        } else {
          // In doubt: the version may have been committed. Look without faults; if it is there, it is whole.
          stats.refused++;
          paused++;
          try {
            const listed = await versionsOf(lib, symbol);
            const fresh = listed.filter((v) => !live.has(v));
            expect(fresh.length).toBeLessThanOrEqual(1);
            if (fresh.length === 1) {
              const read = await lib.read(symbol, { asOf: fresh[0] });
              expect(read.data?.equals(frameOf(attempt.content))).toBe(true);
              numbers.add(fresh[0]);
              live.set(fresh[0], attempt.content);
            }
          } finally {
            paused--;
          }
        }
      }
      return live;
    }

    const symbols = ["alpha", "beta", "gamma"];
    const lives = await Promise.all(symbols.map((s, i) => life(s, (i + 1) * 1000, 14)));

    // Faults off: every acknowledged version is listed and reads back exactly; the library verifies.
    proxy.plan = () => "pass";
    for (const [i, symbol] of symbols.entries()) {
      const live = lives[i];
      expect(await versionsOf(lib, symbol)).toEqual([...live.keys()].sort((a, b) => a - b));
      for (const [v, content] of live) {
        expect((await lib.read(symbol, { asOf: v })).data?.equals(frameOf(content)), `${symbol} v${v}`).toBe(
          true,
        );
      }
    }
    // Reads with too few attempts for the faults: many are refused, none returns other data.
    const fragile = new Arctic(uriVia(proxy.endpoint, { attempts: 2, timeoutMs: 5_000 }));
    const flib = await fragile.getLibrary("intermittent");
    proxy.plan = randomPlan(prng(52), 0.3, faults);
    const reads = { exact: 0, refused: 0 };
    for (let round = 0; round < 2; round++) {
      for (const [i, symbol] of symbols.entries()) {
        for (const [v, content] of lives[i]) {
          const read = await outcome(() => flib.read(symbol, { asOf: v }));
          if (read.ok) {
            expect(read.value.data?.equals(frameOf(content)), `${symbol} v${v}`).toBe(true);
            reads.exact++;
          } else reads.refused++;
        }
      }
    }
    proxy.plan = () => "pass";
    expect(reads.exact).toBeGreaterThan(0);
    expect(reads.refused).toBeGreaterThan(0);
    await fragile.close();

    const report = await lib.verify();
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    await lib.cleanup({ graceMs: 0 });
    expect((await lib.verify()).orphans).toEqual([]);

    // The faults were there, of every kind, and the run did real work through them.
    const seen = new Map<Fault, number>();
    for (const r of proxy.log) seen.set(r.fault, (seen.get(r.fault) ?? 0) + 1);
    for (const f of faults) expect(seen.get(f) ?? 0, `fault '${f}' injected`).toBeGreaterThan(0);
    expect(stats.acknowledged).toBeGreaterThan(20);
    expect(stats.readsExact).toBeGreaterThan(5);
    expect(stats.deleted).toBeGreaterThan(0);
    await ac.close();
  });

  describe("faults that persist", () => {
    /** Faults from the k-th request of an append on, for every k: refused or acknowledged, never partial. */
    const sweep = async (fault: Fault) => {
      const ac = new Arctic(uriVia(proxy.endpoint, { attempts: 2, timeoutMs: 2_000 }));
      const lib = await ac.createLibrary(`sweep-${fault}`, { rowsPerSegment: 300 });
      let content: Chunk[] = [{ seed: 1, start: 0, rows: 500 }];
      const live = new Map([[(await lib.write("s", frameOf(content))).version, content]]);
      // How many requests an append makes without faults: the faults start at each of them in turn.
      proxy.log.length = 0;
      const first = { seed: 2, start: 500, rows: 400 };
      content = [...content, first];
      live.set((await lib.append("s", frameOf([first]))).version, content);
      const requests = proxy.log.map((r) => `${r.method} ${r.url.replace(/\?.*/, "")}`);
      for (let k = 1; k <= requests.length + 1; k++) {
        proxy.log.length = 0;
        proxy.plan = ({ n }) => (n >= k ? fault : "pass");
        const chunk = { seed: 10 + k, start: lastMinute(content) + 1, rows: 400 };
        const attempt = [...content, chunk];
        const done = await outcome(() => lib.append("s", frameOf([chunk])));
        proxy.plan = () => "pass";
        const where = `faults from request ${k} (${requests[k - 1] ?? "none"}): ${done.ok ? "acknowledged" : done.err.message}`;
        const listed = await versionsOf(lib, "s");
        if (done.ok) live.set(done.value.version, attempt);
        const fresh = listed.filter((v) => !live.has(v));
        expect(fresh.length, where).toBeLessThanOrEqual(1);
        if (fresh.length === 1) {
          // Refused, but committed (the commit's answer was lost): it must then be whole.
          const read = await outcome(() => lib.read("s", { asOf: fresh[0] }));
          expect(read.ok && read.value.data?.equals(frameOf(attempt)), `${where}; v${fresh[0]} visible`).toBe(
            true,
          );
          live.set(fresh[0], attempt);
        }
        if (live.has(Math.max(...listed))) content = live.get(Math.max(...listed)) as Chunk[];
        expect(listed, where).toEqual([...live.keys()].sort((a, b) => a - b));
        for (const [v, c] of live) {
          expect((await lib.read("s", { asOf: v })).data?.equals(frameOf(c)), `${where}; v${v}`).toBe(true);
        }
        const report = await lib.verify();
        expect(report.problems, where).toEqual([]);
      }
      await lib.cleanup({ graceMs: 0 });
      expect((await lib.verify()).orphans).toEqual([]);
      await ac.close();
    };

    it("'error500' on every request from any point of an append on: refused or acknowledged, never partial", () =>
      sweep("error500"));

    // Where the faults begin at the commit PUT or after it, a refused append may have committed: what it
    // references must then stay (a regression test: its index was deleted before).
    it("'lose-answer' on every request from any point of an append on: refused or acknowledged, never partial", () =>
      sweep("lose-answer"));

    // A commit PUT the gateway applied but whose every answer was lost: the write is committed, and what
    // it references must stay (regression: the failed write's cleanup deleted its index and segments).
    it("a write whose commit was applied but every answer lost: acknowledged or refused, its version is whole", async () => {
      const ac = new Arctic(uriVia(proxy.endpoint, { attempts: 2, timeoutMs: 2_000 }));
      const lib = await ac.createLibrary("lost-commit", { rowsPerSegment: 300 });
      const base = [{ seed: 1, start: 0, rows: 500 }];
      const next = [{ seed: 2, start: 0, rows: 500 }];
      await lib.write("s", frameOf(base));
      proxy.plan = (r) => (isCommitPut(r) ? "lose-answer" : "pass");
      await outcome(() => lib.write("s", frameOf(next)));
      proxy.plan = () => "pass";
      // The gateway applied the create-only PUT of V/s/1: the write is committed, and must be whole.
      expect(await versionsOf(lib, "s")).toEqual([0, 1]);
      expect((await lib.verify()).problems).toEqual([]);
      expect((await lib.read("s", { asOf: 1 })).data?.equals(frameOf(next))).toBe(true);
      await ac.close();
    });

    // A failure after the commit (the library check, prune's tombstones): the version stays whole.
    it("a write that meets a failure after its commit: acknowledged or refused, its version is whole", async () => {
      const ac = new Arctic(uriVia(proxy.endpoint, { attempts: 2, timeoutMs: 2_000 }));
      const lib = await ac.createLibrary("after-commit", { rowsPerSegment: 300 });
      const base = [{ seed: 1, start: 0, rows: 500 }];
      const next = [{ seed: 2, start: 0, rows: 500 }];
      await lib.write("s", frameOf(base));
      proxy.plan = (r) => (r.method === "GET" && r.url.endsWith("/library") ? "error500" : "pass");
      // Today: refused with a StorageError (kind 'server'), though committed.
      await outcome(() => lib.write("s", frameOf(next)));
      proxy.plan = () => "pass";
      expect(await versionsOf(lib, "s")).toEqual([0, 1]);
      expect((await lib.verify()).problems).toEqual([]);
      expect((await lib.read("s", { asOf: 1 })).data?.equals(frameOf(next))).toBe(true);
      await ac.close();
    });

    const cases: [Fault, string][] = [
      ["slowdown", "throttled"],
      ["error500", "server"],
      ["reset", "truncated"],
      ["cut-upload", "truncated"],
      ["truncate", "truncated"],
      ["lose-answer", "truncated"],
      ["stall", "timeout"],
    ];

    it.each(cases)(
      "'%s' on every request: write, append, update, read reject as StorageError '%s' in bounded time; nothing is damaged",
      async (fault, kind) => {
        const attempts = 3;
        const timeoutMs = 400;
        const ac = new Arctic(uriVia(proxy.endpoint, { attempts, timeoutMs }));
        const lib = await ac.createLibrary(`persist-${fault}`, { rowsPerSegment: 300 });
        const base: Chunk[] = [{ seed: 1, start: 0, rows: 700 }];
        await lib.write("s", frameOf(base));
        const appended = [...base, { seed: 2, start: 700, rows: 200 }];
        await lib.append("s", frameOf(appended.slice(1)));
        const acknowledged = new Map([
          [0, base],
          [1, appended],
        ]);

        proxy.plan = () => fault;
        // Each attempt ends within its timeout (a stall) or at once; backoffs before the 3rd are < 150 ms.
        const bound = attempts * timeoutMs + 1_500;
        const tries: [string, Chunk[] | undefined, () => Promise<unknown>][] = [
          [
            "write",
            [{ seed: 3, start: 0, rows: 500 }],
            () => lib.write("s", frameOf([{ seed: 3, start: 0, rows: 500 }])),
          ],
          [
            "append",
            [...appended, { seed: 4, start: 900, rows: 100 }],
            () => lib.append("s", frameOf([{ seed: 4, start: 900, rows: 100 }])),
          ],
          [
            "update",
            updated(appended, { seed: 5, start: 100, rows: 50 }),
            () => lib.update("s", frameOf([{ seed: 5, start: 100, rows: 50 }])),
          ],
          ["read", undefined, () => lib.read("s")],
          ["listVersions", undefined, () => lib.listVersions("s")],
        ];
        const attempted: Chunk[][] = [];
        for (const [name, content, call] of tries) {
          const started = Date.now();
          let err: unknown;
          try {
            await call();
          } catch (e) {
            err = e;
          }
          const took = Date.now() - started;
          expect(storageKind(err), `${name}: ${err}`).toBe(kind);
          // Each call's failing request gave up after its attempts; a write that reached the store then
          // tries to remove what it stored (best effort, through the same faults): at most a few calls.
          expect(took, `${name} took ${took} ms`).toBeLessThan(3 * bound);
          if (content) attempted.push(content);
        }

        // Faults gone: the store is consistent, what was acknowledged is intact; a refused write (the
        // gateway may have applied it with only its answer lost) is either not there or whole.
        proxy.plan = () => "pass";
        const listed = await versionsOf(lib, "s");
        for (const [v, content] of acknowledged) {
          expect(listed).toContain(v);
          expect((await lib.read("s", { asOf: v })).data?.equals(frameOf(content))).toBe(true);
        }
        for (const v of listed.filter((v) => !acknowledged.has(v))) {
          const data = (await lib.read("s", { asOf: v })).data;
          expect(
            attempted.some((c) => data?.equals(frameOf(c))),
            `version ${v}, committed by a refused call, is one of the attempted contents`,
          ).toBe(true);
        }
        const report = await lib.verify();
        expect(report.problems).toEqual([]);
        expect(report.ok).toBe(true);
        await lib.cleanup({ graceMs: 0 });
        expect((await lib.verify()).orphans).toEqual([]);
        await ac.close();
      },
    );
  });

  describe("lost answers to the commit PUT", () => {
    /** Loses the answers of the first `lost` arrivals of each commit PUT (the gateway applies the first). */
    const losing = (lost: number) => {
      const arrivals = new Map<string, number>();
      return (r: PlannedRequest): Fault => {
        if (!isCommitPut(r)) return "pass";
        const k = (arrivals.get(r.url) ?? 0) + 1;
        arrivals.set(r.url, k);
        return k <= lost ? "lose-answer" : "pass";
      };
    };

    it.each([1, 2])("a commit whose answer is lost %i time(s) is acknowledged exactly once", async (lost) => {
      const ac = new Arctic(uriVia(proxy.endpoint, { attempts: 5, timeoutMs: 2_000 }));
      const lib = await ac.createLibrary(`lost-${lost}`, { rowsPerSegment: 300 });
      proxy.plan = losing(lost);
      const steps: { content: Chunk[]; call: () => Promise<{ version: number }> }[] = [];
      let content: Chunk[] = [];
      const plan = (next: Chunk[], call: () => Promise<{ version: number }>) => {
        steps.push({ content: next, call });
        content = next;
      };
      const c0 = { seed: 1, start: 0, rows: 700 };
      plan([c0], () => lib.write("s", frameOf([c0])));
      const c1 = { seed: 2, start: 700, rows: 300 };
      plan([...content, c1], () => lib.append("s", frameOf([c1])));
      const c2 = { seed: 3, start: 200, rows: 100 };
      plan(updated(content, c2), () => lib.update("s", frameOf([c2])));
      const c3 = { seed: 4, start: 1000, rows: 50 };
      plan([...content, c3], () => lib.append("s", frameOf([c3])));
      const c4 = { seed: 5, start: 0, rows: 10 };
      plan([c4], () => lib.write("s", frameOf([c4])));
      for (const [i, step] of steps.entries()) expect((await step.call()).version).toBe(i);
      proxy.plan = () => "pass";
      expect(await versionsOf(lib, "s")).toEqual([0, 1, 2, 3, 4]);
      for (const [i, step] of steps.entries()) {
        expect((await lib.read("s", { asOf: i })).data?.equals(frameOf(step.content)), `v${i}`).toBe(true);
      }
      // Each commit PUT: its answers lost `lost` times, then refused as existing, and recognised as ours.
      const commits = proxy.log.filter(isCommitPutLogged);
      const byKey = new Map<string, Fault[]>();
      for (const r of commits) byKey.set(r.url, [...(byKey.get(r.url) ?? []), r.fault]);
      expect(byKey.size).toBe(5);
      for (const tries of byKey.values()) {
        expect(tries).toEqual([...Array(lost).fill("lose-answer"), "pass"]);
      }
      expect((await lib.verify()).ok).toBe(true);
      await ac.close();
    });

    it("concurrent writers whose commit answers are lost get one version each, each once", async () => {
      const writers = 6;
      const handles = Array.from(
        { length: writers },
        () => new Arctic(uriVia(proxy.endpoint, { attempts: 6, timeoutMs: 2_000 })),
      );
      await handles[0].createLibrary("lost-race", { rowsPerSegment: 300 });
      const libs = await Promise.all(handles.map((h) => h.getLibrary("lost-race")));
      const random = prng(7);
      // Half of all commit PUTs (first tries and retries, winners' and losers') lose their answer.
      proxy.plan = (r) => (isCommitPut(r) && random() < 0.5 ? "lose-answer" : "pass");
      const chunks = libs.map((_, i) => ({ seed: 100 + i, start: i, rows: 200 + i }));
      const written = await Promise.all(libs.map((lib, i) => lib.write("x", frameOf([chunks[i]]))));
      proxy.plan = () => "pass";
      expect(written.map((w) => w.version).sort((a, b) => a - b)).toEqual([...Array(writers).keys()]);
      expect(await versionsOf(libs[0], "x")).toEqual([...Array(writers).keys()]);
      for (const [i, w] of written.entries()) {
        expect((await libs[0].read("x", { asOf: w.version })).data?.equals(frameOf([chunks[i]]))).toBe(true);
      }
      expect(
        proxy.log.filter((r) => isCommitPutLogged(r) && r.fault === "lose-answer").length,
      ).toBeGreaterThan(2);
      expect((await libs[0].verify()).ok).toBe(true);
      await Promise.all(handles.map((h) => h.close()));
    });
  });

  describe("the gateway killed mid-write and restarted", () => {
    // A gateway of this file's own, in front of the same cluster: killing the shared one would cut off the
    // other test files that run beside this one.
    const name = `ef${process.pid}`;
    let gateway: FaultProxy;

    beforeAll(async () => {
      const port = await freePort();
      await run("bash", [script, "start-gateway", name, String(port)], { timeout: 90_000 });
      gateway = await startFaultProxy(`http://127.0.0.1:${port}`);
    }, 120_000);
    afterAll(async () => {
      await gateway?.close();
      await run("bash", [script, "stop-gateway", name]).catch(() => {});
    });

    it("a large write is refused with nothing visible, or whole; afterwards all is intact and cleanup removes the rest", async () => {
      const setup = new Arctic(uriVia(gateway.endpoint, { attempts: 10, timeoutMs: 30_000 }));
      const lib = await setup.createLibrary("crash");
      const live = new Map<number, Chunk[]>([[0, [{ seed: 1, start: 0, rows: 1000 }]]]);
      await lib.write("big", frameOf(live.get(0) as Chunk[], true));
      const other = [{ seed: 2, start: 0, rows: 300 }];
      await lib.write("other", frameOf(other, true));

      /** Writes `rows` rows (16 bytes each) and restarts the gateway when the 6th segment PUT arrives. */
      const crashDuring = async (attempts: number, seed: number, rows: number) => {
        const ac = new Arctic(uriVia(gateway.endpoint, { attempts, timeoutMs: 30_000 }));
        const crashing = await ac.getLibrary("crash");
        const content = [{ seed, start: 0, rows }];
        const frame = frameOf(content, true);
        let segments = 0;
        let restart: Promise<unknown> | undefined;
        gateway.plan = (r) => {
          if (isSegmentPut(r) && ++segments === 6) {
            restart = run("bash", [script, "restart-gateway", name], { timeout: 90_000 });
          }
          return "pass";
        };
        const done = await outcome(() => crashing.write("big", frame));
        expect(restart, "the gateway was restarted during the write").toBeDefined();
        await restart;
        gateway.plan = () => "pass";
        const listed = await versionsOf(lib, "big");
        if (done.ok) live.set(done.value.version, content);
        const fresh = listed.filter((v) => !live.has(v));
        // A refused write is not visible, unless it committed (then it is whole, as any version).
        expect(fresh.length).toBeLessThanOrEqual(1);
        if (fresh.length === 1) live.set(fresh[0], content);
        expect(listed).toEqual([...live.keys()].sort((a, b) => a - b));
        for (const [v, c] of live) {
          expect((await lib.read("big", { asOf: v })).data?.equals(frameOf(c, true)), `big v${v}`).toBe(true);
        }
        expect((await lib.read("other")).data?.equals(frameOf(other, true))).toBe(true);
        await ac.close();
        return done;
      };

      // One attempt per request: the requests the kill cuts fail the write.
      const refused = await crashDuring(1, 10, 3_000_000);
      expect(refused.ok).toBe(false);
      if (!refused.ok) expect(storageKind(refused.err)).toMatch(/^(truncated|unreachable)$/);
      const left = await lib.verify();
      expect(left.problems).toEqual([]);
      // Enough attempts to ride out the restart (about 2 s); either outcome is allowed, checked alike.
      await crashDuring(12, 20, 3_000_000);

      const report = await lib.verify();
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);
      await lib.cleanup({ graceMs: 0 });
      const after = await lib.verify();
      expect(after.orphans).toEqual([]);
      expect(after.ok).toBe(true);
      for (const [v, c] of live) {
        expect((await lib.read("big", { asOf: v })).data?.equals(frameOf(c, true)), `big v${v}`).toBe(true);
      }
      await setup.close();
    }, 120_000);
  });
});

const isCommitPutLogged = (r: { method: string; url: string }) =>
  isCommitPut({ n: 0, method: r.method, url: r.url });

/** A TCP port free on loopback now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
