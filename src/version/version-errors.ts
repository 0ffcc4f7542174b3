import { type FloeError, SymbolNotFoundError, VersionNotFoundError } from "../errors.ts";
import type { SnapshotRecord, VersionRecord } from "./records.ts";

/**
 * The errors both version engines give when a symbol or version is not there, worded once: what was
 * asked, what is live, and which snapshot still holds a deleted match.
 */

/** `symbol` has no version at all. */
export function symbolNotFoundError(lib: string, symbol: string): SymbolNotFoundError {
  return new SymbolNotFoundError(
    `Symbol '${symbol}' does not exist in library '${lib}' (never written, or deleted). ` +
      "Call listSymbols() to see what is stored.",
  );
}

/** A snapshot does not hold `symbol`. */
export function notInSnapshotError(lib: string, symbol: string, snapshot: string): SymbolNotFoundError {
  return new SymbolNotFoundError(
    `Snapshot '${snapshot}' of library '${lib}' does not hold '${symbol}'. ` +
      `Call listSymbols({ snapshot: '${snapshot}' }) to see what it holds.`,
  );
}

/**
 * No live version of `symbol` matches (`what` describes the one asked for): `SymbolNotFoundError` when
 * it has no live version at all (`live` empty), else `VersionNotFoundError`; either names the snapshots
 * that hold a deleted match (`held`), through which it reads.
 */
export function noLiveVersionError(
  lib: string,
  symbol: string,
  what: string,
  live: readonly number[],
  snapshots: ReadonlyMap<string, SnapshotRecord>,
  held: (pinned: { record: VersionRecord }) => boolean,
): FloeError {
  const holders = [...snapshots]
    .filter(([, snap]) => snap.pinned.some((p) => p.symbol === symbol && held(p)))
    .map(([name]) => name);
  const through =
    holders.length > 0
      ? ` A deleted version that matches is held by snapshot ${holders.map((n) => `'${n}'`).join(", ")}; ` +
        `read it with asOf: '${holders[0]}'.`
      : "";
  if (live.length === 0) {
    return new SymbolNotFoundError(
      `Symbol '${symbol}' has no live version in library '${lib}' (never written, or deleted), so no ` +
        `version ${what}.${through || " Call listSymbols() to see what is stored."}`,
    );
  }
  return new VersionNotFoundError(
    `Symbol '${symbol}' in library '${lib}' has no version ${what} that is live; its live versions are ` +
      `${live.join(", ")}.${through || ` Call listVersions('${symbol}') to see them.`}`,
  );
}
