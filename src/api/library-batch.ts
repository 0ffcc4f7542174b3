/**
 * The batch calls of `Library`: many symbols in one call, each item done as the single call would do
 * it, each result in the item's slot. As in ArcticDB's `Library.*_batch`, one failed item does not
 * lose the others: its slot holds a `DataError` instead of the call throwing. What makes the whole
 * batch wrong (not an array; the same symbol twice where ArcticDB refuses that) throws before anything
 * is written.
 */
import { InvalidArgumentError } from "../errors.ts";
import type { DataFrame } from "../frame/dataframe.ts";
import { DataError } from "./data-error.ts";
import type { Library, ReadOptions } from "./library.ts";
import type { AsOf, SymbolDescription, VersionedItem } from "./types.ts";
import { checkOptions, describe } from "./validate.ts";

/** One item of `updateBatch`, as ArcticDB's `UpdatePayload`. */
export interface UpdatePayload {
  /** The symbol to update. */
  symbol: string;
  /** The new rows, with a timestamp index. */
  data: DataFrame | Record<string, unknown>;
  /** Metadata of the new version. */
  metadata?: unknown;
  /** The rows to replace, as `update` takes it (default: the span of `data`). */
  dateRange?: ReadOptions["dateRange"];
  /** Write the symbol when it does not exist (default: the batch's `upsert`). */
  upsert?: boolean;
}

/** One item of `deleteBatch` besides a bare symbol name, as ArcticDB's `DeleteRequest`. */
export interface DeleteRequest {
  /** The symbol. */
  symbol: string;
  /** The versions to delete (at least one); without it the whole symbol is deleted. */
  versions?: number | number[];
}

/** One item of `readMetadataBatch` or `getDescriptionBatch` besides a bare name: ArcticDB's `ReadInfoRequest`. */
export interface ReadInfoRequest {
  /** The symbol. */
  symbol: string;
  /** The version to look at (default: the latest). */
  asOf?: AsOf;
}

/** One item of `writeMetadataBatch`, as ArcticDB's `WriteMetadataPayload`. */
export interface WriteMetadataPayload {
  /** The symbol. */
  symbol: string;
  /** The metadata of the new version; any msgpack-able value. */
  metadata: unknown;
}

/** The items of a batch call, which must come as an array. */
function batchArray(call: string, items: unknown): unknown[] {
  if (!Array.isArray(items)) {
    throw new InvalidArgumentError(`${call}: give an array of items, got ${describe(items)}.`);
  }
  return items;
}

/**
 * Throws `InvalidArgumentError` when a symbol appears in more than one item, naming each such symbol,
 * before anything is written: ArcticDB's write, append, update and write-metadata batches raise
 * `ArcticDuplicateSymbolsInBatchException` (test_write_batch_duplicate_symbols), since which of two
 * items would be the symbol's latest version is not clear.
 */
export function refuseDuplicateSymbols(call: string, items: unknown): void {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const item of batchArray(call, items)) {
    const symbol = symbolOf(item);
    if (symbol === undefined) continue;
    if (seen.has(symbol)) twice.add(symbol);
    seen.add(symbol);
  }
  if (twice.size > 0) {
    const names = [...twice].map((s) => `'${s}'`).join(", ");
    throw new InvalidArgumentError(
      `${call}: ${twice.size === 1 ? "symbol" : "symbols"} ${names} appear${twice.size === 1 ? "s" : ""} ` +
        "in more than one item; give each symbol once (nothing was written).",
    );
  }
}

/**
 * Checks that `items` is an array and runs `check` on each; an item that fails becomes a `DataError` in
 * its slot (named by its symbol when it has one, else `#<position>`) instead of failing the batch.
 */
export function batchItems<T>(call: string, items: unknown, check: (item: unknown) => T): (T | DataError)[] {
  return batchArray(call, items).map((item, i) => {
    try {
      return check(item);
    } catch (err) {
      return DataError.from(symbolOf(item) ?? `#${i}`, err);
    }
  });
}

/** An item's `symbol`, which must be a string (the call it goes to checks it as a name). */
function itemSymbol(call: string, symbol: unknown): string {
  if (typeof symbol !== "string") {
    throw new InvalidArgumentError(`${call}: an item's symbol must be a string, got ${describe(symbol)}.`);
  }
  return symbol;
}

/** The symbol an item names: the item itself when a string, else its `symbol` when that is a string. */
function symbolOf(item: unknown): string | undefined {
  if (typeof item === "string") return item;
  const symbol = (item as { symbol?: unknown } | null)?.symbol;
  return typeof symbol === "string" ? symbol : undefined;
}

/** Runs `each` on every checked item in turn; a thrown error becomes that item's `DataError`. */
export async function eachItem<C extends { symbol: string; version?: number }, R>(
  checked: (C | DataError)[],
  each: (item: C) => Promise<R>,
): Promise<(R | DataError)[]> {
  const out: (R | DataError)[] = [];
  for (const c of checked) {
    if (c instanceof DataError) out.push(c);
    else out.push(await each(c).catch((err) => DataError.from(c.symbol, err, c.version)));
  }
  return out;
}

/** A bare symbol name or `{ symbol, asOf? }`, checked. */
function readInfoItem(call: string) {
  return (item: unknown): { symbol: string; asOf?: AsOf; version?: number } => {
    if (typeof item === "string") return { symbol: item };
    const opts = checkOptions(`${call} item`, item as ReadInfoRequest, ["symbol", "asOf"]);
    return {
      symbol: itemSymbol(call, opts.symbol),
      asOf: opts.asOf,
      version: typeof opts.asOf === "number" ? opts.asOf : undefined,
    };
  };
}

/** `Library.updateBatch`: `update` for each item in turn. */
export async function updateBatch(
  lib: Library,
  items: unknown,
  options: { upsert?: boolean; prunePreviousVersions?: boolean } | undefined,
): Promise<(VersionedItem | DataError)[]> {
  const opts = checkOptions("updateBatch", options, ["upsert", "prunePreviousVersions"]);
  refuseDuplicateSymbols("updateBatch", items);
  const checked = batchItems("updateBatch", items, (item) => {
    const p = checkOptions("updateBatch item", item as UpdatePayload, [
      "symbol",
      "data",
      "metadata",
      "dateRange",
      "upsert",
    ]);
    return { ...p, symbol: itemSymbol("updateBatch", p.symbol) };
  });
  return eachItem(checked, (p) =>
    lib.update(p.symbol, p.data, {
      ...(p.dateRange !== undefined && { dateRange: p.dateRange }),
      ...(p.metadata !== undefined && { metadata: p.metadata }),
      upsert: p.upsert ?? opts.upsert,
      prunePreviousVersions: opts.prunePreviousVersions,
    }),
  );
}

/**
 * `Library.deleteBatch`: `delete` for each item in turn; `null` in an item's slot when it was deleted.
 * Duplicates are allowed, as in ArcticDB: an item deletes what is still there when its turn comes.
 */
export async function deleteBatch(lib: Library, items: unknown): Promise<(DataError | null)[]> {
  const checked = batchItems("deleteBatch", items, (item) => {
    if (typeof item === "string") return { symbol: item };
    const opts = checkOptions("deleteBatch item", item as DeleteRequest, ["symbol", "versions"]);
    const symbol = itemSymbol("deleteBatch", opts.symbol);
    // ArcticDB's DeleteRequest needs at least one version; a bare name deletes the whole symbol.
    if (Array.isArray(opts.versions) && opts.versions.length === 0) {
      throw new InvalidArgumentError(
        `deleteBatch: the item for '${symbol}' lists no versions; give at least one, or the bare ` +
          "symbol name to delete it whole.",
      );
    }
    return { symbol, versions: opts.versions };
  });
  const done = await eachItem(checked, async (c) => {
    await lib.delete(c.symbol, c.versions === undefined ? undefined : { versions: c.versions });
    return null;
  });
  return done;
}

/** `Library.readMetadataBatch`: `readMetadata` for each item in turn. */
export async function readMetadataBatch(
  lib: Library,
  items: unknown,
): Promise<(VersionedItem | DataError)[]> {
  const checked = batchItems("readMetadataBatch", items, readInfoItem("readMetadataBatch"));
  return eachItem(checked, (c) =>
    lib.readMetadata(c.symbol, c.asOf === undefined ? undefined : { asOf: c.asOf }),
  );
}

/** `Library.getDescriptionBatch`: `getDescription` for each item in turn. */
export async function getDescriptionBatch(
  lib: Library,
  items: unknown,
): Promise<(SymbolDescription | DataError)[]> {
  const checked = batchItems("getDescriptionBatch", items, readInfoItem("getDescriptionBatch"));
  return eachItem(checked, (c) =>
    lib.getDescription(c.symbol, c.asOf === undefined ? undefined : { asOf: c.asOf }),
  );
}

/** `Library.writeMetadataBatch`: `writeMetadata` for each item in turn. */
export async function writeMetadataBatch(
  lib: Library,
  items: unknown,
  options: { prunePreviousVersions?: boolean } | undefined,
): Promise<(VersionedItem | DataError)[]> {
  const opts = checkOptions("writeMetadataBatch", options, ["prunePreviousVersions"]);
  refuseDuplicateSymbols("writeMetadataBatch", items);
  const checked = batchItems("writeMetadataBatch", items, (item) => {
    const p = checkOptions("writeMetadataBatch item", item as WriteMetadataPayload, ["symbol", "metadata"]);
    const symbol = itemSymbol("writeMetadataBatch", p.symbol);
    if (!("metadata" in p)) {
      throw new InvalidArgumentError(
        `writeMetadataBatch: the item for '${symbol}' has no metadata; give { symbol, metadata }.`,
      );
    }
    return { symbol, metadata: p.metadata };
  });
  return eachItem(checked, (p) =>
    lib.writeMetadata(
      p.symbol,
      p.metadata,
      opts.prunePreviousVersions === undefined
        ? undefined
        : { prunePreviousVersions: opts.prunePreviousVersions },
    ),
  );
}
