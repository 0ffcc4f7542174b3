/**
 * A timer that does not keep the process alive, for the runtimes that have `node:timers` (Node, Bun,
 * Deno: its global `setTimeout` returns a number, this one a `Timeout` that can be unref'd).
 */
import { clearTimeout, setTimeout } from "node:timers";

export function unrefTimer(fn: () => void, ms: number): () => void {
  const timer = setTimeout(fn, ms);
  timer.unref();
  return () => clearTimeout(timer);
}
