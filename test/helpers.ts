import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import type { Storage } from "../src/storage/storage.ts";

const made: string[] = [];

/** A fresh directory under the OS temp dir, removed after the test. */
export function tempDir(prefix = "floe-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Asserts that `promise` rejects with a floe error of `code` and returns it. */
export async function rejectsWith(
  promise: Promise<unknown>,
  code: string,
): Promise<Error & { code: string }> {
  try {
    await promise;
  } catch (err) {
    const e = err as Error & { code: string };
    if (e.code !== code) throw new Error(`expected ${code}, got ${e.code ?? e.name}: ${e.message}`);
    return e;
  }
  throw new Error(`expected ${code}, but the call succeeded`);
}

/**
 * `inner` with every write transaction first announced to `each`; when `each` returns true, that
 * transaction does its work and then fails, as a full disk or an I/O error would make it (LMDB then
 * keeps none of it). Everything else goes to `inner` unchanged.
 */
export function failingTransactions(inner: Storage, each: () => boolean): Storage {
  return Object.assign(Object.create(inner), {
    writeTransaction<T>(fn: Parameters<Storage["writeTransaction"]>[0]): T {
      if (!each()) return inner.writeTransaction(fn) as T;
      return inner.writeTransaction((tx) => {
        fn(tx);
        throw new Error("I/O error: simulated");
      }) as T;
    },
  }) as Storage;
}
