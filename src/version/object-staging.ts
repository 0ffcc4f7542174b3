import { packRecord, unpackRecord } from "../codec/msgpack.ts";
import type { Kernels } from "../codec/wasm.ts";
import { StorageError } from "../errors.ts";
import { concatFrames } from "./frame-concat.ts";
import type { FrameData } from "./frame-data.ts";
import { newId } from "./keys.ts";
import { commitSent } from "./object-chain.ts";
import type { ObjectVersionStore } from "./object-version-store.ts";
import type { ProgressMeter } from "./progress.ts";
import {
  type IndexRecord,
  type StagedRecord,
  unpackIndex,
  unpackStaged,
  type VersionRecord,
} from "./records.ts";
import { appendIndex, checkSortedWrite } from "./schema-checks.ts";
import {
  type FinalizeOptions,
  noStagedData,
  planFinalize,
  type StagedChunk,
  sortByTimestamp,
} from "./staging.ts";
import { conformFrame } from "./widen.ts";

/**
 * Staged writes on an object store: each `stage` stores a chunk's segments and a record `T/<sym>/<id>`
 * (no version); `finalize` makes one version of every chunk staged so far, then removes their records.
 *
 * Without transactions two things need care. A finalize killed between its commit and the removal of the
 * records must not let the next finalize use the same chunks again: each record notes the symbol's newest
 * version when it was staged, and a chunk whose segments a later version lists was consumed already (its
 * record is just removed). And two finalizes of one symbol at once would both use the same chunks: a
 * lock object `F/<sym>`, created create-only, lets one run at a time (a lock older than LOCK_STALE_MS
 * is a dead finalizer's, and is broken).
 */

/** A finalize lock this old was left by a finalize that died; the next one breaks it. */
const LOCK_STALE_MS = 15 * 60_000;

/** Stores `frame` as a staged chunk of `symbol`. */
export async function stageObjectChunk(
  store: ObjectVersionStore,
  k: Kernels,
  symbol: string,
  frame: FrameData,
  meter?: ProgressMeter,
): Promise<void> {
  checkSortedWrite(symbol, frame);
  const { next } = await store.chain.head(symbol);
  const written: string[] = [];
  try {
    const index = await store.storeSegments(k, symbol, frame, written, meter);
    const record: StagedRecord = { ts: Date.now(), index, after: next - 1 };
    await store.objects.create(store.keys.staged(symbol, newId()), packRecord(record));
  } catch (err) {
    await store.discard(written);
    throw err;
  }
}

/** The staged chunks of `symbol` not consumed yet; records of consumed ones are removed on the way. */
async function stagedChunks(store: ObjectVersionStore, symbol: string): Promise<StagedChunk[]> {
  const { keys } = await store.objects.list(store.keys.stagedPrefix(symbol));
  const values = await store.objects.getMany(keys);
  const listed: StagedChunk[] = [];
  keys.forEach((key, i) => {
    const bytes = values[i];
    if (bytes) listed.push({ key, record: unpackStaged(bytes, `staged chunk ${key}`) });
  });
  if (listed.length === 0) return [];
  // Segments listed by versions committed since the oldest chunk was staged: a chunk among them was
  // finalized by a finalize that died before removing its record.
  const since = Math.min(...listed.map((c) => c.record.after ?? -1));
  const { numbers } = await store.chain.versions(symbol);
  const later = await store.chain.records(
    symbol,
    numbers.filter((n) => n > since),
  );
  const indexes = await store.objects.getMany(later.map((r) => r.index));
  const used = new Set<string>();
  for (const bytes of indexes) if (bytes) for (const s of unpackIndex(bytes).segments) used.add(s.key);
  const consumed = listed.filter((c) => c.record.index.segments.some((s) => used.has(s.key)));
  if (consumed.length > 0) await store.objects.deleteMany(consumed.map((c) => c.key));
  return listed.filter((c) => !consumed.includes(c));
}

/**
 * Makes one new version of `symbol` from every chunk staged for it (see `finalizeStaged` in staging.ts
 * for the modes and checks), then removes the chunks' records and the staged segments it did not use.
 */
export async function finalizeObjectStaged(
  store: ObjectVersionStore,
  k: Kernels,
  symbol: string,
  options: FinalizeOptions,
): Promise<VersionRecord> {
  const dynamic = store.config.dynamicSchema;
  return withFinalizeLock(store, symbol, async () => {
    const plan = planFinalize(symbol, await stagedChunks(store, symbol), { dynamic, sort: options.sort });
    if (!plan) {
      const gone = await store.libraryGone();
      throw gone ?? noStagedData(symbol, store.lib);
    }
    const { chunks, columns } = plan;
    const written: string[] = [];
    let committed = false;
    try {
      let rows = plan.combined;
      if (!rows) {
        const frames: FrameData[] = [];
        for (const c of chunks) {
          const fake: VersionRecord = { v: -1, ts: c.record.ts, index: c.key };
          const { frame } = await store.readRows(k, symbol, fake, c.record.index, {});
          frames.push(dynamic ? conformFrame(frame, columns) : frame);
        }
        rows = await store.storeSegments(
          k,
          symbol,
          sortByTimestamp(concatFrames(frames)),
          written,
          undefined,
        );
      }
      const added = rows;
      const record = (await store.chain.commit(symbol, async (latest) => {
        let index: IndexRecord = added;
        if (options.mode === "append" && latest)
          index = appendIndex(symbol, await store.readIndex(latest, symbol), added, dynamic);
        return { index: await store.storeIndex(symbol, index, written), meta: options.meta };
      })) as VersionRecord;
      committed = true;
      // The chunks are consumed: their records go, and the staged segments the version does not list.
      const used = new Set(added.segments.map((s) => s.key));
      const unused = chunks
        .flatMap((c) => c.record.index.segments.map((s) => s.key))
        .filter((key) => !used.has(key));
      await store.objects.deleteMany([...chunks.map((c) => c.key), ...unused]);
      await store.afterCommit(symbol, record, options.prune);
      return record;
    } catch (err) {
      if (!committed && !commitSent(err)) await store.discard(written);
      throw err;
    }
  });
}

/** Removes every chunk staged for `symbol` and its segments (those a version uses stay); returns how many. */
export async function deleteObjectStaged(store: ObjectVersionStore, symbol: string): Promise<number> {
  const chunks = await stagedChunks(store, symbol);
  const keys = chunks.flatMap((c) => [c.key, ...c.record.index.segments.map((s) => s.key)]);
  await store.objects.deleteMany(keys);
  return chunks.length;
}

/** Runs `fn` holding `symbol`'s finalize lock (see the module comment). */
async function withFinalizeLock<T>(
  store: ObjectVersionStore,
  symbol: string,
  fn: () => Promise<T>,
): Promise<T> {
  const key = store.keys.finalizing(symbol);
  const mine = packRecord({ ts: Date.now(), id: newId() });
  if (!(await store.objects.create(key, mine))) {
    const held = await store.objects.get(key);
    const since = held ? (unpackRecord<{ ts?: number }>(held, "finalize lock").ts ?? 0) : 0;
    if (held && since > Date.now() - LOCK_STALE_MS) {
      throw new StorageError(
        `Another finalize of '${symbol}' in library '${store.lib}' is under way (since ${new Date(since).toISOString()}); ` +
          "run one finalize per symbol at a time, and try again once it is done.",
      );
    }
    // A dead finalizer's lock: break it and take it (a racing breaker loses the create below).
    await store.objects.deleteMany([key]);
    if (!(await store.objects.create(key, mine))) {
      throw new StorageError(`Another finalize of '${symbol}' took over a stale lock first; try again.`);
    }
  }
  try {
    return await fn();
  } finally {
    await store.objects.deleteMany([key]).catch(() => undefined);
  }
}
