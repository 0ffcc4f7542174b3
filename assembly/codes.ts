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
