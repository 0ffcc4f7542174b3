import { StorageError } from "../errors.ts";

/**
 * Turns what LMDB and lmdb-js throw into `StorageError`s that say what happened and what to do.
 *
 * lmdb-js errors carry LMDB's return code as a numeric `code`: an errno (positive) or an `MDB_*` code
 * (negative); errors from Node's file system (creating the directory) carry a string `code` such as
 * `"EROFS"`. The errno values below are the same on Linux and macOS; the message is checked as well, for
 * Windows, whose codes differ.
 */
export type LmdbFailure = "disk-full" | "io" | "read-only" | "map-full" | "panic" | "other";

const ENOSPC = 28;
const EIO = 5;
const EACCES = 13;
const EPERM = 1;
const EROFS = 30;
const MDB_MAP_FULL = -30792;
const MDB_PANIC = -30795;

/** What kind of failure `err` (thrown by lmdb-js or by Node's file system under it) reports. */
export function classifyLmdbError(err: unknown): LmdbFailure {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = e?.code;
  const message = typeof e?.message === "string" ? e.message : "";
  if (
    code === ENOSPC ||
    code === "ENOSPC" ||
    /no space left|not enough space|disk (is )?full/i.test(message)
  ) {
    return "disk-full";
  }
  if (code === MDB_MAP_FULL || /MDB_MAP_FULL/.test(message)) return "map-full";
  if (code === MDB_PANIC || /MDB_PANIC/.test(message)) return "panic";
  if (
    [EACCES, EPERM, EROFS, "EACCES", "EPERM", "EROFS"].includes(code as number | string) ||
    /read-only file system|permission denied|access is denied|operation not permitted/i.test(message)
  ) {
    return "read-only";
  }
  // LMDB reports a page write that fails or falls short as EIO (ENOSPC does not get through), so on a
  // full disk this is what a write fails with; a failing device gives it too.
  if (code === EIO || code === "EIO" || /input\/output error/i.test(message)) return "io";
  return "other";
}

/**
 * Where the space went, when a write failed for lack of it: measured by the caller at the failure, each
 * null when it could not be measured (no statfs in this runtime, a closed store).
 */
export interface SpaceContext {
  /** Bytes free on the disk that holds the store. */
  diskFree: number | null;
  /** Bytes of free pages inside the store file (freed by deletes, not yet reused). */
  storeFree: number | null;
}

/** Below this many free bytes the disk counts as full. */
const DISK_FULL_BYTES = 1 << 20;

/** A `StorageError` for a failed operation on the store `where` (an `lmdb://` description). */
export function lmdbStorageError(where: string, err: unknown, space?: SpaceContext): StorageError {
  const detail = (err as Error)?.message ?? String(err);
  const kept = "this write was not kept and earlier versions are unaffected";
  const kind = classifyLmdbError(err);
  const diskFree = space?.diskFree ?? null;
  const storeFree = space?.storeFree ?? null;
  const fragmented =
    storeFree !== null && storeFree >= DISK_FULL_BYTES
      ? ` The store file itself has ${mb(storeFree)} of free pages (from deletes), but not enough in one ` +
        "run for this write: a large value needs contiguous pages. Deleting or pruning more versions frees " +
        "more."
      : "";
  const diskIsFull =
    `the disk is full (ENOSPC${diskFree === null ? "" : `: ${diskFree} bytes free`}; ${detail}). Free space ` +
    `on the disk that holds it, then retry; ${kept}.${fragmented}`;
  const storeIsFull =
    `the store file is full or fragmented (map size reached / no free pages; ${detail}). Reopen it with a ` +
    "larger map_size (lmdb://path?map_size=10GB), free address space, or delete or prune versions; " +
    `${kept}.`;
  const advice: Record<LmdbFailure, string> = {
    "disk-full": diskIsFull,
    io:
      diskFree !== null && diskFree < DISK_FULL_BYTES
        ? diskIsFull
        : diskFree !== null
          ? `could not write to disk (${detail}) although the disk has ${mb(diskFree)} free: the device ` +
            `may be failing, or another program filled the disk for a moment. Check the device, then retry; ${kept}.`
          : `could not write to disk: the disk is full or failing (${detail}). Free space on the disk that ` +
            `holds it (or check the device), then retry; ${kept}.`,
    "read-only":
      `the store cannot be written: its file system is read-only or this process lacks permission ` +
      `(${detail}). Remount it read-write or fix the permissions, then retry.`,
    "map-full": storeIsFull,
    panic:
      `LMDB stopped the environment after a fatal error (${detail}). Close every Arctic on this path ` +
      `and open it again; committed versions are safe.`,
    other: `${detail}. Check free disk space and permissions; earlier versions are unaffected.`,
  };
  return new StorageError(`${where}: ${advice[kind]}`, { cause: err });
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
