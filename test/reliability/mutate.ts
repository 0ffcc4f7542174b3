// Byte-level damage: what a bad disk, a torn write or a stray program does to a stored value. Driven by
// a seeded PRNG rather than fast-check so the hot loop spends its time decoding, not generating.

export type Mutation = "flip" | "set" | "truncate" | "extend" | "garbage" | "insert" | "delete" | "splice";
export const MUTATIONS: readonly Mutation[] = [
  "flip",
  "set",
  "truncate",
  "extend",
  "garbage",
  "insert",
  "delete",
  "splice",
];

/** Bytes that often mean something to a parser: zero, all ones, sign bits, msgpack type markers. */
const SPECIAL = [0x00, 0xff, 0x7f, 0x80, 0x01, 0xc0, 0xc1, 0xcf, 0xd3, 0xdd, 0xdf, 0x90, 0xa0];

export class Mutator {
  constructor(private readonly random: () => number) {}

  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  private byte(): number {
    return this.random() < 0.3 ? SPECIAL[this.int(SPECIAL.length)] : this.int(256);
  }

  private fill(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.byte();
    return out;
  }

  /** Damage near the front is likelier: headers live there and one bad byte there matters most. */
  private position(len: number): number {
    return this.random() < 0.5 ? this.int(Math.min(len, 64)) : this.int(len);
  }

  /** A damaged copy of `good` (never `good` itself, never identical to it). `donor` feeds splices. */
  apply(kind: Mutation, good: Uint8Array, donor: Uint8Array): Uint8Array {
    const len = good.byteLength;
    if (len === 0) return this.fill(1 + this.int(32));
    let out: Uint8Array;
    switch (kind) {
      case "flip": {
        out = good.slice();
        for (let i = 1 + this.int(this.random() < 0.7 ? 1 : 8); i > 0; i--) {
          out[this.position(len)] ^= 1 << this.int(8);
        }
        break;
      }
      case "set": {
        out = good.slice();
        for (let i = 1 + this.int(4); i > 0; i--) out[this.position(len)] = this.byte();
        break;
      }
      case "truncate":
        out = good.slice(0, this.int(len));
        break;
      case "extend": {
        out = new Uint8Array(len + 1 + this.int(64));
        out.set(good);
        out.set(this.fill(out.byteLength - len), len);
        break;
      }
      case "garbage": {
        // A run of garbage over part of the value, or all of it, or a value of pure garbage.
        const pick = this.random();
        if (pick < 0.1) return this.fill(this.int(2 * len + 16));
        out = good.slice();
        const at = pick < 0.2 ? 0 : this.position(len);
        const run = Math.min(len - at, 1 + this.int(pick < 0.2 ? len : 32));
        out.set(this.fill(run), at);
        break;
      }
      case "insert": {
        const at = this.position(len);
        const add = this.fill(1 + this.int(8));
        out = new Uint8Array(len + add.byteLength);
        out.set(good.subarray(0, at));
        out.set(add, at);
        out.set(good.subarray(at), at + add.byteLength);
        break;
      }
      case "delete": {
        const at = this.position(len);
        const cut = Math.min(len - at, 1 + this.int(8));
        out = new Uint8Array(len - cut);
        out.set(good.subarray(0, at));
        out.set(good.subarray(at + cut), at);
        break;
      }
      case "splice": {
        // Bytes of another valid value pasted over this one: well-formed fragments in the wrong place.
        out = good.slice();
        const at = this.position(len);
        const from = this.int(Math.max(1, donor.byteLength));
        const run = Math.min(len - at, donor.byteLength - from, 1 + this.int(256));
        out.set(donor.subarray(from, from + Math.max(0, run)), at);
        break;
      }
    }
    if (sameBytes(out, good)) out = this.apply("flip", good, donor);
    return out;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
