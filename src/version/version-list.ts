import type { Storage } from "../storage/storage.ts";
import type { SnapshotRecord, VersionRecord } from "./records.ts";
import { listSnapshots, readSnapshot } from "./snapshots.ts";

/** A version as listed: its symbol and record. */
export interface VersionEntry {
  symbol: string;
  record: VersionRecord;
}

/** What `listVersionInfo` reads: a library's storage, its name and its live versions (a `VersionChain`). */
export interface LiveVersions {
  readonly storage: Storage;
  readonly lib: string;
  listVersions(symbol?: string): VersionEntry[];
}

/** Which versions `listVersionInfo` lists, as ArcticDB's `list_versions` takes them. */
export interface VersionListOptions {
  /** Only the versions this snapshot holds (`SnapshotNotFoundError` if it does not exist). */
  snapshot?: string;
  /** Only the latest live version of each symbol. */
  latestOnly?: boolean;
  /** Leave `snapshots` empty and list no deleted version (found only through snapshots): faster. */
  skipSnapshots?: boolean;
}

/** One listed version: its symbol and record, the snapshots holding it, whether it was deleted. */
export interface ListedVersion {
  symbol: string;
  record: VersionRecord;
  snapshots: string[];
  deleted: boolean;
}

/**
 * The versions of `symbol` (or of every symbol) that `options` select, symbols in name order, newest first
 * within each, read from one consistent state of the store. As ArcticDB's `list_versions`:
 * - by default every live version, then every deleted version a snapshot still holds (`deleted`), each
 *   with the names of the snapshots that hold it;
 * - `latestOnly`: each symbol's latest live version alone (a symbol with none is left out);
 * - `snapshot`: exactly the versions that snapshot holds (`latestOnly` adds nothing: it holds one per
 *   symbol); unlike ArcticDB, whose `deleted` is always false here, `deleted` tells the truth;
 * - `skipSnapshots`: `snapshots` stays empty and deleted versions are not looked for, so no snapshot is
 *   read (with `snapshot` given, only that one).
 */
export function listVersionInfo(
  store: LiveVersions,
  symbol: string | undefined,
  options: VersionListOptions,
): ListedVersion[] {
  return store.storage.readTransaction(() =>
    combineVersionInfo(
      store.listVersions(symbol),
      options.skipSnapshots ? new Map() : listSnapshots(store.storage, store.lib),
      options.snapshot !== undefined
        ? readSnapshot((key) => store.storage.getView(key), store.lib, options.snapshot).pinned
        : undefined,
      symbol,
      options,
    ),
  );
}

/**
 * `listVersionInfo`'s answer from what it read: the live versions (newest first), every snapshot by name
 * (none with `skipSnapshots`) and, with `options.snapshot`, what that one pins (`chosen`). Both version
 * engines read these their own way and share this.
 */
export function combineVersionInfo(
  live: readonly VersionEntry[],
  snapshots: ReadonlyMap<string, SnapshotRecord>,
  chosen: SnapshotRecord["pinned"] | undefined,
  symbol: string | undefined,
  options: VersionListOptions,
): ListedVersion[] {
  const liveIds = new Set(live.map((e) => id(e.symbol, e.record.v)));
  const holders = new Map<string, string[]>();
  const pinned = new Map<string, { symbol: string; record: VersionRecord }>();
  for (const [name, snap] of snapshots) {
    for (const p of snap.pinned) {
      if (symbol !== undefined && p.symbol !== symbol) continue;
      const key = id(p.symbol, p.record.v);
      holders.set(key, [...(holders.get(key) ?? []), name]);
      pinned.set(key, p);
    }
  }
  const entry = (s: string, record: VersionRecord): ListedVersion => {
    const key = id(s, record.v);
    return { symbol: s, record, snapshots: holders.get(key) ?? [], deleted: !liveIds.has(key) };
  };
  let out: ListedVersion[];
  if (chosen) {
    out = chosen
      .filter((p) => symbol === undefined || p.symbol === symbol)
      .map((p) => entry(p.symbol, p.record));
  } else if (options.latestOnly) {
    const seen = new Set<string>();
    out = [];
    for (const e of live) {
      if (seen.has(e.symbol)) continue;
      seen.add(e.symbol);
      out.push(entry(e.symbol, e.record));
    }
  } else {
    out = live.map((e) => entry(e.symbol, e.record));
    for (const [key, p] of pinned) if (!liveIds.has(key)) out.push(entry(p.symbol, p.record));
  }
  return out.sort((a, b) => (a.symbol === b.symbol ? b.record.v - a.record.v : a.symbol < b.symbol ? -1 : 1));
}

function id(symbol: string, version: number): string {
  return `${symbol}\u0000${version}`;
}
