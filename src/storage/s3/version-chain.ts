/**
 * A version chain on an object store with conditional writes: numbered records `<prefix>0000000000`,
 * `…0001`, … each created once with `If-None-Match: *`, so the first writer to create number N owns
 * it and no number is ever written twice. A head object (`hintKey`) says roughly where the newest is;
 * it only saves requests, so a stale or lost head never costs correctness.
 *
 * This is the protocol `docs/s3-design.md` (section 3) proposes for floe's version records, standing
 * alone so it can be tested with many real processes before the version engine is fitted to it.
 * Records are never deleted (a deletion is a tombstone written over the record), which keeps the
 * numbers dense: 0..newest all exist, so the newest can be found by galloping from the hint.
 */

import type { S3Client } from "./client.ts";

/** Where a chain keeps its records and its hint. */
export interface ChainKeys {
  /** The records' common prefix, e.g. `lib/V/sym/`. */
  prefix: string;
  /** The hint's key, outside `prefix`, e.g. `lib/R/sym`. */
  hintKey: string;
}

const pad = (n: number) => String(n).padStart(10, "0");

/** The key of record `n`. */
export function recordKey(keys: ChainKeys, n: number): string {
  return `${keys.prefix}${pad(n)}`;
}

/** The newest record number, or -1 when the chain is empty. Usually one GET and one HEAD. */
export async function newestVersion(client: S3Client, keys: ChainKeys): Promise<number> {
  const hint = await readHint(client, keys);
  const exists = async (n: number) => (await client.head(recordKey(keys, n))) !== undefined;
  // Gallop forward from the hint to a number that does not exist, then bisect: numbers are dense.
  let low = hint.n; // exists (or -1)
  let step = 1;
  let high = low + step;
  while (await exists(high)) {
    low = high;
    step *= 2;
    high = low + step;
  }
  while (high - low > 1) {
    const mid = low + Math.floor((high - low) / 2);
    if (await exists(mid)) low = mid;
    else high = mid;
  }
  return low;
}

/**
 * Creates the next record: `make(n)` gives the bytes for number n (it may embed n). On a lost race
 * another writer took n; the newest is read again and the next number tried, up to `maxRetries`
 * times. Returns the number this writer created. Moves the hint forward afterwards (best effort).
 */
export async function commitVersion(
  client: S3Client,
  keys: ChainKeys,
  make: (n: number) => Uint8Array | Promise<Uint8Array>,
  options: { maxRetries?: number } = {},
): Promise<number> {
  const maxRetries = options.maxRetries ?? 100;
  let n = (await newestVersion(client, keys)) + 1;
  for (let attempt = 0; attempt <= maxRetries; attempt++) {
    const outcome = await client.put(recordKey(keys, n), await make(n), { condition: { ifNoneMatch: "*" } });
    if (outcome.written) {
      await advanceHint(client, keys, n);
      return n;
    }
    // Lost number n: the newest is at least n now. Re-reading (rather than n + 1) skips every number
    // taken meanwhile in a few requests instead of one lost race each.
    n = Math.max(n + 1, (await newestVersion(client, keys)) + 1);
  }
  throw new Error(
    `commitVersion ${keys.prefix}: lost the race for a version number ${maxRetries + 1} times; too many ` +
      "writers on one symbol at once, retry later.",
  );
}

async function readHint(client: S3Client, keys: ChainKeys): Promise<{ n: number; etag?: string }> {
  const got = await client.get(keys.hintKey);
  if (!got) return { n: -1 };
  const n = Number(new TextDecoder().decode(got.body));
  return { n: Number.isSafeInteger(n) && n >= -1 ? n : -1, etag: got.etag };
}

// Moves the hint to n unless it is already there or beyond; a lost swap re-reads and tries again.
async function advanceHint(client: S3Client, keys: ChainKeys, n: number): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const hint = await readHint(client, keys);
    if (hint.n >= n) return;
    const body = new TextEncoder().encode(String(n));
    const outcome = await client.put(keys.hintKey, body, {
      condition: hint.etag === undefined ? { ifNoneMatch: "*" } : { ifMatch: hint.etag },
    });
    if (outcome.written) return;
  }
  // Still behind after five lost swaps: others are moving it forward; readers gallop past a stale one.
}
