// Byte shuffle: n elements of `width` bytes, element-major in, byte-plane-major out
// (dst[b * n + i] = src[i * width + b]). Grouping the bytes of equal significance makes the slowly varying
// high bytes of numbers into long runs LZ4 can match. Widths 2, 4 and 8 run 16 elements per step as a
// v128 transpose; other widths and the tail go byte by byte.

// @ts-ignore: decorator
@inline function lo8(a: v128, b: v128): v128 {
  return i8x16.shuffle(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
}
// @ts-ignore: decorator
@inline function hi8(a: v128, b: v128): v128 {
  return i8x16.shuffle(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
}
// @ts-ignore: decorator
@inline function lo16(a: v128, b: v128): v128 {
  return i8x16.shuffle(a, b, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
}
// @ts-ignore: decorator
@inline function hi16(a: v128, b: v128): v128 {
  return i8x16.shuffle(a, b, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
}
// @ts-ignore: decorator
@inline function lo32(a: v128, b: v128): v128 {
  return i8x16.shuffle(a, b, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
}
// @ts-ignore: decorator
@inline function hi32(a: v128, b: v128): v128 {
  return i8x16.shuffle(a, b, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
}
// @ts-ignore: decorator
@inline function lo64(a: v128, b: v128): v128 {
  return i8x16.shuffle(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
}
// @ts-ignore: decorator
@inline function hi64(a: v128, b: v128): v128 {
  return i8x16.shuffle(a, b, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
}

function shuffleTail(src: usize, n: usize, width: usize, dst: usize, from: usize): void {
  for (let b: usize = 0; b < width; b++) {
    const plane = dst + b * n;
    for (let i = from; i < n; i++) store<u8>(plane + i, load<u8>(src + i * width + b));
  }
}

function unshuffleTail(src: usize, n: usize, width: usize, dst: usize, from: usize): void {
  for (let b: usize = 0; b < width; b++) {
    const plane = src + b * n;
    for (let i = from; i < n; i++) store<u8>(dst + i * width + b, load<u8>(plane + i));
  }
}

/** Splits n elements of `width` bytes at src into byte planes at dst (buffers must not overlap). */
export function shuffle(src: usize, n: i32, width: i32, dst: usize): void {
  const count = <usize>n;
  const w = <usize>width;
  const whole = count & ~15;
  if (w == 8) {
    for (let i: usize = 0; i < whole; i += 16) {
      const s = src + (i << 3);
      // Pair the bytes of equal significance of the two elements in each vector ...
      const w0 = i8x16.swizzle(v128.load(s), i8x16(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15));
      const w1 = i8x16.swizzle(v128.load(s, 16), i8x16(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15));
      const w2 = i8x16.swizzle(v128.load(s, 32), i8x16(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15));
      const w3 = i8x16.swizzle(v128.load(s, 48), i8x16(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15));
      const w4 = i8x16.swizzle(v128.load(s, 64), i8x16(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15));
      const w5 = i8x16.swizzle(v128.load(s, 80), i8x16(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15));
      const w6 = i8x16.swizzle(v128.load(s, 96), i8x16(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15));
      const w7 = i8x16.swizzle(v128.load(s, 112), i8x16(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15));
      // ... then transpose the 8x8 matrix of byte pairs.
      const a0 = lo16(w0, w1);
      const a1 = hi16(w0, w1);
      const a2 = lo16(w2, w3);
      const a3 = hi16(w2, w3);
      const a4 = lo16(w4, w5);
      const a5 = hi16(w4, w5);
      const a6 = lo16(w6, w7);
      const a7 = hi16(w6, w7);
      const b0 = lo32(a0, a2);
      const b1 = hi32(a0, a2);
      const b2 = lo32(a1, a3);
      const b3 = hi32(a1, a3);
      const b4 = lo32(a4, a6);
      const b5 = hi32(a4, a6);
      const b6 = lo32(a5, a7);
      const b7 = hi32(a5, a7);
      const d = dst + i;
      v128.store(d, lo64(b0, b4));
      v128.store(d + count, hi64(b0, b4));
      v128.store(d + 2 * count, lo64(b1, b5));
      v128.store(d + 3 * count, hi64(b1, b5));
      v128.store(d + 4 * count, lo64(b2, b6));
      v128.store(d + 5 * count, hi64(b2, b6));
      v128.store(d + 6 * count, lo64(b3, b7));
      v128.store(d + 7 * count, hi64(b3, b7));
    }
    shuffleTail(src, count, w, dst, whole);
  } else if (w == 4) {
    for (let i: usize = 0; i < whole; i += 16) {
      const s = src + (i << 2);
      const w0 = i8x16.swizzle(v128.load(s), i8x16(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
      const w1 = i8x16.swizzle(v128.load(s, 16), i8x16(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
      const w2 = i8x16.swizzle(v128.load(s, 32), i8x16(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
      const w3 = i8x16.swizzle(v128.load(s, 48), i8x16(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
      const a0 = lo32(w0, w1);
      const a1 = hi32(w0, w1);
      const a2 = lo32(w2, w3);
      const a3 = hi32(w2, w3);
      const d = dst + i;
      v128.store(d, lo64(a0, a2));
      v128.store(d + count, hi64(a0, a2));
      v128.store(d + 2 * count, lo64(a1, a3));
      v128.store(d + 3 * count, hi64(a1, a3));
    }
    shuffleTail(src, count, w, dst, whole);
  } else if (w == 2) {
    for (let i: usize = 0; i < whole; i += 16) {
      const s = src + (i << 1);
      const w0 = i8x16.swizzle(v128.load(s), i8x16(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15));
      const w1 = i8x16.swizzle(v128.load(s, 16), i8x16(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15));
      const d = dst + i;
      v128.store(d, lo64(w0, w1));
      v128.store(d + count, hi64(w0, w1));
    }
    shuffleTail(src, count, w, dst, whole);
  } else if (w == 1) {
    memory.copy(dst, src, count);
  } else {
    shuffleTail(src, count, w, dst, 0);
  }
}

/** Inverse of shuffle: byte planes at src back to n elements of `width` bytes at dst. */
export function unshuffle(src: usize, n: i32, width: i32, dst: usize): void {
  const count = <usize>n;
  const w = <usize>width;
  const whole = count & ~15;
  if (w == 8) {
    for (let i: usize = 0; i < whole; i += 16) {
      const s = src + i;
      const p0 = v128.load(s);
      const p1 = v128.load(s + count);
      const p2 = v128.load(s + 2 * count);
      const p3 = v128.load(s + 3 * count);
      const p4 = v128.load(s + 4 * count);
      const p5 = v128.load(s + 5 * count);
      const p6 = v128.load(s + 6 * count);
      const p7 = v128.load(s + 7 * count);
      // Bytes 0-1, 2-3, 4-5, 6-7 of elements 0-7 (x0, x2, x4, x6) and 8-15 (x1, x3, x5, x7).
      const x0 = lo8(p0, p1);
      const x1 = hi8(p0, p1);
      const x2 = lo8(p2, p3);
      const x3 = hi8(p2, p3);
      const x4 = lo8(p4, p5);
      const x5 = hi8(p4, p5);
      const x6 = lo8(p6, p7);
      const x7 = hi8(p6, p7);
      // Bytes 0-3 (y0..y3) and 4-7 (y4..y7) of elements 0-3, 4-7, 8-11, 12-15.
      const y0 = lo16(x0, x2);
      const y1 = hi16(x0, x2);
      const y2 = lo16(x1, x3);
      const y3 = hi16(x1, x3);
      const y4 = lo16(x4, x6);
      const y5 = hi16(x4, x6);
      const y6 = lo16(x5, x7);
      const y7 = hi16(x5, x7);
      const d = dst + (i << 3);
      v128.store(d, lo32(y0, y4));
      v128.store(d, hi32(y0, y4), 16);
      v128.store(d, lo32(y1, y5), 32);
      v128.store(d, hi32(y1, y5), 48);
      v128.store(d, lo32(y2, y6), 64);
      v128.store(d, hi32(y2, y6), 80);
      v128.store(d, lo32(y3, y7), 96);
      v128.store(d, hi32(y3, y7), 112);
    }
    unshuffleTail(src, count, w, dst, whole);
  } else if (w == 4) {
    for (let i: usize = 0; i < whole; i += 16) {
      const s = src + i;
      const p0 = v128.load(s);
      const p1 = v128.load(s + count);
      const p2 = v128.load(s + 2 * count);
      const p3 = v128.load(s + 3 * count);
      const x0 = lo8(p0, p1);
      const x1 = hi8(p0, p1);
      const x2 = lo8(p2, p3);
      const x3 = hi8(p2, p3);
      const d = dst + (i << 2);
      v128.store(d, lo16(x0, x2));
      v128.store(d, hi16(x0, x2), 16);
      v128.store(d, lo16(x1, x3), 32);
      v128.store(d, hi16(x1, x3), 48);
    }
    unshuffleTail(src, count, w, dst, whole);
  } else if (w == 2) {
    for (let i: usize = 0; i < whole; i += 16) {
      const s = src + i;
      const p0 = v128.load(s);
      const p1 = v128.load(s + count);
      const d = dst + (i << 1);
      v128.store(d, lo8(p0, p1));
      v128.store(d, hi8(p0, p1), 16);
    }
    unshuffleTail(src, count, w, dst, whole);
  } else if (w == 1) {
    memory.copy(dst, src, count);
  } else {
    unshuffleTail(src, count, w, dst, 0);
  }
}
