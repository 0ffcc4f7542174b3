import { packRecord } from "../codec/msgpack.ts";
import { type FloeError, type LibraryNotFoundError, VersionNotFoundError } from "../errors.ts";
import type { Storage, WriteTransaction } from "../storage/storage.ts";
import { collectGarbage } from "./garbage.ts";
import { keys, lastPart, symbolOfVersionKey, versionOfKey } from "./keys.ts";
import { LibraryGuardedStorage } from "./library-guard.ts";
import { type SymbolRef, unpackRef, unpackVersion, type VersionRecord } from "./records.ts";
import { listSnapshots, readSnapshot } from "./snapshots.ts";
import { noLiveVersionError, notInSnapshotError, symbolNotFoundError } from "./version-errors.ts";
import { listVersionInfo, type VersionEntry } from "./version-list.ts";

/** Which version to use: a number (negative from the latest), a snapshot's, or the latest at a time (ms). */
export type VersionSelector = number | { snapshot: string } | { at: number };

/**
 * The chain of versions of each symbol in one library of a transactional store (LMDB, memory): which
 * versions are live and which one a selector means, numbering and storing a new version inside a write
 * transaction, and deleting versions (freeing what only they referenced). The errors for a version that
 * is not there are made here, so they name the live versions and the snapshots that still hold one.
 */
export class VersionChain {
  constructor(
    readonly storage: Storage,
    readonly lib: string,
  ) {}

  /** The latest live version of `symbol`, or undefined. */
  latest(symbol: string): VersionRecord | undefined {
    const [key] = this.storage.keys(keys.versionPrefix(this.lib, symbol), { reverse: true, limit: 1 });
    return key === undefined ? undefined : this.versionAt(key);
  }

  private versionAt(key: string): VersionRecord | undefined {
    const bytes = this.storage.getView(key);
    return bytes ? unpackVersion(bytes, `version record ${key}`) : undefined;
  }

  /**
   * The record of `symbol` that `which` selects: the latest when absent, a version number (negative counts
   * back from the latest), the version a snapshot pins, or the latest written at or before a time (ms).
   * Typed errors when there is none.
   *
   * A number or a time selects among live versions only, as in ArcticDB's Library API (which reads with
   * `iterate_snapshots_if_tombstoned=False`, `test_delete_version_with_snapshot`): a deleted version a
   * snapshot still holds is read through that snapshot's name. `pinned` also finds such versions by
   * number or time, as ArcticDB's `has_symbol` does.
   */
  resolve(symbol: string, which?: VersionSelector, options: { pinned?: boolean } = {}): VersionRecord {
    if (which === undefined) {
      const record = this.latest(symbol);
      if (!record) throw this.symbolNotFound(symbol);
      return record;
    }
    if (typeof which === "object" && "snapshot" in which) {
      const snap = readSnapshot((key) => this.storage.getView(key), this.lib, which.snapshot);
      const held = snap.pinned.find((p) => p.symbol === symbol);
      if (!held) {
        throw notInSnapshotError(this.lib, symbol, which.snapshot);
      }
      return held.record;
    }
    if (typeof which === "object") {
      const entries = options.pinned ? listVersionInfo(this, symbol, {}) : this.listVersions(symbol);
      const hit = entries.find((e) => e.record.ts <= which.at);
      if (hit) return hit.record;
      throw this.noLiveVersion(
        symbol,
        `written at or before ${new Date(which.at).toISOString()}`,
        (p) => p.record.ts <= which.at,
      );
    }
    const version = which;
    const key = keys.version(this.lib, symbol, version < 0 ? this.negativeVersion(symbol, version) : version);
    const record = this.versionAt(key) ?? (options.pinned ? this.pinnedVersion(symbol, version) : undefined);
    if (record) return record;
    throw this.noLiveVersion(symbol, String(version), (p) => p.record.v === version);
  }

  /**
   * The error for a version of `symbol` that is not live (`what` describes the one asked for):
   * `SymbolNotFoundError` when the symbol has no live version at all, else `VersionNotFoundError`; either
   * names the snapshots that still hold a matching deleted version (`held`), through which it reads.
   */
  private noLiveVersion(
    symbol: string,
    what: string,
    held: (pinned: { record: VersionRecord }) => boolean,
  ): FloeError {
    const live = this.versionNumbers(symbol);
    if (live.length === 0) {
      const gone = this.libraryGone();
      if (gone) return gone;
    }
    return noLiveVersionError(this.lib, symbol, what, live, listSnapshots(this.storage, this.lib), held);
  }

  /** A deleted version that a snapshot still pins (found by number only where `resolve` allows it). */
  private pinnedVersion(symbol: string, version: number): VersionRecord | undefined {
    for (const snap of listSnapshots(this.storage, this.lib).values()) {
      const held = snap.pinned.find((p) => p.symbol === symbol && p.record.v === version);
      if (held) return held.record;
    }
    return undefined;
  }

  // ArcticDB reads as_of=-1 as the latest, -2 as the one before, and so on.
  private negativeVersion(symbol: string, version: number): number {
    const live = this.versionNumbers(symbol);
    return live[live.length + version] ?? -1;
  }

  private versionNumbers(symbol: string): number[] {
    return this.storage.keys(keys.versionPrefix(this.lib, symbol)).map(versionOfKey);
  }

  /**
   * `LibraryNotFoundError` when this handle's library was deleted, else undefined: a call that finds
   * nothing asks this first, so it says the library is gone rather than that the symbol is.
   */
  libraryGone(): LibraryNotFoundError | undefined {
    return this.storage instanceof LibraryGuardedStorage ? this.storage.missing() : undefined;
  }

  /** Why `symbol` has no version: its library is gone (`LibraryNotFoundError`), or it has none. */
  symbolNotFound(symbol: string): FloeError {
    const gone = this.libraryGone();
    if (gone) return gone;
    return symbolNotFoundError(this.lib, symbol);
  }

  /**
   * Symbols with at least one live version, in name order (sorted here: key order is not name order,
   * as a name's `/` is NUL inside keys).
   */
  listSymbols(): string[] {
    return this.storage
      .keys(keys.refPrefix(this.lib))
      .map(lastPart)
      .filter((symbol) => this.storage.keys(keys.versionPrefix(this.lib, symbol), { limit: 1 }).length > 0)
      .sort();
  }

  /** Live versions, newest first, of one symbol or of all. */
  listVersions(symbol?: string): VersionEntry[] {
    return this.storage.readTransaction(() => {
      const prefix =
        symbol === undefined ? keys.allVersionsPrefix(this.lib) : keys.versionPrefix(this.lib, symbol);
      const entries: VersionEntry[] = [];
      for (const key of this.storage.keys(prefix, { reverse: true })) {
        const record = this.versionAt(key);
        const sym = symbolOfVersionKey(key);
        if (record) entries.push({ symbol: sym, record });
      }
      return entries;
    });
  }

  /** Whether `symbol` was ever stored (a reference exists): old names stay writable under new-name rules. */
  symbolKnown(symbol: string): boolean {
    return this.storage.getView(keys.ref(this.lib, symbol)) !== undefined;
  }

  /** Allocates the next version number of `symbol` and stores its record, inside `tx`. */
  addVersion(
    tx: WriteTransaction,
    symbol: string,
    indexKey: string,
    options: { meta?: Uint8Array; prune?: boolean },
  ): VersionRecord {
    const refKey = keys.ref(this.lib, symbol);
    const refBytes = tx.get(refKey);
    const ref: SymbolRef = refBytes ? unpackRef(refBytes) : { next: 0 };
    // The reference keeps numbers of deleted versions from coming back; the newest stored version is
    // checked too, so a reference that is behind (lost, or restored from an older copy) can never make a
    // write replace a version or land before the latest one.
    const [newest] = tx.keys(keys.versionPrefix(this.lib, symbol), { reverse: true, limit: 1 });
    const v = newest === undefined ? ref.next : Math.max(ref.next, versionOfKey(newest) + 1);
    const record: VersionRecord = { v, ts: Date.now(), index: indexKey };
    if (options.meta) record.meta = options.meta;
    tx.put(keys.version(this.lib, symbol, record.v), packRecord(record));
    tx.put(refKey, packRecord({ next: record.v + 1 } satisfies SymbolRef));
    if (options.prune) {
      const older = tx
        .keys(keys.versionPrefix(this.lib, symbol))
        .filter((key) => versionOfKey(key) < record.v);
      this.removeVersions(tx, symbol, older);
    }
    return record;
  }

  /**
   * Deletes some versions of `symbol`, or all of them, and frees the indexes and segments nothing else
   * references. The reference stays, so version numbers are never handed out twice. As in ArcticDB,
   * deleting a whole symbol that has no live version does nothing (`test_deleting_unknown_symbol`), while
   * naming a version that is not live is `VersionNotFoundError` (`test_delete_version_that_does_not_exist`)
   * and deletes nothing.
   */
  delete(symbol: string, versions?: number[]): void {
    this.storage.writeTransaction((tx) => {
      const existing = tx.keys(keys.versionPrefix(this.lib, symbol));
      let doomed = existing;
      if (versions) {
        const have = new Set(existing.map(versionOfKey));
        const missing = versions.filter((v) => !have.has(v));
        if (missing.length > 0) {
          const live =
            have.size > 0 ? `its live versions are ${[...have].join(", ")}` : "it has no live version";
          throw new VersionNotFoundError(
            `Symbol '${symbol}' in library '${this.lib}' has no version ${missing.join(", ")}; ${live}. ` +
              "Nothing was deleted.",
          );
        }
        const wanted = new Set(versions);
        doomed = existing.filter((key) => wanted.has(versionOfKey(key)));
      }
      this.removeVersions(tx, symbol, doomed);
    });
  }

  /** Deletes every version of `symbol` but the latest, freeing what only they referenced. */
  pruneVersions(symbol: string): void {
    this.storage.writeTransaction((tx) => {
      const existing = tx.keys(keys.versionPrefix(this.lib, symbol));
      if (existing.length === 0) throw this.symbolNotFound(symbol);
      this.removeVersions(tx, symbol, existing.slice(0, -1));
    });
  }

  /** Removes version keys and frees the indexes and segments nothing else references. */
  private removeVersions(tx: WriteTransaction, symbol: string, versionKeys: string[]): void {
    const doomed: string[] = [];
    for (const key of versionKeys) {
      const bytes = tx.get(key);
      if (bytes) doomed.push(unpackVersion(bytes).index);
      tx.remove(key);
    }
    collectGarbage(tx, this.lib, symbol, doomed);
  }
}
