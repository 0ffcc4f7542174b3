import type { WorkerFactory } from "../parallel/pool.ts";
import type { UnrefTimer } from "../parallel/shared-pool.ts";
import type { LmdbOptions } from "../storage/lmdb-storage.ts";
import type { S3Uri } from "../storage/s3/uri.ts";
import type { Storage } from "../storage/storage.ts";

/**
 * What a runtime provides to the portable core. Each entry in `runtimes/` registers one; `src/` never
 * asks where it runs. A capability a runtime lacks is simply absent (a browser has no `openLmdb`).
 */
export interface Runtime {
  /** The runtime's name, e.g. `"node"`, used in error messages. */
  readonly name: string;
  /** Opens (creating if missing) an LMDB store. */
  openLmdb?(options: LmdbOptions): Storage;
  /**
   * The process environment, for `s3://…&aws_auth=true` (AWS_ACCESS_KEY_ID and friends); absent where
   * there is none (browsers: give access and secret in the URI).
   */
  env?(): Record<string, string | undefined>;
  /**
   * The fetch an `s3://` store uses, for what the portable one cannot do (trust the URI's `CA_cert_path`);
   * undefined for the global fetch.
   */
  s3Fetch?(uri: S3Uri): typeof fetch | undefined;
  /** Cores available, for the default size of the worker pool. */
  cores?: number;
  /** Starts one pool worker running floe's segment worker. */
  createWorker?: WorkerFactory;
  /**
   * A timer that does not keep the process alive. With it, pool workers no `Arctic` uses any more stay
   * a while (unref'd) for the next one; without it they end with the last `close()`.
   */
  unrefTimer?: UnrefTimer;
  /**
   * False where starting a pool worker beside the calling thread's own large write slows that write
   * (Deno: its heavier worker start took 10-25 % off 200-400 MB writes on two cores); the pool then
   * starts once the write is done. Default true.
   */
  warmDuringWrites?: boolean;
}

let current: Runtime = { name: "portable" };

/** Installs the runtime; called once by the runtime entry module on import. */
export function registerRuntime(runtime: Runtime): void {
  current = runtime;
}

/** The runtime registered by the entry module in use. */
export function runtime(): Runtime {
  return current;
}
