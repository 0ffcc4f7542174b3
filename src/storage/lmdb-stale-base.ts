import type { RootDatabase } from "lmdb";
import { lmdbModule } from "./lmdb-module.ts";

/**
 * A guard against a bug in the LMDB that lmdb-js bundles (every release up to 3.5.6 at least): opening an
 * environment copies the newest transaction id the opener read from the data file into the lock file's
 * shared "last committed transaction" counter. If another process commits between that read and that
 * copy, the counter goes back by one. The next write transaction, in any process, then starts from the
 * second-newest state and, when it commits, replaces the newest commit: that commit is lost, and pages it
 * freed or took may be reused while still referenced (later `MDB_PROBLEM: mdb_page_touch no parent`).
 * Upstream LMDB fixed this in 0.9.29 (ITS#9496) by copying the id only when opening a previous snapshot.
 *
 * The damage is visible from inside the transaction before anything is written: its id should be one past
 * the newest meta page's, and on a rolled-back counter it is not. `onNewestBase` checks that and aborts
 * such a transaction instead of committing it. Opening the environment again, with nothing committing
 * meanwhile (every floe writer aborts while the counter is behind), copies the right id back.
 */

interface EnvInfo {
  lastTxnId: number;
}

/**
 * True when the write transaction in progress on `db` starts from an older state than the newest commit
 * (the shared counter was rolled back); committing it would lose that commit. Call inside a write
 * transaction, before writing.
 */
function onStaleBase(db: RootDatabase<Uint8Array, string>): boolean {
  const env = (db as unknown as { env: { info(): EnvInfo } }).env;
  return db.getWriteTxnId() <= env.info().lastTxnId;
}

/** What `onNewestBase` returns when it ran nothing. */
export const STALE = Symbol("stale base");

/**
 * Runs `fn` in a write transaction of `db` and returns what it returns, unless the transaction starts
 * from a rolled-back base, where committing would replace the newest commit: then it aborts without
 * running `fn` and returns `STALE`.
 */
export function onNewestBase<T>(db: RootDatabase<Uint8Array, string>, fn: () => T): T | typeof STALE {
  let stale = false;
  const result = db.transactionSync(() => {
    if (!onStaleBase(db)) return fn();
    stale = true;
    return lmdbModule().ABORT;
  });
  return stale ? STALE : (result as T);
}

/** Blocks the calling thread for `ms` milliseconds (LMDB calls are synchronous; so is waiting between them). */
export function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
