/**
 * floe/io for Node.js: the portable import/export functions of src/io plus `importFile` and
 * `exportFile`, which take file paths and pick the format from the extension.
 *
 * @module floe/io
 */
import { createReadStream, openAsBlob } from "node:fs";
import { open, rename, rm, stat } from "node:fs/promises";
import { extname } from "node:path";
import type { Library } from "../src/api/index.ts";
import { InvalidArgumentError } from "../src/api/index.ts";
import { checkName, describe } from "../src/api/validate.ts";
import {
  type ArrowExportOptions,
  type ArrowImportOptions,
  exportArrow,
  importArrow,
} from "../src/io/arrow-ipc.ts";
import { type CsvExportOptions, type CsvImportOptions, exportCsv, importCsv } from "../src/io/csv.ts";
import type { ImportResult } from "../src/io/import-frames.ts";
import {
  exportParquet,
  importParquet,
  type ParquetExportOptions,
  type ParquetImportOptions,
} from "../src/io/parquet.ts";

export * from "../src/io/index.ts";

/** The file formats floe reads and writes. */
export type FileFormat = "csv" | "arrow" | "parquet";

const EXTENSIONS: Record<string, FileFormat> = {
  ".csv": "csv",
  ".tsv": "csv",
  ".txt": "csv",
  ".arrow": "arrow",
  ".arrows": "arrow",
  ".feather": "arrow",
  ".ipc": "arrow",
  ".parquet": "parquet",
  ".pq": "parquet",
};

/** The format of `path`: `format` when given, else from the extension; `InvalidArgumentError` if neither says. */
export function formatOf(path: string, format?: string): FileFormat {
  if (format !== undefined) {
    if (format === "csv" || format === "arrow" || format === "parquet") return format;
    throw new InvalidArgumentError(`format must be csv, arrow or parquet, got ${describe(format)}.`);
  }
  const found = EXTENSIONS[extname(path).toLowerCase()];
  if (!found) {
    throw new InvalidArgumentError(
      `Cannot tell the format of '${path}' from its extension; name it .csv, .arrow or .parquet, or give the format (--format).`,
    );
  }
  return found;
}

/** Options of `importFile`: the format's own options, and `format` to override the extension. */
export type ImportFileOptions = {
  /** The file's format, instead of telling it from the extension. */
  format?: FileFormat;
} & CsvImportOptions &
  ArrowImportOptions &
  ParquetImportOptions;

/**
 * Imports the file at `path` into `symbol` of `lib` as one new version, streaming it from disk (see
 * `importCsv`, `importArrow`, `importParquet`). A `.tsv` file is tab-separated unless `delimiter` says
 * otherwise. A missing or unreadable file is an `InvalidArgumentError`.
 */
export async function importFile(
  lib: Library,
  symbol: string,
  path: string,
  options: ImportFileOptions = {},
): Promise<ImportResult> {
  checkName("symbol", symbol);
  const { format: given, ...rest } = options;
  const format = formatOf(path, given);
  const size = await fileSize(path);
  try {
    if (format === "parquet")
      return await importParquet(lib, symbol, await openAsBlob(path), rest as ParquetImportOptions);
    const stream = createReadStream(path, { highWaterMark: 1 << 20 });
    try {
      if (format === "arrow")
        return await importArrow(lib, symbol, stream, { totalBytes: size, ...rest } as ArrowImportOptions);
      const delimiter = rest.delimiter ?? (extname(path).toLowerCase() === ".tsv" ? "\t" : undefined);
      return await importCsv(lib, symbol, stream, {
        totalBytes: size,
        ...rest,
        delimiter,
      } as CsvImportOptions);
    } finally {
      stream.destroy();
    }
  } catch (err) {
    // What was wrong with the file's contents, said about the file.
    if (err instanceof InvalidArgumentError && !err.message.includes(path))
      throw new InvalidArgumentError(`${path}: ${err.message}`, { cause: err });
    throw err;
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new InvalidArgumentError(`'${path}' is not a file.`);
    return s.size;
  } catch (err) {
    if ((err as { code?: unknown }).code === "ENOENT")
      throw new InvalidArgumentError(`There is no file '${path}'.`);
    if ((err as { code?: unknown }).code === "EACCES")
      throw new InvalidArgumentError(`'${path}' cannot be read (permission denied).`);
    throw err;
  }
}

/** Options of `exportFile`: the format's own options, and `format` to override the extension. */
export type ExportFileOptions = {
  /** The file's format, instead of telling it from the extension. */
  format?: FileFormat;
  /** Arrow's IPC flavour: `"file"` (default, or by the `.arrow` extension) or `"stream"` (`.arrows`). */
  arrowFormat?: ArrowExportOptions["format"];
} & CsvExportOptions &
  ParquetExportOptions;

/**
 * Exports a version of `symbol` to the file at `path` (see `exportCsv`, `exportArrow`, `exportParquet`),
 * streaming. The bytes go to a temporary file beside it that is renamed into place at the end, so a
 * failed export leaves no half-written file. An `.arrows` path gets the Arrow stream format. Returns the
 * bytes written.
 */
export async function exportFile(
  lib: Library,
  symbol: string,
  path: string,
  options: ExportFileOptions = {},
): Promise<{
  /** Bytes written. */
  bytes: number;
}> {
  checkName("symbol", symbol);
  const { format: given, ...rest } = options;
  const format = formatOf(path, given);
  const ext = extname(path).toLowerCase();
  const chunks = exportBytes(lib, symbol, format, ext, rest);
  const partial = `${path}.${process.pid}.partial`;
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(partial, "w");
  } catch (err) {
    throw new InvalidArgumentError(`Cannot write '${path}': ${(err as Error).message}`, { cause: err });
  }
  let bytes = 0;
  try {
    for await (const chunk of chunks) {
      await handle.write(chunk);
      bytes += chunk.byteLength;
    }
    await handle.close();
    await rename(partial, path);
    return { bytes };
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(partial, { force: true });
    throw err;
  }
}

/** The bytes of an export in `format`, for a file with extension `ext` or a stream (`ext` ""). */
export function exportBytes(
  lib: Library,
  symbol: string,
  format: FileFormat,
  ext: string,
  options: Omit<ExportFileOptions, "format">,
): AsyncGenerator<Uint8Array> {
  const { arrowFormat: _, ...common } = options;
  if (format === "parquet") return exportParquet(lib, symbol, common as ParquetExportOptions);
  if (format === "arrow") {
    const { arrowFormat, ...rest } = options;
    return exportArrow(lib, symbol, {
      ...rest,
      format: arrowFormat ?? (ext === ".arrows" ? "stream" : "file"),
    });
  }
  const delimiter = options.delimiter ?? (ext === ".tsv" ? "\t" : undefined);
  return exportCsv(lib, symbol, { ...(common as CsvExportOptions), delimiter });
}
