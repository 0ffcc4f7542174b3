import type { RootDatabase } from "lmdb";
import { FloeError, StorageError } from "../errors.ts";
import { classifyLmdbError, lmdbStorageError, type SpaceContext } from "./lmdb-errors.ts";
import { lmdbModule } from "./lmdb-module.ts";
import { openLmdbRoot } from "./lmdb-open.ts";
import { onNewestBase, pause, STALE } from "./lmdb-stale-base.ts";
import { prefixEnd, type Storage, type WriteTransaction } from "./storage.ts";

/** How an LMDB store is opened; parsed from the `lmdb://` URI by the API layer. */
export interface LmdbOptions {
  /** Directory holding `data.mdb` and `lock.mdb`; created if missing. */
  path: string;
  /** Initial map size in bytes. The map grows on its own when full, so this is only a starting point. */
  mapSize?: number;
  /**
   * Flush each commit to disk before it returns (default true). With `false` a power cut can lose the
   * last commits, though never corrupt older ones; a process crash loses nothing either way.
   */
  sync?: boolean;
  /**
   * Another handle in this process (the thread that started this worker) keeps the store open. lmdb-js
   * shares one environment per file across a process's threads, so this open runs no LMDB open and
   * cannot roll the shared counter back: the open-time check (see lmdb-stale-base.ts) is skipped, as it
   * would wait for the write lock only to find nothing to repair.
   */
  sameProcess?: boolean;
  /**
   * Bytes free on the disk that holds `path`, or null if unknown: supplied by the runtime (src/ has no
   * file system), so a write that runs out of space can say whether the disk or the store file is full.
   */
  diskFree?: () => number | null;
}

/**
 * Storage in an LMDB environment (the `lmdb` package). One unnamed database holds every key.
 *
 * lmdb-js shares one environment per path within a process and works from worker threads and from
 * many processes at once: writers serialise on LMDB's lock, readers never block.
 *
 * Reads go through lmdb-js's one implicit read transaction per thread. lmdb-js renews it at most once
 * per macrotask (a `setTimeout(0)` resets it), but floe's Promises settle in microtasks, so a loop of
 * awaited reads would never reach a macrotask and would read the same old snapshot forever, never
 * seeing what other processes commit (and pinning their freed pages, so the file grows). So every
 * outermost read (a `get`, `keys` or `readTransaction` not inside another) first resets that
 * transaction and sees the latest commit; the reads nested inside a `readTransaction` all share the one
 * snapshot it started on.
 */
export class LmdbStorage implements Storage {
  readonly description: string;
  private db: RootDatabase<Uint8Array, string> | null;
  /** Opens the environment again (see `repairStaleBase`). */
  private readonly reopenEnv: () => RootDatabase<Uint8Array, string>;
  /** Reads and write transactions in progress on this thread; only an outermost read moves the snapshot. */
  private depth = 0;
  /** The newest commit stamp this handle committed or read; no read may see an older one. */
  private seenStamp = 0;

  /**
   * Why this store was opened for reading only, or null when it is writable. A store on a read-only
   * file system (a read-only mount, a snapshot) opens read-only rather than failing: reading archived
   * data is a reasonable thing to want, and every write then fails with a `StorageError` saying why.
   * On a read-only file system LMDB keeps no reader locks (it cannot write its lock file), which is safe
   * as long as nothing writes the same files through another mount meanwhile. A store that does not
   * exist yet cannot be created there: that fails at open with a `StorageError`.
   */
  private readOnly: string | null = null;
  private readonly diskFree: () => number | null;

  constructor(options: LmdbOptions) {
    this.diskFree = options.diskFree ?? (() => null);
    this.description = `lmdb://${options.path}`;
    const openEnv = (readOnly: boolean) =>
      openLmdbRoot({
        path: options.path,
        encoding: "binary",
        noSubdir: false,
        readOnly,
        ...(options.mapSize ? { mapSize: options.mapSize } : {}),
        noSync: options.sync === false,
        // Commits return only once flushed, so a write that resolved survives a power cut.
        overlappingSync: false,
        // Another handle in this process keeps the environment, and so its mutexes, alive.
        checked: options.sameProcess === true,
      });
    this.reopenEnv = () => openEnv(false);
    try {
      this.db = openEnv(false);
    } catch (err) {
      this.db = classifyLmdbError(err) === "read-only" ? this.openReadOnly(openEnv, err) : null;
      if (!this.db) throw openError(options.path, err);
    }
    // Opening may itself have rolled the shared transaction counter back (see lmdb-stale-base.ts):
    // repaired here at once, rather than leaving it to whichever writer comes next.
    if (this.readOnly === null && !options.sameProcess) this.checkBase();
  }

  /** Opens a write transaction only to see whether it would start from a stale state; repairs if so. */
  private checkBase(): void {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        if (onNewestBase(this.live(), () => lmdbModule().ABORT) !== STALE) return;
      } catch {
        return; // a store that cannot take a write transaction now reports that on the first write
      }
      this.repairStaleBase();
    }
  }

  /**
   * Opens the environment again, which copies the newest transaction id back into the shared counter.
   * lmdb-js shares one environment per file in a process, so this repairs only when this is the
   * process's one handle on it; otherwise another process opening the store, or this one's retries
   * outlasting the other handles, does.
   */
  private repairStaleBase(): void {
    const old = this.live();
    this.db = null;
    try {
      old.close();
    } finally {
      this.db = this.reopenEnv();
    }
  }

  private openReadOnly(
    openEnv: (readOnly: boolean) => RootDatabase<Uint8Array, string>,
    why: unknown,
  ): RootDatabase<Uint8Array, string> | null {
    try {
      const db = openEnv(true);
      this.readOnly = (why as Error).message;
      return db;
    } catch {
      return null;
    }
  }

  private live(): RootDatabase<Uint8Array, string> {
    if (!this.db) throw new StorageError(`${this.description} is closed; open a new Arctic to use it again.`);
    return this.db;
  }

  getView(key: string): Uint8Array | undefined {
    return this.read((db) => view(db.getBinaryFast(key)));
  }

  get(key: string): Uint8Array | undefined {
    return this.read((db) => view(db.getBinaryFast(key))?.slice());
  }

  keys(prefix: string, options: { reverse?: boolean; limit?: number } = {}): string[] {
    return this.read((db) => {
      const end = prefixEnd(prefix);
      const range = options.reverse
        ? { start: end, end: prefix, reverse: true, limit: options.limit }
        : { start: prefix, end, limit: options.limit };
      return [...db.getKeys(range)] as string[];
    });
  }

  writeTransaction<T>(fn: (tx: WriteTransaction) => T): T {
    this.live();
    if (this.readOnly !== null) {
      throw new StorageError(
        `${this.description} was opened read-only because it cannot be written (${this.readOnly}); ` +
          "reads work, writes do not. Remount it read-write or fix its permissions, then open it again.",
      );
    }
    // Reads inside go to the write transaction, so they need no reset of the read snapshot.
    this.depth++;
    try {
      let unlocked = false;
      for (let attempt = 0; ; attempt++) {
        const db = this.live();
        let freed = false;
        const tx: WriteTransaction = {
          get: (key) => view(db.getBinaryFast(key))?.slice(),
          put: (key, value) => db.putSync(key, value),
          remove: (key) => {
            freed = db.removeSync(key) || freed;
          },
          keys: (prefix, options) => this.keys(prefix, options),
        };
        let stamp = 0;
        let result: T | typeof STALE;
        try {
          result = this.wrap(() =>
            onNewestBase(db, () => {
              const value = fn(tx);
              stamp = putCommitStamp(db);
              return value;
            }),
          );
        } catch (err) {
          // Out of space: pages the newest commit freed (a delete in another process, or one whose
          // follow-up below did not run) may be what this write needs. Unlock them and try once more.
          if (unlocked || !outOfSpace(err) || !this.commitStamp()) throw err;
          unlocked = true;
          continue;
        }
        if (result !== STALE) {
          this.seenStamp = Math.max(this.seenStamp, stamp);
          if (freed && this.diskLow()) this.commitStamp();
          return result;
        }
        if (attempt >= STALE_BASE_TRIES) {
          throw new StorageError(
            `${this.description}: another process opened the store while a commit was being made, and the ` +
              "LMDB bundled with lmdb-js then rolled back its shared transaction counter (a known LMDB bug, " +
              "fixed upstream as ITS#9496). floe did not commit on the stale state, so nothing was lost, but " +
              "could not repair it from here. Close every Arctic on this store in this process (or restart " +
              "the process), then retry.",
          );
        }
        // Reopening repairs the counter when no outer read holds this handle; otherwise, or if it did
        // not help, wait for the process holding another handle to repair it.
        if (this.depth === 1) this.repairStaleBase();
        if (attempt > 0) pause(Math.min(2 ** attempt, 50));
      }
    } finally {
      this.depth--;
    }
  }

  /**
   * Commits a transaction that only rewrites the commit stamp; true if it committed. LMDB reuses the
   * pages a transaction freed only once a later transaction has committed (until then the newest
   * snapshot, which every new reader starts from, may still hold them). On a full disk that means the
   * space a delete, prune or cleanup freed is out of reach of every write, in every process, until
   * something else commits, and the writes that would need it fail without committing. So a
   * transaction that removed keys on a disk low on space is followed by this one, which needs only a
   * few pages (from older frees, or the file's end), and a write that ran out of space calls it before
   * its one retry.
   * This thread's read snapshot is released first: a reader on a snapshot older than the freeing
   * transaction would keep its pages in use all the same.
   */
  private commitStamp(): boolean {
    const db = this.live();
    try {
      if (this.depth <= 1) db.resetReadTxn(); // not under an enclosing read, whose snapshot it is
      let stamp = 0;
      const done = onNewestBase(db, () => {
        stamp = putCommitStamp(db);
      });
      if (done === STALE) return false;
      this.seenStamp = Math.max(this.seenStamp, stamp);
      return true;
    } catch {
      return false; // no room even for this: what the caller reports stands
    }
  }

  /**
   * True when the store's disk has less than LOW_DISK_BYTES free, or its free space cannot be measured:
   * then a transaction that freed pages is followed by `commitStamp` at once. With room on the disk the
   * follow-up is not worth its cost (one more synced commit: a delete took 3.4-6.1 ms before, 6.8-14.6
   * after, on the 2-core test machine), and a write that does run out of space later still
   * unlocks the freed pages itself before its retry.
   */
  private diskLow(): boolean {
    try {
      const free = this.diskFree();
      return free === null || free < LOW_DISK_BYTES;
    } catch {
      return true;
    }
  }

  /** Free bytes on the disk and inside the store file, for a write that ran out of space. */
  private space(): SpaceContext {
    let storeFree: number | null = null;
    try {
      const stats = this.live().getStats() as unknown as LmdbStats;
      const used = (t: LmdbTreeStats) => t.treeBranchPageCount + t.treeLeafPageCount + t.overflowPages;
      // Pages up to the last one in use, less the two meta pages and the pages of both trees.
      const free = stats.lastPageNumber + 1 - 2 - used(stats) - (stats.free ? used(stats.free) : 0);
      if (Number.isFinite(free)) storeFree = Math.max(0, free) * stats.pageSize;
    } catch {
      // a closed or broken environment: say nothing about the store file
    }
    let diskFree: number | null = null;
    try {
      diskFree = this.diskFree();
    } catch {
      // no measurement
    }
    return { diskFree, storeFree };
  }

  get seen(): number {
    return this.seenStamp;
  }

  catchUp(seen: number): void {
    this.seenStamp = Math.max(this.seenStamp, seen);
  }

  readTransaction<T>(fn: () => T): T {
    return this.read(() => fn());
  }

  close(): void {
    const db = this.db;
    this.db = null;
    db?.close();
  }

  /** Runs a read on the latest committed state, or on the enclosing read's snapshot when nested. */
  private read<T>(fn: (db: RootDatabase<Uint8Array, string>) => T): T {
    if (this.depth === 0) this.newestSnapshot();
    const db = this.live();
    this.depth++;
    try {
      return this.wrap(() => fn(db));
    } finally {
      this.depth--;
    }
  }

  /**
   * Moves this thread's read snapshot to the newest commit. A reader takes its snapshot from the shared
   * counter that another process's open can roll back by one commit (lmdb-stale-base.ts), and would then
   * read the state before the newest commit: a write this handle just made, or a version an earlier read
   * returned, would be missing. So every floe commit writes a commit stamp, and a snapshot whose stamp is
   * older than one this handle committed or saw is taken again; the process that rolled the counter back
   * repairs it within milliseconds (every floe open checks), and reopening repairs it if this is the
   * process's only handle. If neither has helped after a few tries the read goes ahead, one commit
   * behind, as LMDB's own readers would, and later reads wait only for a commit newer than that state.
   * Commits made without floe write no stamp and change nothing here.
   */
  private newestSnapshot(): void {
    for (let attempt = 0; ; attempt++) {
      const db = this.live();
      db.resetReadTxn();
      const bytes = this.wrap(() => db.getBinaryFast(COMMIT_STAMP));
      const stamp = bytes === undefined ? 0 : readStamp(view(bytes) as Uint8Array);
      if (stamp >= this.seenStamp || attempt >= STALE_READ_TRIES) {
        // Having waited once, take the state as it is: later reads wait only for a newer commit.
        this.seenStamp = stamp;
        return;
      }
      if (attempt === 2 && this.readOnly === null) this.repairStaleBase();
      if (attempt > 0) pause(Math.min(2 ** attempt, 20));
    }
  }

  // Turns LMDB's failures (disk full, permissions, a closed env) into StorageError saying what to do;
  // floe's own errors pass, and so does a broken invariant of floe's ("internal: ..."), which no disk
  // space or permission would mend.
  private wrap<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof FloeError || (err instanceof Error && err.message.startsWith("internal:")))
        throw err;
      throw lmdbStorageError(this.description, err, outOfSpace(err) ? this.space() : undefined);
    }
  }
}

/** What lmdb-js's `getStats()` reports for a tree (and, at the top level, for the environment). */
interface LmdbTreeStats {
  treeBranchPageCount: number;
  treeLeafPageCount: number;
  overflowPages: number;
}
interface LmdbStats extends LmdbTreeStats {
  pageSize: number;
  lastPageNumber: number;
  free?: LmdbTreeStats;
}

/** Free disk space below which a freeing transaction is followed by a commit at once (see `diskLow`). */
const LOW_DISK_BYTES = 1 << 30;

/** True for a failure that more free pages could cure: a full disk (EIO or ENOSPC) or a full map. */
function outOfSpace(err: unknown): boolean {
  const cause = err instanceof StorageError ? err.cause : err;
  const kind = classifyLmdbError(cause);
  return kind === "disk-full" || kind === "io" || kind === "map-full";
}

/**
 * Key of the commit stamp: the id of the LMDB transaction that last committed through floe, written by
 * every write transaction so a reader can tell an old snapshot from a new one (see `newestSnapshot`).
 * No floe key prefix (`L:`, `R:`, `V:`, ...) covers it.
 */
const COMMIT_STAMP = "~commit";

/** Snapshots older than a handle's newest stamp that a read takes again before reading anyway: ~0.2 s. */
const STALE_READ_TRIES = 12;

/** Writes, in the open write transaction, its id as the commit stamp; returns that id. */
function putCommitStamp(db: RootDatabase<Uint8Array, string>): number {
  const stamp = db.getWriteTxnId();
  db.putSync(COMMIT_STAMP, stampBytes(stamp));
  return stamp;
}

function stampBytes(txnId: number): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setFloat64(0, txnId, true);
  return bytes;
}

/** The stamp in `bytes`; 0 (older than any commit) for a value that is not one. */
function readStamp(bytes: Uint8Array): number {
  if (bytes.length < 8) return 0;
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0, true);
}

/** Write transactions found on a stale base (lmdb-stale-base.ts) retried before giving up: about 2 s. */
const STALE_BASE_TRIES = 45;

/**
 * A plain view of what `getBinaryFast` returned. For small values lmdb-js hands out a Buffer over its
 * shared 16 MB read buffer whose `length` is patched but whose typed-array length is the whole buffer,
 * so `set`, `slice` and `byteLength` would see stale bytes past the value.
 */
function view(value: Uint8Array | undefined): Uint8Array | undefined {
  return value === undefined ? undefined : new Uint8Array(value.buffer, value.byteOffset, value.length);
}

function openError(path: string, err: unknown): StorageError {
  if (err instanceof StorageError) return err; // already says what went wrong and what to do
  const kind = classifyLmdbError(err);
  // Node's recursive mkdir reports ENOENT even when the real cause is a read-only file system.
  const creating = (err as { syscall?: unknown }).syscall === "mkdir";
  const advice =
    kind === "disk-full" || kind === "io"
      ? "Free space on the disk that holds it, then retry."
      : kind === "read-only" || creating
        ? "The store's directory could not be created or written: check that its parent exists and is " +
          "writable (not on a read-only file system, not owned by another user), or choose another path."
        : "Check that the path is a directory (or does not exist yet), is writable, and was created by floe.";
  return new StorageError(`Cannot open LMDB store at '${path}': ${(err as Error).message}. ${advice}`, {
    cause: err,
  });
}
