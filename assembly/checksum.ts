// Block checksums. This is part of floe's file format: every stored block carries this value.
//
// xxh32(p, n, seed) is the standard XXH32 (xxHash, 32-bit).
//
// floe checksum v1 ("xxh32 x16"), over bytes b[0..n):
//   1. Sixteen u32 accumulators a[0..15]; a[4g + l] starts as XXH32's lane l for seed g (g = 0..3):
//        [g + P1 + P2, g + P2, g, g - P1]   (all arithmetic mod 2^32).
//   2. For every full 64-byte stripe s (k = floor(n / 64) of them), for j in 0..15:
//        a[j] = rotl32(a[j] + u32le(b[64s + 4j ..]) * P2, 13) * P1      (XXH32's round)
//   3. The result is xxh32(A ++ T, seed = n mod 2^32), where A is a[0..15] as 64 little-endian bytes
//      and T the n - 64k trailing bytes.
// Sixteen independent lanes (four v128 accumulators) keep the multiplier busy instead of waiting on one
// dependency chain, so the checksum runs several times faster than plain XXH32; the final XXH32 pass mixes
// every lane and the length into the 32-bit result.

// @ts-ignore: decorator
@inline const P1: u32 = 0x9e3779b1;
// @ts-ignore: decorator
@inline const P2: u32 = 0x85ebca77;
// @ts-ignore: decorator
@inline const P3: u32 = 0xc2b2ae3d;
// @ts-ignore: decorator
@inline const P4: u32 = 0x27d4eb2f;
// @ts-ignore: decorator
@inline const P5: u32 = 0x165667b1;

// Streaming state: 4 v128 accumulators (64 bytes), then a 64-byte stripe buffer, then room for the tail
// when the digest input (accumulators ++ tail) is assembled.
const STATE: usize = memory.data(128, 16);
const BUF: usize = STATE + 64;
let bufLen: i32 = 0;
let total: u64 = 0;

// @ts-ignore: decorator
@inline function round(acc: u32, x: u32): u32 {
  return rotl<u32>(acc + x * P2, 13) * P1;
}

/** Standard XXH32 of n bytes at p. */
export function xxh32(p: usize, n: i32, seed: u32): u32 {
  const end = p + <usize>n;
  let h: u32;
  if (n >= 16) {
    let v1: u32 = seed + P1 + P2;
    let v2: u32 = seed + P2;
    let v3: u32 = seed;
    let v4: u32 = seed - P1;
    const limit = end - 16;
    do {
      v1 = round(v1, load<u32>(p));
      v2 = round(v2, load<u32>(p, 4));
      v3 = round(v3, load<u32>(p, 8));
      v4 = round(v4, load<u32>(p, 12));
      p += 16;
    } while (p <= limit);
    h = rotl<u32>(v1, 1) + rotl<u32>(v2, 7) + rotl<u32>(v3, 12) + rotl<u32>(v4, 18);
  } else {
    h = seed + P5;
  }
  h += <u32>n;
  while (p + 4 <= end) {
    h += load<u32>(p) * P3;
    h = rotl<u32>(h, 17) * P4;
    p += 4;
  }
  while (p < end) {
    h += <u32>load<u8>(p) * P5;
    h = rotl<u32>(h, 11) * P1;
    p++;
  }
  h ^= h >> 15;
  h *= P2;
  h ^= h >> 13;
  h *= P3;
  h ^= h >> 16;
  return h;
}

// @ts-ignore: decorator
@inline function vround(acc: v128, x: v128): v128 {
  acc = i32x4.add(acc, i32x4.mul(x, i32x4.splat(P2)));
  acc = v128.or(i32x4.shl(acc, 13), i32x4.shr_u(acc, 19));
  return i32x4.mul(acc, i32x4.splat(P1));
}

/** Starts a streaming checksum (one per instance at a time). */
export function hashInit(): void {
  for (let g: u32 = 0; g < 4; g++) {
    const at = STATE + (<usize>g << 4);
    store<u32>(at, g + P1 + P2);
    store<u32>(at, g + P2, 4);
    store<u32>(at, g, 8);
    store<u32>(at, g - P1, 12);
  }
  bufLen = 0;
  total = 0;
}

// Runs whole stripes [p, p + 64 * stripes) through the accumulators.
function stripes(p: usize, count: usize): void {
  let a0 = v128.load(STATE);
  let a1 = v128.load(STATE, 16);
  let a2 = v128.load(STATE, 32);
  let a3 = v128.load(STATE, 48);
  const end = p + (count << 6);
  while (p < end) {
    a0 = vround(a0, v128.load(p));
    a1 = vround(a1, v128.load(p, 16));
    a2 = vround(a2, v128.load(p, 32));
    a3 = vround(a3, v128.load(p, 48));
    p += 64;
  }
  v128.store(STATE, a0);
  v128.store(STATE, a1, 16);
  v128.store(STATE, a2, 32);
  v128.store(STATE, a3, 48);
}

/** Adds n bytes at p to the streaming checksum; any split of the input gives the same result. */
export function hashUpdate(p: usize, n: i32): void {
  total += <u64>n;
  let left = <usize>n;
  if (bufLen > 0) {
    const take = min<usize>(left, 64 - <usize>bufLen);
    memory.copy(BUF + <usize>bufLen, p, take);
    bufLen += <i32>take;
    p += take;
    left -= take;
    if (bufLen < 64) return;
    stripes(BUF, 1);
    bufLen = 0;
  }
  const whole = left >> 6;
  if (whole > 0) stripes(p, whole);
  p += whole << 6;
  left -= whole << 6;
  if (left > 0) {
    memory.copy(BUF, p, left);
    bufLen = <i32>left;
  }
}

/** The checksum of everything passed to hashUpdate since hashInit. */
export function hashFinal(): u32 {
  // BUF directly follows the accumulators, so STATE holds exactly A ++ T.
  return xxh32(STATE, 64 + bufLen, <u32>total);
}

/** floe checksum v1 of n bytes at p (see the top of this file). */
export function checksum(p: usize, n: i32): u32 {
  hashInit();
  hashUpdate(p, n);
  return hashFinal();
}
