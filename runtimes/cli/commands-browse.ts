/** Commands that list and describe what a store holds: libraries, symbols, versions, snapshots, describe. */
import type { Command } from "commander";
import { timestampDigits } from "../../src/frame/timestamps.ts";
import { formatZoned } from "../../src/frame/zones.ts";
import { asOf, defined, UsageError } from "./args.ts";
import type { Context } from "./context.ts";
import { withArctic, withLibrary } from "./context.ts";
import { bytes, fields, isoNanos, json, table } from "./format.ts";

export function browseCommands(program: Command, ctx: () => Context): void {
  program
    .command("libraries")
    .description("list the libraries of a store")
    .argument("<uri>", "the store, e.g. lmdb://data.lmdb")
    .action(async (uri: string) => {
      const c = ctx();
      const names = await withArctic(uri, (ac) => ac.listLibraries());
      c.print(c.json ? json(names) : names.join("\n"));
    });

  program
    .command("symbols")
    .description("list the symbols of a library")
    .argument("<uri>", "the store")
    .argument("<library>", "the library")
    .option("--regex <pattern>", "only symbols matching this regular expression")
    .option("--snapshot <name>", "the symbols of a snapshot")
    .action(async (uri: string, name: string, o: { regex?: string; snapshot?: string }) => {
      const c = ctx();
      if (o.regex !== undefined) {
        try {
          new RegExp(o.regex);
        } catch (err) {
          throw new UsageError(
            `--regex: '${o.regex}' is not a regular expression (${(err as Error).message}); ` +
              "escape ( ) [ ] { } * + ? . with a backslash to match them as they are.",
          );
        }
      }
      const symbols = await withLibrary(uri, name, (lib) =>
        lib.listSymbols(defined({ regex: o.regex, snapshot: o.snapshot })),
      );
      c.print(c.json ? json(symbols) : symbols.join("\n"));
    });

  program
    .command("versions")
    .description("list the versions of a symbol (or of every symbol), newest first")
    .argument("<uri>", "the store")
    .argument("<library>", "the library")
    .argument("[symbol]", "the symbol (default: all)")
    .action(async (uri: string, name: string, symbol: string | undefined) => {
      const c = ctx();
      const list = await withLibrary(uri, name, async (lib) => {
        const versions = await lib.listVersions(symbol);
        // A symbol with no version at all was never written: as head, say so (SymbolNotFoundError).
        if (symbol !== undefined && versions.length === 0) await lib.readMetadata(symbol);
        return versions;
      });
      if (c.json) return c.print(json(list));
      const rows = list.map((v) => [
        v.symbol,
        String(v.version),
        v.date.toISOString(),
        v.snapshots.join(","),
        v.deleted ? "yes" : "",
      ]);
      c.print(table(["symbol", "version", "date", "snapshots", "deleted"], rows, [1]));
    });

  program
    .command("snapshots")
    .description("list the snapshots of a library with their metadata")
    .argument("<uri>", "the store")
    .argument("<library>", "the library")
    .action(async (uri: string, name: string) => {
      const c = ctx();
      const snaps = await withLibrary(uri, name, (lib) => lib.listSnapshots());
      if (c.json) return c.print(json(snaps));
      const rows = Object.entries(snaps).map(([s, meta]) => [s, meta === undefined ? "" : json(meta, 0)]);
      c.print(table(["snapshot", "metadata"], rows));
    });

  program
    .command("describe")
    .description("show a version's columns, dtypes, rows, index span and metadata without reading its data")
    .argument("<uri>", "the store")
    .argument("<library>", "the library")
    .argument("<symbol>", "the symbol")
    .option("--as-of <version>", "a version number, snapshot name or ISO date (default: latest)")
    .action(async (uri: string, name: string, symbol: string, o: { asOf?: string }) => {
      const c = ctx();
      const d = await withLibrary(uri, name, (lib) =>
        lib.getDescription(symbol, defined({ asOf: asOf(o.asOf) })),
      );
      const tz = d.index.kind === "timestamp" ? d.index.tz : undefined;
      // ISO 8601; in the index's zone, with its offset, when it has one (as `head` prints it).
      const iso = (ns: bigint | null) =>
        ns === null
          ? null
          : tz === undefined
            ? isoNanos(ns)
            : formatZoned(ns, timestampDigits([ns]), tz).replace(" ", "T");
      const index =
        d.index.kind === "timestamp"
          ? {
              kind: "timestamp" as const,
              name: d.index.name,
              ...(tz === undefined ? {} : { tz }),
              first: iso(d.index.first),
              last: iso(d.index.last),
              sorted: d.index.sorted,
            }
          : { kind: "row" as const };
      if (c.json) return c.print(json({ ...d, index }));
      const span =
        index.kind === "timestamp"
          ? `timestamp '${index.name}'${tz === undefined ? "" : ` (${tz})`}, ${index.first ?? "-"} .. ${index.last ?? "-"}${index.sorted ? "" : " (unsorted)"}`
          : "row numbers";
      const lines = fields([
        ["symbol", d.symbol],
        ["version", String(d.version)],
        ["date", d.date.toISOString()],
        ["rows", d.rowCount.toLocaleString("en-US")],
        ["index", span],
        ["stored", bytes(d.storedBytes)],
        ["metadata", d.metadata === undefined ? "" : json(d.metadata, 0)],
      ]);
      c.print(
        `${lines}\n\n${table(
          ["column", "dtype"],
          d.columns.map((col) => [col.name, col.dtype]),
        )}`,
      );
    });
}
