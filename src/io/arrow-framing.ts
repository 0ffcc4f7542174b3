import { InvalidArgumentError } from "../api/index.ts";

/**
 * Arrow IPC framing, checked as the bytes pass: the messages' lengths and kinds, the end-of-stream marker
 * and, for the file format, the footer. apache-arrow's reader treats the end of its input as the end of
 * the stream wherever it falls between messages (even inside a message's length), so a cut-short
 * stream would import as fewer rows without a word; this walk knows where every message ends and says
 * what is missing. It holds only each message's header (a few hundred bytes), never a body.
 *
 * It also lets the file format be read in order: the file is the magic `ARROW1`, two bytes of padding,
 * the stream format (ending with its end-of-stream marker), the footer, its length and `ARROW1` again;
 * the reader gets the stream part and the rest is checked here, so a file of any size is read as it
 * arrives instead of whole (apache-arrow reads a file-format byte stream whole before the first batch).
 * That needs the schema in front, as pyarrow and arrow-rs write it; apache-arrow's JS writer keeps it
 * only in the footer, and such a file must be read by its footer (see `openArrowBytes`).
 */

/** Message kinds, by the `MessageHeader` union's type in Arrow's Message.fbs. */
const KINDS = ["message", "schema", "dictionary batch", "record batch", "tensor", "sparse tensor"];

/** A message header longer than this is damage or not Arrow at all (a schema of 100,000 columns is a few MB). */
const MAX_HEADER = 64 << 20;

const MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"

/** Where the walk is: the 4-byte prefix, the length after a continuation marker, a header, a body, or past the end marker. */
type State = "prefix" | "length" | "header" | "body" | "end";

/** The framing of one Arrow IPC stream (or file), fed its bytes in order. */
export class ArrowFraming {
  /** `"file"` when the first bytes are the file format's magic (see `begin`). */
  format: "stream" | "file" = "stream";
  private readonly call: string;
  private state: State = "prefix";
  /** Bytes of the source seen. */
  private at = 0;
  private readonly word = new Uint8Array(4);
  private wordFill = 0;
  private header = new Uint8Array(0);
  private headerFill = 0;
  private bodyLeft = 0;
  private bodyLength = 0;
  /** The message being read: its number (from 1), kind, and where it began. */
  private message = 0;
  private kind = 0;
  private messageAt = 0;
  /** Messages of each kind complete so far. */
  private readonly counts = new Map<number, number>();
  /** The file format: bytes after the end marker, and their last 10 (footer length and magic). */
  private trailing = 0;
  private readonly tail = new Uint8Array(10);
  /** The kind of the first message, once its header is read (a stream's must be its schema). */
  firstKind: number | undefined;

  constructor(call: string) {
    this.call = call;
  }

  /** Says which format the first 8 bytes showed; a file's 8-byte header is then not given to `scan`. */
  begin(format: "stream" | "file"): void {
    this.format = format;
    if (format === "file") this.at = 8;
  }

  /** True once the end-of-stream marker has been read. */
  get ended(): boolean {
    return this.state === "end";
  }

  /** Walks `bytes`, the next bytes of the stream part (after the file's 8-byte header, if a file). */
  scan(bytes: Uint8Array): void {
    let pos = 0;
    while (pos < bytes.length) {
      const left = bytes.length - pos;
      switch (this.state) {
        case "prefix":
        case "length": {
          const n = Math.min(4 - this.wordFill, left);
          this.word.set(bytes.subarray(pos, pos + n), this.wordFill);
          this.wordFill += n;
          pos += n;
          if (this.wordFill < 4) break;
          this.wordFill = 0;
          const value = new DataView(this.word.buffer).getInt32(0, true);
          if (this.state === "prefix") {
            this.message++;
            this.messageAt = this.at + pos - 4;
          }
          // 0xFFFFFFFF is the continuation marker (Arrow 0.15 on); before it, the length came first.
          if (this.state === "prefix" && value === -1) this.state = "length";
          else this.startHeader(value);
          break;
        }
        case "header": {
          const n = Math.min(this.header.length - this.headerFill, left);
          this.header.set(bytes.subarray(pos, pos + n), this.headerFill);
          this.headerFill += n;
          pos += n;
          if (this.headerFill === this.header.length) this.endHeader();
          break;
        }
        case "body": {
          const n = Math.min(this.bodyLeft, left);
          this.bodyLeft -= n;
          pos += n;
          if (this.bodyLeft === 0) this.endMessage();
          break;
        }
        case "end": {
          // Past the end marker: a file's footer; trailing bytes of a stream are not read.
          const rest = bytes.subarray(pos);
          this.trailing += rest.length;
          if (rest.length >= 10) this.tail.set(rest.subarray(rest.length - 10));
          else {
            this.tail.copyWithin(0, rest.length);
            this.tail.set(rest, 10 - rest.length);
          }
          pos = bytes.length;
          break;
        }
      }
    }
    this.at += bytes.length;
  }

  /** Checks that the bytes ended where a stream (or file) may end; throws what is missing if not. */
  finish(): void {
    const at = this.at;
    if (at === 0) {
      throw new InvalidArgumentError(
        `${this.call}: the source is empty; Arrow IPC data starts with its schema.`,
      );
    }
    if (this.state === "end") {
      if (this.format === "stream" && !this.counts.has(1)) {
        throw new InvalidArgumentError(
          `${this.call}: the Arrow data ends (its end-of-stream marker, at byte ${this.messageAt}) before its schema; there is nothing to import.`,
        );
      }
      if (this.format === "file") this.checkFooter();
      return;
    }
    if (this.counts.size === 0 && this.message <= 1) {
      throw new InvalidArgumentError(
        `${this.call}: this is not Arrow IPC data, or it is cut short before its schema ends (${bytes(at)} in all).`,
      );
    }
    const what = `${this.call}: the Arrow ${this.format === "file" ? "file" : "stream"} is cut short`;
    if (this.state === "prefix" && this.wordFill === 0) {
      throw new InvalidArgumentError(
        `${what}: it ends after ${this.done()} (${bytes(at)}) without its end-of-stream marker, as a writer ` +
          "that stopped midway or a broken transfer leaves it. A finished stream ends with the 8 bytes " +
          "FF FF FF FF 00 00 00 00; if the program that wrote this one never writes them, append them to import the data as it is.",
      );
    }
    if (this.state === "body") {
      const got = this.bodyLength - this.bodyLeft;
      throw new InvalidArgumentError(
        `${what}: it ends inside ${this.current()} (begun at byte ${this.messageAt}), ` +
          `${bytes(got)} of its ${bytes(this.bodyLength)} body arrived; ${this.done()} came before it complete.`,
      );
    }
    if (this.state === "prefix" || this.state === "length") {
      const markerAt = this.state === "prefix" ? this.at - this.wordFill : this.messageAt;
      throw new InvalidArgumentError(
        `${what}: it ends inside the 8 bytes at byte ${markerAt} that begin a message or, as its end-of-stream ` +
          `marker, end the stream; ${this.done()} came before them complete.`,
      );
    }
    throw new InvalidArgumentError(
      `${what}: it ends inside the header of message ${this.message} (begun at byte ${this.messageAt}); ` +
        `${this.done()} came before it complete.`,
    );
  }

  private startHeader(length: number): void {
    if (length === 0) {
      this.state = "end";
      return;
    }
    if (length < 0 || length > MAX_HEADER) this.damaged(`a header length of ${length} bytes`);
    this.header = new Uint8Array(length);
    this.headerFill = 0;
    this.state = "header";
  }

  private endHeader(): void {
    const { kind, bodyLength } = this.parseHeader(this.header);
    // A file may keep its schema only in its footer (apache-arrow's JS writer does); a stream may not.
    if (this.message === 1 && kind !== 1 && this.format === "stream") {
      this.damaged(`a ${KINDS[kind] ?? "message"} before the schema`);
    }
    if (this.message === 1) this.firstKind = kind;
    this.kind = kind;
    this.header = new Uint8Array(0);
    this.bodyLength = bodyLength;
    this.bodyLeft = bodyLength;
    this.state = "body";
    if (bodyLength === 0) this.endMessage();
  }

  private endMessage(): void {
    this.counts.set(this.kind, (this.counts.get(this.kind) ?? 0) + 1);
    this.state = "prefix";
  }

  /** The message kind and body length from a `Message` flatbuffer, every offset checked against its length. */
  private parseHeader(header: Uint8Array): { kind: number; bodyLength: number } {
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
    const fits = (pos: number, size: number) => pos >= 0 && pos + size <= header.length;
    const table = fits(0, 4) ? view.getUint32(0, true) : -1;
    if (!fits(table, 4)) this.damaged("a header whose table lies outside it");
    const vtable = table - view.getInt32(table, true);
    if (!fits(vtable, 4) || !fits(vtable, view.getUint16(vtable, true))) {
      this.damaged("a header whose field table lies outside it");
    }
    const vtableSize = view.getUint16(vtable, true);
    // Fields of Message: 0 version, 1 header type, 2 header, 3 bodyLength, 4 custom metadata.
    const field = (i: number, size: number): number => {
      const slot = 4 + 2 * i;
      const offset = slot + 2 <= vtableSize ? view.getUint16(vtable + slot, true) : 0;
      if (offset !== 0 && !fits(table + offset, size)) this.damaged("a header field outside the header");
      return offset === 0 ? -1 : table + offset;
    };
    const kindAt = field(1, 1);
    const kind = kindAt < 0 ? 0 : view.getUint8(kindAt);
    const lengthAt = field(3, 8);
    const length = lengthAt < 0 ? 0n : view.getBigInt64(lengthAt, true);
    if (kind < 1 || kind >= KINDS.length) this.damaged(`a header of unknown kind ${kind}`);
    if (length < 0n || length > BigInt(Number.MAX_SAFE_INTEGER))
      this.damaged(`a body length of ${length} bytes`);
    return { kind, bodyLength: Number(length) };
  }

  private checkFooter(): void {
    const view = new DataView(this.tail.buffer);
    const footer = view.getInt32(0, true);
    const magic = MAGIC.every((b, i) => this.tail[4 + i] === b);
    if (this.trailing >= 10 && magic && footer > 0 && footer <= this.trailing - 10) return;
    throw new InvalidArgumentError(
      `${this.call}: the Arrow file is cut short: after its ${this.done()} comes ${bytes(this.trailing)} where ` +
        "its footer should be, which does not end with the footer's length and 'ARROW1' as a whole file does.",
    );
  }

  private damaged(what: string): never {
    const where =
      this.message <= 1 && this.counts.size === 0
        ? "this is not Arrow IPC data"
        : "the Arrow data is damaged";
    throw new InvalidArgumentError(
      `${this.call}: ${where}: message ${this.message} (at byte ${this.messageAt}) has ${what}.`,
    );
  }

  /** The messages read whole, in words: "the schema and 3 record batches". */
  private done(): string {
    const parts = [...this.counts]
      .filter(([kind]) => kind !== 1)
      .map(([kind, n]) => `${n} ${KINDS[kind]}${n === 1 ? "" : KINDS[kind].endsWith("h") ? "es" : "s"}`);
    return [this.counts.has(1) ? "the schema" : "nothing", ...parts]
      .join(" and ")
      .replace(/^nothing and /, "");
  }

  /** The message being read, in words: "record batch 4". */
  private current(): string {
    return `${KINDS[this.kind]} ${(this.counts.get(this.kind) ?? 0) + 1}`;
  }
}

function bytes(n: number): string {
  return `${n.toLocaleString("en-US")} byte${n === 1 ? "" : "s"}`;
}

/** Arrow IPC bytes opened by `openArrowBytes`. */
export type ArrowBytes =
  | {
      /** The stream format, or a file that also holds its schema in front: read in order, as a stream. */
      layout: "stream";
      /** The stream part for an Arrow reader (a file's 8-byte header left out); ending early leaves the source open. */
      pieces: AsyncIterable<Uint8Array>;
      /** Once the reader is done: reads what follows (a file's footer), checks where the bytes end, closes the source. */
      finish(): Promise<void>;
      /** Closes the source (on failure). */
      close(): Promise<void>;
    }
  | {
      /** A file whose schema is only in its footer (as apache-arrow's JS writer makes them): it must be read by its footer. */
      layout: "footer";
      /** All its bytes, its framing checked. */
      whole(): Promise<Uint8Array>;
      close(): Promise<void>;
    };

/**
 * Opens the Arrow IPC bytes of `source` for reading in order, checked by an `ArrowFraming` as they pass.
 * Reads the first bytes to tell the layout: a stream, or a file with its schema in front, is read as a
 * stream; a file whose schema is only in its footer cannot be, and is handed back to be read whole.
 */
export async function openArrowBytes(source: AsyncIterable<Uint8Array>, call: string): Promise<ArrowBytes> {
  const framing = new ArrowFraming(call);
  const it = source[Symbol.asyncIterator]();
  let sourceDone = false;
  const next = async (): Promise<Uint8Array | undefined> => {
    if (sourceDone) return undefined;
    const r = await it.next();
    if (r.done) sourceDone = true;
    return r.done ? undefined : r.value;
  };
  const close = async () => {
    if (sourceDone) return;
    sourceDone = true;
    await it.return?.();
  };
  try {
    // The first 8 bytes tell the format: the file format's magic, or a stream's first message.
    let start: Uint8Array = new Uint8Array(0);
    while (start.length < 8) {
      const piece = await next();
      if (piece === undefined) break;
      start = start.length === 0 ? piece : concat(start, piece);
    }
    const file = start.length >= 8 && MAGIC.every((b, i) => start[i] === b);
    framing.begin(file ? "file" : "stream");
    // Read (and hold) until the first message's header is known: a file's may not be its schema.
    const held: Uint8Array[] = [];
    let piece: Uint8Array | undefined = file ? start.subarray(8) : start;
    for (;;) {
      if (piece !== undefined && piece.length > 0) {
        framing.scan(piece);
        held.push(piece);
      }
      if (framing.firstKind !== undefined || framing.ended) break;
      piece = await next();
      if (piece === undefined) break;
    }
    if (file && framing.firstKind !== undefined && framing.firstKind !== 1) {
      return {
        layout: "footer",
        close,
        async whole() {
          for (let p = await next(); p !== undefined; p = await next()) {
            framing.scan(p);
            held.push(p);
          }
          framing.finish();
          const all = new Uint8Array(8 + held.reduce((n, p) => n + p.length, 0));
          all.set(start.subarray(0, 8));
          let at = 8;
          for (const p of held.splice(0)) {
            all.set(p, at);
            at += p.length;
          }
          return all;
        },
      };
    }
    async function* walk(): AsyncGenerator<Uint8Array> {
      yield* held.splice(0);
      for (;;) {
        // Past a stream's end marker nothing more is read; a file's footer is read by finish().
        if (framing.ended && !file) return;
        const p = await next();
        if (p === undefined) break;
        framing.scan(p);
        yield p;
      }
      framing.finish();
    }
    const gen = walk();
    return {
      layout: "stream",
      pieces: {
        [Symbol.asyncIterator]: () => ({
          next: () => gen.next(),
          return: async () => ({ done: true as const, value: undefined }),
        }),
      },
      close,
      async finish() {
        // The reader stopped at the end marker: what follows is a file's footer (or a stream's trailing bytes, unread).
        if (file) while (!(await gen.next()).done) {}
        framing.finish();
        await close();
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
