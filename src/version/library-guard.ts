import { LibraryNotFoundError } from "../errors.ts";
import { sameBytes } from "../storage/parsed-cache.ts";
import type { Storage, WriteTransaction } from "../storage/storage.ts";
import { keys } from "./keys.ts";

/**
 * The store as one library handle sees it: every write transaction first checks, inside itself, that the
 * library still exists and is the one the handle opened (its `L:` record unchanged), else it throws
 * `LibraryNotFoundError` and keeps nothing.
 *
 * Why inside the transaction: `deleteLibrary` removes every key of the library in one write transaction,
 * and write transactions are serialised (across processes on LMDB). A check made before a write, or in
 * an earlier transaction, could pass just before a delete commits; the write would then be acknowledged
 * and either vanish with the library or come back as a ghost when a library of that name is created
 * again. Checked in the committing transaction itself, a write either lands before the delete (and the
 * delete removes it, as it removes everything) or fails. Comparing the whole record, not only its
 * presence, also refuses a handle whose library was deleted and created anew: its version numbers and
 * options belong to the old library.
 *
 * Reads pass through unchecked: a deleted library reads as empty, and a read that finds nothing asks
 * `missing()` so it can say the library is gone. Segments a pool worker stores through its own handle
 * are not checked either: they are not a version until the calling thread's commit, which is, and a
 * refused commit takes them back (`VersionStore.discard` removes through `inner`).
 */
export class LibraryGuardedStorage implements Storage {
  constructor(
    /** The store itself, for removals that must work even after the library is gone (`discard`). */
    readonly inner: Storage,
    private readonly lib: string,
    /** The library's `L:` record as the handle read it when it opened the library. */
    private readonly record: Uint8Array,
  ) {}

  get description(): string {
    return this.inner.description;
  }

  get seen(): number | undefined {
    return this.inner.seen;
  }

  catchUp(seen: number): void {
    this.inner.catchUp?.(seen);
  }

  getView(key: string): Uint8Array | undefined {
    return this.inner.getView(key);
  }

  get(key: string): Uint8Array | undefined {
    return this.inner.get(key);
  }

  keys(prefix: string, options?: { reverse?: boolean; limit?: number }): string[] {
    return this.inner.keys(prefix, options);
  }

  writeTransaction<T>(fn: (tx: WriteTransaction) => T): T {
    return this.inner.writeTransaction((tx) => {
      const gone = this.check(tx.get(keys.library(this.lib)));
      if (gone) throw gone;
      return fn(tx);
    });
  }

  readTransaction<T>(fn: () => T): T {
    return this.inner.readTransaction(fn);
  }

  close(): void {
    this.inner.close();
  }

  /**
   * The error to raise when the library this handle opened is gone (checked outside any write
   * transaction, for reads that found nothing and want to say why), or undefined while it exists.
   */
  missing(): LibraryNotFoundError | undefined {
    return this.check(this.inner.getView(keys.library(this.lib)));
  }

  private check(stored: Uint8Array | undefined): LibraryNotFoundError | undefined {
    if (stored === undefined) {
      return new LibraryNotFoundError(
        `Library '${this.lib}' was deleted from ${this.inner.description}; nothing was written. ` +
          `Create it again with createLibrary('${this.lib}') and use the new Library it returns.`,
      );
    }
    if (!sameBytes(stored, this.record)) {
      return new LibraryNotFoundError(
        `Library '${this.lib}' was deleted from ${this.inner.description} and created again since this ` +
          `handle was opened; nothing was written. Call getLibrary('${this.lib}') for a handle on the new library.`,
      );
    }
    return undefined;
  }
}
