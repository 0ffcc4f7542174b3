import { open, type RootDatabase } from "lmdb";
import { FloeError, StorageError } from "../errors.ts";
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
}

/**
 * Storage in an LMDB environment (the `lmdb` package). One unnamed database holds every key.
 *
 * lmdb-js shares one environment per path within a process and works from worker threads and from
 * many processes at once: writers serialise on LMDB's lock, readers never block. Synchronous reads in
 * one event-loop turn share one read transaction, which is what `readTransaction` relies on.
 */
export class LmdbStorage implements Storage {
  readonly description: string;
  private db: RootDatabase<Uint8Array, string> | null;

  constructor(options: LmdbOptions) {
    this.description = `lmdb://${options.path}`;
    try {
      this.db = open<Uint8Array, string>({
        path: options.path,
        encoding: "binary",
        noSubdir: false,
        ...(options.mapSize ? { mapSize: options.mapSize } : {}),
        noSync: options.sync === false,
        // Commits return only once flushed, so a write that resolved survives a power cut.
        overlappingSync: false,
      });
    } catch (err) {
      throw new StorageError(
        `Cannot open LMDB store at '${options.path}': ${(err as Error).message}. ` +
          "Check that the path is a directory (or does not exist yet), is writable, and was created by floe.",
        { cause: err },
      );
    }
  }

  private live(): RootDatabase<Uint8Array, string> {
    if (!this.db) throw new StorageError(`${this.description} is closed; open a new Arctic to use it again.`);
    return this.db;
  }

  getView(key: string): Uint8Array | undefined {
    return this.wrap(() => view(this.live().getBinaryFast(key)));
  }

  get(key: string): Uint8Array | undefined {
    return this.wrap(() => view(this.live().getBinaryFast(key))?.slice());
  }

  keys(prefix: string, options: { reverse?: boolean; limit?: number } = {}): string[] {
    return this.wrap(() => {
      const end = prefixEnd(prefix);
      const range = options.reverse
        ? { start: end, end: prefix, reverse: true, limit: options.limit }
        : { start: prefix, end, limit: options.limit };
      return [...this.live().getKeys(range)] as string[];
    });
  }

  writeTransaction<T>(fn: (tx: WriteTransaction) => T): T {
    const db = this.live();
    const tx: WriteTransaction = {
      get: (key) => view(db.getBinaryFast(key))?.slice(),
      put: (key, value) => db.putSync(key, value),
      remove: (key) => {
        db.removeSync(key);
      },
      keys: (prefix, options) => this.keys(prefix, options),
    };
    return this.wrap(() => db.transactionSync(() => fn(tx)));
  }

  readTransaction<T>(fn: () => T): T {
    return fn();
  }

  close(): void {
    const db = this.db;
    this.db = null;
    db?.close();
  }

  // Turns LMDB's failures (disk full, permissions, a closed env) into StorageError; floe's own errors pass.
  private wrap<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof FloeError) throw err;
      throw new StorageError(
        `${this.description}: ${(err as Error).message}. Check free disk space and permissions; ` +
          "earlier versions are unaffected.",
        { cause: err },
      );
    }
  }
}

/**
 * A plain view of what `getBinaryFast` returned. For small values lmdb-js hands out a Buffer over its
 * shared 16 MB read buffer whose `length` is patched but whose typed-array length is the whole buffer,
 * so `set`, `slice` and `byteLength` would see stale bytes past the value.
 */
function view(value: Uint8Array | undefined): Uint8Array | undefined {
  return value === undefined ? undefined : new Uint8Array(value.buffer, value.byteOffset, value.length);
}
