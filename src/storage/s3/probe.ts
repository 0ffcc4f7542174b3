/**
 * Finds out whether an S3 server enforces conditional writes, before floe trusts its version chain to
 * them. Some servers (s3rver, old MinIO, some gateways) accept `If-None-Match` / `If-Match` and ignore
 * them: every writer "wins" and versions are silently lost. Better to know at open and refuse writes.
 */

import type { S3Client } from "./client.ts";

/** What the probe found. */
export interface ConditionalWriteSupport {
  /** A second create-only PUT of an existing key was refused (412 or 409), and of two racing ones one won. */
  createOnly: boolean;
  /** A PUT with a stale ETag was refused, and one with the current ETag accepted. */
  compareAndSwap: boolean;
  /**
   * The form of `If-Match` the server honours (RGW: unquoted only; AWS: both). Undefined when neither
   * was honoured.
   */
  ifMatchQuoting?: "unquoted" | "quoted";
  /** Why the server falls short, for the error that refuses writes; undefined when it does not. */
  shortcoming?: string;
}

/**
 * Probes with keys of its own under `prefix` (removed afterwards): creates one create-only twice, the
 * second must be refused, and races two create-only PUTs of another, exactly one must win; then compare-and-swaps it with a stale ETag (must be refused) and the current
 * one, unquoted and quoted (one must be accepted). Sets the client's `ifMatchQuoting` to the form that
 * worked.
 */
export async function probeConditionalWrites(
  client: S3Client,
  prefix: string,
): Promise<ConditionalWriteSupport> {
  const key = `${prefix}probe/conditional-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  const bytes = (text: string) => new TextEncoder().encode(text);
  try {
    const first = await client.put(key, bytes("first"), { condition: { ifNoneMatch: "*" } });
    if (!first.written) {
      // A fresh random key "already exists": the server answers conditions without meaning them.
      return {
        createOnly: false,
        compareAndSwap: false,
        shortcoming: "it refused a create-only PUT of a new key",
      };
    }
    const second = await client.put(key, bytes("second"), { condition: { ifNoneMatch: "*" } });
    // Two racing creates of a fresh key: a server that checks existence outside its write lock lets both win.
    const racing = await Promise.all(
      ["a", "b"].map((w) => client.put(`${key}-race`, bytes(w), { condition: { ifNoneMatch: "*" } })),
    );
    const raceWinners = racing.filter((o) => o.written).length;
    const createOnly = !second.written && raceWinners === 1;
    const current = second.written ? second.etag : first.etag;

    const stale = await client.put(key, bytes("stale"), { condition: { ifMatch: "0".repeat(32) } });
    let ifMatchQuoting: "unquoted" | "quoted" | undefined;
    const previous = client.ifMatchQuoting;
    if (!stale.written) {
      for (const form of ["unquoted", "quoted"] as const) {
        client.ifMatchQuoting = form;
        const swapped = await client.put(key, bytes(`swap-${form}`), { condition: { ifMatch: current } });
        if (swapped.written) {
          ifMatchQuoting = form;
          break;
        }
      }
    }
    client.ifMatchQuoting = ifMatchQuoting ?? previous;
    const compareAndSwap = ifMatchQuoting !== undefined;
    const shortcoming = second.written
      ? "it accepted a create-only PUT (If-None-Match: *) of a key that already existed"
      : raceWinners !== 1
        ? `it let ${raceWinners} of 2 concurrent create-only PUTs of one key succeed`
        : stale.written
          ? "it accepted a PUT whose If-Match named an ETag the object does not have"
          : !compareAndSwap
            ? "it refused a PUT whose If-Match named the object's current ETag, quoted and unquoted"
            : undefined;
    return { createOnly, compareAndSwap, ifMatchQuoting, shortcoming };
  } finally {
    await client.deleteMany([key, `${key}-race`]).catch(() => {});
  }
}
