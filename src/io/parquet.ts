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

/**
 * Imports a Parquet file into `symbol` as one new version, one row group at a time: with a `Blob` (in
 * Node, `fs.openAsBlob(path)`) only the row group being read is in memory, so the file's row groups bound
 * memory, not its size. Parquet types map through Arrow as `fromArrow` says. Needs the optional peer
 * dependencies `parquet-wasm` and `apache-arrow`.
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
  let file: Awaited<ReturnType<ParquetWasm["ParquetFile"]["fromFile"]>>;
  try {
    file = await pq.ParquetFile.fromFile(blob);
  } catch (err) {
    throw new InvalidArgumentError(`importParquet: the source is not a Parquet file (${String(err)}).`, {
      cause: err,
    });
  }
  const meta = file.metadata();
  // The row-group reader drops the schema's metadata, so the index name is taken from the file's schema.
  const index =
    opts.index !== undefined ? opts.index : (file.schema().metadata().get(INDEX_METADATA_KEY) ?? null);
  const groups = meta.numRowGroups();
  const meter = new TransferMeter(opts.onProgress, {
    bytes: blob.size,
    rows: Number(meta.fileMetadata().numRows()),
  });
  async function* frames(): AsyncGenerator<DataFrame> {
    try {
      // A file without row groups still has a schema: read it as an empty table.
      for (let g = 0; g < Math.max(groups, 1); g++) {
        const table = await file.read(groups === 0 ? { limit: 0 } : { rowGroups: [g] });
        const frame = fromArrow(tableFromIPC(table.intoIPCStream()), { index });
        const bytes = groups === 0 ? 0 : meta.rowGroup(g).compressedSize();
        meter.add(bytes, frame.numRows);
        yield frame;
      }
      meter.finish();
    } finally {
      file.free();
    }
  }
  return importFrames(lib, symbol, frames(), { mode, metadata: opts.metadata, sort: opts.sort });
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
