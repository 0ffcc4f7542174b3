/**
 * Resample buckets as pandas draws them for fixed-length rules: bucket k covers
 * `[origin + k·rule, origin + (k+1)·rule)` when closed left, `(…, …]` when closed right, and is labelled
 * by its left or right edge. The origin is resolved once for the whole query (it may depend on the
 * first or last timestamp), so per-batch bucketing needs only `origin` and the rule.
 */

import { InvalidArgumentError } from "../errors.ts";
import { NAT } from "../frame/timestamps.ts";
import type { GroupKeys, KeyValue } from "./group-keys.ts";
import type { ResampleSpec } from "./query-builder.ts";

const DAY = 86_400_000_000_000n;
/** More buckets than this in one answer is surely a mistaken rule (1ns over a year), not a query. */
const MAX_BUCKETS = 100_000_000n;

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** The first and last timestamps that are not NaT, or null when there are none. */
export function timeBounds(ts: BigInt64Array): { first: bigint; last: bigint } | null {
  let first: bigint | null = null;
  let last: bigint | null = null;
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i];
    if (t === NAT) continue;
    if (first === null || t < first) first = t;
    if (last === null || t > last) last = t;
  }
  return first === null || last === null ? null : { first, last };
}

/**
 * The origin of the buckets (pandas' `origin` plus `offset`), given the first and last timestamps of
 * the rows being resampled. For "end" and "end_day" only the origin modulo the rule matters, which is
 * the end itself.
 */
export function resolveOrigin(spec: ResampleSpec, bounds: { first: bigint; last: bigint }): bigint {
  const o = spec.origin;
  let origin: bigint;
  if (typeof o === "object") origin = o.ns;
  else if (o === "epoch") origin = 0n;
  else if (o === "start") origin = bounds.first;
  else if (o === "start_day") origin = floorDiv(bounds.first, DAY) * DAY;
  else if (o === "end") origin = bounds.last;
  else origin = -floorDiv(-bounds.last, DAY) * DAY; // end_day: the next midnight (ceil)
  return origin + spec.offsetNs;
}

/**
 * Each row's bucket: `gids[i]` numbers row i's bucket within this batch (-1 for NaT, which pandas
 * drops), and the keys are the bucket numbers k (bigint) relative to `origin`. `sorted` promises the
 * timestamps are in order, so each bucket's rows are found by bisection.
 */
export function bucketRows(
  ts: BigInt64Array,
  spec: ResampleSpec,
  origin: bigint,
  sorted = false,
): { gids: Int32Array; keys: GroupKeys } {
  const n = ts.length;
  const f = spec.ruleNs;
  const right = spec.closed === "right";
  const gids = new Int32Array(n);
  const lookup = new Map<KeyValue, number>();
  const ks: KeyValue[] = [];
  // The last bucket's bounds: sorted input stays in it for many rows, so division is rare.
  let lo = 1n;
  let hi = 0n;
  let gid = -1;
  for (let i = 0; i < n; i++) {
    const t = ts[i];
    if (t === NAT) {
      gids[i] = -1;
      continue;
    }
    const inside = right ? t > lo && t <= hi : t >= lo && t < hi;
    if (!inside) {
      const d = t - origin;
      // closed right: (start, start + f] holds t when start = ceil(d / f)·f - f.
      const k = right ? -floorDiv(-d, f) - 1n : floorDiv(d, f);
      lo = origin + k * f;
      hi = lo + f;
      const known = lookup.get(k);
      if (known === undefined) {
        gid = ks.length;
        lookup.set(k, gid);
        ks.push(k);
      } else gid = known;
    }
    gids[i] = gid;
    if (sorted) {
      // Sorted rows: the bucket's last row found by bisection, not by reading each timestamp (a BigInt).
      let a = i + 1;
      let b = n;
      while (a < b) {
        const m = (a + b) >>> 1;
        const x = ts[m];
        if (right ? x <= hi : x < hi) a = m + 1;
        else b = m;
      }
      gids.fill(gid, i + 1, a);
      i = a - 1;
    }
  }
  return { gids, keys: { dtypes: ["int64"], columns: [ks] } };
}

/**
 * The buckets of the answer in time order, with their labels: `order[r]` is the group holding bucket
 * r, or -1 for an empty bucket that pandas shows (count 0, sum 0, others NaN).
 */
export function bucketOrder(
  keys: GroupKeys,
  spec: ResampleSpec,
  origin: bigint,
): { order: Int32Array; labels: BigInt64Array } {
  const ks = keys.columns[0] as bigint[];
  const sorted = ks.map((k, g) => [k, g] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const shift = spec.label === "right" ? 1n : 0n;
  const label = (k: bigint) => origin + (k + shift) * spec.ruleNs;
  if (spec.emptyBuckets === "drop" || sorted.length === 0) {
    return {
      order: Int32Array.from(sorted, (e) => e[1]),
      labels: BigInt64Array.from(sorted, (e) => label(e[0])),
    };
  }
  const first = sorted[0][0];
  const span = sorted[sorted.length - 1][0] - first + 1n;
  if (span > MAX_BUCKETS) {
    throw new InvalidArgumentError(
      `resample: rule ${JSON.stringify(spec.rule)} makes ${span} buckets between the first and last rows; ` +
        'use a longer rule, or emptyBuckets: "drop" to return only the buckets that hold rows.',
    );
  }
  const n = Number(span);
  const order = new Int32Array(n).fill(-1);
  const labels = new BigInt64Array(n);
  for (let r = 0; r < n; r++) labels[r] = label(first + BigInt(r));
  for (const [k, g] of sorted) order[Number(k - first)] = g;
  return { order, labels };
}
