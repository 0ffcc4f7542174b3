/**
 * A small least-recently-used memo of values parsed from stored bytes, keyed by storage key. An entry is
 * used only while the bytes stored under its key are exactly the bytes it was parsed from, so it can never
 * return anything but what parsing the current bytes would: a key rewritten, deleted and recreated, or
 * damaged on disk is parsed afresh (and a damaged value still fails its checksum). What a hit saves is the
 * parse (msgpack decoding, checksums, object allocation); it still costs a fetch and a byte comparison.
 */
export class ParsedCache<T> {
  // Map iteration order is insertion order: the first entry is the least recently used.
  private readonly entries = new Map<string, { bytes: Uint8Array; value: T; weight: number }>();
  private weight = 0;

  /**
   * Keeps at most `maxEntries` values weighing at most `maxBytes` in all; an entry weighs its stored bytes
   * unless `weigh` says otherwise (a decoded column, say, is far bigger than its encoded block).
   */
  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
    private readonly weigh: (bytes: Uint8Array, value: T) => number = (bytes) => bytes.byteLength,
  ) {}

  /**
   * The value of `bytes`, stored under `key`: the remembered one when it was parsed from the same bytes,
   * else `parse(bytes)`, remembered. `bytes` may be a transient view: the cache keeps a copy.
   */
  get(key: string, bytes: Uint8Array, parse: (bytes: Uint8Array) => T): T {
    const hit = this.entries.get(key);
    if (hit && sameBytes(hit.bytes, bytes)) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.value;
    }
    const value = parse(bytes);
    this.set(key, bytes, value);
    return value;
  }

  /** Remembers `value` as what `bytes` (stored under `key`) parse to, e.g. by the writer that stored them. */
  set(key: string, bytes: Uint8Array, value: T): void {
    this.delete(key);
    const weight = this.weigh(bytes, value);
    if (weight > this.maxBytes) return;
    this.entries.set(key, { bytes: bytes.slice(), value, weight });
    this.weight += weight;
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.weight <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.weight -= entry.weight;
    }
  }

  /** Forgets the value stored under `key`, if any. */
  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.weight -= entry.weight;
  }

  /** How many values are remembered. */
  get size(): number {
    return this.entries.size;
  }
}

/** True when `a` and `b` hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let i = 0;
  // Word-wise where both views allow it; the tail and unaligned views go byte by byte.
  if (a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0) {
    const words = a.byteLength >>> 2;
    const wa = new Uint32Array(a.buffer, a.byteOffset, words);
    const wb = new Uint32Array(b.buffer, b.byteOffset, words);
    for (; i < words; i++) if (wa[i] !== wb[i]) return false;
    i = words * 4;
  }
  for (; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
