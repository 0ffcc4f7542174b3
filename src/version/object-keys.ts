/**
 * Where a library's objects live in an object store. Names are escaped (`%`, `/` and control characters
 * as `%XX`), so a name is one path part whatever it holds and a listing with delimiter `/` yields names:
 *
 *     <lib>/library                 the library's record (its config and id); its existence is the library's
 *     <lib>/<id>/V/<sym>/<n>        version n of sym (n as 10 digits, so key order is number order)
 *     <lib>/<id>/D/<sym>/<n>        tombstone: version n of sym was deleted (the V key stays, so n is never reused)
 *     <lib>/<id>/X/<sym>/<n>        every version of sym up to n was deleted (so listings need not read tombstones)
 *     <lib>/<id>/H/<sym>            a hint: a number at or below sym's next version (listings start there)
 *     <lib>/<id>/I/<sym>/<newId>    an index record;  <lib>/<id>/S/<sym>/<newId> a segment
 *     <lib>/<id>/N/<name>           a snapshot
 *     <lib>/<id>/T/<sym>/<newId>    a staged chunk;  <lib>/<id>/F/<sym> the lock of a finalize under way
 *
 * Data sits under the library's id: a library deleted and created again under the same name never sees
 * what a writer still holding the old one stores afterwards.
 */

/** `name` as one key part. */
export function escapeName(name: string): string {
  let out = "";
  for (const ch of name) {
    const c = ch.charCodeAt(0);
    // Control characters cannot travel in a LIST answer's XML; `/` and `%` would split or fake a part.
    out +=
      c < 0x20 || c === 0x7f || ch === "%" || ch === "/"
        ? `%${c.toString(16).padStart(2, "0").toUpperCase()}`
        : ch;
  }
  return out;
}

/** The name a key part escapes. */
export function unescapeName(part: string): string {
  return part.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** The record of library `lib`. */
export function libraryRecordKey(lib: string): string {
  return `${escapeName(lib)}/library`;
}

/** The keys of one library instance (see the layout above). */
export interface ObjectKeys {
  /** `<lib>/<id>/`: everything of this instance is under it. */
  base: string;
  versionPrefix(symbol: string): string;
  tombstonePrefix(symbol: string): string;
  emptied(symbol: string, v: number): string;
  allEmptied: string;
  hint(symbol: string): string;
  allVersions: string;
  allTombstones: string;
  version(symbol: string, v: number): string;
  tombstone(symbol: string, v: number): string;
  index(symbol: string, id: string): string;
  segment(symbol: string, id: string): string;
  allIndexes: string;
  allSegments: string;
  snapshot(name: string): string;
  allSnapshots: string;
  staged(symbol: string, id: string): string;
  stagedPrefix(symbol: string): string;
  allStaged: string;
  finalizing(symbol: string): string;
}

/** The keys of one library instance (`base` = `<lib>/<id>/`). */
export function objectKeys(lib: string, id: string): ObjectKeys {
  const base = `${escapeName(lib)}/${id}/`;
  const sym = (s: string) => escapeName(s);
  return {
    base,
    versionPrefix: (symbol: string) => `${base}V/${sym(symbol)}/`,
    tombstonePrefix: (symbol: string) => `${base}D/${sym(symbol)}/`,
    emptied: (symbol: string, v: number) => `${base}X/${sym(symbol)}/${String(v).padStart(10, "0")}`,
    allEmptied: `${base}X/`,
    hint: (symbol: string) => `${base}H/${sym(symbol)}`,
    allVersions: `${base}V/`,
    allTombstones: `${base}D/`,
    version: (symbol: string, v: number) => `${base}V/${sym(symbol)}/${String(v).padStart(10, "0")}`,
    tombstone: (symbol: string, v: number) => `${base}D/${sym(symbol)}/${String(v).padStart(10, "0")}`,
    index: (symbol: string, id: string) => `${base}I/${sym(symbol)}/${id}`,
    segment: (symbol: string, id: string) => `${base}S/${sym(symbol)}/${id}`,
    allIndexes: `${base}I/`,
    allSegments: `${base}S/`,
    snapshot: (name: string) => `${base}N/${escapeName(name)}`,
    allSnapshots: `${base}N/`,
    staged: (symbol: string, id: string) => `${base}T/${sym(symbol)}/${id}`,
    stagedPrefix: (symbol: string) => `${base}T/${sym(symbol)}/`,
    allStaged: `${base}T/`,
    finalizing: (symbol: string) => `${base}F/${sym(symbol)}`,
  };
}

/** The version number at the end of a V or D key. */
export function numberOfKey(key: string): number {
  return Number(key.slice(key.lastIndexOf("/") + 1));
}

/** The (unescaped) name in the part of `key` after `prefix`, up to the next `/`. */
export function nameAfter(prefix: string, key: string): string {
  const rest = key.slice(prefix.length);
  const cut = rest.indexOf("/");
  return unescapeName(cut < 0 ? rest : rest.slice(0, cut));
}
