import { type Endpoint, type Remote, releaseProxy, transfer, wrap } from "comlink";

/**
 * Marks `buffers` (reachable from `value`) to be moved, not copied, when `value` is sent to a worker:
 * without it, structured clone copies every typed array into fresh memory on the other side.
 */
export function moving<T>(value: T, buffers: ArrayBuffer[]): T {
  return transfer(value, buffers);
}

/** A started worker as a runtime provides it: a Comlink endpoint, and how to end it. */
export interface WorkerHandle {
  endpoint: Endpoint;
  terminate(): unknown;
  /** Let an idle worker not keep the process alive (Node); absent where workers never do. */
  unref?(): void;
  ref?(): void;
}

/** Starts one worker running floe's segment worker; supplied by the runtime entry. */
export type WorkerFactory = () => WorkerHandle;

/** What a user of the pool sees: at most `size` workers, started on first use. */
export interface Pool<T> {
  readonly size: number;
  /** Workers (of this user's `size`) that have finished loading: work sent now does not wait for them. */
  readonly loaded: number;
  /** Runs `task` on the least busy worker (starting workers as needed) and returns its result. */
  run<R>(task: (worker: Remote<T>) => Promise<R>): Promise<R>;
  /** Starts workers not yet started, up to `upTo` (default `size`), each running `prepare`, in the background. */
  warm(prepare: (worker: Remote<T>) => Promise<unknown>, upTo?: number): void;
}

interface Slot<T> {
  handle: WorkerHandle;
  remote: Remote<T>;
  busy: number;
  /** Whether the worker has finished a task (its loading done): work sent now does not wait for it. */
  loaded: boolean;
}

/**
 * A pool of up to `size` workers driven through Comlink. Workers start on first use (or `warm`), not
 * before. Each task goes to the least busy worker among the first `limit`, so users wanting fewer
 * workers share the pool's first ones. An idle pool does not keep the process alive; `close()` ends the
 * workers.
 */
export class WorkerPool<T> {
  private slots: Slot<T>[] = [];
  private closed = false;
  /** Tasks sent and not yet settled; `close()` waits for them. */
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    public readonly size: number,
    private readonly factory: WorkerFactory,
  ) {}

  /** Whether every started worker can be unref'd, so that idle ones do not keep the process alive. */
  get unrefs(): boolean {
    return this.slots.every((s) => s.handle.unref !== undefined);
  }

  /** Workers among the first `limit` that have finished loading (a task of theirs has settled). */
  loadedOf(limit: number): number {
    return this.slots.slice(0, limit).filter((s) => s.loaded).length;
  }

  /** A user's view of this pool: its first `limit` workers. */
  view(limit: number): Pool<T> {
    const size = Math.min(limit, this.size);
    const pool = this;
    return {
      size,
      get loaded() {
        return pool.loadedOf(size);
      },
      run: (task) => this.run(task, size),
      warm: (prepare, upTo = size) => this.warm(prepare, Math.min(upTo, size)),
    };
  }

  /** Runs `task` on the least busy of the first `limit` workers (starting them as needed). */
  async run<R>(task: (worker: Remote<T>) => Promise<R>, limit = this.size): Promise<R> {
    if (this.closed) throw new Error("the worker pool is closed");
    return this.runOn(this.pick(Math.min(limit, this.size)), task);
  }

  /** Runs `task` on every started worker (after the tasks already sent to it) and waits for them all. */
  async each(task: (worker: Remote<T>) => Promise<unknown>): Promise<void> {
    if (this.closed) return;
    await Promise.all(this.slots.map((slot) => this.runOn(slot, task)));
  }

  /**
   * Starts workers not yet started, up to `upTo` in all (default: every one), and runs `prepare` on each,
   * in the background: a worker takes tens of milliseconds to load, which a large read would otherwise
   * wait for. Errors are left to the tasks that follow.
   */
  warm(prepare: (worker: Remote<T>) => Promise<unknown>, upTo = this.size): void {
    while (!this.closed && this.slots.length < Math.min(upTo, this.size)) {
      this.runOn(this.start(), prepare).catch(() => {});
    }
  }

  private async runOn<R>(slot: Slot<T>, task: (worker: Remote<T>) => Promise<R>): Promise<R> {
    if (slot.busy++ === 0) slot.handle.ref?.();
    const running = task(slot.remote);
    const settled = running.then(
      () => {
        slot.loaded = true;
      },
      () => {},
    );
    this.pending.add(settled);
    try {
      return await running;
    } finally {
      this.pending.delete(settled);
      if (--slot.busy === 0) slot.handle.unref?.();
    }
  }

  private pick(limit: number): Slot<T> {
    const mine = this.slots.slice(0, limit);
    const idle = mine.find((s) => s.busy === 0);
    if (idle) return idle;
    if (mine.length < limit) return this.start();
    return mine.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  private start(): Slot<T> {
    const handle = this.factory();
    handle.unref?.();
    const slot: Slot<T> = { handle, remote: wrap<T>(handle.endpoint), busy: 0, loaded: false };
    this.slots.push(slot);
    return slot;
  }

  /**
   * Ends every worker once the tasks already sent have settled: terminating a worker in the middle of a
   * native LMDB call aborts the whole process, so a close that races a read waits for it instead.
   */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.pending);
    const slots = this.slots.splice(0);
    await Promise.all(
      slots.map(async (s) => {
        s.remote[releaseProxy]();
        await s.handle.terminate();
      }),
    );
  }
}
