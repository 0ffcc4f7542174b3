/** `floe query`: a read with a query written as text (`--filter "px > 100"`, `--groupby sym`, …). */
import type { Command } from "commander";
import {
  type AggName,
  type AggSpec,
  InvalidArgumentError,
  type Library,
  parseExpr,
  QueryBuilder,
} from "../node.ts";
import * as args from "./args.ts";
import { readWithBar, show } from "./commands-read.ts";
import type { Context } from "./context.ts";
import { withLibrary } from "./context.ts";

/** A --filter or --apply, in the order given on the command line. */
type Step = { kind: "filter" | "apply"; text: string };

interface QueryOptions {
  groupby?: string;
  resample?: string;
  closed?: string;
  label?: string;
  agg?: string;
  head?: string;
  tail?: string;
  dateRange?: string;
  columns?: string;
  asOf?: string;
}

export function queryCommands(program: Command, ctx: () => Context): void {
  // Commander calls these for each --filter and --apply as it meets them, so one list keeps their order.
  const steps: Step[] = [];
  const step = (kind: Step["kind"]) => (text: string) => {
    steps.push({ kind, text });
    return text;
  };
  program
    .command("query")
    .description(
      "read a symbol through a query: filter, computed columns, groupby or resample with aggregations",
    )
    .argument("<uri>", "the store")
    .argument("<library>", "the library")
    .argument("<symbol>", "the symbol")
    .option(
      "--filter <expr>",
      "keep rows where it holds: \"px > 100 and sym in ('A','B')\" (repeatable)",
      step("filter"),
    )
    .option(
      "--apply <name=expr>",
      'add a column: "mid=(bid+ask)/2" (repeatable; in order with --filter)',
      step("apply"),
    )
    .option("--groupby <keys>", "group by these columns, comma-separated; needs --agg")
    .option("--resample <rule>", "bucket the timestamp index: 1min, 1h, 1D, …; needs --agg")
    .option("--closed <side>", "with --resample: left or right")
    .option("--label <side>", "with --resample: left or right")
    .option(
      "--agg <spec>",
      "out=agg or out=column:agg, comma-separated: px=mean,n=px:count (sum mean min max count first last)",
    )
    .option("--head <n>", "only the first n rows of the answer")
    .option("--tail <n>", "only the last n rows of the answer")
    .option("--date-range <start..end>", "inclusive ISO timestamps; either end may be empty")
    .option("--columns <names>", "read only these columns (and those the query names), comma-separated")
    .option("--as-of <version>", "a version number, snapshot name or ISO date (default: latest)")
    .addHelpText(
      "after",
      "\nExpressions: or < and < not < comparisons (> >= < <= == != in (…) 'not in' 'is null' 'is not null' ~ 'regex')" +
        "\n< + - < * / < unary -; 'strings' (ISO strings for timestamps), numbers, true, false, null; `odd names` in backquotes." +
        '\nExample: floe query lmdb://data bars minute --filter "close > 100" --groupby sym --agg close=mean,n=close:count',
    )
    .action(async (uri: string, name: string, symbol: string, o: QueryOptions) => {
      const c = ctx();
      const query = buildQuery(steps, o);
      const range = args.dateRange(o.dateRange);
      const item = await withLibrary(uri, name, (lib: Library) =>
        readWithBar(
          c,
          lib,
          symbol,
          args.defined({
            dateRange: range,
            columns: args.columns(o.columns),
            asOf: args.asOf(o.asOf),
            query,
          }),
        ),
      );
      show(c, item);
    });
}

/** The options as a `QueryBuilder`; a malformed one is a `UsageError` (exit code 2). */
export function buildQuery(steps: readonly Step[], o: QueryOptions): QueryBuilder {
  let q = new QueryBuilder();
  for (const s of steps) {
    if (s.kind === "filter") q = q.filter(expression("--filter", s.text));
    else {
      const m = /^\s*(`[^`]+`|[^\s=!<>`]+)\s*=(?!=)(.*)$/s.exec(s.text);
      if (!m) {
        throw new args.UsageError(
          `--apply must be NAME=EXPRESSION (e.g. "mid=(bid+ask)/2"), got '${s.text}'.`,
        );
      }
      const column = m[1]!.startsWith("`") ? m[1]!.slice(1, -1) : m[1]!;
      q = q.apply(column, expression(`--apply ${column}`, m[2]!));
    }
  }
  if (o.groupby !== undefined && o.resample !== undefined) {
    throw new args.UsageError("Give --groupby or --resample, not both.");
  }
  if ((o.closed !== undefined || o.label !== undefined) && o.resample === undefined) {
    throw new args.UsageError("--closed and --label go with --resample.");
  }
  if (o.agg !== undefined && o.groupby === undefined && o.resample === undefined) {
    throw new args.UsageError("--agg needs --groupby or --resample.");
  }
  if ((o.groupby !== undefined || o.resample !== undefined) && o.agg === undefined) {
    throw new args.UsageError(
      `--${o.groupby !== undefined ? "groupby" : "resample"} needs --agg, such as --agg px=mean.`,
    );
  }
  try {
    if (o.groupby !== undefined) q = q.groupby(args.columns(o.groupby)!).agg(aggSpec(o.agg!));
    if (o.resample !== undefined) {
      const side = (v: string | undefined) => v as "left" | "right" | undefined;
      const options = args.defined({ closed: side(o.closed), label: side(o.label) });
      q = q.resample(o.resample, options).agg(aggSpec(o.agg!));
    }
  } catch (err) {
    if (err instanceof InvalidArgumentError && !(err instanceof args.UsageError)) {
      throw new args.UsageError(err.message, { cause: err });
    }
    throw err;
  }
  if (o.head !== undefined) q = q.head(args.integer("--head", o.head));
  if (o.tail !== undefined) q = q.tail(args.integer("--tail", o.tail));
  return q;
}

function expression(what: string, text: string) {
  try {
    return parseExpr(text, what);
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw new args.UsageError(err.message, { cause: err });
    throw err;
  }
}

/** `--agg px=mean,n=px:count`. */
function aggSpec(text: string): AggSpec {
  const spec: Record<string, AggName | [string, AggName]> = {};
  for (const part of text.split(",")) {
    const m = /^\s*([^=\s]+)\s*=\s*(?:([^:\s]+)\s*:\s*)?([A-Za-z]+)\s*$/.exec(part);
    if (!m) {
      throw new args.UsageError(
        `--agg must be OUT=AGG or OUT=COLUMN:AGG separated by commas (e.g. px=mean,n=px:count), got '${part}'.`,
      );
    }
    const agg = m[3]!.toLowerCase() as AggName;
    spec[m[1]!] = m[2] === undefined ? agg : [m[2], agg];
  }
  return spec;
}
