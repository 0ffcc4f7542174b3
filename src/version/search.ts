/** The first position in ascending `values` holding a value ≥ `t` (`values.length` when none does). */
export function firstAtOrAfter(values: BigInt64Array, t: bigint): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
