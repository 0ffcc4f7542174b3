/** Commands that print rows: head, tail, read. */
import type { Command } from "commander";
import type { Library, ReadOptions, VersionedItem } from "../node.ts";
import * as args from "./args.ts";
import type { Context } from "./context.ts";
import { withLibrary } from "./context.ts";
import { frameJson, json } from "./format.ts";
import { progressBar } from "./progress-bar.ts";

/**
 * Prints a read's frame: as pandas prints it (long frames cut to their first and last rows), or JSON;
 * an empty one as its header and "0 rows".
 */
export function show(c: Context, item: VersionedItem): void {
  const df = item.data!;
  if (c.json) c.print(json({ symbol: item.symbol, version: item.version, ...(frameJson(df) as object) }));
  // An empty frame prints its header, which alone reads like a failure: say that no row matched.
  else c.print(df.numRows === 0 ? `${df.toString()}\n0 rows` : df.toString());
}

/** `lib.read(symbol, options)` with a progress bar on stderr (when it is a terminal), stopped either way. */
export async function readWithBar(
  c: Context,
  lib: Library,
  symbol: string,
  options: ReadOptions,
): Promise<VersionedItem> {
  const bar = progressBar("read", c.progress);
  try {
    return await lib.read(symbol, { ...options, onProgress: bar.read });
  } finally {
    bar.stop();
  }
}

export function readCommands(program: Command, ctx: () => Context): void {
  for (const which of ["head", "tail"] as const) {
    program
      .command(which)
      .description(`print the ${which === "head" ? "first" : "last"} rows of a symbol`)
      .argument("<uri>", "the store")
      .argument("<library>", "the library")
      .argument("<symbol>", "the symbol")
      .option("-n, --rows <n>", "how many rows; negative: all but the other end's n", "5")
      .option("--columns <names>", "only these columns, comma-separated")
      .option("--as-of <version>", "a version number, snapshot name or ISO date (default: latest)")
      .action(
        async (
          uri: string,
          name: string,
          symbol: string,
          o: { rows: string; columns?: string; asOf?: string },
        ) => {
          const c = ctx();
          const n = args.integer("--rows", o.rows);
          const options = args.defined({ columns: args.columns(o.columns), asOf: args.asOf(o.asOf) });
          show(c, await withLibrary(uri, name, (lib) => lib[which](symbol, n, options)));
        },
      );
  }

  program
    .command("read")
    .description("print a symbol's rows: a date range, a row range, some columns, an older version")
    .argument("<uri>", "the store")
    .argument("<library>", "the library")
    .argument("<symbol>", "the symbol")
    .option(
      "--date-range <start..end>",
      "inclusive ISO timestamps, either end may be empty; an end date without a time is that whole day",
    )
    .option(
      "--rows <start:end>",
      "row range [start, end); either end may be empty, negative counts from the end",
    )
    .option("--columns <names>", "only these columns, comma-separated")
    .option("--as-of <version>", "a version number, snapshot name or ISO date (default: latest)")
    .action(
      async (
        uri: string,
        name: string,
        symbol: string,
        o: { dateRange?: string; rows?: string; columns?: string; asOf?: string },
      ) => {
        const c = ctx();
        const range = args.dateRange(o.dateRange);
        if (range && o.rows !== undefined)
          throw new args.UsageError("Give --date-range or --rows, not both.");
        const item = await withLibrary(uri, name, async (lib) => {
          const version = args.asOf(o.asOf);
          const rows = args.rowRange(o.rows);
          return readWithBar(
            c,
            lib,
            symbol,
            args.defined({
              dateRange: range,
              rowRange: rows,
              columns: args.columns(o.columns),
              asOf: version,
            }),
          );
        });
        show(c, item);
      },
    );
}
