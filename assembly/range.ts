// Column ranges: the least and greatest value of n numbers at p, for the per-tile statistics of index
// format 2 (src/version/column-stats.ts). Each kernel folds its values into the running range at STATE
// (lo at +0, hi at +8), which the caller sets to the identity first and reads afterwards, so a column can
// stream through Wasm memory a window at a time. NaN is left out: pmin/pmax keep the accumulator when the
// comparison with NaN is false. Float ranges are f64 (f32 ones promoted, exactly); integer ranges i64.

const STATE: usize = memory.data(16, 16);
const LANES: usize = memory.data(16, 16);
// The int64 minimum, NaT as a timestamp.
const NAT: i64 = i64.MIN_VALUE;

/** Where the running range lies. */
export function rangeState(): usize {
  return STATE;
}

/** Folds n float64 values at p into the range (f64 lo, hi). */
export function rangeF64(p: usize, n: i32): void {
  let lo0 = f64x2.splat(load<f64>(STATE));
  let hi0 = f64x2.splat(load<f64>(STATE, 8));
  let lo1 = lo0;
  let hi1 = hi0;
  const end = p + (<usize>n << 3);
  let q = p;
  for (; q + 32 <= end; q += 32) {
    const a = v128.load(q);
    const b = v128.load(q, 16);
    lo0 = f64x2.pmin(lo0, a);
    hi0 = f64x2.pmax(hi0, a);
    lo1 = f64x2.pmin(lo1, b);
    hi1 = f64x2.pmax(hi1, b);
  }
  lo0 = f64x2.pmin(lo0, lo1);
  hi0 = f64x2.pmax(hi0, hi1);
  let lo = f64x2.extract_lane(lo0, 0);
  let hi = f64x2.extract_lane(hi0, 0);
  const l1 = f64x2.extract_lane(lo0, 1);
  const h1 = f64x2.extract_lane(hi0, 1);
  if (l1 < lo) lo = l1;
  if (h1 > hi) hi = h1;
  for (; q < end; q += 8) {
    const x = load<f64>(q);
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  store<f64>(STATE, lo);
  store<f64>(STATE, hi, 8);
}

/** Folds n float32 values at p into the range (f64 lo, hi). */
export function rangeF32(p: usize, n: i32): void {
  let lo = <f32>load<f64>(STATE);
  let hi = <f32>load<f64>(STATE, 8);
  let vlo = f32x4.splat(lo);
  let vhi = f32x4.splat(hi);
  const end = p + (<usize>n << 2);
  let q = p;
  for (; q + 16 <= end; q += 16) {
    const a = v128.load(q);
    vlo = f32x4.pmin(vlo, a);
    vhi = f32x4.pmax(vhi, a);
  }
  v128.store(LANES, vlo);
  for (let j: usize = 0; j < 4; j++) {
    const x = load<f32>(LANES + (j << 2));
    if (x < lo) lo = x;
  }
  v128.store(LANES, vhi);
  for (let j: usize = 0; j < 4; j++) {
    const x = load<f32>(LANES + (j << 2));
    if (x > hi) hi = x;
  }
  for (; q < end; q += 4) {
    const x = load<f32>(q);
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  // The identities (±Infinity) and every float32 survive the round trip through f64 exactly.
  store<f64>(STATE, <f64>lo);
  store<f64>(STATE, <f64>hi, 8);
}

/**
 * Folds n 64-bit integers at p into the range (i64 lo, hi). mode 0: signed; 1: unsigned, compared with
 * the top bit flipped (the range is kept flipped, for the caller to flip back); 2: timestamps, NaT left
 * out (it takes part in hi only, where it can never win against a real value).
 */
export function rangeI64(p: usize, n: i32, mode: i32): void {
  const flip = i64x2.splat(mode == 1 ? NAT : 0);
  const top = i64x2.splat(i64.MAX_VALUE);
  const nat = i64x2.splat(NAT);
  const skipNat = mode == 2;
  let vlo = i64x2.splat(load<i64>(STATE));
  let vhi = i64x2.splat(load<i64>(STATE, 8));
  const end = p + (<usize>n << 3);
  let q = p;
  for (; q + 16 <= end; q += 16) {
    const x = v128.xor(v128.load(q), flip);
    const forLo = skipNat ? v128.bitselect(top, x, i64x2.eq(x, nat)) : x;
    vlo = v128.bitselect(forLo, vlo, i64x2.lt_s(forLo, vlo));
    vhi = v128.bitselect(x, vhi, i64x2.gt_s(x, vhi));
  }
  let lo = i64x2.extract_lane(vlo, 0);
  let hi = i64x2.extract_lane(vhi, 0);
  const l1 = i64x2.extract_lane(vlo, 1);
  const h1 = i64x2.extract_lane(vhi, 1);
  if (l1 < lo) lo = l1;
  if (h1 > hi) hi = h1;
  const f: i64 = mode == 1 ? NAT : 0;
  for (; q < end; q += 8) {
    const x = load<i64>(q) ^ f;
    if (x < lo && !(skipNat && x == NAT)) lo = x;
    if (x > hi) hi = x;
  }
  store<i64>(STATE, lo);
  store<i64>(STATE, hi, 8);
}

/** Folds n 32-bit integers at p (signed or not) into the range (i64 lo, hi). */
export function rangeI32(p: usize, n: i32, signed: i32): void {
  let vlo = i32x4.splat(signed ? i32.MAX_VALUE : -1);
  let vhi = i32x4.splat(signed ? i32.MIN_VALUE : 0);
  const end = p + (<usize>n << 2);
  let q = p;
  for (; q + 16 <= end; q += 16) {
    const a = v128.load(q);
    if (signed) {
      vlo = i32x4.min_s(vlo, a);
      vhi = i32x4.max_s(vhi, a);
    } else {
      vlo = i32x4.min_u(vlo, a);
      vhi = i32x4.max_u(vhi, a);
    }
  }
  let lo = load<i64>(STATE);
  let hi = load<i64>(STATE, 8);
  // The vectors' lanes take part only if a vector step ran (else they hold their identities, which are
  // values an unsigned column could hold).
  if (q > p) {
    for (let j: usize = 0; j < 4; j++) {
      v128.store(LANES, vlo);
      const l: i64 = signed ? <i64>load<i32>(LANES + (j << 2)) : <i64>load<u32>(LANES + (j << 2));
      v128.store(LANES, vhi);
      const h: i64 = signed ? <i64>load<i32>(LANES + (j << 2)) : <i64>load<u32>(LANES + (j << 2));
      if (l < lo) lo = l;
      if (h > hi) hi = h;
    }
  }
  for (; q < end; q += 4) {
    const x: i64 = signed ? <i64>load<i32>(q) : <i64>load<u32>(q);
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  store<i64>(STATE, lo);
  store<i64>(STATE, hi, 8);
}

/** Folds n integers of `width` 1 or 2 bytes at p (signed or not) into the range (i64 lo, hi). */
export function rangeSmall(p: usize, n: i32, width: i32, signed: i32): void {
  let lo = load<i64>(STATE);
  let hi = load<i64>(STATE, 8);
  for (let i: usize = 0; i < <usize>n; i++) {
    let x: i64;
    if (width == 1) x = signed ? <i64>load<i8>(p + i) : <i64>load<u8>(p + i);
    else x = signed ? <i64>load<i16>(p + (i << 1)) : <i64>load<u16>(p + (i << 1));
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  store<i64>(STATE, lo);
  store<i64>(STATE, hi, 8);
}
