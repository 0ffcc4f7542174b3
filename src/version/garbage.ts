import type { WriteTransaction } from "../storage/storage.ts";
import { keys } from "./keys.ts";
import { unpackIndex, unpackSnapshot, unpackVersion } from "./records.ts";

/**
 * Removes, inside `tx`, the index records in `candidates` and the segments they list, keeping everything a
 * live version or a snapshot of `symbol` still references (appends, updates, metadata writes and dedup
 * share segments between versions). Orphans no record ever listed (a crashed writer's) are not touched.
 */
export function collectGarbage(
  tx: WriteTransaction,
  lib: string,
  symbol: string,
  candidates: Iterable<string>,
): void {
  const live = liveIndexes(tx, lib, symbol);
  const doomed = [...new Set(candidates)].filter((key) => !live.has(key));
  if (doomed.length === 0) return;
  const liveSegments = new Set<string>();
  for (const indexKey of live) for (const seg of segmentsOf(tx, indexKey)) liveSegments.add(seg);
  for (const indexKey of doomed) {
    for (const seg of segmentsOf(tx, indexKey)) if (!liveSegments.has(seg)) tx.remove(seg);
    tx.remove(indexKey);
  }
}

/** Index keys referenced by the live versions of `symbol` and by any snapshot holding it. */
function liveIndexes(tx: WriteTransaction, lib: string, symbol: string): Set<string> {
  const live = new Set<string>();
  for (const key of tx.keys(keys.versionPrefix(lib, symbol))) {
    const bytes = tx.get(key);
    if (bytes) live.add(unpackVersion(bytes).index);
  }
  for (const key of tx.keys(keys.snapshotPrefix(lib))) {
    const bytes = tx.get(key);
    const snap = bytes ? unpackSnapshot(bytes) : undefined;
    const held = snap?.pinned.find((p) => p.symbol === symbol);
    if (held) live.add(held.record.index);
  }
  return live;
}

function segmentsOf(tx: WriteTransaction, indexKey: string): string[] {
  const bytes = tx.get(indexKey);
  return bytes ? unpackIndex(bytes).segments.map((s) => s.key) : [];
}
