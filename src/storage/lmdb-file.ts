/**
 * What LMDB trusts in a data.mdb, checked before it maps the file. LMDB reads the two meta pages and then
 * follows page numbers from them through the memory map without bounds checks: a page number past the
 * end of the file is a SIGBUS, a garbage page size or node offset a SIGSEGV, and no try/catch survives
 * either. This file reads the same structures with bounds checks and answers what is wrong, so the
 * caller can refuse the store with a `StorageError` instead.
 *
 * The layout is that of the LMDB lmdb-js bundles (3.x, 64-bit; `dependencies/lmdb/libraries/liblmdb/mdb.c`):
 * a 24-byte page header (`MDB_page_header`: pgno u64, txnid u64, pad u16, flags u16, lower u16 / upper
 * u16 or overflow page count u32) and, on the meta pages 0 and 1 (at 0 and at one page size), `MDB_meta`
 * after the header. Portable: the caller supplies the bytes.
 */

/** Reads up to `length` bytes of the file at `offset` (fewer at its end). */
export type ReadAt = (offset: number, length: number) => Uint8Array;

const PAGE_HEADER = 24;
const MAGIC = 0xbeefc0de;
const DATA_VERSION = 2;
const P_BRANCH = 0x01;
const P_LEAF = 0x02;
const P_OVERFLOW = 0x04;
const P_META = 0x08;
const P_LEAF2 = 0x20;
const F_BIGDATA = 0x01;
const F_SUBDATA = 0x02;
const F_DUPDATA = 0x04;
const NODE_HEADER = 8;
/** An empty tree's root. */
const P_INVALID = 0xffff_ffff_ffff_ffffn;
/**
 * The environment flags a store floe or a plain lmdb-js client made can carry: MDB_INTEGERKEY on the free
 * DB, MDB_NOSUBDIR, and lmdb-js's MDB_OVERLAPPINGSYNC (0x1000, set by its default `overlappingSync`).
 */
const ENV_FLAGS = 0x08 | 0x1000 | 0x4000;
/** Database flags the main DB may carry: MDB_REVERSEKEY, MDB_INTEGERKEY (floe sets neither). */
const MAIN_FLAGS = 0x02 | 0x08;
/** Transaction ids above this are damage (see readMeta). */
const MAX_TXNID = 1n << 48n;
/** LMDB's cursors hold at most this many levels (mdb.c's CURSOR_STACK). */
const MAX_DEPTH = 32;

/** What a meta page says, as far as the checks need it. */
export interface LmdbMeta {
  pageSize: number;
  txnid: bigint;
  lastPage: bigint;
  freeRoot: bigint;
  freeDepth: number;
  mainRoot: bigint;
  mainDepth: number;
}

/** What `checkLmdbTree` found: a problem or null. */
export interface TreeCheck {
  problem: string | null;
}

/**
 * The problem with the two meta pages of a data.mdb of `size` bytes, or null when LMDB may open it. An
 * empty file is a new store (LMDB writes its meta pages); anything else must have two sane meta pages,
 * both inside the file.
 */
export function checkLmdbMetas(readAt: ReadAt, size: number): { problem: string | null; meta?: LmdbMeta } {
  if (size === 0) return { problem: null };
  const first = readMeta(readAt, 0, size, 0);
  if (typeof first === "string") return { problem: first };
  const second = readMeta(readAt, first.pageSize, size, 1);
  if (typeof second === "string") {
    // LMDB reads no more of the second meta page than its transaction id, to pick the newer one; an
    // older one, however damaged, goes unused, and the next commit writes over it.
    const id = readAt(first.pageSize + 152, 8);
    const older =
      id.length === 8 && new DataView(id.buffer, id.byteOffset).getBigUint64(0, true) < first.txnid;
    return older ? { problem: null, meta: first } : { problem: second };
  }
  if (second.pageSize !== first.pageSize) {
    return {
      problem: `its two meta pages disagree on the page size (${first.pageSize} and ${second.pageSize})`,
    };
  }
  // LMDB opens the newer one (mdb_pick_meta: the first on a tie).
  return { problem: null, meta: second.txnid > first.txnid ? second : first };
}

function readMeta(readAt: ReadAt, offset: number, size: number, n: number): LmdbMeta | string {
  const which = `meta page ${n}`;
  if (offset + 168 > size) {
    return n === 0
      ? `it is ${size} bytes long, too short to hold an LMDB header`
      : `it is ${size} bytes long, too short to hold its second meta page (at byte ${offset})`;
  }
  const bytes = readAt(offset, 168);
  if (bytes.length < 168) return `${which} could not be read whole`;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flags = v.getUint16(18, true);
  if (v.getUint32(24, true) !== MAGIC) return `${which} has no LMDB magic number (it is not an LMDB file)`;
  if ((flags & P_META) === 0) return `${which} is not marked as a meta page (flags 0x${flags.toString(16)})`;
  const version = v.getUint32(28, true) & 0xffff;
  if (version !== DATA_VERSION) {
    return `${which} says file format version ${version}; this LMDB reads version ${DATA_VERSION}`;
  }
  const pageSize = v.getUint32(48, true);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
    return `${which} has an impossible page size (${pageSize}; LMDB uses a power of two from 512 to 65536)`;
  }
  const envFlags = v.getUint16(52, true);
  if ((envFlags & ~ENV_FLAGS) !== 0) {
    return `${which} has environment flags 0x${envFlags.toString(16)}, which floe never sets (a damaged or foreign store)`;
  }
  const mainFlags = v.getUint16(100, true);
  if ((mainFlags & ~MAIN_FLAGS) !== 0) {
    return `${which} has database flags 0x${mainFlags.toString(16)}, which floe never sets (a damaged or foreign store)`;
  }
  const lastPage = v.getBigUint64(144, true);
  if (size < 2 * pageSize)
    return `it is ${size} bytes long, shorter than its two meta pages of ${pageSize} bytes`;
  if (lastPage < 1n) return `${which} says the file ends at page ${lastPage}, before the meta pages do`;
  const meta: LmdbMeta = {
    pageSize,
    txnid: v.getBigUint64(152, true),
    lastPage,
    freeRoot: v.getBigUint64(88, true),
    freeDepth: v.getUint16(54, true),
    mainRoot: v.getBigUint64(136, true),
    mainDepth: v.getUint16(102, true),
  };
  // A billion commits a second for three days would not reach 2^48; past 2^53 the id is not even
  // exact in JavaScript, where lmdb-js (and floe's stale-base guard) compare it.
  if (meta.txnid > MAX_TXNID) return `${which} has an impossible transaction id (${meta.txnid})`;
  for (const [name, root, depth] of [
    ["free-page", meta.freeRoot, meta.freeDepth],
    ["main", meta.mainRoot, meta.mainDepth],
  ] as const) {
    if (root === P_INVALID) continue;
    // Whether the root lies inside the file is the tree walk's to say: see checkLmdbTree.
    if (root < 2n || root > lastPage) {
      return `${which} puts the ${name} tree's root at page ${root}, outside the pages it says are in use (2 to ${lastPage})`;
    }
    if (depth > MAX_DEPTH) return `${which} gives the ${name} tree an impossible depth (${depth})`;
  }
  return meta;
}

/**
 * How far short of its meta page's claim a file may be before it is refused outright: LMDB allows a
 * shortfall (see `shorterThanClaimed`) of the pages a commit freed again before writing them, a few
 * pages in practice (none in floe's stores measured for issue 21). A claim far past the file is damage
 * (a last page number of 2^36 makes LMDB map 256 TB and crash; 2^31 makes its next write create an
 * 8 TB sparse file).
 */
const MAX_SHORTFALL = 64 << 20;

/** The problem with what `meta` claims of a file of `size` bytes, or null. */
export function claimProblem(size: number, meta: LmdbMeta): string | null {
  const claimed = (meta.lastPage + 1n) * BigInt(meta.pageSize);
  const limit = BigInt(size) + BigInt(Math.max(MAX_SHORTFALL, size));
  if (claimed <= limit) return null;
  return (
    `its meta page says ${meta.lastPage + 1n} pages (${claimed} bytes) are in use, but the file is ` +
    `${size} bytes long: it was truncated, or the meta page is damaged`
  );
}

/**
 * True when the file is shorter than the pages `meta` says are in use. LMDB allows that (a commit need
 * not write pages it freed again at the end of the file), but it is also what a truncated file looks
 * like, so such a file gets a tree walk without a page limit: every page LMDB could map must be there.
 */
export function shorterThanClaimed(size: number, meta: LmdbMeta): boolean {
  return BigInt(size) < (meta.lastPage + 1n) * BigInt(meta.pageSize);
}

/**
 * Walks the free-page and main trees of `meta` in a data.mdb of `size` bytes: branch and leaf pages, and
 * the first page of each overflow value. Returns the first thing LMDB could not follow safely: a page
 * number past the end of the file (SIGBUS when mapped) or past the last page in use, a page whose header
 * or node offsets do not fit in a page (SIGSEGV), a tree deeper than LMDB's cursors reach, a page reached
 * twice. Values are not read: floe checks segments with its own checksums. Nor are the free-page
 * lists (the free tree's values): lmdb-js's LMDB writes them in its own format (reserved slots, sizes
 * that need not match the record), which this file does not model. `size` is measured after the
 * meta page was read: LMDB writes a commit's pages before its meta page, so a file another process is
 * growing holds every page of a meta read earlier.
 *
 * Stops after reading `maxPages` pages (`problem` null): the caller decides what a check of a big store
 * may cost. Branch pages come first (breadth-first), so a walk cut short has still read every branch
 * page, and checked every page number they hold, down to the last level it reached.
 */
export function checkLmdbTree(readAt: ReadAt, size: number, meta: LmdbMeta, maxPages: number): TreeCheck {
  const { pageSize } = meta;
  const filePages = BigInt(Math.floor(size / pageSize));
  let read = 0;
  const seen = new Uint8Array(Math.ceil(Number(filePages) / 8));
  // Page numbers as plain numbers: those inside a file fit easily, and BigInt arithmetic per node would
  // dominate the walk's cost. `where` is built only for a page found wrong.
  const lastPage = Number(meta.lastPage);
  const pagesInFile = Number(filePages);
  const check = (name: string, root: bigint): string | null => {
    if (root === P_INVALID) return null;
    // Breadth-first, level by level (1: the root): every branch page is read before any leaf, so a
    // walk cut short by `maxPages` has still checked that every page the branches name is in the file.
    const pages: number[] = [Number(root)];
    const levels: number[] = [1];
    for (let next = 0; next < pages.length; next++) {
      if (read >= maxPages) return null;
      const pgno = pages[next];
      const level = levels[next];
      const where = () => `page ${pgno} of the ${name} tree${level === 1 ? " (its root)" : ""}`;
      if (pgno > lastPage) {
        return `${where()} is damaged: it lies past the last page in use (${meta.lastPage})`;
      }
      if (pgno < 2 || pgno >= pagesInFile) {
        return `${where()} lies past the end of the file (${filePages} pages of ${pageSize} bytes): the file was truncated or damaged`;
      }
      // Each page of a B-tree hangs from one parent: a page met twice is a cycle, which would never end.
      if (seen[pgno >> 3] & (1 << (pgno & 7))) return `${where()} is damaged: it is reached twice (a cycle)`;
      seen[pgno >> 3] |= 1 << (pgno & 7);
      const page = readAt(pgno * pageSize, pageSize);
      read++;
      if (page.length < pageSize) return `${where()} could not be read whole`;
      const v = new DataView(page.buffer, page.byteOffset, page.byteLength);
      const own = v.getUint32(0, true) + v.getUint32(4, true) * 2 ** 32;
      if (own !== pgno) return `${where()} is damaged (its header says page ${own})`;
      // The transaction that wrote the page: LMDB takes a page with a newer id than the snapshot's for
      // one its own write transaction made, and writes to it in place, in a read-only map (SIGSEGV).
      const made = v.getBigUint64(8, true);
      if (made > meta.txnid) {
        return `${where()} is damaged (written by transaction ${made}, after the newest commit ${meta.txnid})`;
      }
      const flags = v.getUint16(18, true);
      // LMDB tells a leaf from a branch by its flags, as here; the depth the meta page records is not
      // what it follows.
      const kind = flags & (P_BRANCH | P_LEAF | P_OVERFLOW | P_META | P_LEAF2);
      if (kind !== P_LEAF && kind !== P_BRANCH) {
        return `${where()} is damaged (flags 0x${flags.toString(16)}, not a branch or leaf page)`;
      }
      const leaf = kind === P_LEAF;
      if (!leaf && level >= MAX_DEPTH)
        return `${where()} is damaged: the tree is deeper than LMDB can follow`;
      const lower = v.getUint16(20, true);
      const upper = v.getUint16(22, true);
      // Both bounds, and the node offsets, count from the end of the page header (mdb.c's PAGEBASE).
      if (lower > upper || PAGE_HEADER + upper > pageSize || lower % 2 !== 0) {
        return `${where()} is damaged (free-space bounds ${lower}..${upper})`;
      }
      const keys = lower >> 1;
      if (keys === 0 && !(leaf && level === 1)) {
        return `${where()} is damaged (an empty ${leaf ? "leaf" : "branch"} page)`;
      }
      for (let i = 0; i < keys; i++) {
        const ptr = v.getUint16(PAGE_HEADER + 2 * i, true);
        const at = PAGE_HEADER + ptr;
        if (ptr < upper || at + NODE_HEADER > pageSize)
          return `${where()} is damaged (node ${i} at byte ${at})`;
        const lo = v.getUint16(at, true);
        const hi = v.getUint16(at + 2, true);
        const nodeFlags = v.getUint16(at + 4, true);
        const keySize = v.getUint16(at + 6, true);
        if (at + NODE_HEADER + keySize > pageSize) {
          return `${where()} is damaged (node ${i}'s key runs past the page)`;
        }
        // The free-page tree's keys are transaction ids (8 bytes; a branch's may be empty) and
        // its values lists of 8-byte page numbers: anything else is a node read from the wrong place.
        if (name === "free-page" && keySize !== 8 && !(keySize === 0 && !leaf)) {
          return `${where()} is damaged (node ${i} has a ${keySize}-byte key)`;
        }
        if (name === "free-page" && leaf && (lo + hi * 0x10000) % 8 !== 0) {
          return `${where()} is damaged (node ${i} holds a page list of ${lo + hi * 0x10000} bytes)`;
        }
        if (!leaf) {
          // A branch node's page number: 16 bits in lo, 16 in hi, the top 16 in the flags field.
          const child = lo + hi * 0x10000 + nodeFlags * 2 ** 32;
          if (child < 2 || child > lastPage || child >= pagesInFile) {
            return `${where()} is damaged or the file truncated: its node ${i} names page ${child}, past the end of the file (${filePages} pages of ${pageSize} bytes) or the last page in use (${meta.lastPage})`;
          }
          pages.push(child);
          levels.push(level + 1);
          continue;
        }
        const dataSize = lo + hi * 0x10000;
        const data = at + NODE_HEADER + keySize;
        if (nodeFlags & (F_SUBDATA | F_DUPDATA)) {
          return `${where()} holds duplicate-key or sub-database data, which floe never writes (a damaged or foreign store)`;
        }
        if (nodeFlags & F_BIGDATA) {
          if (data + 8 > pageSize) {
            return `${where()} is damaged (node ${i}'s overflow page number runs past the page)`;
          }
          const first = v.getUint32(data, true) + v.getUint32(data + 4, true) * 2 ** 32;
          const problem = checkOverflow(first, dataSize, () => `node ${i} of ${where()}`);
          if (problem) return problem;
          read++;
        } else if (data + dataSize > pageSize) {
          return `${where()} is damaged (node ${i}'s value runs past the page)`;
        }
      }
    }
    return null;
  };
  const checkOverflow = (pgno: number, dataSize: number, owner: () => string): string | null => {
    if (pgno < 2 || pgno > lastPage || pgno >= pagesInFile) {
      return `the value of ${owner()} starts at page ${pgno}, past the end of the file (${filePages} pages): the file was truncated or damaged`;
    }
    const head = readAt(pgno * pageSize, PAGE_HEADER);
    const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
    if (
      head.length < PAGE_HEADER ||
      (v.getUint16(18, true) & P_OVERFLOW) === 0 ||
      v.getBigUint64(8, true) > meta.txnid
    ) {
      return `the value of ${owner()} should start on overflow page ${pgno}, which is damaged`;
    }
    const count = v.getUint32(20, true);
    if (
      count * pageSize < PAGE_HEADER + dataSize ||
      pgno + count > pagesInFile ||
      pgno + count > lastPage + 1
    ) {
      return `the value of ${owner()} (${dataSize} bytes on ${count} pages from page ${pgno}) runs past the end of the file (${filePages} pages): the file was truncated or damaged`;
    }
    return null;
  };
  const problem = check("free-page", meta.freeRoot) ?? check("main", meta.mainRoot);
  return { problem };
}
