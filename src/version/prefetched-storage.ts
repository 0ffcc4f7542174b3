import type { Storage, WriteTransaction } from "../storage/storage.ts";

/**
 * A read-only `Storage` over objects already fetched (by key), so the object engine decodes with the same
 * synchronous code as LMDB and memory: it fetches what a read plan names, then hands this to a
 * `VersionStore`. A key not fetched reads as missing; nothing can be written.
 */
export class PrefetchedStorage implements Storage {
  readonly description = "prefetched objects";

  constructor(private readonly objects: ReadonlyMap<string, Uint8Array>) {}

  getView(key: string): Uint8Array | undefined {
    return this.objects.get(key);
  }

  get(key: string): Uint8Array | undefined {
    return this.objects.get(key)?.slice();
  }

  keys(): string[] {
    return [];
  }

  writeTransaction<T>(_fn: (tx: WriteTransaction) => T): T {
    throw new Error("internal: prefetched objects are read-only");
  }

  readTransaction<T>(fn: () => T): T {
    return fn();
  }

  close(): void {}
}
