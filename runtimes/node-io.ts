/**
 * floe/io for Node.js: the portable import/export functions of src/io plus `importFile` and
 * `exportFile`, which take file paths and pick the format from the extension.
 *
 * @module floe/io
 */
import { createReadStream, openAsBlob } from "node:fs";
import { lstat, open, readlink, realpath, rename, rm, stat } from "node:fs/promises";
import { dirname, extname, resolve } from "node:path";
import type { Library } from "../src/api/index.ts";
import { FloeError, InvalidArgumentError, StorageError } from "../src/api/index.ts";
import { checkName, describe } from "../src/api/validate.ts";
import {
  type ArrowExportOptions,
  type ArrowImportOptions,
  exportArrow,
  importArrow,
} from "../src/io/arrow-ipc.ts";
import {
  type CsvExportOptions,
  type CsvImportOptions,
  type CsvImportResult,
  exportCsv,
  importCsv,
} from "../src/io/csv.ts";
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
 * otherwise. A missing or unreadable file is an `InvalidArgumentError`. `notes` holds CSV's notes on
 * columns read as string because of a few odd cells (empty for Arrow and Parquet).
 */
export async function importFile(
  lib: Library,
  symbol: string,
  path: string,
  options: ImportFileOptions = {},
): Promise<CsvImportResult> {
  checkName("symbol", symbol);
  const { format: given, ...rest } = options;
  const format = formatOf(path, given);
  const size = await fileSize(path);
  try {
    if (format === "parquet")
      return {
        ...(await importParquet(lib, symbol, await openAsBlob(path), rest as ParquetImportOptions)),
        notes: [],
      };
    // Arrow as a Blob: the file format is read by its footer, a batch at a time; a stream in order.
    if (format === "arrow")
      return {
        ...(await importArrow(lib, symbol, await openAsBlob(path), rest as ArrowImportOptions)),
        notes: [],
      };
    const stream = createReadStream(path, { highWaterMark: 1 << 20 });
    try {
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
 *
 * A symlink is followed: the file it points to is replaced (with the temporary file beside that file),
 * and the link stays a link. A path that is a directory, FIFO, device or socket is an
 * `InvalidArgumentError`: such a thing is never replaced by a file, nor written to in place (an export
 * written straight into it could not be taken back when it fails; to stream an export, use `exportBytes`).
 * A full disk is a `StorageError`, and the partial file is removed.
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
  const { target, mode } = await exportTarget(path);
  const chunks = exportBytes(lib, symbol, format, ext, rest);
  const partial = `${target}.${process.pid}.partial`;
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    // "wx": a leftover of this name is never followed (it could be a link planted there).
    await rm(partial, { force: true });
    handle = await open(partial, "wx", mode);
  } catch (err) {
    throw writeError(path, err, 0);
  }
  let bytes = 0;
  try {
    for await (const chunk of chunks) {
      // A write may take only part of the chunk (a disk filling up does that before ENOSPC).
      for (let at = 0; at < chunk.byteLength; ) {
        const { bytesWritten } = await handle.write(chunk, at);
        at += bytesWritten;
        bytes += bytesWritten;
      }
    }
    await handle.close();
    await rename(partial, target);
    return { bytes };
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(partial, { force: true });
    throw writeError(path, err, bytes);
  }
}

/**
 * Where an export to `path` goes: the file itself, or the file at the end of its chain of symlinks, with
 * the mode an existing file has (kept for the new one). Anything there but a regular file is refused.
 */
async function exportTarget(path: string): Promise<{ target: string; mode: number }> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path); // through links, /proc/self/fd/N and /dev/stdout included
  } catch (err) {
    if ((err as { code?: unknown }).code !== "ENOENT") throw writeError(path, err, 0);
    return { target: await danglingTarget(path), mode: 0o666 };
  }
  if (info.isFile()) return { target: await realpath(path), mode: Number(info.mode) & 0o7777 };
  const kind = info.isDirectory()
    ? "a directory"
    : info.isFIFO()
      ? "a pipe (FIFO)"
      : info.isCharacterDevice() || info.isBlockDevice()
        ? "a device"
        : info.isSocket()
          ? "a socket"
          : "not a regular file";
  const real = (await lstat(path)).isSymbolicLink() ? await realpath(path).catch(() => undefined) : undefined;
  throw new InvalidArgumentError(
    `Cannot export to '${path}'${real ? ` (a link to '${real}')` : ""}: it is ${kind}, not a regular file. ` +
      "An export is written to a temporary file that is renamed over the target when complete, so the " +
      "target must be a regular file or not exist. " +
      (info.isDirectory()
        ? "Give the path of a file inside it."
        : "To stream the export into a pipe or a terminal, give - (standard output) as the file."),
  );
}

/** The path a chain of symlinks from `path` ends at, where nothing exists yet (or `path` itself). */
async function danglingTarget(path: string): Promise<string> {
  let target = path;
  for (let hops = 0; hops < 40; hops++) {
    try {
      if (!(await lstat(target)).isSymbolicLink()) return target;
    } catch {
      return target; // nothing there: the new file goes here
    }
    target = resolve(dirname(target), await readlink(target));
  }
  throw new InvalidArgumentError(`Cannot export to '${path}': too many levels of symbolic links.`);
}

/** What a failed write to `path` (after `bytes` bytes) says: a full disk or a lost mount is a `StorageError`. */
function writeError(path: string, err: unknown, bytes: number): unknown {
  const code = (err as { code?: unknown })?.code;
  const what = `'${path}'${bytes > 0 ? ` after ${bytes.toLocaleString("en-US")} bytes` : ""}`;
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new StorageError(
      `The disk is full (${code}): cannot write ${what}. The partial file was removed and '${path}' is as it ` +
        "was; free some space and export again.",
      { cause: err },
    );
  }
  if (code === "EIO" || code === "EFBIG") {
    return new StorageError(
      `Cannot write ${what}: ${(err as Error).message}. The partial file was removed.`,
      {
        cause: err,
      },
    );
  }
  if (typeof code === "string" && code.startsWith("E") && !(err instanceof FloeError)) {
    return new InvalidArgumentError(`Cannot write ${what}: ${(err as Error).message}`, { cause: err });
  }
  return err;
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
