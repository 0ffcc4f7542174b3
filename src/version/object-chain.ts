import { packRecord, unpackRecord } from "../codec/msgpack.ts";
import { StorageError } from "../errors.ts";
import { mapLimit, type ObjectStore } from "../storage/object-store.ts";
import { sameBytes } from "../storage/parsed-cache.ts";
import { nameAfter, numberOfKey, type ObjectKeys } from "./object-keys.ts";
import { unpackVersion, type VersionRecord } from "./records.ts";

/** GETs of version records kept in flight by a listing. */
const RECORDS_IN_FLIGHT = 16;

/** How many times a commit re-reads and retries after other writers took its version number. */
const MAX_COMMIT_ATTEMPTS = 200;

const SENT = Symbol("floe.commitSent");

/** `err`, marked as thrown after a commit request was sent whose outcome is unknown. */
function markSent(err: unknown): unknown {
  if (typeof err === "object" && err !== null) Object.defineProperty(err, SENT, { value: true });
  return err;
}

/**
 * Whether `err` came after a version's commit request was sent and its outcome is unknown: the version
 * may exist, so what it references must not be deleted (`cleanup` frees it later if it never landed).
 */
export function commitSent(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as Record<symbol, unknown>)[SENT] === true;
}

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

  /**
   * The symbol's newest committed numbers, cheaply: its hint `H/<sym>` (written after each commit, never
   * above the truth, since version keys are never removed) and one LIST from there, normally one key;
   * `next` is the number the next commit tries. Without a hint, every number.
   */
  async head(symbol: string): Promise<{ numbers: number[]; next: number }> {
    const bytes = await this.objects.get(this.keys.hint(symbol));
    const hint = bytes ? hintOf(bytes) : 0;
    const from = Math.max(0, hint - 1);
    const { keys } = await this.objects.list(
      this.keys.versionPrefix(symbol),
      from > 0 ? { startAfter: this.keys.version(symbol, from - 1) } : {},
    );
    const numbers = keys.map(numberOfKey);
    return { numbers, next: numbers.length > 0 ? (numbers.at(-1) as number) + 1 : hint };
  }

  /**
   * The latest live version among `numbers` (a `head`'s): the newest, unless it was deleted, in which
   * case every number and tombstone is listed to find it.
   */
  private async latestOf(symbol: string, numbers: number[]): Promise<VersionRecord | undefined> {
    const top = numbers.at(-1);
    if (top === undefined) return undefined;
    const { keys } = await this.objects.list(this.keys.tombstonePrefix(symbol), {
      startAfter: top > 0 ? this.keys.tombstone(symbol, top - 1) : undefined,
    });
    if (keys.length === 0) return this.record(symbol, top);
    const live = await this.live(symbol);
    return live.length === 0 ? undefined : this.record(symbol, live[live.length - 1]);
  }

  /** The latest live version of `symbol`, or undefined. */
  async latest(symbol: string): Promise<VersionRecord | undefined> {
    return this.latestOf(symbol, (await this.head(symbol)).numbers);
  }

  /** The records of version numbers `numbers` of `symbol` (all committed), in order. */
  async records(symbol: string, numbers: readonly number[]): Promise<VersionRecord[]> {
    const found = await mapLimit(numbers, RECORDS_IN_FLIGHT, (v) => this.record(symbol, v));
    return found.filter((r): r is VersionRecord => r !== undefined);
  }

  /**
   * Commits a new version of `symbol`. `build` gets the latest live version (undefined if none, or with
   * `needsLatest: false`, which saves its lookup) and
   * returns the new record's fields (its index must already be stored), or undefined to decline (the
   * base it planned on is gone: the caller redoes its work). When another writer commits the number
   * first, `build` runs again on the newer state.
   */
  async commit(
    symbol: string,
    build: (latest: VersionRecord | undefined) => Promise<{ index: string; meta?: Uint8Array } | undefined>,
    options: { needsLatest?: boolean } = {},
  ): Promise<VersionRecord | undefined> {
    for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt++) {
      const { numbers, next } = await this.head(symbol);
      // A plain write does not depend on the latest version: two requests fewer.
      const latest = options.needsLatest === false ? undefined : await this.latestOf(symbol, numbers);
      const fields = await build(latest);
      if (!fields) return undefined;
      const record: VersionRecord = { v: next, ts: Date.now(), index: fields.index };
      if (fields.meta) record.meta = fields.meta;
      const key = this.keys.version(symbol, next);
      const packed = packRecord(record);
      let created: boolean;
      try {
        created = await this.objects.create(key, packed);
      } catch (err) {
        // The answer was lost: the version may be stored. Ours if the key holds exactly our record.
        const stored = await this.objects.get(key).catch(() => undefined);
        if (stored && sameBytes(stored, packed)) return this.committed(symbol, record);
        // Another writer's record: ours was refused (a create cannot replace it), so try the next number.
        if (stored) continue;
        throw markSent(err);
      }
      if (created) return this.committed(symbol, record);
    }
    throw new StorageError(
      `Could not commit a version of '${symbol}' in ${this.objects.description}: other writers took every ` +
        `number first ${MAX_COMMIT_ATTEMPTS} times in a row; retry later.`,
    );
  }

  /** Moves `symbol`'s hint past `record` and returns it. */
  private async committed(symbol: string, record: VersionRecord): Promise<VersionRecord> {
    // Only a hint: a lost or stale one costs the next reader a longer LIST, never a wrong answer.
    await this.objects.put(this.keys.hint(symbol), packRecord({ next: record.v + 1 })).catch(() => undefined);
    return record;
  }

  /** Marks versions `numbers` of `symbol` deleted (a tombstone each; one already there is fine). */
  async tombstone(symbol: string, numbers: readonly number[]): Promise<void> {
    const stamp = packRecord({ ts: Date.now() });
    await mapLimit(numbers, RECORDS_IN_FLIGHT, (v) =>
      this.objects.create(this.keys.tombstone(symbol, v), stamp),
    );
  }

  /**
   * Records that every version of `symbol` up to `v` is deleted (after their tombstones), so `symbols`
   * can leave it out without reading tombstones.
   */
  async emptied(symbol: string, v: number): Promise<void> {
    await this.objects.create(this.keys.emptied(symbol, v), packRecord({ ts: Date.now() }));
  }

  /**
   * Symbols with at least one live version, sorted: one LIST of symbol names (1,000 a page) and one of
   * the "emptied" marks; only a symbol that was emptied once is looked at again (is there a version
   * newer than its mark?).
   */
  async symbols(): Promise<string[]> {
    const [v, x] = await Promise.all([
      this.objects.list(this.keys.allVersions, { delimiter: "/" }),
      this.objects.list(this.keys.allEmptied),
    ]);
    const names = v.prefixes.map((p) => nameAfter(this.keys.allVersions, p));
    const emptiedAt = new Map<string, number>();
    for (const key of x.keys) {
      const name = nameAfter(this.keys.allEmptied, key);
      emptiedAt.set(name, Math.max(emptiedAt.get(name) ?? -1, numberOfKey(key)));
    }
    const gone = new Set<string>();
    await mapLimit(
      names.filter((n) => emptiedAt.has(n)),
      RECORDS_IN_FLIGHT,
      async (name) => {
        const { numbers, deleted } = await this.versions(name);
        if (numbers.every((n) => deleted.has(n))) gone.add(name);
      },
    );
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

/** The number a hint holds (0 for one that does not decode: a hint is never trusted beyond a start). */
function hintOf(bytes: Uint8Array): number {
  try {
    const next = unpackRecord<{ next?: unknown }>(bytes, "version hint").next;
    return typeof next === "number" && Number.isSafeInteger(next) && next > 0 ? next : 0;
  } catch {
    return 0;
  }
}
