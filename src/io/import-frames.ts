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
 * Stores `frames` as one new version of `symbol`, memory holding one chunk at a time, and readers never
 * see a half-imported file: a stream write (`write`/`append` of an async iterable), which commits once
 * at the end and leaves the symbol as it was on any failure. With `sort`, the chunks are staged and
 * `sortAndFinalizeStagedData` sorts every row in memory (staged writes need LMDB or memory stores).
 */
export async function importFrames(
  lib: Library,
  symbol: string,
  frames: AsyncIterable<DataFrame>,
  options: { mode: "write" | "append"; metadata?: unknown; sort?: boolean },
): Promise<ImportResult> {
  if (options.sort === true) return importSorted(lib, symbol, frames, options);
  let rows = 0;
  let seen = 0;
  async function* counted(): AsyncGenerator<DataFrame> {
    for await (const frame of frames) {
      seen++;
      rows += frame.numRows;
      yield frame;
    }
  }
  try {
    const write = options.mode === "append" ? lib.append : lib.write;
    const item = await write.call(lib, symbol, counted(), { metadata: options.metadata });
    return { ...item, rows };
  } catch (err) {
    if (seen === 0 && err instanceof InvalidArgumentError && /gave no frames/.test(err.message)) {
      throw new InvalidArgumentError(`import of '${symbol}': the source held no data at all.`, {
        cause: err,
      });
    }
    // Rows out of order within the file: sorting helps. Rows before the stored ones (an append): it does not.
    const beforeStored =
      options.mode === "append" && seen === 1 && /before the last stored row/.test(String(err));
    if (err instanceof UnsortedIndexError && !beforeStored) {
      throw new UnsortedIndexError(
        `The rows imported into '${symbol}' are not in timestamp order; ${SORT_HINT} (this holds every row in memory).`,
        { cause: err },
      );
    }
    throw err;
  }
}

/** `importFrames` with `sort`: chunks staged one at a time, then sorted and finalized together. */
async function importSorted(
  lib: Library,
  symbol: string,
  frames: AsyncIterable<DataFrame>,
  options: { mode: "write" | "append"; metadata?: unknown },
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
    const item = await lib.sortAndFinalizeStagedData(symbol, {
      mode: options.mode,
      metadata: options.metadata,
    });
    return { ...item, rows };
  } catch (err) {
    if (staged) await lib.deleteStagedData(symbol).catch(() => undefined);
    throw err;
  }
}
