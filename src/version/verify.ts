import { unpackMetadata } from "../codec/msgpack.ts";
import { decodeSegmentColumn, parseSegment } from "../codec/segment.ts";
import type { Kernels } from "../codec/wasm.ts";
import { DTYPES, type NumericArray, type StringArray } from "../dtypes.ts";
import { idTime, keys } from "./keys.ts";
import { type IndexRecord, unpackIndex, unpackSnapshot, unpackStaged, unpackVersion } from "./records.ts";
import type { VersionStore } from "./version-store.ts";

/** What `verify` found. */
export interface VerifyReport {
  /** Version, snapshot, index and staged records read. */
  records: number;
  /** Segments fetched and checked (each once, however many versions share it). */
  segments: number;
  /** Everything that does not resolve or fails its checksum, with the key where it was found. */
  problems: {
    /** The storage key where the problem was found. */
    key: string;
    /** What is wrong, in words. */
    problem: string;
  }[];
  /** Index and segment keys that nothing references (left by writers that died, or being written now). */
  orphans: string[];
}

/**
 * Checks a library: every version, snapshot and staged chunk resolves to its index and segments, and
 * (with `data`) every segment's header and column blocks pass their checksums and decode. Lists the
 * index and segment keys nothing references. Reads only; safe while others write, though a write in
 * progress shows its not-yet-committed segments as orphans.
 */
export function verifyLibrary(store: VersionStore, k: Kernels, options: { data: boolean }): VerifyReport {
  const { storage, lib } = store;
  const report: VerifyReport = { records: 0, segments: 0, problems: [], orphans: [] };
  const problem = (key: string, err: unknown) =>
    report.problems.push({ key, problem: err instanceof Error ? err.message : String(err) });
  const indexes = new Map<string, string>(); // index key -> who referenced it first
  const segments = new Set<string>();

  const useIndex = (indexKey: string, from: string) => {
    if (indexes.has(indexKey)) return;
    indexes.set(indexKey, from);
  };
  for (const key of storage.keys(keys.allVersionsPrefix(lib))) {
    try {
      const record = unpackVersion(present(store, key, "version record"));
      useIndex(record.index, key); // first, so its index is never taken for an orphan
      checkMetadata(record.meta);
      report.records++;
    } catch (err) {
      problem(key, err);
    }
  }
  for (const key of storage.keys(keys.snapshotPrefix(lib))) {
    try {
      const snapshot = unpackSnapshot(present(store, key, "snapshot"));
      for (const { record } of snapshot.pinned) useIndex(record.index, key);
      checkMetadata(snapshot.meta);
      for (const { record } of snapshot.pinned) checkMetadata(record.meta);
      report.records++;
    } catch (err) {
      problem(key, err);
    }
  }
  const checkIndex = (index: IndexRecord, from: string) => {
    for (const seg of index.segments) {
      if (segments.has(seg.key)) continue;
      segments.add(seg.key);
      report.segments++;
      try {
        checkSegment(store, k, seg.key, seg.rows, options.data);
      } catch (err) {
        problem(seg.key, `${err instanceof Error ? err.message : err} (listed by ${from})`);
      }
    }
  };
  for (const [indexKey, from] of indexes) {
    try {
      const what = `index record (of ${from})`;
      checkIndex(unpackIndex(present(store, indexKey, what), what), indexKey);
      report.records++;
    } catch (err) {
      problem(indexKey, err);
    }
  }
  for (const key of storage.keys(keys.allStagedPrefix(lib))) {
    try {
      checkIndex(unpackStaged(present(store, key, "staged chunk")).index, key);
      report.records++;
    } catch (err) {
      problem(key, err);
    }
  }
  for (const key of storage.keys(keys.allIndexesPrefix(lib))) if (!indexes.has(key)) report.orphans.push(key);
  for (const key of storage.keys(keys.allSegmentsPrefix(lib)))
    if (!segments.has(key)) report.orphans.push(key);
  return report;
}

/**
 * Removes the orphans `verifyLibrary` lists that are older than `graceMs`, re-checking in the deleting
 * transaction that nothing references them by then. Young orphans are left: a live writer stores its
 * segments before the transaction that references them, so they look orphaned until it commits.
 * Returns the keys removed.
 */
export function removeOrphans(
  store: VersionStore,
  orphans: string[],
  graceMs: number,
  now = Date.now(),
): string[] {
  const old = orphans.filter((key) => (idTime(key) ?? 0) <= now - graceMs);
  if (old.length === 0) return [];
  return store.storage.writeTransaction((tx) => {
    // Everything referenced as of this transaction: versions, snapshots, staged chunks and their indexes.
    const referenced = new Set<string>();
    const addIndex = (indexKey: string) => {
      if (referenced.has(indexKey)) return;
      referenced.add(indexKey);
      const bytes = tx.get(indexKey);
      if (bytes) for (const s of unpackIndex(bytes).segments) referenced.add(s.key);
    };
    for (const key of tx.keys(keys.allVersionsPrefix(store.lib))) {
      const bytes = tx.get(key);
      if (bytes) addIndex(unpackVersion(bytes).index);
    }
    for (const key of tx.keys(keys.snapshotPrefix(store.lib))) {
      const bytes = tx.get(key);
      if (bytes) for (const p of unpackSnapshot(bytes).pinned) addIndex(p.record.index);
    }
    for (const key of tx.keys(keys.allStagedPrefix(store.lib))) {
      const bytes = tx.get(key);
      if (bytes) for (const s of unpackStaged(bytes).index.segments) referenced.add(s.key);
    }
    const removed = old.filter((key) => !referenced.has(key) && tx.get(key) !== undefined);
    for (const key of removed) tx.remove(key);
    return removed;
  });
}

/** Decodes user metadata as a read would, so metadata no read can decode is a problem, not "ok". */
function checkMetadata(meta: Uint8Array | undefined): void {
  if (meta !== undefined) unpackMetadata(meta);
}

/** The stored bytes of `key`; an error naming `what` when it is missing. */
function present(store: VersionStore, key: string, what: string): Uint8Array {
  const bytes = store.storage.getView(key);
  if (!bytes) throw new Error(`${what} ${key} is missing`);
  return bytes;
}

/** Fetches a segment, checks its header and row count and, with `data`, decodes every column. */
function checkSegment(store: VersionStore, k: Kernels, key: string, rows: number, data: boolean): void {
  const bytes = store.storage.getView(key);
  if (!bytes) throw new Error("segment is missing");
  const parsed = parseSegment(k, bytes);
  if (parsed.rows !== rows) throw new Error(`segment has ${parsed.rows} rows, its index says ${rows}`);
  if (!data) return;
  for (const [name, col] of parsed.columns) {
    const info = DTYPES[col.dtype];
    const out = info.array ? new info.array(parsed.rows) : (new Array(parsed.rows) as StringArray);
    decodeSegmentColumn(k, parsed, name, out as NumericArray | StringArray, 0);
  }
}
