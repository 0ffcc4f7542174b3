/** The CLI's progress bar: on stderr, only when stderr is a terminal, only once a call has run a second. */
import { SingleBar } from "cli-progress";
import type { Progress } from "../node.ts";
import type { TransferProgress } from "../node-io.ts";
import { bytes } from "./format.ts";

const DELAY_MS = 1000;

export interface ProgressBar {
  /** For imports and exports. */
  transfer: ((p: TransferProgress) => void) | undefined;
  /** For reads (bytes and segments). */
  read: ((p: Progress) => void) | undefined;
  /** Removes the bar, if one was shown. */
  stop(): void;
}

/** A progress bar labelled `label`, or a no-op when `enabled` is false or stderr is not a TTY. */
export function progressBar(label: string, enabled: boolean): ProgressBar {
  if (!enabled || !process.stderr.isTTY) return { transfer: undefined, read: undefined, stop() {} };
  const started = Date.now();
  let bar: SingleBar | undefined;
  const show = (done: number, total: number, text: string) => {
    if (!bar) {
      if (Date.now() - started < DELAY_MS) return;
      bar = new SingleBar({
        stream: process.stderr,
        format: `${label} [{bar}] {percentage}% | {text}`,
        hideCursor: true,
        clearOnComplete: true,
        barsize: 30,
      });
      bar.start(Math.max(total, 1), done, { text });
    }
    bar.setTotal(Math.max(total, 1));
    bar.update(done, { text });
  };
  return {
    transfer(p) {
      const rows = `${p.rowsDone.toLocaleString("en-US")} rows`;
      if (p.bytesTotal !== undefined && p.rowsTotal === undefined)
        show(p.bytesDone, p.bytesTotal, `${bytes(p.bytesDone)} of ${bytes(p.bytesTotal)}, ${rows}`);
      else if (p.rowsTotal !== undefined)
        show(
          p.rowsDone,
          p.rowsTotal,
          `${rows} of ${p.rowsTotal.toLocaleString("en-US")}, ${bytes(p.bytesDone)}`,
        );
      else show(0, 0, rows);
    },
    read(p) {
      show(p.bytesDone, p.bytesTotal, `${bytes(p.bytesDone)} of ${bytes(p.bytesTotal)}`);
    },
    stop() {
      bar?.stop();
    },
  };
}
