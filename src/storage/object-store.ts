/**
 * The interface of an object store (S3 and its kin): no transactions, one atomic PUT per key, a
 * create-only PUT that tells who won, listings by prefix. Every call is asynchronous and batched where a
 * caller needs many keys at once, so a remote store keeps many requests in flight. LMDB and memory stay
 * behind the transactional `Storage` (storage.ts); the version engine has one implementation for each.
 */
export interface ObjectStore {
  /** A human-readable name for messages, e.g. `s3://bucket/prefix/`. */
  readonly description: string;

  /** The value of `key`, or undefined when it does not exist. */
  get(key: string, signal?: AbortSignal): Promise<Uint8Array | undefined>;

  /** The values of `keys`, in order (undefined where missing), several requests in flight at once. */
  getMany(keys: readonly string[], signal?: AbortSignal): Promise<(Uint8Array | undefined)[]>;

  /**
   * Stores `value` under `key` only if no object has that key: true when this call created it, false
   * when the key existed (another writer won). The caller may reuse `value`'s memory once it resolves.
   */
  create(key: string, value: Uint8Array, signal?: AbortSignal): Promise<boolean>;

  /** Stores `value` under `key`, replacing what is there (only for hints that may be stale). */
  put(key: string, value: Uint8Array, signal?: AbortSignal): Promise<void>;

  /**
   * Every key under `prefix` in ascending order; with `delimiter`, keys holding it after the prefix are
   * folded into `prefixes` (one per distinct "directory").
   */
  list(
    prefix: string,
    options?: { delimiter?: string; startAfter?: string; signal?: AbortSignal },
  ): Promise<{ keys: string[]; prefixes: string[] }>;

  /** Deletes `keys`; missing keys are not an error. */
  deleteMany(keys: readonly string[]): Promise<void>;

  /** Releases what the store holds (connections, timers). Later calls may fail. */
  close(): void;
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results in item order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
