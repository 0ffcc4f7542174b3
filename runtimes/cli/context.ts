/** What every command gets: output settings and a way to open the store. */
import { existsSync } from "node:fs";
import { Arctic, InvalidUriError, type Library, StorageError } from "../node.ts";
import type { Where } from "./hints.ts";

export interface Context {
  /** `--json`: print JSON for scripts instead of tables. */
  json: boolean;
  /** Show a progress bar on stderr (when it is a terminal). */
  progress: boolean;
  /** Prints a line (or lines) to stdout. */
  print(text: string): void;
}

/** The directory of an `lmdb://` URI, or undefined for other schemes. */
function lmdbPath(uri: string): string | undefined {
  if (!uri.startsWith("lmdb://")) return undefined;
  return decodeURIComponent(uri.slice("lmdb://".length).split("?")[0]);
}

/** The store and library the command works on, for messages in the CLI's terms (hints.ts). */
export const where: Where = {};

/**
 * Runs `fn` on the store `uri` names and closes it. Only `create` commands (import) may make a new
 * store: elsewhere a path with no store is an error, not a new empty store left behind by a typo, and
 * `mem://` is refused: it is a store in this process's memory, which starts empty with each command.
 */
export async function withArctic<T>(uri: string, fn: (ac: Arctic) => Promise<T>, create = false): Promise<T> {
  where.uri = uri;
  if (uri.startsWith("mem://")) {
    if (!create) {
      throw new InvalidUriError(
        `'${uri}' is a store in this command's own memory: it starts empty and is gone when the command ` +
          "ends, so there is nothing to read. Give an lmdb:// store, e.g. lmdb://data.lmdb.",
      );
    }
    process.stderr.write(
      `floe: note: '${uri}' is a store in this command's own memory: what it stores is gone when the ` +
        "command ends. Give an lmdb:// store to keep it.\n",
    );
  }
  const path = lmdbPath(uri);
  if (path !== undefined && path !== "" && !create && !existsSync(path)) {
    throw new InvalidUriError(`There is no floe store at '${path}' (from '${uri}'); check the path.`);
  }
  const ac = new Arctic(uri);
  try {
    return await fn(ac);
  } finally {
    await ac.close();
  }
}

/** Runs `fn` on library `name` of store `uri`; with `create`, the library is made if missing. */
export function withLibrary<T>(
  uri: string,
  name: string,
  fn: (lib: Library) => Promise<T>,
  create = false,
): Promise<T> {
  where.library = name;
  return withArctic(uri, async (ac) => fn(await ac.getLibrary(name, { createIfMissing: create })), create);
}

/** A failed write to standard output as a floe error: what was written before is incomplete. */
export function stdoutError(err: NodeJS.ErrnoException, written?: number): StorageError {
  const full = err.code === "ENOSPC" || err.code === "EDQUOT";
  const bytes = written === undefined ? "" : ` after ${written.toLocaleString("en-US")} bytes`;
  return new StorageError(
    `${full ? `The disk is full (${err.code})` : `Cannot write (${err.message})`}: writing to standard output ` +
      `failed${bytes}. The output written before is incomplete: delete it${full ? ", free some space" : ""} ` +
      "and run the command again.",
    { cause: err },
  );
}
