/**
 * Storage keys. Every key starts with its kind, so each kind lists by prefix:
 *
 * | kind | key | value | written |
 * |---|---|---|---|
 * | library config | `L:<lib>` | msgpack `LibraryConfig` | once |
 * | symbol reference | `R:<lib>/<symbol>` | msgpack `{ next }`: the next version number | moves |
 * | version | `V:<lib>/<symbol>/<version, 10 digits>` | msgpack `VersionRecord` | once |
 * | index | `I:<lib>/<symbol>/<id>` | msgpack `IndexRecord` | once |
 * | data segment | `S:<lib>/<symbol>/<id>` | encoded segment | once |
 * | snapshot | `N:<lib>/<name>` | msgpack `SnapshotRecord` | once |
 * | staged chunk | `T:<lib>/<symbol>/<id>` | msgpack `StagedRecord` | once, until finalized |
 *
 * Records (everything but segments) are msgpack framed by a marker byte and a CRC-32C of the msgpack
 * (`packRecord`), so damage is detected; records of format-1 stores are bare msgpack maps and still read.
 * Segments carry their own checksums (see `src/codec/segment.ts`).
 *
 * `/` separates a key's parts, and names may contain `/` too (`fx/EURUSD`, as in ArcticDB), so inside a
 * key each name is written with its `/` replaced by NUL (`keyPart`). No name ever holds a NUL (refused
 * at the API boundary, always), so a prefix names exactly one library or symbol: `V:lib/a/` never lists
 * the versions of `a/b`, whose prefix is `V:lib/a\0b/`. Names without `/`, which are all that stores
 * written before `/` was allowed hold, have the same keys as then. Version numbers are zero-padded so
 * key order is version order.
 */
export const keys = {
  library: (lib: string) => `L:${keyPart(lib)}`,
  libraryPrefix: () => "L:",
  ref: (lib: string, symbol: string) => `R:${keyPart(lib)}/${keyPart(symbol)}`,
  refPrefix: (lib: string) => `R:${keyPart(lib)}/`,
  version: (lib: string, symbol: string, version: number) =>
    `V:${keyPart(lib)}/${keyPart(symbol)}/${String(version).padStart(10, "0")}`,
  versionPrefix: (lib: string, symbol: string) => `V:${keyPart(lib)}/${keyPart(symbol)}/`,
  /** Every version key of a library, all symbols. */
  allVersionsPrefix: (lib: string) => `V:${keyPart(lib)}/`,
  index: (lib: string, symbol: string, id: string) => `I:${keyPart(lib)}/${keyPart(symbol)}/${id}`,
  /** Every index key of a library. */
  allIndexesPrefix: (lib: string) => `I:${keyPart(lib)}/`,
  segment: (lib: string, symbol: string, id: string) => `S:${keyPart(lib)}/${keyPart(symbol)}/${id}`,
  /** Every segment key of a library. */
  allSegmentsPrefix: (lib: string) => `S:${keyPart(lib)}/`,
  snapshot: (lib: string, name: string) => `N:${keyPart(lib)}/${keyPart(name)}`,
  staged: (lib: string, symbol: string, id: string) => `T:${keyPart(lib)}/${keyPart(symbol)}/${id}`,
  stagedPrefix: (lib: string, symbol: string) => `T:${keyPart(lib)}/${keyPart(symbol)}/`,
  /** The staged keys of stream write `stream` to a symbol, or of every stream write to it when absent. */
  stagedStreamPrefix: (lib: string, symbol: string, stream?: string) =>
    `T:${keyPart(lib)}/${keyPart(symbol)}/${STREAM_MARK}${stream === undefined ? "" : `${stream}.`}`,
  /** Every staged key of a library. */
  allStagedPrefix: (lib: string) => `T:${keyPart(lib)}/`,
  snapshotPrefix: (lib: string) => `N:${keyPart(lib)}/`,
  /** Every prefix under which a library keeps keys, for deleting it whole. */
  libraryPrefixes: (lib: string) => ["R", "V", "I", "S", "N", "T"].map((k) => `${k}:${keyPart(lib)}/`),
};

/**
 * Staged chunk ids of a stream write (`Library.write`/`append` given an async iterable) start with this
 * mark, then the stream's own id, a dot and the chunk's sequence number (zero-padded, so key order is
 * stream order): `~<stream id>.<seq>`. Plain staged ids are hex, so `finalizeStagedData` tells the two
 * apart and never takes a stream's chunks; `deleteStagedData` removes both.
 */
export const STREAM_MARK = "~";

/** A name as it is written inside a key: `/` (the key's separator) becomes NUL, which no name holds. */
export function keyPart(name: string): string {
  return name.includes("/") ? name.replaceAll("/", "\0") : name;
}

/** The name a key part spells (undoes `keyPart`). */
export function nameOfPart(part: string): string {
  return part.includes("\0") ? part.replaceAll("\0", "/") : part;
}

/** The version number at the end of a version key. */
export function versionOfKey(key: string): number {
  return Number(key.slice(key.lastIndexOf("/") + 1));
}

/** The last part of a key as the name it spells (the symbol of a ref key, a snapshot's name, an id). */
export function lastPart(key: string): string {
  return nameOfPart(key.slice(key.lastIndexOf("/") + 1));
}

/** The symbol of a version key `V:<lib>/<symbol>/<version>`. */
export function symbolOfVersionKey(key: string): string {
  const end = key.lastIndexOf("/");
  return nameOfPart(key.slice(key.lastIndexOf("/", end - 1) + 1, end));
}

/** The library a library config key `L:<lib>` names. */
export function libraryOfKey(key: string): string {
  return nameOfPart(key.slice(keys.libraryPrefix().length));
}

/**
 * A fresh id for index, segment and staged keys: the time in ms (12 hex digits), a sequence number within
 * that ms (4 hex digits), then 6 random bytes, unique across concurrent writers. The time lets cleanup
 * tell an orphan a crashed writer left long ago from a segment a live writer has stored but not yet
 * committed; the sequence makes one process's ids of one ms sort in the order they were made (staged
 * row-indexed chunks finalize in that order; random bytes alone shuffled chunks staged in the same ms).
 */
export function newId(): string {
  const now = Date.now();
  sequence = now === lastMs ? sequence + 1 : 0;
  lastMs = now;
  const bytes = new Uint8Array(6);
  crypto.getRandomValues(bytes);
  let s = now.toString(16).padStart(12, "0") + (sequence & 0xffff).toString(16).padStart(4, "0");
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

let lastMs = 0;
let sequence = 0;

/** When the id at the end of `key` was made (ms since the epoch), or undefined for ids without a time. */
export function idTime(key: string): number | undefined {
  const id = lastPart(key);
  if (id.length !== 28) return undefined; // ids written before times were added: 24 random hex digits
  const ms = Number.parseInt(id.slice(0, 12), 16);
  return Number.isFinite(ms) ? ms : undefined;
}
