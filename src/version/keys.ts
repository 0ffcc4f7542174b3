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
 * Names never contain `/` or NUL (checked at the API boundary), so a prefix names exactly one
 * library or symbol. Version numbers are zero-padded so key order is version order.
 */
export const keys = {
  library: (lib: string) => `L:${lib}`,
  libraryPrefix: () => "L:",
  ref: (lib: string, symbol: string) => `R:${lib}/${symbol}`,
  refPrefix: (lib: string) => `R:${lib}/`,
  version: (lib: string, symbol: string, version: number) =>
    `V:${lib}/${symbol}/${String(version).padStart(10, "0")}`,
  versionPrefix: (lib: string, symbol: string) => `V:${lib}/${symbol}/`,
  index: (lib: string, symbol: string, id: string) => `I:${lib}/${symbol}/${id}`,
  segment: (lib: string, symbol: string, id: string) => `S:${lib}/${symbol}/${id}`,
  snapshot: (lib: string, name: string) => `N:${lib}/${name}`,
  staged: (lib: string, symbol: string, id: string) => `T:${lib}/${symbol}/${id}`,
  stagedPrefix: (lib: string, symbol: string) => `T:${lib}/${symbol}/`,
  snapshotPrefix: (lib: string) => `N:${lib}/`,
  /** Every prefix under which a library keeps keys, for deleting it whole. */
  libraryPrefixes: (lib: string) => ["R", "V", "I", "S", "N", "T"].map((k) => `${k}:${lib}/`),
};

/** The version number at the end of a version key. */
export function versionOfKey(key: string): number {
  return Number(key.slice(key.lastIndexOf("/") + 1));
}

/** The last path part of a key (a symbol of a ref key, a snapshot name, ...). */
export function lastPart(key: string): string {
  return key.slice(key.lastIndexOf("/") + 1);
}

/**
 * A fresh id for index and segment keys: the time in ms (12 hex digits) then 8 random bytes, unique
 * across concurrent writers. The time lets cleanup tell an orphan a crashed writer left long ago from a
 * segment a live writer has stored but not yet committed.
 */
export function newId(): string {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  let s = Date.now().toString(16).padStart(12, "0");
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** When the id at the end of `key` was made (ms since the epoch), or undefined for ids without a time. */
export function idTime(key: string): number | undefined {
  const id = lastPart(key);
  if (id.length !== 28) return undefined; // ids written before times were added: 24 random hex digits
  const ms = Number.parseInt(id.slice(0, 12), 16);
  return Number.isFinite(ms) ? ms : undefined;
}
