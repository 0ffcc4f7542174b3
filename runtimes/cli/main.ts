#!/usr/bin/env node
/**
 * The `floe` command: a thin layer over the library (one file per command group beside this one).
 *
 * Exit codes: 0 done; 1 the command failed (a floe error, printed as its code and message, or any other
 * failure); 2 the command line is wrong (unknown command or option, missing or malformed argument);
 * 3 `verify` found problems.
 */
import { Command, CommanderError } from "commander";
import pkg from "../../package.json" with { type: "json" };
import { FloeError } from "../node.ts";
import { UsageError } from "./args.ts";
import { adminCommands } from "./commands-admin.ts";
import { browseCommands } from "./commands-browse.ts";
import { ioCommands } from "./commands-io.ts";
import { queryCommands } from "./commands-query.ts";
import { readCommands } from "./commands-read.ts";
import { type Context, stdoutError, where } from "./context.ts";
import { cliMessage } from "./hints.ts";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

const program = new Command();
program
  .name("floe")
  .description("Browse, read, import and export floe stores (lmdb://path or mem://).")
  .version(pkg.version)
  .option("--json", "print JSON for scripts instead of tables")
  .option("--no-progress", "never show a progress bar (it shows on stderr, when that is a terminal)")
  .exitOverride()
  .showHelpAfterError("(floe <command> --help shows how to use a command)")
  .addHelpText(
    "after",
    "\nExit codes: 0 ok, 1 the command failed (floe error code and message on stderr), 2 usage error, 3 verify found problems.",
  );

const context = (): Context => {
  const o = program.opts<{ json?: boolean; progress: boolean }>();
  return {
    json: o.json === true,
    progress: o.progress,
    print: (text) => {
      process.stdout.write(text.endsWith("\n") || text === "" ? text : `${text}\n`);
    },
  };
};

browseCommands(program, context);
readCommands(program, context);
queryCommands(program, context);
ioCommands(program, context);
adminCommands(program, context);

// Reading into `head` or a closed pipe is not a failure. Any other failure to write the output (a full
// disk under `> file`) ends the command: what was written cannot be taken back, so the message says so.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(EXIT_OK);
  fail(stdoutError(err));
  process.exit(process.exitCode);
});

function fail(err: unknown): void {
  const usage = err instanceof UsageError;
  const code = err instanceof FloeError ? err.code : "Error";
  // Control characters (from a damaged input quoted in a message) are escaped, never sent to the terminal.
  const message = cliMessage(err, where).replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping them is the point
    /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  if (program.opts().json) process.stderr.write(`${JSON.stringify({ error: { code, message } })}\n`);
  else process.stderr.write(`floe: ${usage ? "usage" : code}: ${message}\n`);
  if (!(err instanceof FloeError) && err instanceof Error && process.env.FLOE_DEBUG) {
    process.stderr.write(`${err.stack}\n`);
  }
  process.exitCode = usage ? EXIT_USAGE : EXIT_FAILED;
}

// Nothing a command does should end in a stack trace: an error that escapes it (a bug, or a library's
// callback throwing) is reported as any other, its stack shown only with FLOE_DEBUG set.
for (const event of ["uncaughtException", "unhandledRejection"] as const) {
  process.on(event, (err: unknown) => {
    fail(err);
    process.exit(process.exitCode);
  });
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  else fail(err);
}
