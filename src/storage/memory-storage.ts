import { StorageError } from "../errors.ts";
import type { Storage, WriteTransaction } from "./storage.ts";

/**
 * An in-memory store: a `Map` from key to bytes, owned by one `Arctic` instance (`mem://`). Values are
 * kept as given (the caller hands over ownership), so writes cost no copy. A write transaction stages
 * its changes and applies them only when its function returns, so a throw leaves the map unchanged.
 */
export class MemoryStorage implements Storage {
  readonly description = "mem://";
  private map: Map<string, Uint8Array> | null = new Map();
  // Sorted key list, rebuilt lazily after writes: listings are rarer than gets.
  private sorted: string[] | null = null;

  private live(): Map<string, Uint8Array> {
    if (!this.map) throw new StorageError("This mem:// store is closed; create a new Arctic('mem://').");
    return this.map;
  }

  getView(key: string): Uint8Array | undefined {
    return this.live().get(key);
  }

  get(key: string): Uint8Array | undefined {
    const v = this.live().get(key);
    return v ? v.slice() : undefined;
  }

  keys(prefix: string, options: { reverse?: boolean; limit?: number } = {}): string[] {
    const map = this.live();
    if (!this.sorted) this.sorted = [...map.keys()].sort(compareBytes);
    const all = this.sorted;
    let lo = lowerBound(all, prefix);
    const out: string[] = [];
    if (options.reverse) {
      let hi = lo;
      while (hi < all.length && all[hi].startsWith(prefix)) hi++;
      for (let i = hi - 1; i >= lo && out.length < (options.limit ?? Infinity); i--) out.push(all[i]);
      return out;
    }
    while (lo < all.length && all[lo].startsWith(prefix) && out.length < (options.limit ?? Infinity)) {
      out.push(all[lo++]);
    }
    return out;
  }

  writeTransaction<T>(fn: (tx: WriteTransaction) => T): T {
    const map = this.live();
    const staged = new Map<string, Uint8Array | null>();
    const tx: WriteTransaction = {
      get: (key) => {
        const s = staged.get(key);
        return s === null ? undefined : (s ?? map.get(key));
      },
      put: (key, value) => {
        // A copy: callers may reuse `value` (as the segment writer's scratch buffer is) once put returns.
        staged.set(key, keep(value));
      },
      remove: (key) => {
        staged.set(key, null);
      },
      keys: (prefix, options) => {
        const base = new Set(this.keys(prefix));
        for (const [k, v] of staged) {
          if (!k.startsWith(prefix)) continue;
          if (v === null) base.delete(k);
          else base.add(k);
        }
        const list = [...base].sort(compareBytes);
        if (options?.reverse) list.reverse();
        return list.slice(0, options?.limit ?? list.length);
      },
    };
    const result = fn(tx);
    for (const [k, v] of staged) {
      if (v === null) map.delete(k);
      else map.set(k, v);
    }
    if (staged.size > 0) this.sorted = null;
    return result;
  }

  readTransaction<T>(fn: () => T): T {
    // Single-threaded: nothing can commit while fn runs synchronously.
    return fn();
  }

  close(): void {
    this.map = null;
    this.sorted = null;
  }
}

/** Values from this size on are kept in shared memory, so pool workers can decode them in place. */
const SHARED_FROM_BYTES = 64 << 10;

/** A copy of `value`, in a SharedArrayBuffer where the runtime has them and the value is large. */
function keep(value: Uint8Array): Uint8Array {
  if (value.byteLength < SHARED_FROM_BYTES || typeof SharedArrayBuffer !== "function") return value.slice();
  const copy = new Uint8Array(new SharedArrayBuffer(value.byteLength));
  copy.set(value);
  return copy;
}

const utf8 = new TextEncoder();

/** Byte order of the UTF-8 encodings, the order LMDB keeps keys in. */
function compareBytes(a: string, b: string): number {
  if (a === b) return 0;
  // UTF-16 order equals UTF-8 byte order except around surrogates; fall back only when they appear.
  if (!/[\ud800-\udfff]/.test(a + b)) return a < b ? -1 : 1;
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

function lowerBound(list: string[], key: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareBytes(list[mid], key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
