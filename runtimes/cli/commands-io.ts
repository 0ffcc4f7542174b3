/** import and export: files in CSV, Arrow IPC or Parquet to and from symbols. */
import { once } from "node:events";
import { fstatSync, write } from "node:fs";
import { extname } from "node:path";
import { promisify } from "node:util";
import type { Command } from "commander";
import { SORT_HINT } from "../../src/io/import-frames.ts";
import { StorageError, UnsortedIndexError } from "../node.ts";
import { exportBytes, exportFile, type FileFormat, formatOf, importFile } from "../node-io.ts";
import * as args from "./args.ts";
import type { Context } from "./context.ts";
import { stdoutError, withLibrary } from "./context.ts";
import { bytes, json } from "./format.ts";
import { progressBar } from "./progress-bar.ts";

/** `fs.write` of `bytes` from `offset` at the descriptor's position; the bytes written. */
async function writeAsync(fd: number, bytes: Uint8Array, offset: number): Promise<number> {
  const { bytesWritten } = await promisify(write)(fd, bytes, offset, bytes.byteLength - offset, null);
  return bytesWritten;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

interface ImportFlags {
  format?: string;
  index?: string;
  delimiter?: string;
  dtype?: string[];
  naValues?: string;
  defaultNa?: boolean;
  tz?: string;
  append?: boolean;
  sort?: boolean;
  metadata?: string;
  chunkRows?: string;
}

interface ExportFlags {
  format?: string;
  asOf?: string;
  dateRange?: string;
  columns?: string;
  delimiter?: string;
  compression?: string;
  chunkRows?: string;
}

/** A CSV note with the CLI's flags only: the API's options (`naValues: ["-"] (--na-values -)`) dropped. */
function cliNote(note: string): string {
  return note
    .replace(/naValues: \[[^\]]*\] \((--na-values [^)]*)\)/g, "$1")
    .replace(/dtypes: \{ [^}]* \} \((--dtype [^)]*)\)/g, "$1")
    .replace(/ with tz \((--tz [^)]*)\)/g, " with $1");
}

export function ioCommands(program: Command, ctx: () => Context): void {
  program
    .command("import")
    .description(
      "import a CSV, Arrow IPC or Parquet file into a symbol as one new version (library and store are created if missing)",
    )
    .argument("<uri>", "the store")
    .argument("<library>", "the library")
    .argument("<symbol>", "the symbol")
    .argument("<file>", "the file: .csv/.tsv, .arrow/.arrows/.feather or .parquet")
    .option("--format <format>", "csv, arrow or parquet (default: from the extension)")
    .option("--index <column>", "the column of timestamps that becomes the index")
    .option("--delimiter <char>", "CSV field separator (default , or tab for .tsv)")
    .option(
      "--dtype <column=dtype>",
      "a CSV column's dtype instead of the inferred one (repeatable)",
      collect,
    )
    .option(
      "--na-values <list>",
      "CSV cells that mean a missing value, comma-separated, besides pandas' defaults ('', NA, N/A, null, NaN, …)",
    )
    .option(
      "--no-default-na",
      "CSV: only --na-values are missing, not pandas' defaults (not even empty cells)",
    )
    .option(
      "--tz <zone>",
      "the index's time zone, such as America/New_York (cells are UTC unless they have an offset)",
    )
    .option("--append", "append the rows after the symbol's latest version instead of replacing it")
    .option("--sort", "sort the rows by timestamp before storing (holds them all in memory)")
    .option("--metadata <json>", "metadata to store with the new version")
    .option("--chunk-rows <n>", "rows staged at a time (default: the library's rowsPerSegment)")
    .action(async (uri: string, name: string, symbol: string, file: string, o: ImportFlags) => {
      const c = ctx();
      const format = formatOf(file, o.format);
      const options = args.defined({
        format,
        index: o.index,
        delimiter: o.delimiter,
        dtypes: args.dtypes(o.dtype) as never,
        naValues: o.naValues === undefined ? undefined : o.naValues.split(","),
        keepDefaultNa: o.defaultNa === false ? false : undefined,
        tz: o.tz,
        mode: o.append ? ("append" as const) : undefined,
        sort: o.sort,
        metadata: args.metadata(o.metadata),
        chunkRows: o.chunkRows === undefined ? undefined : args.integer("--chunk-rows", o.chunkRows, 1),
      });
      if (
        format !== "csv" &&
        (options.delimiter !== undefined ||
          options.dtypes !== undefined ||
          options.naValues !== undefined ||
          options.keepDefaultNa !== undefined ||
          options.tz !== undefined)
      ) {
        throw new args.UsageError(
          "--delimiter, --dtype, --na-values, --no-default-na and --tz apply to CSV files only.",
        );
      }
      if (options.tz !== undefined && options.index === undefined) {
        throw new args.UsageError("--tz is the zone of the timestamp index: give --index <column> too.");
      }
      if (format === "parquet" && options.chunkRows !== undefined) {
        throw new args.UsageError(
          "--chunk-rows does not apply to Parquet, which is imported a row group at a time.",
        );
      }
      const started = Date.now();
      const bar = progressBar(`import ${symbol}`, c.progress);
      const item = await withLibrary(
        uri,
        name,
        async (lib) => {
          try {
            return await importFile(lib, symbol, file, { ...options, onProgress: bar.transfer } as never);
          } catch (err) {
            if (err instanceof UnsortedIndexError && err.message.includes(SORT_HINT)) {
              throw new UnsortedIndexError(
                err.message.replace(SORT_HINT, "import them with --sort to sort them by time first"),
                { cause: err },
              );
            }
            throw err;
          } finally {
            bar.stop();
          }
        },
        true,
      );
      const seconds = (Date.now() - started) / 1000;
      // Notes (a column read as string because of a few odd cells) are not errors: stderr, exit 0.
      for (const note of item.notes) process.stderr.write(`floe: note: ${cliNote(note)}\n`);
      if (c.json) {
        c.print(
          json({
            symbol: item.symbol,
            library: item.library,
            version: item.version,
            rows: item.rows,
            seconds,
            notes: item.notes.map(cliNote),
          }),
        );
      } else {
        c.print(
          `Imported ${item.rows.toLocaleString("en-US")} rows into ${item.library}/${item.symbol}, version ${item.version} (${seconds.toFixed(1)} s).`,
        );
      }
    });

  program
    .command("export")
    .description(
      "export a version of a symbol to a CSV, Arrow IPC or Parquet file ('-' writes CSV to stdout)",
    )
    .argument("<uri>", "the store")
    .argument("<library>", "the library")
    .argument("<symbol>", "the symbol")
    .argument("<file>", "the file: .csv/.tsv, .arrow/.arrows/.feather or .parquet, or - for stdout")
    .option("--format <format>", "csv, arrow or parquet (default: from the extension; csv for -)")
    .option("--as-of <version>", "a version number, snapshot name or ISO date (default: latest)")
    .option("--date-range <start..end>", "only rows in this inclusive range of ISO timestamps")
    .option("--columns <names>", "only these columns, comma-separated")
    .option("--delimiter <char>", "CSV field separator (default , or tab for .tsv)")
    .option(
      "--compression <codec>",
      "Parquet compression: uncompressed, snappy (default), gzip, brotli, lz4, zstd",
    )
    .option("--chunk-rows <n>", "rows read from the store at a time (default 100000)")
    .action(async (uri: string, name: string, symbol: string, file: string, o: ExportFlags) => {
      const c = ctx();
      const toStdout = file === "-";
      const format: FileFormat = toStdout ? formatOf("-.csv", o.format) : formatOf(file, o.format);
      if (format !== "csv" && o.delimiter !== undefined)
        throw new args.UsageError("--delimiter applies to CSV only.");
      if (format !== "parquet" && o.compression !== undefined) {
        throw new args.UsageError("--compression applies to Parquet only.");
      }
      const options = args.defined({
        asOf: args.asOf(o.asOf),
        dateRange: args.dateRange(o.dateRange),
        columns: args.columns(o.columns),
        delimiter: o.delimiter,
        compression: o.compression as never,
        chunkRows: o.chunkRows === undefined ? undefined : args.integer("--chunk-rows", o.chunkRows, 1),
      });
      const started = Date.now();
      const bar = progressBar(`export ${symbol}`, c.progress);
      let rows = 0;
      const onProgress = (p: { rowsDone: number }) => {
        rows = p.rowsDone;
        bar.transfer?.(p as never);
      };
      const written = await withLibrary(uri, name, async (lib) => {
        try {
          if (!toStdout)
            return (await exportFile(lib, symbol, file, { ...options, format, onProgress })).bytes;
          let n = 0;
          // To a file (`> out.csv`) the bytes go straight to the descriptor: Node's stdout stream for a file
          // ignores a short write, so a filling disk lost the rest of the export and still exited 0.
          const toFile = fstatSync(1).isFile();
          try {
            for await (const chunk of exportBytes(lib, symbol, format, extname(file), {
              ...options,
              onProgress,
            })) {
              if (toFile) {
                for (let at = 0; at < chunk.byteLength; ) {
                  try {
                    at += await writeAsync(1, chunk, at);
                  } catch (err) {
                    throw stdoutError(err as NodeJS.ErrnoException, n + at);
                  }
                }
              } else if (!process.stdout.write(chunk)) await once(process.stdout, "drain");
              n += chunk.byteLength;
            }
          } catch (err) {
            // Bytes already on standard output cannot be unwritten: say that they are incomplete.
            if (n > 0 && err instanceof Error && !(err instanceof StorageError))
              err.message += ` The ${n.toLocaleString("en-US")} bytes written to standard output before are incomplete.`;
            throw err;
          }
          return n;
        } finally {
          bar.stop();
        }
      });
      if (toStdout) return;
      const seconds = (Date.now() - started) / 1000;
      if (c.json) c.print(json({ symbol, file, format, rows, bytes: written, seconds }));
      else
        c.print(
          `Exported ${rows.toLocaleString("en-US")} rows of ${symbol} to ${file} (${bytes(written)}, ${seconds.toFixed(1)} s).`,
        );
    });
}
