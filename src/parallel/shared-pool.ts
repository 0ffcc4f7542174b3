import type { Remote } from "comlink";
import { type Pool, type WorkerFactory, WorkerPool } from "./pool.ts";

/** The most workers one pool holds (the most an `Arctic` may ask for). */
export const MAX_WORKERS = 64;

/**
 * How long workers no `Arctic` uses stay, idle, before they end: long enough for a store closed and
 * opened again (or the next store of a batch job) to find them loaded, short enough that a long-lived
 * process that is done with floe gets their memory back (tens of MB each: a V8 isolate, Wasm memory
 * grown to the largest segment).
 */
const IDLE_WORKERS_END_MS = 10_000;

/** Calls `fn` after `ms` without keeping the process alive meanwhile; returns how to cancel it. */
export type UnrefTimer = (fn: () => void, ms: number) => () => void;

interface Shared<T> {
  pool: WorkerPool<T>;
  /** Leases not yet released. */
  users: number;
  /** Open leases per store path: the workers keep a handle on a path while one is open. */
  paths: Map<string, number>;
  /** Cancels the end of the idle workers, set when the last lease was released. */
  idle?: () => void;
}

/**
 * The process's pools: one per worker factory (that is, per runtime), shared by every `Arctic`. A new
 * `Arctic` finds the workers an earlier one started already loaded, so a store closed and opened again
 * reads at full speed at once instead of waiting for new workers (issue 21: 0.36-0.45x of raw LMDB).
 */
const shared = new Map<WorkerFactory, Shared<unknown>>();

/** One user's share of the process's pool: at most `size` workers, given back by `release()`. */
export interface PoolLease<T> {
  pool: Pool<T>;
  /**
   * Gives the share back. When no lease on `path` is left, every worker first drops its handle on that
   * store (`dropStore`), so the store is really closed. When no lease at all is left, the workers stay,
   * idle, for `IDLE_WORKERS_END_MS`, ready for the next `Arctic`, where the runtime can keep them and
   * the timer from holding the process alive (unref); elsewhere (browsers, Deno's Web Workers) they end
   * at once.
   */
  release(): Promise<void>;
}

/**
 * Leases up to `size` workers of the process's pool made by `factory`; `path` names the store whose
 * handle the workers open themselves (null: none, as for mem://); `unrefTimer` is the runtime's, if it
 * has one.
 */
export function leasePool<T>(options: {
  factory: WorkerFactory;
  size: number;
  path: string | null;
  dropStore: (worker: Remote<T>, path: string) => Promise<unknown>;
  unrefTimer?: UnrefTimer;
}): PoolLease<T> {
  const { factory, size, path, dropStore, unrefTimer } = options;
  let entry = shared.get(factory) as Shared<T> | undefined;
  if (!entry) {
    entry = { pool: new WorkerPool<T>(MAX_WORKERS, factory), users: 0, paths: new Map() };
    shared.set(factory, entry as Shared<unknown>);
  }
  const own = entry;
  own.users++;
  own.idle?.();
  own.idle = undefined;
  if (path !== null) own.paths.set(path, (own.paths.get(path) ?? 0) + 1);
  let released = false;
  return {
    pool: own.pool.view(size),
    async release() {
      if (released) return;
      released = true;
      if (path !== null) {
        const left = (own.paths.get(path) ?? 1) - 1;
        if (left > 0) own.paths.set(path, left);
        else {
          own.paths.delete(path);
          await own.pool.each((w) => dropStore(w, path)).catch(() => {});
        }
      }
      if (--own.users > 0) return;
      const end = () => {
        if (shared.get(factory) === own) shared.delete(factory);
        return own.pool.close();
      };
      if (own.pool.unrefs && unrefTimer) {
        own.idle = unrefTimer(() => {
          if (own.users === 0) void end();
        }, IDLE_WORKERS_END_MS);
      } else await end();
    },
  };
}
