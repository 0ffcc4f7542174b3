import { unpackMetadata, unpackRecord } from "../codec/msgpack.ts";
import { decodeSegmentColumn, parseSegment } from "../codec/segment.ts";
import type { Kernels } from "../codec/wasm.ts";
import { DTYPES, type NumericArray, type StringArray } from "../dtypes.ts";
import { mapLimit } from "../storage/object-store.ts";
import { idTime } from "./keys.ts";
import { escapeName } from "./object-keys.ts";
import type { ObjectVersionStore } from "./object-version-store.ts";
import { unpackIndex, unpackSnapshot, unpackStaged, unpackVersion } from "./records.ts";
import type { VerifyReport } from "./verify.ts";

const IN_FLIGHT = 16;

/**
 * What a library on an object store references, as of now: the indexes of live versions, of versions
 * deleted less than `graceMs` ago (a writer that read one as its base may still commit a version sharing
 * its segments) and of snapshots; and the segments those indexes list.
 */
async function referenced(
  store: ObjectVersionStore,
  graceMs: number,
  now: number,
  report?: VerifyReport,
): Promise<{ indexes: Map<string, string>; segments: Map<string, number> }> {
  const { objects, keys } = store;
  const problem = (key: string, err: unknown) =>
    report?.problems.push({ key, problem: err instanceof Error ? err.message : String(err) });
  const [versions, tombstones, snapshots] = await Promise.all([
    objects.list(keys.allVersions),
    objects.list(keys.allTombstones),
    objects.list(keys.allSnapshots),
  ]);
  const stamps = await objects.getMany(tombstones.keys);
  const deletedAt = new Map<string, number>();
  tombstones.keys.forEach((key, i) => {
    const ts = stamps[i] ? (tombstoneRecord(stamps[i] as Uint8Array)?.ts ?? 0) : 0;
    deletedAt.set(key.slice(keys.allTombstones.length), ts);
  });
  const indexes = new Map<string, string>(); // index key -> the record that references it
  const records = await objects.getMany(versions.keys);
  versions.keys.forEach((key, i) => {
    const when = deletedAt.get(key.slice(keys.allVersions.length));
    try {
      const bytes = records[i];
      if (!bytes) throw new Error("version record is missing");
      const record = unpackVersion(bytes, `version record ${key}`);
      if (record.meta !== undefined) unpackMetadata(record.meta);
      if (report) report.records++;
      if (when === undefined || when > now - graceMs) indexes.set(record.index, key);
    } catch (err) {
      problem(key, err);
    }
  });
  const snaps = await objects.getMany(snapshots.keys);
  snapshots.keys.forEach((key, i) => {
    try {
      const snap = unpackSnapshot(snaps[i] as Uint8Array, `snapshot ${key}`);
      for (const { record } of snap.pinned) indexes.set(record.index, key);
      if (report) report.records++;
    } catch (err) {
      problem(key, err);
    }
  });
  const segments = new Map<string, number>(); // segment key -> rows its index says it has
  // Staged chunks (not finalized yet) hold their segments too.
  const staged = await objects.list(keys.allStaged);
  const chunks = await objects.getMany(staged.keys);
  staged.keys.forEach((key, i) => {
    try {
      const record = unpackStaged(chunks[i] as Uint8Array, `staged chunk ${key}`);
      for (const s of record.index.segments) segments.set(s.key, s.rows);
      if (report) report.records++;
    } catch (err) {
      problem(key, err);
    }
  });
  const indexKeys = [...indexes.keys()];
  const packed = await objects.getMany(indexKeys);
  indexKeys.forEach((key, i) => {
    try {
      const bytes = packed[i];
      if (!bytes) throw new Error(`index record is missing (referenced by ${indexes.get(key)})`);
      for (const s of unpackIndex(bytes, `index record ${key}`).segments) segments.set(s.key, s.rows);
      if (report) report.records++;
    } catch (err) {
      problem(key, err);
    }
  });
  return { indexes, segments };
}

/**
 * `verify` on an object store: every version and snapshot resolves to its index and segments, which
 * (with `data`) decode; lists the index and segment objects nothing references, and every object left
 * under an earlier instance of the library (deleted and created again) as orphans.
 */
export async function verifyObjects(
  store: ObjectVersionStore,
  k: Kernels,
  options: { data: boolean },
): Promise<VerifyReport> {
  const report: VerifyReport = { records: 0, segments: 0, problems: [], orphans: [] };
  const { indexes, segments } = await referenced(store, Number.POSITIVE_INFINITY, Date.now(), report);
  const entries = [...segments];
  await mapLimit(entries, IN_FLIGHT, async ([key, rows]) => {
    try {
      const bytes = await store.objects.get(key);
      if (!bytes) throw new Error("segment is missing");
      const parsed = parseSegment(k, bytes);
      if (parsed.rows !== rows) throw new Error(`segment has ${parsed.rows} rows, its index says ${rows}`);
      if (options.data) {
        for (const [name, col] of parsed.columns) {
          const info = DTYPES[col.dtype];
          const out = info.array ? new info.array(parsed.rows) : (new Array(parsed.rows) as StringArray);
          decodeSegmentColumn(k, parsed, name, out as NumericArray | StringArray, 0);
        }
      }
      report.segments++;
    } catch (err) {
      report.problems.push({ key, problem: err instanceof Error ? err.message : String(err) });
    }
  });
  report.orphans = await orphans(store, indexes, segments);
  return report;
}

/** Index and segment keys nothing references, and everything under another instance of the library. */
async function orphans(
  store: ObjectVersionStore,
  indexes: Map<string, string>,
  segments: Map<string, number>,
): Promise<string[]> {
  const { objects, keys } = store;
  const [i, s, dirs] = await Promise.all([
    objects.list(keys.allIndexes),
    objects.list(keys.allSegments),
    objects.list(`${escapeName(store.lib)}/`, { delimiter: "/" }),
  ]);
  const out = [...i.keys.filter((key) => !indexes.has(key)), ...s.keys.filter((key) => !segments.has(key))];
  for (const dir of dirs.prefixes) {
    if (dir !== keys.base) out.push(...(await objects.list(dir)).keys);
  }
  return out;
}

/**
 * `cleanup` on an object store: deletes the orphans (see `verifyObjects`) made more than `graceMs` ago,
 * and the data of versions deleted more than `graceMs` ago that nothing else references. A writer stores
 * its segments before the version that references them, and may share a base version's segments, so
 * anything younger than the grace period is left alone.
 */
export async function cleanupObjects(
  store: ObjectVersionStore,
  _k: Kernels,
  graceMs: number,
): Promise<string[]> {
  const now = Date.now();
  const { indexes, segments } = await referenced(store, graceMs, now);
  const found = await orphans(store, indexes, segments);
  const old = found.filter((key) => (idTime(key) ?? 0) <= now - graceMs);
  await store.objects.deleteMany(old);
  return old;
}

function tombstoneRecord(bytes: Uint8Array): { ts?: number } | undefined {
  try {
    return unpackRecord<{ ts?: number }>(bytes, "tombstone");
  } catch {
    return undefined;
  }
}
