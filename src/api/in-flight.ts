import { StorageError } from "../errors.ts";

/**
 * The calls in flight on one `Arctic` and its libraries, so that `close()` can wait for them: a read or
 * write that has started finishes (or fails on its own) before the store and the workers' handles on it
 * are closed. A call started once `close()` has begun is refused with `StorageError`.
 */
export class InFlight {
  private count = 0;
  private closing: Promise<void> | null = null;
  private drained: (() => void) | null = null;

  constructor(private readonly uri: string) {}

  /** Throws `StorageError` once `close()` has begun. */
  check(): void {
    if (this.closing !== null) {
      throw new StorageError(`Arctic('${this.uri}') is closed; create a new Arctic to go on.`);
    }
  }

  /** Runs `call`, counted as in flight until it settles; refused once `close()` has begun. */
  async run<R>(call: () => Promise<R>): Promise<R> {
    this.check();
    this.count++;
    try {
      return await call();
    } finally {
      if (--this.count === 0) this.drained?.();
    }
  }

  /** Refuses new calls and resolves once the calls in flight have settled (the same for every caller). */
  close(): Promise<void> {
    this.closing ??=
      this.count === 0
        ? Promise.resolve()
        : new Promise((resolve) => {
            this.drained = resolve;
          });
    return this.closing;
  }
}

/**
 * `target` as its callers see it: an object whose every async method (those of `target`'s class) runs
 * through `calls`. The methods run on `target` itself, so one of them calling another is not counted
 * twice, nor refused half-way through because `close()` began meanwhile.
 */
export function tracked<T extends object>(target: T, calls: InFlight): T {
  const facade = Object.create(target) as Record<string, unknown>;
  for (let proto = Object.getPrototypeOf(target); proto && proto !== Object.prototype; ) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const method = Object.getOwnPropertyDescriptor(proto, name)?.value;
      if (Object.hasOwn(facade, name)) continue;
      if (typeof method !== "function" || method.constructor.name !== "AsyncFunction") continue;
      Object.defineProperty(facade, name, {
        value: (...args: unknown[]) => calls.run(() => method.apply(target, args)),
        enumerable: false,
        writable: true,
        configurable: true,
      });
    }
    proto = Object.getPrototypeOf(proto);
  }
  return facade as T;
}
