import { InvalidArgumentError } from "../errors.ts";
import type { DataFrame } from "./dataframe.ts";

/**
 * A frame holds its columns as given, no copy, so a buffer resized or detached after the frame was built
 * changes what the frame holds under it. These checks run where such arrays enter: when a frame is built
 * and when it enters a write, so no write stores fewer values than its index records.
 */

/**
 * True when `buffer` was detached (transferred with `structuredClone`/`postMessage`, or an ArrayBuffer
 * `transfer`): its views then read as empty, and copying from them throws a TypeError.
 */
export function isDetached(buffer: ArrayBufferLike): boolean {
  const flag = (buffer as { detached?: unknown }).detached; // ES2024; older engines lack it
  if (typeof flag === "boolean") return flag;
  if (buffer.byteLength !== 0 || !(buffer instanceof ArrayBuffer)) return false;
  try {
    buffer.slice(0, 0);
    return false;
  } catch {
    return true;
  }
}

/** `InvalidArgumentError` when `values` (named by `what`) is a view of a detached buffer. */
export function checkAttached(values: unknown, what: string): void {
  if (ArrayBuffer.isView(values) && isDetached(values.buffer)) {
    throw new InvalidArgumentError(
      `DataFrame: ${what} is a view of a detached ArrayBuffer (transferred to a worker or another ` +
        "thread), so it holds nothing; build the frame from the data where it now lives, or copy it first.",
    );
  }
}

/**
 * Checks, as `frame` enters a write, that every column and the index still hold `numRows` values and
 * none is detached; else an `InvalidArgumentError` before anything is stored.
 */
export function checkIntact(frame: DataFrame): void {
  const index = frame.index;
  const parts: [string, ArrayLike<unknown>][] = frame.columnNames.map((name) => [
    `column '${name}'`,
    frame.column(name),
  ]);
  if (index.kind === "timestamp") parts.push(["the index", index.values]);
  for (const [what, values] of parts) {
    checkAttached(values, what);
    if (values.length !== frame.numRows) {
      throw new InvalidArgumentError(
        `DataFrame: ${what} has ${values.length} rows but the frame has ${frame.numRows}: its array was ` +
          "resized, detached or changed after the frame was built (a frame holds its columns as given, " +
          "not copied). Build the frame again from the data as it is now.",
      );
    }
  }
}
