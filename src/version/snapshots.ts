import { packRecord } from "../codec/msgpack.ts";
import { SnapshotExistsError, SnapshotNotFoundError, VersionNotFoundError } from "../errors.ts";
import type { Storage } from "../storage/storage.ts";
import { collectGarbage } from "./garbage.ts";
import { keys, lastPart, versionOfKey } from "./keys.ts";
import { type SnapshotRecord, unpackSnapshot, unpackVersion } from "./records.ts";

/** Reads `N:<lib>/<name>`; `SnapshotNotFoundError` when absent. */
export function readSnapshot(
  get: (key: string) => Uint8Array | undefined,
  lib: string,
  name: string,
): SnapshotRecord {
  const bytes = get(keys.snapshot(lib, name));
  if (!bytes) throw snapshotNotFoundError(lib, name);
  return unpackSnapshot(bytes, `snapshot '${name}'`);
}

/**
 * Every snapshot of `lib` by name, in name order (sorted here: key order is not name order, as a name's
 * `/` is NUL inside keys).
 */
export function listSnapshots(storage: Storage, lib: string): Map<string, SnapshotRecord> {
  return storage.readTransaction(() => {
    const found: [string, SnapshotRecord][] = [];
    for (const key of storage.keys(keys.snapshotPrefix(lib))) {
      const bytes = storage.getView(key);
      if (bytes) found.push([lastPart(key), unpackSnapshot(bytes, `snapshot ${key}`)]);
    }
    return new Map(found.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}

/**
 * Takes snapshot `name` in one transaction: the latest version of every symbol (minus `skip`), or exactly
 * the `versions` given. A snapshot that would pin nothing is `VersionNotFoundError`, as in ArcticDB. The version records are copied into the snapshot, so a pinned version stays
 * readable through it after `delete` or pruning removes its own key.
 */
export function takeSnapshot(
  storage: Storage,
  lib: string,
  name: string,
  options: { meta?: Uint8Array; skip?: Set<string>; versions?: Map<string, number> },
): SnapshotRecord {
  return storage.writeTransaction((tx) => {
    const key = keys.snapshot(lib, name);
    if (tx.get(key)) throw snapshotExistsError(lib, name);
    const pinned: SnapshotRecord["pinned"] = [];
    const pin = (symbol: string, versionKey: string | undefined, asked?: number) => {
      const bytes = versionKey === undefined ? undefined : tx.get(versionKey);
      if (!bytes) throw notPinnableError(lib, symbol, asked);
      pinned.push({ symbol, record: unpackVersion(bytes) });
    };
    if (options.versions) {
      for (const [symbol, v] of options.versions) pin(symbol, keys.version(lib, symbol, v), v);
    } else {
      for (const refKey of tx.keys(keys.refPrefix(lib))) {
        const symbol = lastPart(refKey);
        if (options.skip?.has(symbol)) continue;
        const [latest] = tx.keys(keys.versionPrefix(lib, symbol), { reverse: true, limit: 1 });
        if (latest !== undefined) pin(symbol, latest, versionOfKey(latest));
      }
    }
    if (pinned.length === 0) throw emptySnapshotError(lib, options.skip);
    const record: SnapshotRecord = { ts: Date.now(), pinned };
    if (options.meta) record.meta = options.meta;
    tx.put(key, packRecord(record));
    return record;
  });
}

/** Removes snapshot `name` and frees the data only it still held. */
export function dropSnapshot(storage: Storage, lib: string, name: string): void {
  storage.writeTransaction((tx) => {
    const snap = readSnapshot((k) => tx.get(k), lib, name);
    tx.remove(keys.snapshot(lib, name));
    for (const { symbol, record } of snap.pinned) collectGarbage(tx, lib, symbol, [record.index]);
  });
}

/** Snapshot `name` does not exist (both engines). */
export function snapshotNotFoundError(lib: string, name: string): SnapshotNotFoundError {
  return new SnapshotNotFoundError(
    `Snapshot '${name}' does not exist in library '${lib}'. Call listSnapshots() to see the snapshots.`,
  );
}

/** Snapshot `name` exists already. */
export function snapshotExistsError(lib: string, name: string): SnapshotExistsError {
  return new SnapshotExistsError(
    `Snapshot '${name}' already exists in library '${lib}'; choose another name or deleteSnapshot('${name}') first.`,
  );
}

/** Version `asked` of `symbol`, named to be pinned, is not live. */
export function notPinnableError(
  lib: string,
  symbol: string,
  asked: number | undefined,
): VersionNotFoundError {
  return new VersionNotFoundError(
    `Cannot snapshot '${symbol}' version ${asked}: no such live version in library '${lib}'. ` +
      "Call listVersions() to see what can be pinned; no snapshot was taken.",
  );
}

/** A snapshot would pin nothing: ArcticDB refuses too (E_NO_SUCH_VERSION), it is almost surely a mistake. */
export function emptySnapshotError(lib: string, skip: Set<string> | undefined): VersionNotFoundError {
  return new VersionNotFoundError(
    `Cannot snapshot library '${lib}': ${skip?.size ? "every symbol with a live version is in skipSymbols" : "it has no symbol with a live version"}. ` +
      "No snapshot was taken; write a symbol first, or name the versions to pin.",
  );
}
