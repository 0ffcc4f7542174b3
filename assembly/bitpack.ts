// Integer packing: frame of reference + bit-packing, over the values or over their deltas.
//
// Format (little-endian; w = element width in bytes, 1, 2, 4 or 8; all arithmetic mod 2^(8w)):
//   u8 mode               0: pack the values; 1: pack the deltas x[i] - x[i-1]
//   mode 1 only: w bytes  x[0]
//   then per block of 128 elements (the last may be shorter, c elements):
//     u8 bits             0..8w
//     w bytes ref         the block's minimum (of values, or of deltas read as signed w-byte integers)
//     ceil(c*bits/8) bytes  (v - ref) for each element, `bits` bits each, least significant bit first
//   In mode 1 the slot of element 0 holds 0 and is ignored (x[0] sits in the header).
// A per-block minimum replaces zigzag coding: a block of deltas in [-3, 5] packs as 0..8 in 4 bits,
// and sorted timestamps on a fixed step pack in 0 bits. Signed element types take their minimum as
// signed (int8 values -1 and 1 span 2, not 254); decoding needs no sign, it works mod 2^(8w).

// @ts-ignore: decorator
@inline const BLOCK: usize = 128;

/** Decoding failures (negative results of intUnpack). */
export const PACK_ERR_TRUNCATED: i32 = -1;
export const PACK_ERR_MODE: i32 = -2;
export const PACK_ERR_BITS: i32 = -3;

// @ts-ignore: decorator
@inline function bitsOf(range: u64): usize {
  return <usize>(64 - clz<u64>(range));
}

// The element at p as i64 (sign- or zero-extended by T); in delta mode the difference to prev,
// wrapped to the width and read signed (S).
// @ts-ignore: decorator
@inline function element<T, S>(p: usize, delta: bool, prev: i64): i64 {
  const x = <i64>load<T>(p);
  return delta ? <i64><S>(x - prev) : x;
}

// Bytes block [from, from + c) would take, or 0 in `stats` terms; writes bits and ref to the out params.
let blockBits: usize = 0;
let blockRef: i64 = 0;

// @ts-ignore: decorator
@inline function scanBlock<T, S>(src: usize, from: usize, c: usize, delta: bool): void {
  const w = sizeof<T>();
  let lo: i64 = i64.MAX_VALUE;
  let hi: i64 = i64.MIN_VALUE;
  let i = from;
  if (delta && i == 0) i = 1; // element 0's slot is a placeholder
  const end = from + c;
  if (delta) {
    let prev = <i64>load<T>(src + (i - 1) * w);
    for (; i < end; i++) {
      const x = <i64>load<T>(src + i * w);
      const v = <i64><S>(x - prev);
      prev = x;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  } else {
    for (; i < end; i++) {
      const v = <i64>load<T>(src + i * w);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (lo > hi) {
    // Only the placeholder: nothing to pack.
    blockBits = 0;
    blockRef = 0;
  } else {
    blockBits = bitsOf(<u64>(hi - lo));
    blockRef = lo;
  }
}

function costImpl<T, S>(src: usize, n: usize, delta: bool): i32 {
  const w = sizeof<T>();
  let size: usize = delta ? 1 + w : 1;
  for (let from: usize = 0; from < n; from += BLOCK) {
    const c = min<usize>(BLOCK, n - from);
    scanBlock<T, S>(src, from, c, delta);
    size += 1 + w + ((c * blockBits + 7) >> 3);
  }
  return <i32>size;
}

function packImpl<T, S>(src: usize, n: usize, delta: bool, dst: usize): i32 {
  const w = sizeof<T>();
  let op = dst;
  store<u8>(op, delta ? 1 : 0);
  op++;
  if (delta) {
    if (n == 0) return PACK_ERR_MODE;
    store<T>(op, load<T>(src));
    op += w;
  }
  for (let from: usize = 0; from < n; from += BLOCK) {
    const c = min<usize>(BLOCK, n - from);
    scanBlock<T, S>(src, from, c, delta);
    const bits = blockBits;
    const ref = blockRef;
    store<u8>(op, <u8>bits);
    store<T>(op + 1, <T>ref);
    op += 1 + w;
    if (bits == 0) continue;
    // Accumulate bits in a u64 and flush whole words; the tail flush may write up to 7 bytes of
    // slack past the block, which the next block overwrites.
    let acc: u64 = 0;
    let fill: usize = 0;
    const end = from + c;
    let prev: i64 = from > 0 ? <i64>load<T>(src + (from - 1) * w) : 0;
    for (let i = from; i < end; i++) {
      let p: u64;
      if (delta) {
        const x = <i64>load<T>(src + i * w);
        p = i == 0 ? 0 : <u64>(<i64><S>(x - prev) - ref);
        prev = x;
      } else {
        p = <u64>(<i64>load<T>(src + i * w) - ref);
      }
      acc |= p << <u64>fill;
      fill += bits;
      if (fill >= 64) {
        store<u64>(op, acc);
        op += 8;
        fill -= 64;
        acc = fill > 0 ? p >> <u64>(bits - fill) : 0;
      }
    }
    if (fill > 0) {
      store<u64>(op, acc);
      op += (fill + 7) >> 3;
    }
  }
  return <i32>(op - dst);
}

// The t-th packed value of a block whose values start at ip, `bits` <= 56 wide (masked by `mask`): one
// unaligned u64 read holds it. src is followed by 8 bytes of slack.
// @ts-ignore: decorator
@inline function narrowAt(ip: usize, t: usize, bits: usize, mask: u64): u64 {
  const pos = t * bits;
  return (load<u64>(ip + (pos >> 3)) >> <u64>(pos & 7)) & mask;
}

// The t-th packed value of a block of any width up to 64 bits: wider than 56 may need a ninth byte.
// @ts-ignore: decorator
@inline function packedAt(ip: usize, t: usize, bits: usize, mask: u64): u64 {
  const pos = t * bits;
  const at = ip + (pos >> 3);
  const sh = pos & 7;
  let v = load<u64>(at) >> <u64>sh;
  if (bits > 56 && sh + bits > 64) v |= <u64>load<u8>(at + 8) << <u64>(64 - sh);
  return v & mask;
}

// prev plus the deltas of slots [t0, t1) of a block (each ref + its packed value), without storing any.
// @ts-ignore: decorator
@inline function sumDeltas(ip: usize, t0: usize, t1: usize, bits: usize, ref: u64, mask: u64, prev: u64): u64 {
  if (t1 <= t0) return prev;
  let sum: u64 = ref * <u64>(t1 - t0);
  if (bits == 0) return prev + sum;
  if (bits <= 56) {
    for (let t = t0; t < t1; t++) sum += narrowAt(ip, t, bits, mask);
  } else {
    for (let t = t0; t < t1; t++) sum += packedAt(ip, t, bits, mask);
  }
  return prev + sum;
}

// Elements [lo, hi) of the n packed ones go to dst + (i - lo) * w. Blocks before lo are skipped by their
// headers (in delta mode their deltas are summed, not stored), blocks from hi on by their headers alone,
// so every header is still checked and the consumed length is that of the whole stream.
function unpackImpl<T>(src: usize, len: usize, n: usize, lo: usize, hi: usize, dst: usize): i32 {
  const w = sizeof<T>();
  let ip = src;
  const iend = src + len;
  if (len < 1) return PACK_ERR_TRUNCATED;
  const mode = load<u8>(ip);
  ip++;
  if (mode > 1) return PACK_ERR_MODE;
  const delta = mode == 1;
  let prev: u64 = 0;
  if (delta) {
    if (n == 0) return PACK_ERR_MODE;
    if (iend - ip < w) return PACK_ERR_TRUNCATED;
    prev = <u64>load<T>(ip);
    ip += w;
  }
  for (let from: usize = 0; from < n; from += BLOCK) {
    const c = min<usize>(BLOCK, n - from);
    if (iend - ip < 1 + w) return PACK_ERR_TRUNCATED;
    const bits = <usize>load<u8>(ip);
    const ref = <u64>load<T>(ip + 1);
    ip += 1 + w;
    if (bits > (w << 3)) return PACK_ERR_BITS;
    const bytes = (c * bits + 7) >> 3;
    if (iend - ip < bytes) return PACK_ERR_TRUNCATED;
    const mask: u64 = bits == 64 ? u64.MAX_VALUE : (<u64>1 << <u64>bits) - 1;
    // Slots [j, jend) of this block are written; in delta mode slots before j still add to prev.
    let j: usize = lo > from ? min<usize>(lo - from, c) : 0;
    const jend: usize = hi > from ? min<usize>(hi - from, c) : 0;
    if (j >= jend) {
      if (delta && from + c <= lo) {
        // Wholly before the window: sum the deltas (slot 0 of block 0 is x[0]'s placeholder).
        prev = sumDeltas(ip, from == 0 ? 1 : 0, c, bits, ref, mask, prev);
      }
      ip += bytes;
      continue;
    }
    const out = dst + (from - lo) * w; // slot t goes to out + t * w (t >= j, so never before dst)
    if (delta) {
      prev = sumDeltas(ip, from == 0 ? 1 : 0, j, bits, ref, mask, prev);
      if (from == 0 && j == 0) {
        store<T>(out, <T>prev);
        j = 1;
      }
    }
    if (bits == 0) {
      if (delta) {
        for (; j < jend; j++) {
          prev += ref;
          store<T>(out + j * w, <T>prev);
        }
      } else {
        for (; j < jend; j++) store<T>(out + j * w, <T>ref);
      }
    } else if (bits <= 56) {
      if (delta) {
        for (; j < jend; j++) {
          prev += ref + narrowAt(ip, j, bits, mask);
          store<T>(out + j * w, <T>prev);
        }
      } else {
        for (; j < jend; j++) store<T>(out + j * w, <T>(ref + narrowAt(ip, j, bits, mask)));
      }
    } else {
      for (; j < jend; j++) {
        const v = packedAt(ip, j, bits, mask);
        if (delta) {
          prev += ref + v;
          store<T>(out + j * w, <T>prev);
        } else {
          store<T>(out + j * w, <T>(ref + v));
        }
      }
    }
    ip += bytes;
  }
  return <i32>(ip - src);
}

/**
 * Size intPack would produce for n elements of `width` bytes at src in mode 0 (values) or 1 (deltas).
 * Costs one pass over the data, so a caller can compare both modes before packing.
 */
export function intPackSize(src: usize, n: i32, width: i32, signed: bool, mode: i32): i32 {
  const count = <usize>n;
  const delta = mode == 1;
  if (width == 8) return costImpl<i64, i64>(src, count, delta);
  if (width == 4) return signed ? costImpl<i32, i32>(src, count, delta) : costImpl<u32, i32>(src, count, delta);
  if (width == 2) return signed ? costImpl<i16, i16>(src, count, delta) : costImpl<u16, i16>(src, count, delta);
  return signed ? costImpl<i8, i8>(src, count, delta) : costImpl<u8, i8>(src, count, delta);
}

/**
 * Packs n elements of `width` bytes at src into dst (mode 1 needs n >= 1). Returns the packed length;
 * dst needs intPackSize bytes plus 8 bytes of slack.
 */
export function intPack(src: usize, n: i32, width: i32, signed: bool, mode: i32, dst: usize): i32 {
  const count = <usize>n;
  const delta = mode == 1;
  if (width == 8) return packImpl<i64, i64>(src, count, delta, dst);
  if (width == 4) {
    return signed ? packImpl<i32, i32>(src, count, delta, dst) : packImpl<u32, i32>(src, count, delta, dst);
  }
  if (width == 2) {
    return signed ? packImpl<i16, i16>(src, count, delta, dst) : packImpl<u16, i16>(src, count, delta, dst);
  }
  return signed ? packImpl<i8, i8>(src, count, delta, dst) : packImpl<u8, i8>(src, count, delta, dst);
}

/**
 * Unpacks elements [lo, hi) of the n elements of `width` bytes packed in the len bytes at src (followed by
 * 8 readable bytes) into dst, element lo first (lo = 0, hi = n: all of them). Returns the bytes the whole
 * stream takes, or a negative PACK_ERR_* for malformed input; never reads past src + len + 8 nor writes
 * outside dst .. dst + (hi - lo) * width. Needs lo <= hi <= n.
 */
export function intUnpack(src: usize, len: i32, n: i32, width: i32, lo: i32, hi: i32, dst: usize): i32 {
  const l = <usize>len;
  const count = <usize>n;
  const a = <usize>lo;
  const b = <usize>hi;
  if (width == 8) return unpackImpl<u64>(src, l, count, a, b, dst);
  if (width == 4) return unpackImpl<u32>(src, l, count, a, b, dst);
  if (width == 2) return unpackImpl<u16>(src, l, count, a, b, dst);
  return unpackImpl<u8>(src, l, count, a, b, dst);
}

// Powers of ten, exact as f64 up to 1e22; decimal scaling uses 10^0 .. 10^15.
const POW10: usize = memory.data<f64>([
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
]);

/**
 * Writes m[i] = round(v[i] * 10^k) as i64 for the f64 values at src while f64(m[i]) / 10^k reproduces
 * v[i] bit for bit (so -0, NaN, infinities and values needing more digits stop it). Returns how many
 * leading values converted; n means all.
 */
export function decimalEncode(src: usize, n: i32, k: i32, dst: usize): i32 {
  const scale = load<f64>(POW10 + (<usize>k << 3));
  for (let i: i32 = 0; i < n; i++) {
    const at = <usize>i << 3;
    const v = load<f64>(src + at);
    const m = nearest<f64>(v * scale);
    if (!(abs<f64>(m) <= 9007199254740992.0)) return i;
    const back = <f64><i64>m / scale;
    if (reinterpret<u64>(back) != reinterpret<u64>(v)) return i;
    store<i64>(dst + at, <i64>m);
  }
  return n;
}

/** v[i] = f64(m[i]) / 10^k for the i64 at src into dst (may be the same buffer). */
export function decimalDecode(src: usize, n: i32, k: i32, dst: usize): void {
  const scale = load<f64>(POW10 + (<usize>k << 3));
  for (let i: i32 = 0; i < n; i++) {
    const at = <usize>i << 3;
    store<f64>(dst + at, <f64>load<i64>(src + at) / scale);
  }
}
