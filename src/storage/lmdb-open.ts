import type { openAsClass, RootDatabase, RootDatabaseOptionsWithPath } from "lmdb";
import { StorageError } from "../errors.ts";
import { lmdbModule } from "./lmdb-module.ts";
import { pause } from "./lmdb-stale-base.ts";

/**
 * A guard against a second bug in the LMDB that lmdb-js bundles (3.5.6 at least): when the last process
 * with a store open closes it, LMDB destroys the robust mutexes in the shared lock file. A process that
 * opens the store at that moment waits on the lock file's shared lock while they are destroyed, then
 * maps a lock file whose mutexes are dead: every transaction it begins fails with EINVAL ("Invalid
 * argument"), and so does every process that opens after it, until all of them have closed the store and
 * one opens it alone, which initialises the mutexes again. Upstream LMDB removed the destroy in 0.9.32
 * (ITS#10095).
 *
 * lmdb-js makes it worse: when creating the root database fails, `open` leaves the environment open, so a
 * retry in the same process reuses the dead mutexes, and the failed write transaction prints "No current
 * read transaction available" on stderr. So floe opens the environment, checks the mutexes with a read
 * transaction (which fails cleanly with EINVAL), and on that failure closes the environment again and
 * retries after a short random pause, giving every process so caught the chance to close, and one of
 * them to open the store alone.
 */

/** How long an open keeps retrying when it finds the store's shared mutexes destroyed. */
const DEAD_MUTEX_RETRY_MS = 5000;

const EINVAL = 22;

type Root = RootDatabase<Uint8Array, string>;
type RootClass = ReturnType<typeof openAsClass<Uint8Array, string>>;

/** What lmdb-js's root database class offers that floe uses without an instance (see `openLmdbRoot`). */
interface RootPrototype {
  useReadTransaction?: (this: unknown) => { done(): void };
  close(this: unknown): unknown;
}

/**
 * Opens the LMDB environment `options` describe and returns its root database, as lmdb-js's `open` does,
 * but survives finding the store's shared mutexes destroyed by a process closing it at the same moment
 * (see above): the environment is closed again and the open retried for up to 5 s. `checked: true` skips
 * the check, for an open made while another handle in this process keeps the environment alive.
 */
export function openLmdbRoot(options: RootDatabaseOptionsWithPath & { checked?: boolean }): Root {
  const { checked, ...lmdbOptions } = options;
  const start = Date.now();
  for (let attempt = 0; ; attempt++) {
    const Root = lmdbModule().openAsClass<Uint8Array, string>({ ...lmdbOptions });
    try {
      if (!checked) checkMutexes(lmdbOptions);
      // lmdb-js types the class with a method named `new` rather than a constructor.
      const Construct = Root as unknown as new (name: null, options: object) => Root;
      return new Construct(null, { ...lmdbOptions, isRoot: true });
    } catch (err) {
      closeEnvironment(Root);
      if (!deadMutex(err)) throw err;
      if (Date.now() - start > DEAD_MUTEX_RETRY_MS) {
        throw new StorageError(
          `Cannot open LMDB store at '${options.path}': its lock file's mutexes were destroyed by a process ` +
            "that closed the store as this one opened it (a known bug in the LMDB that lmdb-js bundles, fixed " +
            `upstream as ITS#10095), and ${DEAD_MUTEX_RETRY_MS / 1000} s of retries did not repair them. ` +
            "Nothing stored is affected. Close every process that has the store open, then open it again.",
          { cause: err },
        );
      }
      pause(Math.random() * Math.min(2 ** attempt, 50));
    }
  }
}

/**
 * Begins and ends a read transaction, which takes the reader mutex the first time, so dead mutexes fail
 * here with EINVAL rather than in lmdb-js's write transaction (which ignores the error and prints to
 * stderr). It runs on a handle of its own, closed again before the root database is made: creating the
 * root database commits whatever read transaction its handle has, and a handle whose read transaction
 * was committed there went on to corrupt the free list in test/concurrency/open-race.test.ts. If this
 * lmdb-js does not fit the check, the open goes ahead unchecked.
 */
function checkMutexes(options: RootDatabaseOptionsWithPath): void {
  const Probe = lmdbModule().openAsClass<Uint8Array, string>({ ...options });
  try {
    const proto = (Probe as unknown as { prototype: RootPrototype }).prototype;
    if (typeof proto.useReadTransaction !== "function") return;
    try {
      proto.useReadTransaction.call({ emit() {} }).done();
    } catch (err) {
      if (typeof (err as { code?: unknown }).code === "number") throw err; // an LMDB error
    }
  } finally {
    closeEnvironment(Probe);
  }
}

/** Closes the environment an `openAsClass` call opened, when no root database was made from it. */
function closeEnvironment(Root: RootClass): void {
  try {
    (Root as unknown as { prototype: RootPrototype }).prototype.close.call({ isRoot: true });
  } catch {
    // Nothing more can be done: the error that brought us here is the one to report.
  }
}

/** True for the failures dead mutexes cause: EINVAL from the check, or the write transaction's. */
function deadMutex(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return (
    e?.code === EINVAL || (typeof e?.message === "string" && e.message.includes("No transaction to renew"))
  );
}
