import { InvalidArgumentError } from "../api/index.ts";
import { describe } from "../api/validate.ts";

/**
 * Bytes to import, in any form a runtime hands out: the whole file (`Uint8Array`, `ArrayBuffer`, a
 * string of text, a `Blob`), or a stream of pieces (a web `ReadableStream`, a Node stream or any async
 * or sync iterable of `Uint8Array` / string pieces).
 */
export type ByteSource =
  | Uint8Array
  | ArrayBuffer
  | string
  | Blob
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array | string>
  | Iterable<Uint8Array | string>;

/** Pieces of this size are cut from whole-file sources, so parsing stays incremental. */
const PIECE = 1 << 20;

const utf8 = new TextEncoder();

/** The bytes of `source` as an async sequence of pieces; `what` names the call in errors. */
export async function* bytesOf(source: ByteSource, what: string): AsyncGenerator<Uint8Array> {
  if (typeof source === "string") source = utf8.encode(source);
  if (source instanceof ArrayBuffer) source = new Uint8Array(source);
  if (source instanceof Uint8Array) {
    for (let at = 0; at < source.length; at += PIECE) yield source.subarray(at, at + PIECE);
    return;
  }
  if (typeof Blob !== "undefined" && source instanceof Blob) source = source.stream();
  if (source !== null && typeof source === "object") {
    const iterable =
      Symbol.asyncIterator in source
        ? (source as AsyncIterable<unknown>)
        : Symbol.iterator in source
          ? (source as Iterable<unknown>)
          : "getReader" in source
            ? readerIterable(source as ReadableStream<Uint8Array>)
            : undefined;
    if (iterable) {
      for await (const piece of iterable) {
        if (typeof piece === "string") yield utf8.encode(piece);
        else if (piece instanceof Uint8Array) yield piece;
        else if (piece instanceof ArrayBuffer) yield new Uint8Array(piece);
        else {
          throw new InvalidArgumentError(
            `${what}: the source yielded ${describe(piece)}; give pieces as Uint8Array or string.`,
          );
        }
      }
      return;
    }
  }
  throw new InvalidArgumentError(
    `${what}: the source must be bytes, a string, a Blob, a ReadableStream or an (async) iterable of ` +
      `Uint8Array pieces, got ${describe(source)}.`,
  );
}

/** A web stream without `Symbol.asyncIterator` (older runtimes) as an async iterable. */
async function* readerIterable(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** The size of `source` in bytes when it is known without reading it. */
export function sizeOf(source: ByteSource): number | undefined {
  if (typeof source === "string") return undefined; // UTF-8 length unknown until encoded
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) return source.byteLength;
  if (typeof Blob !== "undefined" && source instanceof Blob) return source.size;
  return undefined;
}
