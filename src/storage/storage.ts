/**
 * The key/value interface every backend implements. Keys are strings that carry their kind (see
 * `src/version/keys.ts`); values are opaque bytes. The interface is synchronous because both shipped
 * backends are (LMDB reads are memory-mapped, writes block on a local lock); the public API wraps it in
 * Promises so that a remote backend could come later without changing callers.
 */
export interface Storage {
  /** A human-readable name for messages, e.g. `lmdb://data.lmdb`. */
  readonly description: string;

  /**
   * Returns the value of `key`, or `undefined`. The bytes may be a view into storage memory that stays
   * valid only until the next call into this storage: decode it at once and keep no reference.
   */
  getView(key: string): Uint8Array | undefined;

  /** Returns an owned copy of the value of `key`, or `undefined`. */
  get(key: string): Uint8Array | undefined;

  /** Keys that start with `prefix`, in ascending byte order (descending with `reverse`). */
  keys(prefix: string, options?: { reverse?: boolean; limit?: number }): string[];

  /**
   * Runs `fn` in one atomic write transaction and returns its result. Writers are serialised (across
   * processes for LMDB); if `fn` throws, nothing it wrote is kept.
   */
  writeTransaction<T>(fn: (tx: WriteTransaction) => T): T;

  /**
   * Runs `fn` against one consistent snapshot: every read inside sees the same committed state even if
   * writers commit meanwhile. `fn` must be synchronous.
   */
  readTransaction<T>(fn: () => T): T;

  /**
   * How new a state this handle has committed or read, as a number that only grows (LMDB: the commit
   * stamp); undefined for backends with one handle per store. Another handle on the same store given it
   * through `catchUp` will not read an older state.
   */
  readonly seen?: number;

  /** Makes this handle's next outermost reads see at least the state `seen` (another handle's) names. */
  catchUp?(seen: number): void;

  /** Releases the handle. Later calls throw `StorageError`. */
  close(): void;
}

/** What a write transaction may do; reads inside see the transaction's own writes. */
export interface WriteTransaction {
  get(key: string): Uint8Array | undefined;
  /** Stores a copy of `value`: the caller may reuse its memory as soon as `put` returns. */
  put(key: string, value: Uint8Array): void;
  remove(key: string): void;
  keys(prefix: string, options?: { reverse?: boolean; limit?: number }): string[];
}

/** The upper bound used for prefix scans: above every key that starts with the prefix. */
export function prefixEnd(prefix: string): string {
  return `${prefix}\u{10ffff}`;
}
