/**
 * Checks run before LMDB maps a store, shared by the runtimes that have LMDB (Node, Bun, Deno: all three
 * provide `node:fs`). The native library trusts what it opens and maps: a data or lock file that is not a
 * regular file, a truncated or damaged data file, a lock file it cannot write or a full disk would
 * otherwise crash the process (SIGSEGV, SIGBUS) instead of failing with a `StorageError`.
 */
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  readSync,
  rmSync,
  type Stats,
  statfsSync,
  statSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { StorageError } from "../src/errors.ts";
import {
  checkLmdbMetas,
  checkLmdbTree,
  claimProblem,
  type ReadAt,
  shorterThanClaimed,
} from "../src/storage/lmdb-file.ts";
import { pause } from "../src/storage/lmdb-stale-base.ts";
import { type LmdbOptions, LmdbStorage } from "../src/storage/lmdb-storage.ts";
import { sameBytes } from "../src/storage/parsed-cache.ts";

/** Room LMDB needs to create a store or its lock file: the lock file and first pages. */
const MIN_FREE_BYTES = 1 << 20;

/**
 * Tree pages (branch, leaf, first page of an overflow value) the open-time walk reads at most. Each costs
 * a pread and a pass over its nodes: 4-10 us on a busy 2-core machine (issue 21's report), so this bounds
 * the check near 40-80 ms. It covers every store of up to about 30 MB of keys and small values, and
 * stores of any size whose segments are large (a 200 MB store of 800 KB segments has 292 tree pages).
 * Past it, every branch page is still read (they come first), so every page number the branches hold is
 * checked against the file's end; what goes unchecked is the inside of the remaining leaf pages.
 */
const MAX_TREE_PAGES = 8192;

/**
 * Opens (creating if missing) the LMDB store `options` describe, after refusing, with a `StorageError`
 * saying what is wrong, whatever would crash LMDB: see `checkStoreFiles`.
 */
export function openCheckedLmdb(options: LmdbOptions): LmdbStorage {
  checkStoreFiles(options.path);
  return openWorkerLmdb(options);
}

/**
 * Opens the store for a pool worker, whose thread's parent has already opened (and so checked) it; it
 * learns how to measure free disk space, for its out-of-space errors.
 */
export function openWorkerLmdb(options: LmdbOptions): LmdbStorage {
  return new LmdbStorage({ ...options, diskFree: () => diskFreeAt(options.path) });
}

/**
 * Checks the store directory `path` before LMDB opens it: data.mdb and lock.mdb, if present, must be
 * regular files (after following symlinks) that this process can read and write; data.mdb must have two
 * sane meta pages and a tree whose pages all lie inside the file; a file LMDB has to create (a new store,
 * or a lock.mdb someone deleted) needs free space on the disk.
 */
function checkStoreFiles(path: string): void {
  const refuse = (problem: string, advice: string, cause?: unknown): never => {
    throw new StorageError(
      `Cannot open LMDB store at '${path}': ${problem}. ${advice}`,
      cause === undefined ? undefined : { cause },
    );
  };
  const dir = statOrNull(path);
  if (dir && !dir.isDirectory()) {
    refuse(
      `it is ${kindOf(dir)}, not a directory`,
      "Point lmdb:// at a directory floe created, or at a new or empty one.",
    );
  }
  const data = join(path, "data.mdb");
  const lock = join(path, "lock.mdb");
  const dataStat = fileStat(data, refuse, NOT_FLOE);
  if (dataStat) checkDataFile(data, refuse);
  const lockStat = fileStat(lock, refuse, LOCK_ADVICE);
  if (lockStat) checkLockFile(lock, refuse);
  // LMDB maps a file it creates without allocating it, so on a full disk the first touch of the new lock
  // file kills the process (SIGBUS) instead of failing: check the room first.
  if (!dataStat || !lockStat) checkFreeSpace(path, dataStat ? "its lock file (lock.mdb)" : "a new store");
}

type Refuse = (problem: string, advice: string, cause?: unknown) => never;

const NOT_FLOE =
  "floe did not open it, so nothing in it changed. Restore the store directory from a backup, or point " +
  "lmdb:// at a directory floe created, or at a new or empty one.";

const LOCK_ADVICE =
  "lock.mdb holds no data, only LMDB's table of readers: once no process has the store open, remove it " +
  "and LMDB makes a new one on the next open. floe did not open the store, so nothing in it changed.";

/** The file at `file` after following symlinks, null if there is none; refuses what is not a regular file. */
function fileStat(file: string, refuse: Refuse, advice: string): Stats | null {
  let link: Stats;
  try {
    link = lstatSync(file);
  } catch {
    return null;
  }
  const target = link.isSymbolicLink() ? ` (a symlink to '${readlinkSync(file)}')` : "";
  let stat: Stats;
  try {
    stat = statSync(file);
  } catch (err) {
    return refuse(`'${file}'${target} cannot be reached: ${(err as Error).message}`, advice, err);
  }
  if (!stat.isFile()) {
    refuse(
      `'${file}'${target} is ${kindOf(stat)}, not a regular file, and LMDB would crash mapping it`,
      advice,
    );
  }
  return stat;
}

/** Refuses a data.mdb this process cannot read, or whose meta pages or tree LMDB could not follow safely. */
function checkDataFile(file: string, refuse: Refuse): void {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (err) {
    refuse(
      `'${file}' cannot be read by this process (${(err as Error).message})`,
      "Fix its permissions (or run as the user that owns the store), then open it again.",
      err,
    );
  }
  try {
    const readAt = (offset: number, length: number): Uint8Array => {
      const bytes = new Uint8Array(length);
      const n = readSync(fd, bytes, 0, length, offset);
      return bytes.subarray(0, n);
    };
    // Another process may be committing meanwhile: a meta page read half-written, or tree pages freed
    // and reused during the walk, look like damage. LMDB reuses a page of the snapshot a meta page
    // roots only after two later commits, so a problem found while both meta pages stayed the same is
    // in the file; one found while they changed is looked at again.
    for (let attempt = 0; attempt < CHECK_TRIES; attempt++) {
      const before = metaBytes(readAt);
      const stat = fstatSync(fd);
      const state = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}:${before.join(",")}`;
      if (checked.get(file) === state) return;
      const problem = dataFileProblem(readAt, stat.size, () => fstatSync(fd).size);
      if (problem === null) {
        checked.set(file, state);
        return;
      }
      if (sameBytes(before, metaBytes(readAt))) refuse(`'${file}' ${problem}`, NOT_FLOE);
      pause(Math.min(2 ** attempt, 50));
    }
    // Every look found a problem while other processes went on committing: they write this file through
    // LMDB without crashing, and LMDB's reader table will keep the snapshot this one opens intact.
  } finally {
    closeSync(fd);
  }
}

/**
 * The data files this process found sound, by path, with what identified their state then (device,
 * inode, size, modification time, both meta pages): opening one again unchanged skips the tree walk,
 * the check's only cost that grows with the store.
 */
const checked = new Map<string, string>();

/** Times the data file is looked at again when a check found a problem while commits went on. */
const CHECK_TRIES = 10;

/** The first bytes of both meta pages (the second one page size on), to see whether a commit came. */
function metaBytes(readAt: ReadAt): Uint8Array {
  const first = readAt(0, 168);
  const size = first.length >= 52 ? new DataView(first.buffer, first.byteOffset).getUint32(48, true) : 0;
  const second = readAt(size >= 512 && size <= 65536 ? size : 4096, 168);
  const both = new Uint8Array(first.length + second.length);
  both.set(first);
  both.set(second, first.length);
  return both;
}

/** The problem with the data file, or null: its meta pages, then the tree the newer one roots. */
function dataFileProblem(readAt: ReadAt, size: number, sizeNow: () => number): string | null {
  const metas = checkLmdbMetas(readAt, size);
  if (metas.problem) return `is not a sound LMDB data file: ${metas.problem}`;
  if (!metas.meta) return null;
  const now = sizeNow();
  const claim = claimProblem(now, metas.meta);
  if (claim) return `is not a sound LMDB data file: ${claim}`;
  const limit = shorterThanClaimed(now, metas.meta) ? Number.POSITIVE_INFINITY : MAX_TREE_PAGES;
  const tree = checkLmdbTree(readAt, now, metas.meta, limit);
  return tree.problem ? `is damaged: ${tree.problem}` : null;
}

/**
 * LMDB writes its lock file even to read (its reader table); one it cannot open for writing crashes it.
 * A read-only file system is the exception: LMDB then reads without locks (see LmdbStorage).
 */
function checkLockFile(file: string, refuse: Refuse): void {
  try {
    accessSync(file, constants.R_OK | constants.W_OK);
  } catch (err) {
    if ((err as { code?: unknown }).code === "EROFS") return;
    refuse(
      `this process cannot write its lock file '${file}' (${(err as Error).message}); LMDB writes it even ` +
        "to read",
      "Fix its permissions (or run as the user that owns the store), then open it again; nothing stored " +
        "was changed.",
      err,
    );
  }
}

/** What kind of file system object `stat` is, in words. */
function kindOf(stat: Stats): string {
  if (stat.isDirectory()) return "a directory";
  if (stat.isFIFO()) return "a FIFO (named pipe)";
  if (stat.isCharacterDevice()) return "a character device";
  if (stat.isBlockDevice()) return "a block device";
  if (stat.isSocket()) return "a socket";
  return "a regular file";
}

/**
 * Refuses to let LMDB create `what` in `path` on a disk with less than MIN_FREE_BYTES free. A path where
 * nothing can be written at all (a directory that cannot be made, a virtual file system such as /sys
 * or /proc, which reports 0 bytes free) is refused for that cause rather than for the space.
 */
function checkFreeSpace(path: string, what: string): void {
  const free = diskFreeAt(path);
  if (free !== null && free < MIN_FREE_BYTES) {
    checkWritable(path);
    throw new StorageError(
      `Cannot open LMDB store at '${path}': LMDB must create ${what} there, and the disk has only ${free} ` +
        "bytes free. Free some space, or use another path.",
    );
  }
}

/**
 * Refuses, saying why, a store directory that cannot be created or written: tried for real (a directory
 * made and removed again, a file created and removed), since on a virtual file system the permission
 * bits say yes and the kernel says no.
 */
function checkWritable(path: string): void {
  const refuse = (err: unknown): void => {
    const code = (err as { code?: unknown }).code;
    if (code === "ENOSPC" || code === "EDQUOT") return; // the disk is full after all: said by the caller
    throw new StorageError(
      `Cannot open LMDB store at '${path}': it cannot hold a store, this process cannot write there ` +
        `(${(err as Error).message}). Choose a path in a directory you can write to, on a disk.`,
      { cause: err },
    );
  };
  let made: string | undefined;
  try {
    made = mkdirSync(path, { recursive: true });
  } catch (err) {
    refuse(err);
    return;
  }
  const probe = join(path, `.floe-probe-${process.pid}`);
  try {
    closeSync(openSync(probe, "wx"));
    rmSync(probe);
  } catch (err) {
    refuse(err);
  } finally {
    if (made !== undefined) rmSync(made, { recursive: true, force: true });
  }
  if (statfsAt(path)?.total === 0) {
    throw new StorageError(
      `Cannot open LMDB store at '${path}': it is on a file system with no room at all (0 bytes in ` +
        "total, a virtual file system such as /sys or /proc), which cannot hold a store. Choose a path on a disk.",
    );
  }
}

/** Bytes free (to this user) on the disk that holds `path` or its nearest existing parent; null if unknown. */
function diskFreeAt(path: string): number | null {
  return statfsAt(path)?.free ?? null;
}

/**
 * Bytes free (to this user) and in total on the file system that holds `path` or its nearest existing
 * parent; null if unknown (no statfs here).
 */
function statfsAt(path: string): { free: number; total: number } | null {
  let dir = resolve(path);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    const fs = statfsSync(dir);
    return { free: Number(fs.bavail) * Number(fs.bsize), total: Number(fs.blocks) * Number(fs.bsize) };
  } catch {
    return null;
  }
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}
