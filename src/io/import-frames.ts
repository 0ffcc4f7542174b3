import type { DataFrame, Library, VersionedItem } from "../api/index.ts";
import { InvalidArgumentError, UnsortedIndexError } from "../api/index.ts";
import { checkInteger, describe } from "../api/validate.ts";
import type { OnTransferProgress } from "./progress.ts";

/** Options every import takes. */
export interface ImportOptions {
  /** `"write"` (default): the file becomes a new version holding exactly its rows. `"append"`: its rows follow the latest version's. */
  mode?: "write" | "append";
  /** Metadata stored with the new version (any msgpack-able value). */
  metadata?: unknown;
  /** Rows per chunk staged at a time (default: the library's `rowsPerSegment`); bounds memory. */
  chunkRows?: number;
  /** Sort the rows by timestamp before the version is made (reads every staged row into memory). */
  sort?: boolean;
  /** Called after each chunk with bytes and rows done. */
  onProgress?: OnTransferProgress;
  /** The source's length in bytes, when the caller knows it and the source does not say (for progress). */
  totalBytes?: number;
}

/** What an import returns: the new version, and how many rows it brought. */
export type ImportResult = VersionedItem & {
  /** Rows imported. */
  rows: number;
};

export const IMPORT_KEYS = ["mode", "metadata", "chunkRows", "sort", "onProgress", "totalBytes"] as const;

/** What an import of unsorted rows advises; the CLI puts its own option in its place. */
export const SORT_HINT = "import them with sort: true to sort them by time first";

/** Most rows per chunk whatever the library says, so a chunk's raw strings stay well under 1 GB. */
const MAX_CHUNK_ROWS = 1_000_000;

/** Checks the common import options and fills in defaults. */
export function importSettings(
  call: string,
  lib: Library,
  opts: ImportOptions,
): { mode: "write" | "append"; chunkRows: number } {
  const mode = opts.mode ?? "write";
  if (mode !== "write" && mode !== "append") {
    throw new InvalidArgumentError(`${call}: mode must be "write" or "append", got ${describe(mode)}.`);
  }
  const chunkRows =
    opts.chunkRows === undefined
      ? Math.min(lib.options.rowsPerSegment, MAX_CHUNK_ROWS)
      : checkInteger(`${call}: chunkRows`, opts.chunkRows, 1);
  if (opts.onProgress !== undefined && typeof opts.onProgress !== "function") {
    throw new InvalidArgumentError(
      `${call}: onProgress must be a function, got ${describe(opts.onProgress)}.`,
    );
  }
  if (opts.totalBytes !== undefined) checkInteger(`${call}: totalBytes`, opts.totalBytes, 0);
  return { mode, chunkRows };
}

/**
 * Stores `frames` as one new version of `symbol`: each frame is staged as it arrives, so memory holds
 * one chunk at a time, and one finalize makes the version, so readers never see a half-imported file.
 * On any failure the staged chunks are dropped and the symbol is as it was. Staging is per symbol: chunks
 * already staged for `symbol` (left by an import that was killed) are dropped first, and another writer
 * staging the same symbol at the same time would mix its chunks in.
 */
export async function importFrames(
  lib: Library,
  symbol: string,
  frames: AsyncIterable<DataFrame>,
  options: { mode: "write" | "append"; metadata?: unknown; sort?: boolean },
): Promise<ImportResult> {
  let staged = false;
  let rows = 0;
  let lastStaged = 0;
  // Leftovers of a killed import would otherwise become part of this version at finalize.
  await lib.deleteStagedData(symbol);
  try {
    for await (const frame of frames) {
      // Row-indexed chunks are finalized in staging order, which the store tells by millisecond clock.
      while (Date.now() <= lastStaged) await new Promise((r) => setTimeout(r, 1));
      await lib.write(symbol, frame, { staged: true });
      lastStaged = Date.now();
      staged = true;
      rows += frame.numRows;
    }
    if (!staged) throw new InvalidArgumentError(`import of '${symbol}': the source held no data at all.`);
    const finalize = options.sort === true ? lib.sortAndFinalizeStagedData : lib.finalizeStagedData;
    try {
      const item = await finalize.call(lib, symbol, { mode: options.mode, metadata: options.metadata });
      return { ...item, rows };
    } catch (err) {
      // The store's advice names its staging call; an importer's caller sorts with the import's option.
      if (
        err instanceof UnsortedIndexError &&
        options.sort !== true &&
        /sortAndFinalizeStagedData/.test(err.message)
      ) {
        throw new UnsortedIndexError(
          `The rows imported into '${symbol}' are not in timestamp order; ${SORT_HINT} (this holds every row in memory).`,
          { cause: err },
        );
      }
      throw err;
    }
  } catch (err) {
    if (staged) await lib.deleteStagedData(symbol).catch(() => undefined);
    throw err;
  }
}
