import { packRecord } from "../codec/msgpack.ts";
import { StorageError } from "../errors.ts";
import { mapLimit, type ObjectStore } from "../storage/object-store.ts";
import { nameAfter, numberOfKey, type ObjectKeys } from "./object-keys.ts";
import { unpackVersion, type VersionRecord } from "./records.ts";

/** GETs of version records kept in flight by a listing. */
const RECORDS_IN_FLIGHT = 16;

/** How many times a commit re-reads and retries after other writers took its version number. */
const MAX_COMMIT_ATTEMPTS = 200;

/** The version numbers of one symbol: every number ever committed, and those deleted since. */
export interface SymbolVersions {
  /** Every committed number, ascending (deleted ones included: a number is never handed out twice). */
  numbers: number[];
  /** The numbers deleted since (their tombstones). */
  deleted: Set<number>;
}

/**
 * The version chain of one library on an object store, safe with any number of writers on any number of
 * machines without a lock: a version is committed by creating its key `V/<sym>/<n>` create-only. Of all
 * writers that try number n, exactly one wins; the others re-read and try n+1 (re-planning on the new
 * latest version where their write depends on it). One request commits, so there is no half-committed
 * state. Deleting writes a tombstone `D/<sym>/<n>` beside the record instead of removing it, so n is never
 * reused; what deleted versions alone referenced is freed by `cleanup` after a grace period.
 */
export class ObjectChain {
  constructor(
    readonly objects: ObjectStore,
    readonly keys: ObjectKeys,
  ) {}

  /** The committed and deleted version numbers of `symbol` (two LISTs, in parallel). */
  async versions(symbol: string): Promise<SymbolVersions> {
    const [v, d] = await Promise.all([
      this.objects.list(this.keys.versionPrefix(symbol)),
      this.objects.list(this.keys.tombstonePrefix(symbol)),
    ]);
    return { numbers: v.keys.map(numberOfKey), deleted: new Set(d.keys.map(numberOfKey)) };
  }

  /** Live version numbers of `symbol`, ascending. */
  async live(symbol: string): Promise<number[]> {
    const { numbers, deleted } = await this.versions(symbol);
    return numbers.filter((n) => !deleted.has(n));
  }

  /** The record of version `v` of `symbol`, or undefined when it was never committed. */
  async record(symbol: string, v: number): Promise<VersionRecord | undefined> {
    const key = this.keys.version(symbol, v);
    const bytes = await this.objects.get(key);
    return bytes && unpackVersion(bytes, `version record ${key}`);
  }

  /** The latest live version of `symbol`, or undefined. */
  async latest(symbol: string): Promise<VersionRecord | undefined> {
    const live = await this.live(symbol);
    return live.length === 0 ? undefined : this.record(symbol, live[live.length - 1]);
  }

  /** The records of version numbers `numbers` of `symbol` (all committed), in order. */
  async records(symbol: string, numbers: readonly number[]): Promise<VersionRecord[]> {
    const found = await mapLimit(numbers, RECORDS_IN_FLIGHT, (v) => this.record(symbol, v));
    return found.filter((r): r is VersionRecord => r !== undefined);
  }

  /**
   * Commits a new version of `symbol`. `build` gets the latest live version (undefined if none) and
   * returns the new record's fields (its index must already be stored), or undefined to decline (the
   * base it planned on is gone: the caller redoes its work). When another writer commits the number
   * first, `build` runs again on the newer state.
   */
  async commit(
    symbol: string,
    build: (latest: VersionRecord | undefined) => Promise<{ index: string; meta?: Uint8Array } | undefined>,
  ): Promise<VersionRecord | undefined> {
    for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt++) {
      const { numbers, deleted } = await this.versions(symbol);
      const next = numbers.length === 0 ? 0 : numbers[numbers.length - 1] + 1;
      const liveNumbers = numbers.filter((n) => !deleted.has(n));
      const latest =
        liveNumbers.length === 0 ? undefined : await this.record(symbol, liveNumbers[liveNumbers.length - 1]);
      const fields = await build(latest);
      if (!fields) return undefined;
      const record: VersionRecord = { v: next, ts: Date.now(), index: fields.index };
      if (fields.meta) record.meta = fields.meta;
      if (await this.objects.create(this.keys.version(symbol, next), packRecord(record))) return record;
    }
    throw new StorageError(
      `Could not commit a version of '${symbol}' in ${this.objects.description}: other writers took every ` +
        `number first ${MAX_COMMIT_ATTEMPTS} times in a row; retry later.`,
    );
  }

  /** Marks versions `numbers` of `symbol` deleted (a tombstone each; one already there is fine). */
  async tombstone(symbol: string, numbers: readonly number[]): Promise<void> {
    const stamp = packRecord({ ts: Date.now() });
    await mapLimit(numbers, RECORDS_IN_FLIGHT, (v) =>
      this.objects.create(this.keys.tombstone(symbol, v), stamp),
    );
  }

  /**
   * Symbols with at least one live version, sorted: one LIST of symbol names (1,000 a page), then only
   * the symbols that have tombstones are looked at one by one.
   */
  async symbols(): Promise<string[]> {
    const [v, d] = await Promise.all([
      this.objects.list(this.keys.allVersions, { delimiter: "/" }),
      this.objects.list(this.keys.allTombstones, { delimiter: "/" }),
    ]);
    const names = v.prefixes.map((p) => nameAfter(this.keys.allVersions, p));
    const touched = new Set(d.prefixes.map((p) => nameAfter(this.keys.allTombstones, p)));
    const doubtful = names.filter((n) => touched.has(n));
    const gone = new Set<string>();
    await mapLimit(doubtful, RECORDS_IN_FLIGHT, async (name) => {
      if ((await this.live(name)).length === 0) gone.add(name);
    });
    return names.filter((n) => !gone.has(n)).sort();
  }

  /** Every live version of every symbol as [symbol, number] pairs, from two listings. */
  async allLive(): Promise<[string, number][]> {
    const [v, d] = await Promise.all([
      this.objects.list(this.keys.allVersions),
      this.objects.list(this.keys.allTombstones),
    ]);
    const dead = new Set(d.keys.map((k) => k.slice(this.keys.allTombstones.length)));
    return v.keys
      .filter((k) => !dead.has(k.slice(this.keys.allVersions.length)))
      .map((k) => [nameAfter(this.keys.allVersions, k), numberOfKey(k)]);
  }
}
