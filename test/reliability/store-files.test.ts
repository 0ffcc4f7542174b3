// Store files LMDB would crash on (issue 21): a data.mdb cut short, damaged pages, edited meta-page fields,
// data.mdb and lock.mdb that are not regular files, files this process cannot read or write, a lock file
// to create on a full disk. Before floe checked them, each of these killed the process (SIGSEGV, SIGBUS,
// SIGFPE, SIGABRT) or threw a raw EISDIR or InvalidArgumentError. A crash cannot be caught in the test
// runner, so the stores are opened in a child process (open-store.mjs, through the public API); the test
// asserts it exits normally and reports a StorageError saying what is wrong, and that the refused store's
// files are unchanged.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  appendFileSync,
  chmodSync,
  chownSync,
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Arctic } from "../../runtimes/node.ts";
import { randomBytes, rng } from "../codec/test-data.ts";
import { cannotMount, mountTmpfs, unmount } from "./tmpfs.ts";

const CHILD = fileURLToPath(new URL("./open-store.mjs", import.meta.url));
const NOBODY = 65534;

interface Outcome {
  path: string;
  ok: boolean;
  code?: string;
  message?: string;
}

/** Opens each store in one child process (as `uid` if given); its outcomes, or how it died. */
function openInChild(paths: string[], options: { uid?: number; readOnly?: boolean } = {}) {
  const args = [CHILD, ...(options.readOnly ? ["--read-only"] : []), ...paths];
  const ids = options.uid === undefined ? {} : { uid: options.uid, gid: options.uid };
  const child = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 60_000, ...ids });
  const outcomes: Outcome[] = child.stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line));
  return { signal: child.signal, status: child.status, stderr: child.stderr, outcomes };
}

/** Asserts every store in `cases` was refused with a StorageError matching its pattern, the child alive. */
function expectRefused(cases: Map<string, RegExp>, options: { uid?: number } = {}): Outcome[] {
  const paths = [...cases.keys()];
  const before = new Map(paths.map((p) => [p, fingerprint(p)]));
  const run = openInChild(paths, options);
  const reached = run.outcomes.length;
  expect(
    { signal: run.signal, status: run.status },
    `the child died opening ${paths[reached] ?? "?"} after ${reached} stores: ${run.stderr.slice(-500)}`,
  ).toEqual({ signal: null, status: 0 });
  expect(run.outcomes.map((o) => o.path)).toEqual(paths);
  for (const outcome of run.outcomes) {
    expect(outcome, outcome.path).toMatchObject({ ok: false, code: "StorageError" });
    expect(outcome.message, outcome.path).toMatch(cases.get(outcome.path) as RegExp);
    expect(outcome.message).toMatch(/^Cannot open LMDB store at '.*': .*\. .*[a-z].*\.$/s);
    // Refused before anything was opened: not one byte changed.
    expect(fingerprint(outcome.path), outcome.path).toEqual(before.get(outcome.path));
  }
  return run.outcomes;
}

/** What each file of the store directory holds (type and content hash), to see that nothing changed. */
function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ["data.mdb", "lock.mdb"]) {
    const file = join(dir, name);
    try {
      const st = statSync(file);
      out[name] = st.isFile()
        ? createHash("sha1").update(readFileSync(file)).digest("hex")
        : `mode ${st.mode}`;
    } catch {
      out[name] = "absent";
    }
  }
  return out;
}

let root: string;
let base: string;
let copies = 0;

/** A fresh copy of the base store, for one case to damage. */
function copy(): string {
  const dir = join(root, `case${copies++}`);
  cpSync(base, dir, { recursive: true });
  return dir;
}

function poke(file: string, offset: number, bytes: Uint8Array): void {
  const fd = openSync(file, "r+");
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

function u64(value: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
  return b;
}
function u32(value: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value >>> 0, true);
  return b;
}
function u16(value: number): Uint8Array {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, value & 0xffff, true);
  return b;
}

beforeAll(async () => {
  // Not tempDir(): its directories go after each test, and these serve the whole file. Searchable by
  // others, for the child run as nobody.
  root = mkdtempSync(join(tmpdir(), "floe-store-files-"));
  chmodSync(root, 0o755);
  base = join(root, "base");
  // Small values in leaf pages and large ones on overflow pages, over several commits.
  const ac = new Arctic(`lmdb://${base}`, { workers: 0 });
  const lib = await ac.createLibrary("lib", { rowsPerSegment: 200 });
  const r = rng(7);
  for (let s = 0; s < 4; s++) {
    await lib.write(`small${s}`, { x: Float64Array.from({ length: 1000 }, () => r()) });
  }
  const big = await ac.createLibrary("big");
  await big.write("wide", { v: Float64Array.from({ length: 60_000 }, () => r()) });
  await ac.close();
  expect(openInChild([copy()]).outcomes).toEqual([expect.objectContaining({ ok: true })]);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** The root page number at `at` (88: free-page tree, 136: main tree) of the newer meta page. */
function rootOf(file: string, at: number): number {
  const v = new DataView(readFileSync(file).buffer);
  const meta = v.getBigUint64(152, true) >= v.getBigUint64(4096 + 152, true) ? 0 : 4096;
  return Number(v.getBigUint64(meta + at, true));
}

/** The meta page LMDB uses is the one with the larger transaction id: make meta page `n` that one. */
function newest(dir: string, n: 0 | 1): void {
  const file = join(dir, "data.mdb");
  const bytes = readFileSync(file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const txnid = (at: number) => view.getBigUint64(at + 152, true);
  const [mine, other] = n === 0 ? [0, 4096] : [4096, 0];
  if (txnid(mine) <= txnid(other)) poke(file, mine + 152, u64(txnid(other) + 1n));
}

describe("a data.mdb LMDB would crash on is refused with a StorageError", () => {
  it("when it is cut short (4,096, 8,192, 30,000 bytes, or its last pages)", () => {
    const cases = new Map<string, RegExp>();
    for (const size of [4096, 8192, 30_000]) {
      const dir = copy();
      truncateSync(join(dir, "data.mdb"), size);
      cases.set(dir, /data\.mdb' (is not a sound LMDB data file|is damaged): .*(truncated|shorter than)/);
    }
    const dir = copy();
    const full = statSync(join(dir, "data.mdb")).size;
    truncateSync(join(dir, "data.mdb"), full - 5 * 4096);
    cases.set(dir, /data\.mdb' is damaged: .*past the end of the file .*truncated/);
    expectRefused(cases);
  });

  it("when pages after the meta pages are overwritten with random bytes", () => {
    const cases = new Map<string, RegExp>();
    for (let seed = 1; seed <= 6; seed++) {
      const dir = copy();
      const file = join(dir, "data.mdb");
      const size = statSync(file).size;
      if (seed <= 2) {
        poke(file, 8192, randomBytes(size - 8192, seed)); // every page
      } else {
        // A few random pages of the tree (the root at least, so the damage is on LMDB's path).
        const r = rng(seed);
        const pages = size / 4096;
        const meta = new DataView(readFileSync(file).buffer);
        const roots = [0, 4096].flatMap((m) => [
          meta.getBigUint64(m + 88, true),
          meta.getBigUint64(m + 136, true),
        ]);
        const hit = new Set<number>(roots.map(Number).filter((p) => p < pages));
        while (hit.size < 8) hit.add(2 + Math.floor(r() * (pages - 2)));
        for (const p of hit) poke(file, p * 4096, randomBytes(4096, seed * 100 + p));
      }
      cases.set(dir, /data\.mdb' is damaged: page \d+ of the (free-page|main) tree/);
    }
    expectRefused(cases);
  });

  // Found by flipping random header bytes of tree pages (675 stores, none crashes now): a page whose
  // transaction id is newer than the newest commit (LMDB took it for its own dirty page and wrote to it
  // in the read-only map: SIGSEGV), a free-page root whose first node pointer moved into the middle of a
  // node (SIGABRT in LMDB's free list).
  it("when a tree page's header or node pointer is off by a few bytes", () => {
    const cases = new Map<string, RegExp>();
    for (const at of [88, 136]) {
      const dir = copy();
      const file = join(dir, "data.mdb");
      const root = rootOf(file, at);
      poke(file, root * 4096 + 15, new Uint8Array([0x9c])); // the txnid's top byte
      cases.set(dir, /is damaged \(written by transaction \d+, after the newest commit \d+\)/);
    }
    const dir = copy();
    const file = join(dir, "data.mdb");
    const root = rootOf(file, 88);
    const bytes = readFileSync(file);
    const ptr = new DataView(bytes.buffer, bytes.byteOffset).getUint16(root * 4096 + 24, true);
    poke(file, root * 4096 + 24, u16(ptr - 13));
    cases.set(dir, /page \d+ of the free-page tree \(its root\) is damaged \(node 0/);
    expectRefused(cases);
  });

  // Fields of the meta page (offsets from the page start: 24-byte page header, then MDB_meta) whose
  // edits crashed LMDB or gave a raw error, found by editing each of the 28 fields of both meta pages
  // to 0, +1, +100, 2^40, -1, 0x7fff and 3: page flags, format version, page size, environment flags,
  // free-page and main roots, last page number; main DB flags gave an InvalidArgumentError, and a
  // transaction id of 2^64-1 a misleading StorageError on every write.
  const edits: [string, number, Uint8Array, RegExp][] = [
    ["page flags 0", 18, u16(0), /not marked as a meta page/],
    ["page flags 3", 18, u16(3), /not marked as a meta page/],
    ["format version 3", 28, u32(3), /file format version 3/],
    ["format version 0", 28, u32(0), /file format version 0/],
    ["page size 0", 48, u32(0), /impossible page size \(0;/],
    ["page size 4097", 48, u32(4097), /impossible page size \(4097;/],
    ["page size 32767", 48, u32(32767), /impossible page size/],
    ["page size 2^32-1", 48, u32(-1), /impossible page size/],
    ["environment flags 0x7fff", 52, u16(0x7fff), /environment flags 0x7fff/],
    ["environment flags 108", 52, u16(108), /environment flags 0x6c/],
    ["free-page root 0", 88, u64(0n), /free-page tree's root at page 0, outside/],
    ["main root 0", 136, u64(0n), /main tree's root at page 0, outside/],
    ["main DB flags 3", 100, u16(3), /database flags 0x3/],
    ["main DB flags 0x7fff", 100, u16(0x7fff), /database flags 0x7fff/],
    ["last page 2^40", 144, u64(1n << 40n), /pages \(\d+ bytes\) are in use, but the file is \d+ bytes long/],
    ["last page 2^36", 144, u64(1n << 36n), /are in use, but the file is/],
    ["last page 1", 144, u64(1n), /outside the pages it says are in use \(2 to 1\)/],
    ["magic", 24, u32(0x12345678), /no LMDB magic number/],
    // Not a crash: floe's stale-base guard then blamed another process on every write.
    ["transaction id 2^64-1", 152, u64(-1n), /impossible transaction id \(18446744073709551615\)/],
  ];
  for (const n of [0, 1] as const) {
    it(`when a field of meta page ${n} (the newer one) is edited`, () => {
      const cases = new Map<string, RegExp>();
      for (const [, offset, bytes, pattern] of edits) {
        const dir = copy();
        newest(dir, n);
        poke(join(dir, "data.mdb"), n * 4096 + offset, bytes);
        cases.set(dir, new RegExp(`meta page ${n} .*${pattern.source}|${pattern.source}`));
      }
      const outcomes = expectRefused(cases);
      // Each names the meta page it found wrong (or the size the newer one claims).
      for (const o of outcomes) expect(o.message).toMatch(/meta page|in use, but the file/);
    });
  }

  it("when it is a directory, a FIFO, or a symlink to /dev/zero or /dev/null", () => {
    const cases = new Map<string, RegExp>();
    const kinds: [string, (file: string) => void, RegExp][] = [
      ["directory", (f) => mkdirSync(f), /data\.mdb' is a directory, not a regular file/],
      ["FIFO", (f) => execFileSync("mkfifo", [f]), /data\.mdb' is a FIFO \(named pipe\), not a regular file/],
      ["/dev/zero", (f) => symlinkSync("/dev/zero", f), /a symlink to '\/dev\/zero'\) is a character device/],
      ["/dev/null", (f) => symlinkSync("/dev/null", f), /a symlink to '\/dev\/null'\) is a character device/],
    ];
    for (const [, make, pattern] of kinds) {
      const dir = copy();
      rmSync(join(dir, "data.mdb"));
      make(join(dir, "data.mdb"));
      cases.set(dir, pattern);
    }
    expectRefused(cases);
  });

  it("while a healthy store, a symlinked data.mdb, an empty one, and one whose older meta page is damaged open", () => {
    const linked = copy();
    const target = join(root, `target${copies}.mdb`);
    cpSync(join(linked, "data.mdb"), target);
    rmSync(join(linked, "data.mdb"));
    symlinkSync(target, join(linked, "data.mdb"));
    const empty = join(root, `empty${copies++}`);
    mkdirSync(empty);
    appendFileSync(join(empty, "data.mdb"), "");
    // A damaged meta page that is the older one: LMDB never uses it, and the next commit replaces it.
    const olderDamaged = copy();
    newest(olderDamaged, 0);
    poke(join(olderDamaged, "data.mdb"), 4096 + 28, u32(3));
    const run = openInChild([copy(), linked, empty, olderDamaged]);
    expect(run.signal).toBeNull();
    expect(run.outcomes.map((o) => o.ok)).toEqual([true, true, true, true]);
  });
});

describe("a lock.mdb LMDB would crash on is refused with a StorageError", () => {
  it("when it is a directory, a FIFO, or a symlink to /dev/zero", () => {
    const cases = new Map<string, RegExp>();
    const kinds: [(file: string) => void, RegExp][] = [
      [(f) => mkdirSync(f), /lock\.mdb' is a directory, not a regular file.*remove it/s],
      [(f) => execFileSync("mkfifo", [f]), /lock\.mdb' is a FIFO \(named pipe\), not a regular file/],
      [(f) => symlinkSync("/dev/zero", f), /lock\.mdb' \(a symlink to '\/dev\/zero'\) is a character device/],
    ];
    for (const [make, pattern] of kinds) {
      const dir = copy();
      rmSync(join(dir, "lock.mdb"));
      make(join(dir, "lock.mdb"));
      cases.set(dir, pattern);
    }
    expectRefused(cases);
  });
});

// Root reads and writes every file, so these run the child as `nobody`.
const asRoot = process.getuid?.() === 0;
describe.skipIf(!asRoot)("files this user cannot use (run as nobody)", () => {
  function ownedByNobody(): string {
    const dir = copy();
    for (const p of [dir, join(dir, "data.mdb"), join(dir, "lock.mdb")]) chownSync(p, NOBODY, NOBODY);
    return dir;
  }

  it("refuses a lock.mdb it cannot write beside a writable data.mdb", () => {
    const dir = ownedByNobody();
    chownSync(join(dir, "lock.mdb"), 0, 0);
    chmodSync(join(dir, "lock.mdb"), 0o644);
    expectRefused(
      new Map([[dir, /cannot write its lock file '.*lock\.mdb' \(EACCES.*Fix its permissions/s]]),
      {
        uid: NOBODY,
      },
    );
  });

  it("refuses a data.mdb it cannot read, and reads one it cannot write", () => {
    const unreadable = ownedByNobody();
    chownSync(join(unreadable, "data.mdb"), 0, 0);
    chmodSync(join(unreadable, "data.mdb"), 0o600);
    expectRefused(new Map([[unreadable, /data\.mdb' cannot be read by this process \(EACCES/]]), {
      uid: NOBODY,
    });
    const readOnly = ownedByNobody();
    chownSync(join(readOnly, "data.mdb"), 0, 0);
    chmodSync(join(readOnly, "data.mdb"), 0o644);
    const run = openInChild([readOnly], { uid: NOBODY, readOnly: true });
    expect(run.signal).toBeNull();
    expect(run.outcomes).toEqual([expect.objectContaining({ ok: true })]);
  });
});

const why = cannotMount();
describe.skipIf(why !== null)("an existing store without lock.mdb on a full disk", () => {
  let mount: string | undefined;
  afterAll(() => {
    if (mount) unmount(mount);
  });

  it("is refused (LMDB would map a lock file it cannot allocate), and opens once there is room", () => {
    mount = mountTmpfs(2);
    const dir = join(mount, "store");
    cpSync(base, dir, { recursive: true });
    rmSync(join(dir, "lock.mdb"));
    const filler = join(mount, "filler");
    const chunk = new Uint8Array(16 << 10);
    for (let size = chunk.length; size >= 1; size >>= 1) {
      try {
        for (;;) appendFileSync(filler, chunk.subarray(0, size));
      } catch (err) {
        if ((err as { code?: string }).code !== "ENOSPC") throw err;
      }
    }
    expectRefused(
      new Map([[dir, /must create its lock file \(lock\.mdb\) there, and the disk has only \d+ bytes free/]]),
    );
    expect(existsSync(join(dir, "lock.mdb"))).toBe(false);
    rmSync(filler);
    expect(openInChild([dir]).outcomes).toEqual([expect.objectContaining({ ok: true })]);
  });
});
