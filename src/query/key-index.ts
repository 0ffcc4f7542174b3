/**
 * Ids of group keys for merging partials: numbers in an open-addressing table over typed arrays, other
 * keys (strings, bigints beyond ±2^53) in a Map. With a million number keys this table looks them up
 * about a fifth faster than a Map (86 against 110 ns, both mostly a cache miss) and merging a groupby of
 * 10 M rows into 1 M groups went from 5.0 to 4.1–4.4 s on the calling thread; what remains is the random
 * access itself (a radix-partitioned merge would keep each table in cache).
 */
import type { KeyValue } from "./group-keys.ts";

/** Slots below this share of the table stay filled (linear probing stays short). */
const LOAD = 0.5;

export class KeyIndex {
  #keys = new Float64Array(16);
  #ids = new Int32Array(16).fill(-1);
  #mask = 15;
  #count = 0;
  readonly #other = new Map<KeyValue, number>();
  readonly #bits = new Float64Array(1);
  readonly #words = new Uint32Array(this.#bits.buffer);

  /** Keys held. */
  get size(): number {
    return this.#count + this.#other.size;
  }

  /** `key`'s id, or undefined. */
  get(key: KeyValue): number | undefined {
    if (typeof key !== "number") return this.#other.get(key);
    const at = this.#find(key);
    const id = this.#ids[at];
    return id < 0 ? undefined : id;
  }

  /** Gives `key` (not held yet) the id `id`. */
  set(key: KeyValue, id: number): void {
    if (typeof key !== "number") {
      this.#other.set(key, id);
      return;
    }
    if (this.#count + 1 > (this.#mask + 1) * LOAD) this.#grow();
    const at = this.#find(key);
    if (this.#ids[at] < 0) this.#count++;
    this.#keys[at] = key;
    this.#ids[at] = id;
  }

  /** The slot holding `key`, or the empty one where it would go. Keys are never NaN (missing keys). */
  #find(key: number): number {
    this.#bits[0] = key + 0; // -0 and 0 are one key
    // Both words mixed to every bit (murmur3's finaliser): an integer's bits sit high in the upper word.
    let h = this.#words[0] ^ Math.imul(this.#words[1], 0x9e3779b1);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    const mask = this.#mask;
    let at = h & mask;
    while (this.#ids[at] >= 0 && this.#keys[at] !== key) at = (at + 1) & mask;
    return at;
  }

  #grow(): void {
    const keys = this.#keys;
    const ids = this.#ids;
    const size = (this.#mask + 1) * 2;
    this.#keys = new Float64Array(size);
    this.#ids = new Int32Array(size).fill(-1);
    this.#mask = size - 1;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] < 0) continue;
      const at = this.#find(keys[i]);
      this.#keys[at] = keys[i];
      this.#ids[at] = ids[i];
    }
  }
}
