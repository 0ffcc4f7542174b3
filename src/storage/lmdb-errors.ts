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

/** A `StorageError` for a failed operation on the store `where` (an `lmdb://` description). */
export function lmdbStorageError(where: string, err: unknown): StorageError {
  const detail = (err as Error)?.message ?? String(err);
  const kept = "this write was not kept and earlier versions are unaffected";
  const advice: Record<LmdbFailure, string> = {
    "disk-full": `the disk is full (${detail}). Free space on the disk that holds it, then retry; ${kept}.`,
    io:
      `could not write to disk: the disk is full or failing (${detail}). Free space on the disk that holds ` +
      `it (or check the device), then retry; ${kept}.`,
    "read-only":
      `the store cannot be written: its file system is read-only or this process lacks permission ` +
      `(${detail}). Remount it read-write or fix the permissions, then retry.`,
    "map-full":
      `the LMDB map is full and could not grow (${detail}). Reopen it with a larger map_size ` +
      `(lmdb://path?map_size=10GB) or free address space; ${kept}.`,
    panic:
      `LMDB stopped the environment after a fatal error (${detail}). Close every Arctic on this path ` +
      `and open it again; committed versions are safe.`,
    other: `${detail}. Check free disk space and permissions; earlier versions are unaffected.`,
  };
  return new StorageError(`${where}: ${advice[classifyLmdbError(err)]}`, { cause: err });
}
