// Query kernels over decoded columns in linear memory: comparisons with a scalar into a 0/1 byte mask,
// boolean combination and counting of masks, float64 arithmetic, and per-group partial aggregates by an
// i32 group number per row (-1: the row belongs to no group). src/query/kernels.ts wraps them; the
// results must equal, bit for bit, what src/query/evaluate.ts and aggregate.ts compute in TypeScript,
// so every loop here mirrors one there (same comparisons, same order of float operations).
//
// Operator codes (shared with src/query/kernels.ts):
//   compare: 0 gt, 1 ge, 2 lt, 3 le, 4 eq, 5 ne        (NaN compares false, except ne: true, as numpy)
//   logic:   0 and, 1 or, 2 xor, 3 not                  (not is xor 1, as evaluate.ts computes it)
//   arith:   0 add, 1 sub, 2 mul, 3 div
//   group:   0 count, 1 sum, 2 min, 3 max, 4 first, 5 last, 6 float sum of int64 (mean)

// @ts-ignore: decorator
@inline const GT: i32 = 0;
// @ts-ignore: decorator
@inline const GE: i32 = 1;
// @ts-ignore: decorator
@inline const LT: i32 = 2;
// @ts-ignore: decorator
@inline const LE: i32 = 3;
// @ts-ignore: decorator
@inline const EQ: i32 = 4;

/** NaT, the missing timestamp (int64's minimum), which compares false and is skipped by aggregates. */
// @ts-ignore: decorator
@inline const NAT: i64 = i64.MIN_VALUE;

// ---- masks from comparisons ------------------------------------------------------------------------

// Sixteen all-ones/all-zeros i64 lanes (eight v128) as sixteen 0/1 bytes. Each narrowing step keeps
// the lanes' sign, so -1 stays -1; the last shuffle takes one byte of each (now doubled) lane.
// @ts-ignore: decorator
@inline function narrow64(a: v128, b: v128, c: v128, d: v128, e: v128, f: v128, g: v128, h: v128): v128 {
  const ab = i16x8.narrow_i32x4_s(a, b);
  const cd = i16x8.narrow_i32x4_s(c, d);
  const ef = i16x8.narrow_i32x4_s(e, f);
  const gh = i16x8.narrow_i32x4_s(g, h);
  const lo = i8x16.narrow_i16x8_s(ab, cd);
  const hi = i8x16.narrow_i16x8_s(ef, gh);
  const bytes = i8x16.shuffle(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  return v128.and(bytes, i8x16.splat(1));
}

// @ts-ignore: decorator
@inline function cmpF64x2(op: i32, x: v128, s: v128): v128 {
  if (op == GT) return f64x2.gt(x, s);
  if (op == GE) return f64x2.ge(x, s);
  if (op == LT) return f64x2.lt(x, s);
  if (op == LE) return f64x2.le(x, s);
  if (op == EQ) return f64x2.eq(x, s);
  return f64x2.ne(x, s);
}

// One element compared, for the tails the vector loops leave (T: f64, or i64 compared as signed).
// @ts-ignore: decorator
@inline function cmp<T>(op: i32, x: T, s: T): bool {
  if (op == GT) return x > s;
  if (op == GE) return x >= s;
  if (op == LT) return x < s;
  if (op == LE) return x <= s;
  if (op == EQ) return x == s;
  return x != s;
}

// @ts-ignore: decorator
@inline function cmpI64x2(op: i32, x: v128, s: v128): v128 {
  if (op == GT) return i64x2.gt_s(x, s);
  if (op == GE) return i64x2.ge_s(x, s);
  if (op == LT) return i64x2.lt_s(x, s);
  if (op == LE) return i64x2.le_s(x, s);
  if (op == EQ) return i64x2.eq(x, s);
  return i64x2.ne(x, s);
}

// The loop for one operator, inlined per operator so the comparison is not re-chosen per element; with
// `cols` (a constant where it is inlined) the right side is the column at `other`, else the scalar s.
// @ts-ignore: decorator
@inline function compareF64Op(src: usize, other: usize, cols: bool, n: usize, s: f64, op: i32, dst: usize): void {
  const sv = f64x2.splat(s);
  const whole = n & ~15;
  for (let i: usize = 0; i < whole; i += 16) {
    const p = src + (i << 3);
    const q = other + (i << 3);
    const m = narrow64(
      cmpF64x2(op, v128.load(p), cols ? v128.load(q) : sv),
      cmpF64x2(op, v128.load(p, 16), cols ? v128.load(q, 16) : sv),
      cmpF64x2(op, v128.load(p, 32), cols ? v128.load(q, 32) : sv),
      cmpF64x2(op, v128.load(p, 48), cols ? v128.load(q, 48) : sv),
      cmpF64x2(op, v128.load(p, 64), cols ? v128.load(q, 64) : sv),
      cmpF64x2(op, v128.load(p, 80), cols ? v128.load(q, 80) : sv),
      cmpF64x2(op, v128.load(p, 96), cols ? v128.load(q, 96) : sv),
      cmpF64x2(op, v128.load(p, 112), cols ? v128.load(q, 112) : sv),
    );
    v128.store(dst + i, m);
  }
  for (let i = whole; i < n; i++) {
    const y = cols ? load<f64>(other + (i << 3)) : s;
    store<u8>(dst + i, <u8>cmp<f64>(op, load<f64>(src + (i << 3)), y));
  }
}

// compareF64Op with the operator made a constant, for either right side.
// @ts-ignore: decorator
@inline function compareF64Ops(src: usize, other: usize, cols: bool, n: usize, s: f64, op: i32, dst: usize): void {
  if (op == GT) compareF64Op(src, other, cols, n, s, GT, dst);
  else if (op == GE) compareF64Op(src, other, cols, n, s, GE, dst);
  else if (op == LT) compareF64Op(src, other, cols, n, s, LT, dst);
  else if (op == LE) compareF64Op(src, other, cols, n, s, LE, dst);
  else if (op == EQ) compareF64Op(src, other, cols, n, s, EQ, dst);
  else compareF64Op(src, other, cols, n, s, 5, dst);
}

/** dst[i] = src[i] op s over n float64 values, as 0/1 bytes (see the operator codes above). */
export function compareF64(src: usize, n: i32, s: f64, op: i32, dst: usize): void {
  compareF64Ops(src, 0, false, <usize>n, s, op, dst);
}

/** dst[i] = a[i] op b[i] over two float64 columns of n values, as 0/1 bytes. */
export function compareColumnsF64(a: usize, b: usize, n: i32, op: i32, dst: usize): void {
  compareF64Ops(a, b, true, <usize>n, 0, op, dst);
}

// @ts-ignore: decorator
@inline function compareI64Op(src: usize, n: usize, s: i64, op: i32, nat: bool, dst: usize): void {
  const sv = i64x2.splat(s);
  const natv = i64x2.splat(NAT);
  const whole = n & ~15;
  for (let i: usize = 0; i < whole; i += 16) {
    const p = src + (i << 3);
    let m = narrow64(
      cmpI64x2(op, v128.load(p), sv),
      cmpI64x2(op, v128.load(p, 16), sv),
      cmpI64x2(op, v128.load(p, 32), sv),
      cmpI64x2(op, v128.load(p, 48), sv),
      cmpI64x2(op, v128.load(p, 64), sv),
      cmpI64x2(op, v128.load(p, 80), sv),
      cmpI64x2(op, v128.load(p, 96), sv),
      cmpI64x2(op, v128.load(p, 112), sv),
    );
    if (nat) {
      const missing = narrow64(
        i64x2.eq(v128.load(p), natv),
        i64x2.eq(v128.load(p, 16), natv),
        i64x2.eq(v128.load(p, 32), natv),
        i64x2.eq(v128.load(p, 48), natv),
        i64x2.eq(v128.load(p, 64), natv),
        i64x2.eq(v128.load(p, 80), natv),
        i64x2.eq(v128.load(p, 96), natv),
        i64x2.eq(v128.load(p, 112), natv),
      );
      m = op == 5 ? v128.or(m, missing) : v128.andnot(m, missing);
    }
    v128.store(dst + i, m);
  }
  for (let i = whole; i < n; i++) {
    const x = load<i64>(src + (i << 3));
    const r = nat && x == NAT ? op == 5 : cmp<i64>(op, x, s);
    store<u8>(dst + i, <u8>r);
  }
}

/**
 * dst[i] = src[i] op s over n int64 values, as 0/1 bytes. With `nat` set the values are timestamps and
 * NaT compares false (ne: true), as pandas compares NaT.
 */
export function compareI64(src: usize, n: i32, s: i64, op: i32, nat: i32, dst: usize): void {
  const count = <usize>n;
  const t = nat != 0;
  if (op == GT) compareI64Op(src, count, s, GT, t, dst);
  else if (op == GE) compareI64Op(src, count, s, GE, t, dst);
  else if (op == LT) compareI64Op(src, count, s, LT, t, dst);
  else if (op == LE) compareI64Op(src, count, s, LE, t, dst);
  else if (op == EQ) compareI64Op(src, count, s, EQ, t, dst);
  else compareI64Op(src, count, s, 5, t, dst);
}

// @ts-ignore: decorator
@inline function compareI32Op(src: usize, n: usize, s: f64, op: i32, dst: usize): void {
  const sv = f64x2.splat(s);
  const whole = n & ~15;
  for (let i: usize = 0; i < whole; i += 16) {
    const p = src + (i << 2);
    const v0 = v128.load(p);
    const v1 = v128.load(p, 16);
    const v2 = v128.load(p, 32);
    const v3 = v128.load(p, 48);
    // Each int32 converts exactly to a double: lanes 0-1 directly, 2-3 after moving them down.
    const m = narrow64(
      cmpF64x2(op, f64x2.convert_low_i32x4_s(v0), sv),
      cmpF64x2(op, f64x2.convert_low_i32x4_s(i64x2.shuffle(v0, v0, 1, 1)), sv),
      cmpF64x2(op, f64x2.convert_low_i32x4_s(v1), sv),
      cmpF64x2(op, f64x2.convert_low_i32x4_s(i64x2.shuffle(v1, v1, 1, 1)), sv),
      cmpF64x2(op, f64x2.convert_low_i32x4_s(v2), sv),
      cmpF64x2(op, f64x2.convert_low_i32x4_s(i64x2.shuffle(v2, v2, 1, 1)), sv),
      cmpF64x2(op, f64x2.convert_low_i32x4_s(v3), sv),
      cmpF64x2(op, f64x2.convert_low_i32x4_s(i64x2.shuffle(v3, v3, 1, 1)), sv),
    );
    v128.store(dst + i, m);
  }
  for (let i = whole; i < n; i++) {
    store<u8>(dst + i, <u8>cmp<f64>(op, <f64>load<i32>(src + (i << 2)), s));
  }
}

/** dst[i] = f64(src[i]) op s over n int32 values (exact: every int32 is a double), as 0/1 bytes. */
export function compareI32(src: usize, n: i32, s: f64, op: i32, dst: usize): void {
  const count = <usize>n;
  if (op == GT) compareI32Op(src, count, s, GT, dst);
  else if (op == GE) compareI32Op(src, count, s, GE, dst);
  else if (op == LT) compareI32Op(src, count, s, LT, dst);
  else if (op == LE) compareI32Op(src, count, s, LE, dst);
  else if (op == EQ) compareI32Op(src, count, s, EQ, dst);
  else compareI32Op(src, count, s, 5, dst);
}

// ---- mask logic --------------------------------------------------------------------------------------

/** dst = a op b bytewise over n bytes (op: and, or, xor; not = a xor 1, b unused). dst may be a or b. */
export function maskLogic(a: usize, b: usize, n: i32, op: i32, dst: usize): void {
  const count = <usize>n;
  const whole = count & ~15;
  const one = i8x16.splat(1);
  if (op == 0) {
    for (let i: usize = 0; i < whole; i += 16) {
      v128.store(dst + i, v128.and(v128.load(a + i), v128.load(b + i)));
    }
    for (let i = whole; i < count; i++) store<u8>(dst + i, load<u8>(a + i) & load<u8>(b + i));
  } else if (op == 1) {
    for (let i: usize = 0; i < whole; i += 16) {
      v128.store(dst + i, v128.or(v128.load(a + i), v128.load(b + i)));
    }
    for (let i = whole; i < count; i++) store<u8>(dst + i, load<u8>(a + i) | load<u8>(b + i));
  } else if (op == 2) {
    for (let i: usize = 0; i < whole; i += 16) {
      v128.store(dst + i, v128.xor(v128.load(a + i), v128.load(b + i)));
    }
    for (let i = whole; i < count; i++) store<u8>(dst + i, load<u8>(a + i) ^ load<u8>(b + i));
  } else {
    for (let i: usize = 0; i < whole; i += 16) v128.store(dst + i, v128.xor(v128.load(a + i), one));
    for (let i = whole; i < count; i++) store<u8>(dst + i, load<u8>(a + i) ^ 1);
  }
}

/** Steps of 16 bytes before the i32 lanes of maskSum could overflow (each takes at most 4 × 255). */
// @ts-ignore: decorator
@inline const SUM_FLUSH: usize = 1 << 20;

/** The sum of n mask bytes (the count of 1s in a 0/1 mask), as execute.ts's takeMask counts. */
export function maskSum(src: usize, n: i32): f64 {
  const count = <usize>n;
  const whole = count & ~15;
  let total: u64 = 0;
  let i: usize = 0;
  while (i < whole) {
    const stop = min(whole, i + (SUM_FLUSH << 4));
    let acc = i32x4.splat(0);
    for (; i < stop; i += 16) {
      acc = i32x4.add(acc, i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(v128.load(src + i))));
    }
    total += <u64>i32x4.extract_lane(acc, 0) + <u64>i32x4.extract_lane(acc, 1);
    total += <u64>i32x4.extract_lane(acc, 2) + <u64>i32x4.extract_lane(acc, 3);
  }
  for (; i < count; i++) total += <u64>load<u8>(src + i);
  return <f64>total;
}

// Rows of width-T elements where the mask byte is 1, moved down over the others. Within a block of 16
// rows every row is written and the output position advances only for kept ones, so there is no branch
// to mispredict; a block whose mask is all 0 is skipped whole (a selective filter's mask mostly is).
// @ts-ignore: decorator
@inline function compactWidth<T>(src: usize, n: usize, mask: usize, dst: usize): usize {
  let j: usize = 0;
  let i: usize = 0;
  while (i < n) {
    if (i + 16 <= n && !v128.any_true(v128.load(mask + i))) {
      i += 16;
      continue;
    }
    const end = min(i + 16, n);
    for (; i < end; i++) {
      store<T>(dst + j * sizeof<T>(), load<T>(src + i * sizeof<T>()));
      j += <usize>(load<u8>(mask + i) == 1);
    }
  }
  return j;
}

/**
 * Copies the elements (`width` = 1, 2, 4 or 8 bytes) of src whose mask byte is 1 to dst, in order, and
 * returns how many (execute.ts keeps rows whose mask is exactly 1). dst needs room for one element more
 * than it keeps (the last skipped row is written there).
 */
export function maskCompact(src: usize, n: i32, width: i32, mask: usize, dst: usize): i32 {
  const count = <usize>n;
  if (width == 8) return <i32>compactWidth<u64>(src, count, mask, dst);
  if (width == 4) return <i32>compactWidth<u32>(src, count, mask, dst);
  if (width == 2) return <i32>compactWidth<u16>(src, count, mask, dst);
  return <i32>compactWidth<u8>(src, count, mask, dst);
}

// ---- float64 arithmetic ------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function arithF64x2(op: i32, x: v128, y: v128): v128 {
  if (op == 0) return f64x2.add(x, y);
  if (op == 1) return f64x2.sub(x, y);
  if (op == 2) return f64x2.mul(x, y);
  return f64x2.div(x, y);
}

// @ts-ignore: decorator
@inline function arithF64(op: i32, x: f64, y: f64): f64 {
  if (op == 0) return x + y;
  if (op == 1) return x - y;
  if (op == 2) return x * y;
  return x / y;
}

// @ts-ignore: decorator
@inline function columnsOp(a: usize, b: usize, n: usize, op: i32, dst: usize): void {
  const whole = n & ~1;
  for (let i: usize = 0; i < whole; i += 2) {
    const o = i << 3;
    v128.store(dst + o, arithF64x2(op, v128.load(a + o), v128.load(b + o)));
  }
  if (whole < n) {
    const o = whole << 3;
    store<f64>(dst + o, arithF64(op, load<f64>(a + o), load<f64>(b + o)));
  }
}

/** dst[i] = a[i] op b[i] over n float64 values (IEEE arithmetic, the same in every lane). */
export function arithColumns(a: usize, b: usize, n: i32, op: i32, dst: usize): void {
  const count = <usize>n;
  if (op == 0) columnsOp(a, b, count, 0, dst);
  else if (op == 1) columnsOp(a, b, count, 1, dst);
  else if (op == 2) columnsOp(a, b, count, 2, dst);
  else columnsOp(a, b, count, 3, dst);
}

// @ts-ignore: decorator
@inline function scalarOp(a: usize, s: f64, n: usize, op: i32, swapped: bool, dst: usize): void {
  const sv = f64x2.splat(s);
  const whole = n & ~1;
  for (let i: usize = 0; i < whole; i += 2) {
    const o = i << 3;
    const x = v128.load(a + o);
    v128.store(dst + o, swapped ? arithF64x2(op, sv, x) : arithF64x2(op, x, sv));
  }
  if (whole < n) {
    const o = whole << 3;
    const x = load<f64>(a + o);
    store<f64>(dst + o, swapped ? arithF64(op, s, x) : arithF64(op, x, s));
  }
}

/** dst[i] = a[i] op s (or s op a[i] when `swapped`) over n float64 values. */
export function arithScalar(a: usize, s: f64, n: i32, op: i32, swapped: i32, dst: usize): void {
  const count = <usize>n;
  const sw = swapped != 0;
  if (op == 0) scalarOp(a, s, count, 0, false, dst);
  else if (op == 2) scalarOp(a, s, count, 2, false, dst);
  else if (op == 1) {
    if (sw) scalarOp(a, s, count, 1, true, dst);
    else scalarOp(a, s, count, 1, false, dst);
  } else if (sw) scalarOp(a, s, count, 3, true, dst);
  else scalarOp(a, s, count, 3, false, dst);
}

// ---- partial aggregates by group ---------------------------------------------------------------------
//
// State per group g (arrays of `groups` f64 or i64, set up by groupReset): count[g] counts the rows with a
// value, and by aggregation
//   sum (float):  a = sum, b = Kahan compensation        sum (int64): a = wrapping int64 sum
//   min, max:     a = value                               first, last: a = value, b = row position (-1: none)
// exactly aggregate.ts's AggState. A row is skipped when its group is -1 or its value missing (NaN for
// floats; NaT for int64 when `nat`). "Seen" for min/max is count[g] > 0, which the same pass keeps.
// The fold kernels add rows to the state, so a batch may be folded a window of rows at a time, in row
// order (`rowOffset` is the window's first row position): Kahan sums then see the rows in the same
// order as aggregate.ts's one loop. Last takes every later row it meets, which ends where aggregate.ts's
// backward scan starts.

// @ts-ignore: decorator
@inline const COUNT: i32 = 0;
// @ts-ignore: decorator
@inline const SUM: i32 = 1;
// @ts-ignore: decorator
@inline const MIN: i32 = 2;
// @ts-ignore: decorator
@inline const MAX: i32 = 3;
// @ts-ignore: decorator
@inline const FIRST: i32 = 4;
// @ts-ignore: decorator
@inline const LAST: i32 = 5;
// @ts-ignore: decorator
@inline const MEAN_I64: i32 = 6;

/** Empty state of aggregation `kind` for `groups` groups: zeros, and row positions -1 for first/last. */
export function groupReset(kind: i32, count: usize, a: usize, b: usize, groups: i32): void {
  const g = <usize>groups;
  const bytes = g << 3;
  memory.fill(count, 0, bytes);
  memory.fill(a, 0, bytes);
  if (kind == FIRST || kind == LAST) {
    for (let i: usize = 0; i < g; i++) store<f64>(b + (i << 3), -1);
  } else memory.fill(b, 0, bytes);
}

// Adds x to group g's compensated sum: aggregate.ts's Kahan step, the same operations in the same order.
// @ts-ignore: decorator
@inline function kahan(g: usize, x: f64, a: usize, b: usize): void {
  const s = load<f64>(a + g);
  const y = x - load<f64>(b + g);
  const t = s + y;
  const c = t - s - y;
  // An infinity makes the compensation NaN: pandas resets it (GH#53606), as aggregate.ts does.
  store<f64>(b + g, select<f64>(c, 0, c == c));
  store<f64>(a + g, t);
}

// The loops of groupF64 and groupI64 for one aggregation, inlined per `kind` so the choice is made once.
// @ts-ignore: decorator
@inline function foldF64(
  kind: i32,
  src: usize,
  gids: usize,
  n: usize,
  count: usize,
  a: usize,
  b: usize,
  rowOffset: f64,
): void {
  for (let i: usize = 0; i < n; i++) {
    const gid = load<i32>(gids + (i << 2));
    const x = load<f64>(src + (i << 3));
    if (gid < 0 || x != x) continue;
    const g = <usize>gid << 3;
    const c = load<f64>(count + g);
    store<f64>(count + g, c + 1);
    if (kind == SUM) kahan(g, x, a, b);
    else if (kind == MIN) {
      if (c == 0 || x < load<f64>(a + g)) store<f64>(a + g, x);
    } else if (kind == MAX) {
      if (c == 0 || x > load<f64>(a + g)) store<f64>(a + g, x);
    } else if (kind == FIRST) {
      if (load<f64>(b + g) < 0) {
        store<f64>(b + g, rowOffset + <f64>i);
        store<f64>(a + g, x);
      }
    } else if (kind == LAST) {
      store<f64>(b + g, rowOffset + <f64>i);
      store<f64>(a + g, x);
    }
  }
}

// @ts-ignore: decorator
@inline function foldI64(
  kind: i32,
  nat: bool,
  src: usize,
  gids: usize,
  n: usize,
  count: usize,
  a: usize,
  b: usize,
  rowOffset: f64,
): void {
  for (let i: usize = 0; i < n; i++) {
    const gid = load<i32>(gids + (i << 2));
    const x = load<i64>(src + (i << 3));
    if (gid < 0 || (nat && x == NAT)) continue;
    const g = <usize>gid << 3;
    const c = load<f64>(count + g);
    store<f64>(count + g, c + 1);
    if (kind == SUM) store<i64>(a + g, load<i64>(a + g) + x);
    else if (kind == MEAN_I64) kahan(g, <f64>x, a, b);
    else if (kind == MIN) {
      if (c == 0 || x < load<i64>(a + g)) store<i64>(a + g, x);
    } else if (kind == MAX) {
      if (c == 0 || x > load<i64>(a + g)) store<i64>(a + g, x);
    } else if (kind == FIRST) {
      if (load<f64>(b + g) < 0) {
        store<f64>(b + g, rowOffset + <f64>i);
        store<i64>(a + g, x);
      }
    } else if (kind == LAST) {
      store<f64>(b + g, rowOffset + <f64>i);
      store<i64>(a + g, x);
    }
  }
}

/**
 * Folds n float64 values at src, grouped by the i32 group numbers at gids, into the state of aggregation
 * `kind` (see above; set up by groupReset); `rowOffset` is the first row's position (first, last).
 */
export function groupF64(
  kind: i32,
  src: usize,
  gids: usize,
  n: i32,
  count: usize,
  a: usize,
  b: usize,
  rowOffset: f64,
): void {
  const rows = <usize>n;
  if (kind == COUNT) foldF64(COUNT, src, gids, rows, count, a, b, rowOffset);
  else if (kind == SUM) foldF64(SUM, src, gids, rows, count, a, b, rowOffset);
  else if (kind == MIN) foldF64(MIN, src, gids, rows, count, a, b, rowOffset);
  else if (kind == MAX) foldF64(MAX, src, gids, rows, count, a, b, rowOffset);
  else if (kind == FIRST) foldF64(FIRST, src, gids, rows, count, a, b, rowOffset);
  else foldF64(LAST, src, gids, rows, count, a, b, rowOffset);
}

/**
 * `groupF64` for int64 values (int64, uint64 bits for count/sum/first/last, timestamps with `nat` set):
 * sums wrap to 64 bits as numpy's do; MEAN_I64 sums the values as doubles with compensation instead.
 */
export function groupI64(
  kind: i32,
  src: usize,
  gids: usize,
  n: i32,
  nat: i32,
  count: usize,
  a: usize,
  b: usize,
  rowOffset: f64,
): void {
  const rows = <usize>n;
  if (nat != 0) {
    // Timestamps: NaT is missing. They are never summed, so only these kinds occur.
    if (kind == COUNT) foldI64(COUNT, true, src, gids, rows, count, a, b, rowOffset);
    else if (kind == MIN) foldI64(MIN, true, src, gids, rows, count, a, b, rowOffset);
    else if (kind == MAX) foldI64(MAX, true, src, gids, rows, count, a, b, rowOffset);
    else if (kind == FIRST) foldI64(FIRST, true, src, gids, rows, count, a, b, rowOffset);
    else if (kind == LAST) foldI64(LAST, true, src, gids, rows, count, a, b, rowOffset);
    else if (kind == SUM) foldI64(SUM, true, src, gids, rows, count, a, b, rowOffset);
    else foldI64(MEAN_I64, true, src, gids, rows, count, a, b, rowOffset);
  } else if (kind == COUNT) foldI64(COUNT, false, src, gids, rows, count, a, b, rowOffset);
  else if (kind == SUM) foldI64(SUM, false, src, gids, rows, count, a, b, rowOffset);
  else if (kind == MEAN_I64) foldI64(MEAN_I64, false, src, gids, rows, count, a, b, rowOffset);
  else if (kind == MIN) foldI64(MIN, false, src, gids, rows, count, a, b, rowOffset);
  else if (kind == MAX) foldI64(MAX, false, src, gids, rows, count, a, b, rowOffset);
  else if (kind == FIRST) foldI64(FIRST, false, src, gids, rows, count, a, b, rowOffset);
  else foldI64(LAST, false, src, gids, rows, count, a, b, rowOffset);
}
