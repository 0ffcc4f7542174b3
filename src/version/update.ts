import type { Kernels } from "../codec/wasm.ts";
import { SymbolNotFoundError } from "../errors.ts";
import type { FrameData } from "./frame-data.ts";
import type { VersionRecord } from "./records.ts";
import { rowsInRange } from "./schema-checks.ts";
import type { VersionStore } from "./version-store.ts";

/** How `updateSymbol` treats the version it makes and a missing symbol. */
export interface UpdateOptions {
  meta?: Uint8Array;
  prune?: boolean;
  /** Write `frame` as the symbol when it has no live version, instead of `SymbolNotFoundError`. */
  upsert?: boolean;
}

/**
 * ArcticDB's `update`, for `Library.update` and any batch of updates: a new version of `symbol` whose
 * rows with timestamps in `dateRange` (inclusive; default the span of `frame`) are replaced by the rows of
 * `frame` inside it. `frame` must have a timestamp index (checked by the caller).
 *
 * A `frame` without rows changes no data, `dateRange` or not: it makes a new version sharing the latest
 * one's data, with `meta` as its metadata, as ArcticDB does (its docstring: update "cannot be used with
 * date_range to just delete"; that is `deleteDataInRange`). Code ported from ArcticDB would otherwise
 * delete rows it meant to keep. A `frame` whose rows all lie outside `dateRange` does remove the range,
 * as in ArcticDB, which filters the rows only after that check.
 */
export function updateSymbol(
  store: VersionStore,
  k: Kernels,
  symbol: string,
  frame: FrameData,
  dateRange: [bigint | null, bigint | null] | undefined,
  options: UpdateOptions,
): VersionRecord {
  if (frame.index.kind !== "timestamp") throw new Error("internal: update needs a timestamp index");
  const { meta, prune } = options;
  if (!store.latest(symbol)) {
    if (options.upsert) return store.write(k, symbol, frame, { meta, prune });
    const gone = store.libraryGone();
    if (gone) throw gone;
    throw new SymbolNotFoundError(
      `Cannot update '${symbol}': it does not exist in library '${store.lib}'. Pass { upsert: true } ` +
        "to write it, or write() it first.",
    );
  }
  // `create` false: a symbol deleted since the look above is SymbolNotFoundError, not a new version 0.
  if (frame.numRows === 0) return store.writeMetadata(symbol, meta, prune === true, false);
  const stamps = frame.index.values;
  const range = dateRange ?? [stamps[0], stamps[stamps.length - 1]];
  const rows = dateRange ? rowsInRange(frame, dateRange) : frame;
  return store.replaceRange(k, symbol, range, rows, { meta, prune });
}
