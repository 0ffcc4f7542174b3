import type { DataFrame, Library } from "../api/index.ts";
import { InvalidArgumentError } from "../api/index.ts";
import { checkName, checkOptions, describe } from "../api/validate.ts";
import { type ExportOptions, exportChunks } from "./export-frames.ts";
import {
  IMPORT_KEYS,
  type ImportOptions,
  type ImportResult,
  importFrames,
  importSettings,
} from "./import-frames.ts";
import { apacheArrow, arrowModule, optional } from "./optional.ts";
import { TransferMeter } from "./progress.ts";

type ParquetWasm = typeof import("parquet-wasm");

let loaded: Promise<ParquetWasm> | undefined;

/**
 * parquet-wasm, loaded on first use. Its Node build (picked by the `node` export condition) reads its
 * .wasm beside itself with `fs` when imported; its web build exports an init function that fetches the
 * .wasm relative to the module, which is called here.
 */
function parquetWasm(): Promise<ParquetWasm> {
  loaded ??= optional(
    "Parquet import and export",
    async () => {
      const mod = (await import("parquet-wasm")) as ParquetWasm & { default?: unknown };
      if (typeof mod.default === "function") await (mod.default as () => Promise<unknown>)();
      return mod;
    },
    "parquet-wasm",
  );
  return loaded;
}

/** How to import a Parquet file. */
export interface ParquetImportOptions extends Omit<ImportOptions, "chunkRows"> {
  /** The timestamp index column (default: the one the schema's `floe:index` metadata names, else none). */
  index?: string | null;
}

/** Row groups are decoded together until their uncompressed size passes this, to copy the file fewer times. */
const DECODE_BYTES = 64 << 20;

/**
 * Imports a Parquet file into `symbol` as one new version, a few row groups at a time (about 64 MB of
 * uncompressed data per frame staged). Parquet types map through Arrow as `fromArrow` says. Needs the
 * optional peer dependencies `parquet-wasm` and `apache-arrow`.
 *
 * The whole file is held in memory (a `Blob` is read into it first): the row groups are decoded by
 * parquet-wasm's synchronous reader, because its streaming reader panics on a damaged page inside a
 * microtask, where the Wasm trap escapes every `try`/`catch` as an uncaught exception and kills the
 * process. A damaged or non-Parquet file is an `InvalidArgumentError` and the symbol is left as it was.
 */
export async function importParquet(
  lib: Library,
  symbol: string,
  source: Blob | Uint8Array | ArrayBuffer,
  options?: ParquetImportOptions,
): Promise<ImportResult> {
  checkName("symbol", symbol);
  const opts = checkOptions("importParquet", options, [
    ...IMPORT_KEYS.filter((k) => k !== "chunkRows"),
    "index",
  ]);
  const { mode } = importSettings("importParquet", lib, opts);
  const blob = source instanceof Blob ? source : bytesBlob(source);
  const pq = await parquetWasm();
  const { tableFromIPC } = await apacheArrow();
  const { fromArrow, INDEX_METADATA_KEY } = await arrowModule();
  const bytes = new Uint8Array(
    source instanceof Uint8Array || source instanceof ArrayBuffer ? source : await blob.arrayBuffer(),
  );
  let file: Awaited<ReturnType<ParquetWasm["ParquetFile"]["fromFile"]>>;
  try {
    // The footer only: parquet-wasm's thrift decoder answers a damaged footer with an error, not a panic.
    file = await pq.ParquetFile.fromFile(blob);
  } catch (err) {
    throw new InvalidArgumentError(
      `importParquet: the source is not a Parquet file, or its footer is damaged (${wasmMessage(err)}).`,
      { cause: err },
    );
  }
  let groups: DecodeBatch[];
  let index: string | null;
  let rowsTotal: number;
  try {
    const meta = file.metadata();
    // The reader drops the schema's metadata, so the index name is taken from the file's schema.
    index =
      opts.index !== undefined ? opts.index : (file.schema().metadata().get(INDEX_METADATA_KEY) ?? null);
    rowsTotal = Number(meta.fileMetadata().numRows());
    groups = decodeBatches(
      Array.from({ length: meta.numRowGroups() }, (_, g) => {
        const group = meta.rowGroup(g);
        return { raw: group.totalByteSize(), compressed: group.compressedSize(), rows: group.numRows() };
      }),
    );
  } finally {
    file.free();
  }
  const meter = new TransferMeter(opts.onProgress, { bytes: blob.size, rows: rowsTotal });
  const total = groups.reduce((n, g) => n + g.count, 0);
  async function* frames(): AsyncGenerator<DataFrame> {
    // A file without row groups still has a schema: read it as an empty table.
    const batches =
      groups.length > 0 ? groups : [{ first: 0, count: 0, groups: [{ rows: 0, compressed: 0 }] }];
    for (const { first, count, groups: sizes } of batches) {
      let ipc: Uint8Array;
      try {
        const rowGroups = Array.from({ length: count }, (_, i) => first + i);
        ipc = pq.readParquet(bytes, count === 0 ? { limit: 0 } : { rowGroups }).intoIPCStream();
      } catch (err) {
        throw damaged(pq, bytes, first, count, total, err);
      }
      const table = tableFromIPC(ipc);
      // One frame per row group, as the file was cut (Arrow slices share the decoded buffers).
      let at = 0;
      for (const { rows, compressed } of sizes) {
        const frame = fromArrow(sizes.length === 1 ? table : table.slice(at, at + rows), { index });
        at += rows;
        meter.add(compressed, frame.numRows);
        yield frame;
      }
    }
    meter.finish();
  }
  return importFrames(lib, symbol, frames(), { mode, metadata: opts.metadata, sort: opts.sort });
}

/** Consecutive row groups decoded by one call: as many as stay under `DECODE_BYTES` uncompressed. */
function decodeBatches(sizes: { raw: number; compressed: number; rows: number }[]): DecodeBatch[] {
  const out: DecodeBatch[] = [];
  let raw = 0;
  sizes.forEach((size, g) => {
    const last = out.at(-1);
    if (last === undefined || raw + size.raw > DECODE_BYTES) {
      out.push({ first: g, count: 1, groups: [size] });
      raw = size.raw;
    } else {
      last.count++;
      last.groups.push(size);
      raw += size.raw;
    }
  });
  return out;
}

/** Row groups `first` … `first + count - 1`, decoded by one call; each one's rows and compressed bytes. */
interface DecodeBatch {
  first: number;
  count: number;
  groups: { rows: number; compressed: number }[];
}

/** The error for a failed decode of row groups `first` … `first + count - 1`: which one fails, and why. */
function damaged(
  pq: ParquetWasm,
  bytes: Uint8Array,
  first: number,
  count: number,
  total: number,
  err: unknown,
): InvalidArgumentError {
  let which = count === 0 ? "its schema" : `one of row groups ${first}-${first + count - 1}`;
  if (count === 1) which = `row group ${first}`;
  for (let g = first; count > 1 && g < first + count; g++) {
    try {
      pq.readParquet(bytes, { rowGroups: [g] }).free();
    } catch (e) {
      which = `row group ${g}`;
      err = e;
      break;
    }
  }
  return new InvalidArgumentError(
    `importParquet: the Parquet file is damaged: ${which} (of ${total}) does not decode ` +
      `(${wasmMessage(err)}). Nothing was imported; export the file again from its source.`,
    { cause: err },
  );
}

/** A parquet-wasm error's message ("Parquet argument error: …"), or what a Wasm trap says. */
function wasmMessage(err: unknown): string {
  if (typeof WebAssembly !== "undefined" && err instanceof WebAssembly.RuntimeError)
    return `the Parquet decoder stopped: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

function bytesBlob(source: unknown): Blob {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) return new Blob([source as BlobPart]);
  throw new InvalidArgumentError(
    `importParquet: the source must be a Blob, a Uint8Array or an ArrayBuffer, got ${describe(source)}.`,
  );
}

/** How to export a symbol as Parquet. */
export interface ParquetExportOptions extends ExportOptions {
  /** Column compression (default `"snappy"`). */
  compression?: "uncompressed" | "snappy" | "gzip" | "brotli" | "lz4" | "zstd";
}

const COMPRESSION = ["uncompressed", "snappy", "gzip", "brotli", "lz4", "zstd"] as const;

/**
 * A version of `symbol` as a Parquet file, streamed: each chunk of `chunkRows` rows is read from the
 * store, turned into Arrow and handed to parquet-wasm's streaming writer as one row group (so
 * `chunkRows` is the row group size), and the bytes come out as they are written. Needs the optional peer dependencies `parquet-wasm` and `apache-arrow`.
 */
export async function* exportParquet(
  lib: Library,
  symbol: string,
  options?: ParquetExportOptions,
): AsyncGenerator<Uint8Array> {
  checkName("symbol", symbol);
  const compression = options?.compression ?? "snappy";
  if (!COMPRESSION.includes(compression)) {
    throw new InvalidArgumentError(
      `exportParquet: compression must be one of ${COMPRESSION.join(", ")}, got ${describe(compression)}.`,
    );
  }
  const { compression: _, ...rest } = options ?? {};
  const pq = await parquetWasm();
  const { tableToIPC } = await apacheArrow();
  const { toArrow } = await arrowModule();
  const { frames, meter, chunkRows } = await exportChunks("exportParquet", lib, symbol, rest);
  const codes: Record<(typeof COMPRESSION)[number], number> = {
    uncompressed: pq.Compression.UNCOMPRESSED,
    snappy: pq.Compression.SNAPPY,
    gzip: pq.Compression.GZIP,
    brotli: pq.Compression.BROTLI,
    lz4: pq.Compression.LZ4_RAW,
    zstd: pq.Compression.ZSTD,
  };
  // One row group per chunk: the writer then holds one chunk, not the default million rows.
  const props = new pq.WriterPropertiesBuilder()
    .setCompression(codes[compression])
    .setMaxRowGroupSize(chunkRows)
    .build();
  // Pull-driven: the writer asks for the next batch only when it wants one, so nothing piles up.
  const batches = new ReadableStream({
    async pull(controller) {
      const next = await frames.next();
      if (next.done) {
        controller.close();
        return;
      }
      const wasmTable = pq.Table.fromIPCStream(tableToIPC(toArrow(next.value), "stream"));
      for (const batch of wasmTable.recordBatches()) controller.enqueue(batch);
      meter.add(0, next.value.numRows);
    },
  });
  const bytes = await pq.transformParquetStream(batches, props);
  for await (const piece of bytes as unknown as AsyncIterable<Uint8Array>) {
    meter.addBytes(piece.byteLength);
    yield piece;
  }
  meter.finish();
}
