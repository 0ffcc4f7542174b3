/**
 * Checks run before LMDB maps a store, shared by the runtimes that have LMDB (Node, Bun, Deno: all three
 * provide `node:fs`). The native library trusts what it maps, so garbage or a full disk would otherwise
 * crash the process instead of failing with a `StorageError`.
 */
import { closeSync, existsSync, openSync, readSync, statfsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { StorageError } from "../src/errors.ts";
import { type LmdbOptions, LmdbStorage } from "../src/storage/lmdb-storage.ts";

/** LMDB's magic number, in the meta page at the start of every data.mdb. */
const LMDB_MAGIC = 0xbeefc0de;

/** Room LMDB needs to create a store: its lock file and first pages. */
const MIN_FREE_BYTES = 1 << 20;

/**
 * Opens (creating if missing) the LMDB store `options` describe, after refusing a data.mdb that is not
 * an LMDB file and a new store on a disk without room for it.
 */
export function openCheckedLmdb(options: LmdbOptions): LmdbStorage {
  checkLmdbFile(options);
  return new LmdbStorage(options);
}

/**
 * Refuses a data.mdb that is not an LMDB file before LMDB maps it: the native library trusts the file's
 * meta page and crashes the process on garbage.
 */
function checkLmdbFile(options: LmdbOptions): void {
  const file = join(options.path, "data.mdb");
  let size = 0;
  try {
    size = statSync(file).size;
  } catch {
    checkFreeSpace(options.path); // no store yet: LMDB creates one, if there is room
    return;
  }
  if (size === 0) return;
  const head = new Uint8Array(64);
  const fd = openSync(file, "r");
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  // The meta page header's size differs between LMDB versions (lmdb-js puts the magic at byte 24).
  const view = new DataView(head.buffer);
  let found = false;
  for (let at = 8; at < head.length; at += 4) found ||= view.getUint32(at, true) === LMDB_MAGIC;
  if (size < 4096 || !found) {
    throw new StorageError(
      `'${file}' is not an LMDB store (no LMDB header), so floe will not open it. Point lmdb:// at a ` +
        "directory floe created, or at an empty or new directory.",
    );
  }
}

/**
 * LMDB maps a new store's lock file without allocating it, so on an almost full disk the first touch
 * kills the process (SIGBUS) instead of failing; check the room first.
 */
function checkFreeSpace(path: string): void {
  let dir = resolve(path);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  let free: number;
  try {
    const fs = statfsSync(dir);
    free = Number(fs.bavail) * Number(fs.bsize);
  } catch {
    return; // no statfs here: let LMDB try
  }
  if (free < MIN_FREE_BYTES) {
    throw new StorageError(
      `Cannot create an LMDB store at '${path}': the disk has only ${free} bytes free. Free some space, or use another path.`,
    );
  }
}
