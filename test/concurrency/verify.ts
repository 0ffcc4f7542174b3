import { expect } from "vitest";
import type { Library } from "./floe.ts";
import { firstDifference, makeColumns } from "./frames.mjs";
import type { Message } from "./spawn.ts";

/** Reads `symbol` (at `version` when given) and expects exactly frame `seed` of `rows` rows. */
export async function expectFrame(
  lib: Library,
  symbol: string,
  seed: number,
  rows: number,
  version?: number,
): Promise<void> {
  const item = await lib.read(symbol, version === undefined ? undefined : { asOf: version });
  const diff = firstDifference(item.data!, makeColumns(seed, rows));
  expect(diff, `${symbol} v${item.version} (seed ${seed})`).toBeNull();
}

/** One line on how long the writers took: from the first start to the last end, and per writer. */
export function describeTimings(label: string, done: Message[]): string {
  const start = Math.min(...done.map((m) => m.start as number));
  const end = Math.max(...done.map((m) => m.end as number));
  const each = done.map((m) => (m.end as number) - (m.start as number)).sort((a, b) => a - b);
  const median = each[each.length >> 1];
  return (
    `${label}: ${done.length} writes in ${(end - start).toFixed(0)} ms from first start to last end; ` +
    `per write median ${median.toFixed(1)} ms, max ${each[each.length - 1].toFixed(1)} ms`
  );
}
