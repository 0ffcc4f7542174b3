import { AsyncByteQueue, type RecordBatch, RecordBatchStreamWriter } from "apache-arrow";
import { InvalidArgumentError, type Library } from "../api/index.ts";
import { describe } from "../api/validate.ts";
import { checkLibrary, type RecordBatchReadOptions, readRecordBatches } from "./record-batches.ts";

/** The part of a Node.js `Writable` that `pipeArrowStream` uses (a file, a socket, an HTTP response). */
export interface NodeWritable {
  write(chunk: Uint8Array): boolean;
  end(callback?: (err?: Error | null) => void): unknown;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  destroy?(): unknown;
}

/** Where `pipeArrowStream` writes: a web `WritableStream` of bytes or a Node.js `Writable`. */
export type ArrowStreamSink = WritableStream<Uint8Array> | NodeWritable;

/** Options of `pipeArrowStream`: what to read (as `readRecordBatches`), and whether to end the sink. */
export type PipeArrowStreamOptions = RecordBatchReadOptions & {
  /** End the sink when the stream is written (default `true`); `false` leaves it open for more. */
  end?: boolean;
};

/** What `pipeArrowStream` wrote. */
export interface PipeArrowStreamResult {
  rows: number;
  batches: number;
  bytes: number;
}

/** Pieces of the writer's output below this are joined, so a batch is a few writes, not one per buffer. */
const SMALL = 64 << 10;

/**
 * Writes a version of `symbol` to `sink` as an Apache Arrow IPC stream (the format of `.arrows` files,
 * `pyarrow.ipc.open_stream` and `RecordBatchReader.from`): the batches of `readRecordBatches(lib, symbol,
 * options)`, each written as soon as it is read, waiting while the sink is full (a Node stream's
 * `drain`, a `WritableStream`'s backpressure), so memory holds about one chunk whatever the size of the
 * symbol. The stream ends with its end-of-stream marker and, unless `end: false`, the sink is ended; if
 * reading or writing fails the sink is aborted (Node: destroyed) and the error thrown.
 */
export async function pipeArrowStream(
  lib: Library,
  symbol: string,
  sink: ArrowStreamSink,
  options?: PipeArrowStreamOptions,
): Promise<PipeArrowStreamResult> {
  checkLibrary("pipeArrowStream", lib);
  const { end = true, ...read } = options ?? {};
  if (typeof end !== "boolean") {
    throw new InvalidArgumentError(`pipeArrowStream: end must be true or false, got ${describe(end)}.`);
  }
  const out = openSink(sink);
  let batches: AsyncGenerator<RecordBatch, void, undefined>;
  try {
    batches = readRecordBatches(lib, symbol, read);
  } catch (err) {
    out.release();
    throw err;
  }
  const result: PipeArrowStreamResult = { rows: 0, batches: 0, bytes: 0 };
  try {
    for await (const piece of ipcStream(batches, result)) {
      result.bytes += piece.byteLength;
      await out.write(piece);
    }
    await (end ? out.close() : out.flush());
  } catch (err) {
    await batches.return();
    if (end) await out.abort(err);
    else out.release();
    throw err;
  }
  return result;
}

/** The Arrow IPC stream bytes of `batches`, batch by batch, counting rows and batches into `count`. */
async function* ipcStream(
  batches: AsyncIterable<RecordBatch>,
  count: PipeArrowStreamResult,
): AsyncGenerator<Uint8Array> {
  const pending: Uint8Array[] = [];
  // The writer hands its bytes to a queue; this one keeps them for the loop below, a batch at a time.
  class Pending extends AsyncByteQueue {
    override write(value: unknown) {
      const bytes = value as ArrayBufferView;
      if (bytes.byteLength > 0)
        pending.push(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    }
  }
  const writer = new RecordBatchStreamWriter();
  writer.reset(new Pending());
  for await (const batch of batches) {
    writer.write(batch);
    count.rows += batch.numRows;
    count.batches++;
    yield* joinSmall(pending.splice(0));
  }
  writer.finish();
  yield* joinSmall(pending.splice(0));
}

/** `pieces` with runs of small ones joined into one. */
function* joinSmall(pieces: Uint8Array[]): Generator<Uint8Array> {
  let run: Uint8Array[] = [];
  let size = 0;
  function* flush(): Generator<Uint8Array> {
    if (run.length === 1) yield run[0];
    else if (run.length > 1) {
      const joined = new Uint8Array(size);
      let at = 0;
      for (const p of run) {
        joined.set(p, at);
        at += p.byteLength;
      }
      yield joined;
    }
    run = [];
    size = 0;
  }
  for (const piece of pieces) {
    if (piece.byteLength >= SMALL) {
      yield* flush();
      yield piece;
      continue;
    }
    run.push(piece);
    size += piece.byteLength;
    if (size >= SMALL) yield* flush();
  }
  yield* flush();
}

/** A sink as four calls: write (waiting while it is full), flush, close, abort; release lets it go. */
interface Sink {
  write(bytes: Uint8Array): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
  abort(reason: unknown): Promise<void>;
  release(): void;
}

function openSink(sink: ArrowStreamSink): Sink {
  if (sink !== null && typeof sink === "object") {
    if (typeof (sink as WritableStream).getWriter === "function")
      return webSink(sink as WritableStream<Uint8Array>);
    const node = sink as NodeWritable;
    if (typeof node.write === "function" && typeof node.on === "function" && typeof node.end === "function") {
      return nodeSink(node);
    }
  }
  throw new InvalidArgumentError(
    `pipeArrowStream: the sink must be a web WritableStream or a Node.js Writable, got ${describe(sink)}.`,
  );
}

function webSink(stream: WritableStream<Uint8Array>): Sink {
  const writer = stream.getWriter();
  let last: Promise<void> = Promise.resolve();
  return {
    async write(bytes) {
      await writer.ready;
      last = writer.write(bytes);
      last.catch(() => {}); // seen by the next ready, flush or close
    },
    async flush() {
      await last;
      writer.releaseLock();
    },
    async close() {
      await writer.close();
      writer.releaseLock();
    },
    async abort(reason) {
      await writer.abort(reason).catch(() => {});
      writer.releaseLock();
    },
    release() {
      writer.releaseLock();
    },
  };
}

function nodeSink(stream: NodeWritable): Sink {
  let failure: Error | undefined;
  let closed = false;
  const onError = (err: unknown) => {
    failure ??= err instanceof Error ? err : new Error(String(err));
  };
  const onClose = () => {
    closed = true;
  };
  stream.on("error", onError);
  stream.on("close", onClose);
  const check = () => {
    if (failure) throw failure;
    if (closed)
      throw new InvalidArgumentError("pipeArrowStream: the sink was closed before the stream was written.");
  };
  const release = () => {
    stream.off("error", onError);
    stream.off("close", onClose);
  };
  return {
    async write(bytes) {
      check();
      if (stream.write(bytes)) return;
      // Full: wait until it drains (or fails, or is closed under us).
      await new Promise<void>((resolve, reject) => {
        const settle = () => {
          stream.off("drain", settle);
          stream.off("error", settle);
          stream.off("close", settle);
          try {
            check();
            resolve();
          } catch (err) {
            reject(err);
          }
        };
        stream.on("drain", settle);
        stream.on("error", settle);
        stream.on("close", settle);
      });
    },
    async flush() {
      check();
      release();
    },
    async close() {
      check();
      await new Promise<void>((resolve, reject) =>
        stream.end((err?: Error | null) => (err ? reject(err) : failure ? reject(failure) : resolve())),
      );
      release();
    },
    async abort() {
      // destroy() without an error: the caller gets the error from the returned promise, and no
      // 'error' event is left for a stream nobody else listens to.
      stream.destroy?.();
      release();
    },
    release,
  };
}
