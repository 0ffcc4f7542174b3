/**
 * The library's messages in the CLI's words. The library's advice names its own calls (`Call
 * listSymbols()`, `pass { createIfMissing: true }`); a user at the command line needs the command or
 * flag that does the same, so `main.ts` passes every error's message through `cliMessage` before printing
 * it. Each rule replaces one phrase the library writes; messages without one are printed as they are.
 */
import { FloeError } from "../node.ts";

/** The store and library the command works on, as given on its command line (see context.ts). */
export interface Where {
  uri?: string;
  library?: string;
}

/** A word for the command line: quoted when the shell would split or expand it. */
function arg(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/** [phrase the library writes, the CLI's words for it]; `$1`… are the phrase's groups. */
function rules(w: Where): [RegExp, (...groups: string[]) => string][] {
  const uri = arg(w.uri ?? "<uri>");
  const lib = arg(w.library ?? "<library>");
  return [
    [
      /dateRange (start|end): "(.*)" is not a timestamp; use a Date, an ISO 8601 string such as "[^"]*", or nanoseconds since the epoch as a bigint\./,
      (end, value) =>
        `--date-range ${end === "start" ? "START" : "END"}: '${value.replace(/T23:59:59\.999999999$/, "")}' is ` +
        "not a timestamp; give an ISO 8601 date or time such as 2024-01-31 or 2024-01-31T09:30:00Z (UTC " +
        "unless it has an offset).",
    ],
    [
      /dateRange ends before it starts; give \[start, end\] with start <= end\./,
      () => "--date-range ends before it starts; give START..END with START at or before END.",
    ],
    [
      /Create it with createLibrary\('(?:[^']|\\')*'\) or pass \{ createIfMissing: true \}\./,
      () => `'floe libraries ${uri}' lists the libraries; 'floe import' creates one that does not exist.`,
    ],
    [
      /Call listSymbols\(\{ snapshot: '((?:[^']|\\')*)' \}\) to see what it holds\./,
      (snap) => `'floe symbols ${uri} ${lib} --snapshot ${arg(snap)}' lists what it holds.`,
    ],
    [
      /Call listSymbols\(\) to see what is stored\./,
      () => `'floe symbols ${uri} ${lib}' lists what is stored.`,
    ],
    [
      /Call listVersions\('((?:[^']|\\')*)'\) to see them\./,
      (symbol) => `'floe versions ${uri} ${lib} ${arg(symbol)}' lists them.`,
    ],
    [/Call listSnapshots\(\) to see the snapshots\./, () => `'floe snapshots ${uri} ${lib}' lists them.`],
    [
      /Sort the frame by its index first, or stage it with write\(symbol, data, \{ staged: true \}\) and call sortAndFinalizeStagedData\(symbol\)\./,
      () => "Import it with --sort to sort the rows by time first.",
    ],
    [
      /Sort them first \(or stage them and use sortAndFinalizeStagedData\)\./,
      () => "Import them with --sort.",
    ],
    [
      /Match the names, order and dtypes, write a new version with write\(\), or create the library with dynamicSchema: true\./,
      () => "Match the names, order and dtypes, or import without --append to write a new version.",
    ],
    [
      /Append only rows at or after the end, or use update\(\) to replace a range\./,
      () => "Append only rows at or after the end (the API's update() replaces a range).",
    ],
    // The API call's name before a message now about a flag (`exportCsv: --date-range …`).
    [/^[a-zA-Z]+: (--[a-z-]+)/, (flag) => flag],
  ];
}

/** `err`'s message with the library's advice put in the CLI's terms. */
export function cliMessage(err: unknown, where: Where): string {
  const message = err instanceof Error ? err.message : String(err);
  if (!(err instanceof FloeError)) return message;
  let out = message;
  for (const [phrase, words] of rules(where)) out = out.replace(phrase, (_, ...groups) => words(...groups));
  return out;
}
