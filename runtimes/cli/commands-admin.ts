/** Commands that check or change a library: verify, delete. */
import type { Command } from "commander";
import * as args from "./args.ts";
import type { Context } from "./context.ts";
import { withLibrary } from "./context.ts";
import { json, table } from "./format.ts";

/** Exit code of `verify` when it finds problems. */
export const EXIT_PROBLEMS = 3;

export function adminCommands(program: Command, ctx: () => Context): void {
  program
    .command("verify")
    .description(
      `check that every version, snapshot and segment of a library is intact (exit code ${EXIT_PROBLEMS} if not)`,
    )
    .argument("<uri>", "the store")
    .argument("<library>", "the library")
    .option("--headers-only", "check segment headers, not every data block's checksum (faster)")
    .action(async (uri: string, name: string, o: { headersOnly?: boolean }) => {
      const c = ctx();
      const report = await withLibrary(uri, name, (lib) => lib.verify({ data: !o.headersOnly }));
      if (!report.ok) process.exitCode = EXIT_PROBLEMS;
      if (c.json) return c.print(json(report));
      const lines = [
        `${report.ok ? "OK" : "PROBLEMS FOUND"}: ${report.records} records, ${report.segments} segments checked, ` +
          `${report.problems.length} problems, ${report.orphans.length} orphaned keys.`,
      ];
      if (report.problems.length > 0) {
        lines.push(
          "",
          table(
            ["key", "problem"],
            report.problems.map((p) => [p.key, p.problem]),
          ),
        );
      }
      c.print(lines.join("\n"));
    });

  program
    .command("delete")
    .description("delete a symbol, or some of its versions")
    .argument("<uri>", "the store")
    .argument("<library>", "the library")
    .argument("<symbol>", "the symbol")
    .option("--versions <list>", "only these versions, comma-separated")
    .action(async (uri: string, name: string, symbol: string, o: { versions?: string }) => {
      const c = ctx();
      const versions = args.versions(o.versions);
      await withLibrary(uri, name, async (lib) => {
        // delete() of a symbol that was never written succeeds silently; a user typing a name wants to know.
        if (versions === undefined && !(await lib.hasSymbol(symbol))) await lib.readMetadata(symbol);
        await lib.delete(symbol, args.defined({ versions }));
      });
      if (c.json) c.print(json({ symbol, deleted: versions ?? "all" }));
      else c.print(versions ? `Deleted versions ${versions.join(", ")} of ${symbol}.` : `Deleted ${symbol}.`);
    });
}
