// Group numbers for a groupby's rows, in linear memory: each key column becomes small codes
// (dictionary codes of strings as stored; 64-bit integers as offsets from their least value), the codes
// of several keys combine into one code per row, and one pass numbers the distinct codes in order of
// first appearance through a dense table. A code of -1 is a missing key: the row belongs to no group.

/**
 * Codes of n int64 keys at src: dst[i] = src[i] - min as i32. Returns the number of codes (max - min + 1)
 * and stores min as an i64 at `minAt`; returns -1, having written nothing, when that exceeds `limit`.
 */
export function keyCodesI64(src: usize, n: i32, limit: i32, dst: usize, minAt: usize): i32 {
  if (n <= 0) {
    store<i64>(minAt, 0);
    return 0;
  }
  const end = src + (<usize>n << 3);
  let vlo = i64x2.splat(load<i64>(src));
  let vhi = vlo;
  let p = src;
  for (; p + 16 <= end; p += 16) {
    const x = v128.load(p);
    vlo = v128.bitselect(x, vlo, i64x2.lt_s(x, vlo));
    vhi = v128.bitselect(x, vhi, i64x2.gt_s(x, vhi));
  }
  let lo = min(i64x2.extract_lane(vlo, 0), i64x2.extract_lane(vlo, 1));
  let hi = max(i64x2.extract_lane(vhi, 0), i64x2.extract_lane(vhi, 1));
  for (; p < end; p += 8) {
    const x = load<i64>(p);
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  // The span as unsigned: hi - lo wraps for keys more than 2^63 apart, and is then far above the limit.
  const span = <u64>(hi - lo);
  if (span >= <u64>limit) return -1;
  // Four codes a step: the low halves of two pairs of (key - lo), which fit in 32 bits.
  const base = i64x2.splat(lo);
  const count = <usize>n;
  const whole = count & ~3;
  for (let i: usize = 0; i < whole; i += 4) {
    const a = i64x2.sub(v128.load(src + (i << 3)), base);
    const b = i64x2.sub(v128.load(src + (i << 3), 16), base);
    v128.store(dst + (i << 2), i8x16.shuffle(a, b, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27));
  }
  for (let i = whole; i < count; i++) {
    store<i32>(dst + (i << 2), <i32>(load<i64>(src + (i << 3)) - lo));
  }
  store<i64>(minAt, lo);
  return <i32>span + 1;
}

/**
 * acc[i] = acc[i] * size + codes[i] for n rows, the tuple of several keys' codes as one code (the
 * caller keeps the product of the sizes small); -1 where either is -1.
 */
export function combineCodes(acc: usize, codes: usize, n: i32, size: i32): void {
  for (let i: usize = 0; i < <usize>n; i++) {
    const a = load<i32>(acc + (i << 2));
    const c = load<i32>(codes + (i << 2));
    store<i32>(acc + (i << 2), (a | c) < 0 ? -1 : a * size + c);
  }
}

/**
 * Numbers the distinct codes of n rows (each in [-1, size)) in order of first appearance:
 * gids[i] is row i's group (-1 for code -1), firsts[g] the row where group g first appears. `table` is
 * `size` i32 of scratch. Returns the number of groups, or -1 when a code is not below `size`.
 */
export function denseNumber(codes: usize, n: i32, size: i32, table: usize, gids: usize, firsts: usize): i32 {
  memory.fill(table, 0xff, <usize>size << 2);
  let groups = 0;
  for (let i: usize = 0; i < <usize>n; i++) {
    const c = load<i32>(codes + (i << 2));
    let g: i32 = -1;
    if (c >= size) return -1;
    if (c >= 0) {
      const slot = table + (<usize>c << 2);
      g = load<i32>(slot);
      if (g < 0) {
        g = groups++;
        store<i32>(slot, g);
        store<i32>(firsts + (<usize>g << 2), <i32>i);
      }
    }
    store<i32>(gids + (i << 2), g);
  }
  return groups;
}
