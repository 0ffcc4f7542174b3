// Dictionary codes of a string column: one pass that checks them and counts the entries they use.

/**
 * Checks `n` int32 codes at `src` against a dictionary of `size` entries: returns -1 when one lies
 * outside [-1, size) (-1 is null), else how many distinct entries occur. `seen` is `size` bytes of scratch.
 */
export function codesCheck(src: usize, n: i32, size: i32, seen: usize): i32 {
  memory.fill(seen, 0, <usize>size);
  let distinct = 0;
  for (let i = 0; i < n; i++) {
    const c = load<i32>(src + (<usize>i << 2));
    if (c < -1 || c >= size) return -1;
    if (c >= 0 && load<u8>(seen + <usize>c) == 0) {
      store<u8>(seen + <usize>c, 1);
      distinct++;
    }
  }
  return distinct;
}

/**
 * 1 when each of the `n` int32 codes at `src` lies in [-1, size) (-1 is null), else 0: the check alone,
 * four codes a step, for readers that do not need to know which entries occur.
 */
export function codesInRange(src: usize, n: i32, size: i32): i32 {
  let lo = i32x4.splat(-1);
  let hi = i32x4.splat(-1);
  const end = src + (<usize>n << 2);
  let p = src;
  for (; p + 16 <= end; p += 16) {
    const x = v128.load(p);
    lo = i32x4.min_s(lo, x);
    hi = i32x4.max_s(hi, x);
  }
  let a = min(min(i32x4.extract_lane(lo, 0), i32x4.extract_lane(lo, 1)), min(i32x4.extract_lane(lo, 2), i32x4.extract_lane(lo, 3)));
  let b = max(max(i32x4.extract_lane(hi, 0), i32x4.extract_lane(hi, 1)), max(i32x4.extract_lane(hi, 2), i32x4.extract_lane(hi, 3)));
  for (; p < end; p += 4) {
    const x = load<i32>(p);
    a = min(a, x);
    b = max(b, x);
  }
  return a >= -1 && b < size ? 1 : 0;
}
