/**
 * Loading LMDB in Deno. The `lmdb` package's native addon needs `--allow-env --allow-read --allow-ffi`
 * just to load, so floe loads it on import only when they are granted: a program that only uses `mem://`
 * runs with no permissions, and `lmdb://` without them fails with a `StorageError` naming the flags.
 */
import { StorageError } from "../src/errors.ts";
import { lmdbModule, lmdbUnavailable, provideLmdb } from "../src/storage/lmdb-module.ts";
import type { LmdbOptions } from "../src/storage/lmdb-storage.ts";

/** The part of Deno's permissions API used here (declared locally, so tsc checks this file). */
interface DenoPermissions {
  permissions: {
    querySync(descriptor: { name: string; path?: string }): { state: "granted" | "prompt" | "denied" };
  };
}

function deno(): DenoPermissions | null {
  return (globalThis as { Deno?: DenoPermissions }).Deno ?? null;
}

/** The permissions of `names` (with `path`, for read and write) not granted to this process. */
function notGranted(names: string[], path?: string): string[] {
  const d = deno();
  if (!d) return [];
  return names.filter((name) => d.permissions.querySync({ name, path }).state !== "granted");
}

const ALL_FLAGS = "--allow-env --allow-read --allow-write --allow-ffi (or -A)";

/** Loads the `lmdb` package if this process may; otherwise records why `lmdb://` cannot open. */
export async function loadLmdbInDeno(): Promise<void> {
  const lacking = notGranted(["env", "read", "ffi"]);
  if (lacking.length > 0) {
    const flags = lacking.map((name) => `--allow-${name}`).join(" ");
    lmdbUnavailable(
      () =>
        new StorageError(
          `lmdb:// in Deno needs permission to load LMDB's native library, and this process lacks ${flags}. ` +
            `Run deno with ${ALL_FLAGS}; mem:// needs no permissions.`,
        ),
    );
    return;
  }
  try {
    provideLmdb(await import("lmdb"));
  } catch (err) {
    lmdbUnavailable(
      () =>
        new StorageError(
          `lmdb:// is not available: loading the 'lmdb' package failed (${(err as Error).message}). ` +
            `Run deno with ${ALL_FLAGS}, and check that the 'lmdb' npm package is installed.`,
          { cause: err },
        ),
    );
  }
}

/**
 * Refuses, with a `StorageError` naming the flags, to open the store `options` describe where LMDB did
 * not load or this process may not read and write its directory.
 */
export function checkDenoLmdb(options: LmdbOptions): void {
  lmdbModule();
  const lacking = notGranted(["read", "write"], options.path);
  if (lacking.length > 0) {
    const flags = lacking.map((name) => `--allow-${name}=${options.path}`).join(" ");
    throw new StorageError(
      `Cannot open LMDB store at '${options.path}': this Deno process may not ${lacking.join(" and ")} it. ` +
        `Run deno with ${flags} (or with -A).`,
    );
  }
}
