import type { DType, NumericArray } from "../dtypes.ts";
import { CorruptSegmentError } from "../errors.ts";
import { WASM_BASE64 } from "./wasm-bytes.ts";

/**
 * The Wasm kernels (built from `assembly/`) and the one place that touches their memory. A `Kernels`
 * owns one instance: its memory, growth and every copy in and out. Each worker makes its own with
 * `createKernels()`; `loadKernels()` gives this realm's shared one.
 *
 * Memory layout: the module's static data (LZ4 hash table, checksum state) ends at `heapBase()`; above it
 * is scratch space that each call lays out afresh, so nothing in it outlives a call.
 */

/** Raw bytes per LZ4 block in a block container (also the copy-in granule: src, temp and output stay in L2). */
export const CHUNK = 1 << 16;
/** Bytes copied in per step when only checksumming or copying raw data. */
const WINDOW = 1 << 16;
/** Spare bytes after every scratch buffer: kernels may read or write a little past the end (wild copies). */
const SLACK = 64;
/** Compressed output kept in Wasm memory before it is moved out to JS in one piece. */
const OUT_WINDOW = 1 << 22;
/** Bytes of a column copied in per step when finding its range (a multiple of every element width). */
const RANGE_WINDOW = 1 << 18;
/** Set in a container chunk's length word when the chunk is stored uncompressed. */
const STORED = 0x80000000;
/** No LZ4 block expands more than this (a 255 length byte is the densest encoding). */
const LZ4_MAX_RATIO = 255;
/** Largest decimal exponent the decimal float codec tries (10^15 is exact in f64). */
const MAX_DECIMALS = 15;

interface Exports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  checksum(p: number, n: number): number;
  hashInit(): void;
  hashUpdate(p: number, n: number): void;
  hashFinal(): number;
  xxh32(p: number, n: number, seed: number): number;
  lz4Bound(n: number): number;
  lz4Compress(src: number, n: number, dst: number, cap: number): number;
  lz4Decompress(src: number, n: number, dst: number, outLen: number): number;
  shuffle(src: number, n: number, width: number, dst: number): void;
  unshuffle(src: number, n: number, width: number, dst: number): void;
  intPackSize(src: number, n: number, width: number, signed: number, mode: number): number;
  intPack(src: number, n: number, width: number, signed: number, mode: number, dst: number): number;
  intUnpack(src: number, len: number, n: number, width: number, lo: number, hi: number, dst: number): number;
  decimalEncode(src: number, n: number, k: number, dst: number): number;
  decimalDecode(src: number, n: number, k: number, dst: number): void;
  codesCheck(src: number, n: number, size: number, seen: number): number;
  codesInRange(src: number, n: number, size: number): number;
  rangeState(): number;
  rangeF64(p: number, n: number): void;
  rangeF32(p: number, n: number): void;
  rangeI64(p: number, n: number, mode: number): void;
  rangeI32(p: number, n: number, signed: number): void;
  rangeSmall(p: number, n: number, width: number, signed: number): void;
  maskCompact(src: number, n: number, width: number, mask: number, dst: number): number;
}

/** Encoded bytes and the floe checksum of exactly those bytes. */
export interface Packed {
  bytes: Uint8Array;
  checksum: number;
}

const align = (n: number) => (n + 15) & ~15;

const I64_MAX = 2n ** 63n - 1n;
const I64_MIN = -(2n ** 63n);
/** The top bit of a 64-bit word: uint64 ranges are found with it flipped, so they order as signed ones. */
const I64_TOP = 2n ** 63n;

function corrupt(message: string): CorruptSegmentError {
  return new CorruptSegmentError(message);
}

function checkSum(expected: number | null, actual: number, what: string): void {
  if (expected !== null && expected >>> 0 !== actual) {
    throw corrupt(`${what} fails its checksum (stored ${hex(expected >>> 0)}, computed ${hex(actual)})`);
  }
}

const hex = (n: number) => `0x${n.toString(16).padStart(8, "0")}`;

/** One instance of the Wasm kernels with typed wrappers; see the file comment. */
export class Kernels {
  readonly #x: Exports;
  #base: number;
  #u8: Uint8Array;

  constructor(instance: WebAssembly.Instance) {
    this.#x = instance.exports as unknown as Exports;
    this.#base = align(this.#x.heapBase());
    this.#u8 = new Uint8Array(this.#x.memory.buffer);
  }

  /** Lays out scratch buffers of the given sizes (each followed by SLACK) and returns their addresses. */
  #alloc(...sizes: number[]): number[] {
    const at: number[] = [];
    let end = this.#base;
    for (const s of sizes) {
      at.push(end);
      end += align(s + SLACK);
    }
    const mem = this.#x.memory;
    const have = mem.buffer.byteLength;
    if (end > have) {
      // Grow by at least a quarter so a run of slightly larger calls does not grow every time.
      const want = Math.max(end, have + (have >> 2));
      mem.grow(Math.ceil((want - have) / 65536));
    }
    return at;
  }

  /**
   * True when `out` lies in this instance's memory (held with `hold`) with room for `win` bytes: rows are
   * then decoded, or kept rows compacted (which may write every byte of the window), straight into it.
   */
  #inMemory(out: Uint8Array, win: number): boolean {
    return out.buffer === this.#x.memory.buffer && out.byteLength >= win;
  }

  /** A byte view of the whole memory, renewed after growth detached the old one. */
  #mem(): Uint8Array {
    const buffer = this.#x.memory.buffer;
    if (this.#u8.buffer !== buffer) this.#u8 = new Uint8Array(buffer);
    return this.#u8;
  }

  /**
   * Scratch buffers of the given sizes for kernels wrapped outside this file (the query kernels in
   * src/query/kernels.ts), laid out as every call here lays out its own: valid until the next call on
   * this instance. Read and write them through `bytes()` after this call (growth renews the view).
   */
  scratch(...sizes: number[]): number[] {
    return this.#alloc(...sizes);
  }

  /**
   * Sets `bytes` of Wasm memory aside from the scratch space, for data that lives across several calls
   * (a query chunk's decoded columns), and returns the address; `release` with it gives the bytes back
   * (holds nest, last in first out). Scratch growing the memory later detaches views of the held bytes:
   * make them again after a call that may grow it (`scratch` first with the room a call will need).
   */
  hold(bytes: number): number {
    const at = this.#base;
    this.#base = align(at + bytes);
    this.#alloc(0);
    return at;
  }

  /** Gives back what `hold` returned `at` for, and everything held after it. */
  release(at: number): void {
    this.#base = at;
  }

  /** A byte view of the whole memory, current after the last `scratch` (see there). */
  bytes(): Uint8Array {
    return this.#mem();
  }

  /** The instance's exports, for the wrappers `scratch` serves. */
  get exports(): WebAssembly.Exports {
    return this.#x as unknown as WebAssembly.Exports;
  }

  /** Bytes of Wasm memory currently reserved (static data plus scratch); for tests and diagnostics. */
  get memoryBytes(): number {
    return this.#x.memory.buffer.byteLength;
  }

  // ---- checksums ------------------------------------------------------------------------------------

  /**
   * floe's block checksum (v1, "xxh32 x16", defined in assembly/checksum.ts) of `bytes`, as an unsigned
   * 32-bit number. Large inputs stream through a 64 KB window.
   */
  checksum(bytes: Uint8Array): number {
    const x = this.#x;
    const n = bytes.byteLength;
    if (n <= WINDOW) {
      const [p] = this.#alloc(n);
      this.#mem().set(bytes, p);
      return x.checksum(p, n) >>> 0;
    }
    return this.#streamHash(bytes, null).hash;
  }

  /**
   * Checksums `src` through Wasm memory a window at a time, copying bytes [skip, skip + out.byteLength)
   * of it on into `out` if given — with `keep`, only the elements of `width` bytes in the window of
   * `keep.length` whose byte is 1, compacted to the start of `out`; `kept` says how many.
   */
  #streamHash(
    src: Uint8Array,
    out: Uint8Array | null,
    skip = 0,
    keep?: Uint8Array,
    width = 1,
  ): { hash: number; kept: number } {
    const x = this.#x;
    const n = src.byteLength;
    const win = keep ? keep.length * width : out ? out.byteLength : 0;
    const direct = keep !== undefined && out !== null && this.#inMemory(out, win);
    const into = keep === undefined && out !== null && this.#inMemory(out, win);
    const [p, pmask, scratchKept] = this.#alloc(
      Math.min(WINDOW, n),
      keep ? keep.length : 0,
      keep && !direct ? win + width : 0,
    );
    const pkept = direct ? (out as Uint8Array).byteOffset : scratchKept;
    const mem = this.#mem();
    if (keep) mem.set(keep, pmask);
    const end = out ? skip + win : 0;
    let kept = 0;
    x.hashInit();
    for (let off = 0; off < n; off += WINDOW) {
      const len = Math.min(WINDOW, n - off);
      const lo = Math.max(off, skip);
      const hi = Math.min(off + len, end);
      if (into && lo === off && hi === off + len) {
        // A window wholly wanted, into Wasm memory: copied to its place once and checksummed there.
        const at = (out as Uint8Array).byteOffset + lo - skip;
        mem.set(src.subarray(off, off + len), at);
        x.hashUpdate(at, len);
        continue;
      }
      mem.set(src.subarray(off, off + len), p);
      x.hashUpdate(p, len);
      if (!out || lo >= hi) continue;
      if (keep) {
        // WINDOW is a multiple of every width: no element straddles two windows.
        const at = pkept + kept * width;
        kept += x.maskCompact(p + lo - off, (hi - lo) / width, width, pmask + (lo - skip) / width, at);
      } else out.set(mem.subarray(p + lo - off, p + hi - off), lo - skip);
    }
    if (keep && out && !direct) copyKept(mem, pkept, kept, width, out);
    return { hash: x.hashFinal() >>> 0, kept };
  }

  /** Standard XXH32 of `bytes` (the building block of `checksum`; exported for tests). */
  xxh32(bytes: Uint8Array, seed = 0): number {
    const [p] = this.#alloc(bytes.byteLength);
    this.#mem().set(bytes, p);
    return this.#x.xxh32(p, bytes.byteLength, seed | 0) >>> 0;
  }

  // ---- single kernels ---------------------------------------------------------------------------------

  /** Compresses `src` as one LZ4 block (standard block format, readable by any LZ4 decoder). */
  lz4Compress(src: Uint8Array): Uint8Array {
    const x = this.#x;
    const n = src.byteLength;
    const cap = x.lz4Bound(n);
    const [pin, pout] = this.#alloc(n, cap);
    const mem = this.#mem();
    mem.set(src, pin);
    const len = x.lz4Compress(pin, n, pout, cap);
    return mem.slice(pout, pout + len);
  }

  /**
   * Decompresses one LZ4 block that must expand to exactly `rawLen` bytes. Malformed input (bad offsets,
   * lengths overrunning either buffer, a wrong size) throws `CorruptSegmentError`.
   */
  lz4Decompress(src: Uint8Array, rawLen: number): Uint8Array {
    const n = src.byteLength;
    if (!Number.isSafeInteger(rawLen) || rawLen < 0 || rawLen > n * LZ4_MAX_RATIO) {
      throw corrupt(`LZ4 block of ${n} bytes cannot expand to ${rawLen} bytes`);
    }
    const [pin, pout] = this.#alloc(n, rawLen);
    this.#mem().set(src, pin);
    const r = this.#x.lz4Decompress(pin, n, pout, rawLen);
    if (r !== rawLen) throw corrupt(`LZ4 block is malformed (error ${r})`);
    return this.#mem().slice(pout, pout + rawLen);
  }

  /** Byte-shuffles `src` (elements of `width` bytes) into byte planes. */
  shuffle(src: Uint8Array, width: number): Uint8Array {
    return this.#transpose(src, width, true);
  }

  /** Inverse of `shuffle`. */
  unshuffle(src: Uint8Array, width: number): Uint8Array {
    return this.#transpose(src, width, false);
  }

  #transpose(src: Uint8Array, width: number, forward: boolean): Uint8Array {
    const n = src.byteLength;
    if (!(width >= 1 && Number.isInteger(width)) || n % width !== 0) {
      throw new RangeError(`shuffle: ${n} bytes are not whole elements of ${width} bytes`);
    }
    const [pin, pout] = this.#alloc(n, n);
    const mem = this.#mem();
    mem.set(src, pin);
    if (forward) this.#x.shuffle(pin, n / width, width, pout);
    else this.#x.unshuffle(pin, n / width, width, pout);
    return mem.slice(pout, pout + n);
  }

  // ---- block container: LZ4 (optionally shuffled) in 64 KB chunks ----------------------------------------
  //
  // The raw bytes are cut into chunks of CHUNK bytes (the last one shorter); rawBytes alone fixes the
  // chunk count and sizes. Each chunk is stored as
  //     u32 LE word | body
  // where the word's low 31 bits are the body length and bit 31 says the body is stored as is (a chunk
  // LZ4 cannot shrink); otherwise the body is one LZ4 block that expands to the chunk. With a width > 1
  // each chunk is byte-shuffled (elements of `width` bytes) before compression, and stored chunks hold the
  // shuffled bytes. Independent 64 KB chunks lose little ratio (LZ4's window is 64 KB anyway) and let
  // copy-in, shuffle, compress, checksum and copy-out all run on cache-resident data.

  /**
   * Compresses `raw` into a block container (see above), shuffling elements of `width` bytes first when
   * width > 1 (raw.byteLength must be a multiple of it). The checksum covers the returned bytes.
   */
  compressBlocks(raw: Uint8Array, width: number): Packed {
    const x = this.#x;
    const n = raw.byteLength;
    const shuffled = width > 1;
    const window = Math.min(OUT_WINDOW, n + 4 * Math.ceil(n / CHUNK));
    const [pin, ptmp, pout] = this.#alloc(Math.min(CHUNK, n), shuffled ? Math.min(CHUNK, n) : 0, window);
    let mem = this.#mem();
    const parts: Uint8Array[] = [];
    let used = 0;
    x.hashInit();
    for (let off = 0; off < n; off += CHUNK) {
      const len = Math.min(CHUNK, n - off);
      if (window - used < len + 4) {
        parts.push(mem.slice(pout, pout + used));
        used = 0;
      }
      mem.set(raw.subarray(off, off + len), pin);
      let data = pin;
      if (shuffled) {
        x.shuffle(pin, len / width, width, ptmp);
        data = ptmp;
      }
      const at = pout + used;
      // A cap below len makes LZ4 give up as soon as the chunk cannot shrink.
      let body = x.lz4Compress(data, len, at + 4, len - 1);
      let word = body;
      mem = this.#mem();
      if (body <= 0) {
        mem.copyWithin(at + 4, data, data + len);
        body = len;
        word = (len | STORED) >>> 0;
      }
      mem[at] = word & 0xff;
      mem[at + 1] = (word >>> 8) & 0xff;
      mem[at + 2] = (word >>> 16) & 0xff;
      mem[at + 3] = word >>> 24;
      x.hashUpdate(at, body + 4);
      used += body + 4;
    }
    const last = mem.slice(pout, pout + used);
    const checksum = x.hashFinal() >>> 0;
    if (parts.length === 0) return { bytes: last, checksum };
    parts.push(last);
    return { bytes: concat(parts), checksum };
  }

  /**
   * Bytes the first `sampleLen` bytes of `raw` take in a block container (one chunk at most): a cheap
   * probe of how well the whole would compress.
   */
  sampleBlocks(raw: Uint8Array, width: number, sampleLen: number): number {
    const x = this.#x;
    let len = Math.min(sampleLen, CHUNK, raw.byteLength);
    len -= len % width;
    if (len === 0) return 0;
    const [pin, ptmp, pout] = this.#alloc(len, len, len);
    this.#mem().set(raw.subarray(0, len), pin);
    let data = pin;
    if (width > 1) {
      x.shuffle(pin, len / width, width, ptmp);
      data = ptmp;
    }
    const body = x.lz4Compress(data, len, pout, len - 1);
    return 4 + (body > 0 ? body : len);
  }

  /**
   * Decodes a block container of `rawSize` raw bytes (default: `skip` plus `out`'s length), unshuffling with
   * `width`, into `out`: the raw bytes from `skip` on, as many as `out` holds. Chunks wholly outside that
   * window are checksummed, not decompressed. Verifies the checksum of `stored` against `expected`
   * (unless null) after decoding; malformed or mismatching input throws `CorruptSegmentError` (and may
   * have left partial data in `out`). With `keep` (one byte per element of the window; the window is then
   * `keep.length` elements, not `out`'s length), only the elements whose byte is 1 are copied out,
   * compacted in Wasm memory, to the start of `out`. Returns how many elements `out` received.
   */
  decompressBlocksInto(
    stored: Uint8Array,
    width: number,
    out: Uint8Array,
    expected: number | null,
    skip = 0,
    rawSize?: number,
    keep?: Uint8Array,
  ): number {
    const win = keep ? keep.length * width : out.byteLength;
    const n = windowSource(win, skip, rawSize, width);
    const x = this.#x;
    const end = skip + win;
    const total = stored.byteLength;
    const shuffled = width > 1;
    const maxBody = x.lz4Bound(CHUNK);
    const first = Math.min(CHUNK, n);
    const direct = keep !== undefined && this.#inMemory(out, win);
    const into = keep === undefined && this.#inMemory(out, win);
    const [pin, ptmp, pdst, pmask, scratchKept] = this.#alloc(
      Math.min(maxBody, total) + 4,
      first,
      shuffled ? first : 0,
      keep ? keep.length : 0,
      keep && !direct ? win + width : 0,
    );
    const pkept = direct ? out.byteOffset : scratchKept;
    const mem = this.#mem();
    if (keep) mem.set(keep, pmask);
    let kept = 0;
    const view = new DataView(stored.buffer, stored.byteOffset, total);
    let pos = 0;
    x.hashInit();
    for (let off = 0; off < n; off += CHUNK) {
      const len = Math.min(CHUNK, n - off);
      if (total - pos < 4) throw corrupt("compressed column is truncated");
      const word = view.getUint32(pos, true);
      const body = word & 0x7fffffff;
      const isStored = (word & STORED) !== 0;
      if (body > total - pos - 4 || body > maxBody || (isStored && body !== len)) {
        throw corrupt(`compressed column has a chunk of impossible size ${body}`);
      }
      mem.set(stored.subarray(pos, pos + 4 + body), pin);
      x.hashUpdate(pin, body + 4);
      pos += 4 + body;
      const lo = Math.max(off, skip);
      const hi = Math.min(off + len, end);
      if (lo >= hi) continue;
      // A chunk wholly wanted, into Wasm memory: decoded in its place, not copied there after.
      const at = into && lo === off && hi === off + len ? out.byteOffset + lo - skip : -1;
      let data = pin + 4;
      if (!isStored) {
        const dst = at >= 0 && !shuffled ? at : ptmp;
        const r = x.lz4Decompress(pin + 4, body, dst, len);
        if (r !== len) throw corrupt(`compressed column has a malformed LZ4 chunk (error ${r})`);
        data = dst;
      }
      if (shuffled) {
        const dst = at >= 0 ? at : pdst;
        x.unshuffle(data, len / width, width, dst);
        data = dst;
      }
      if (at >= 0) {
        if (data !== at) mem.copyWithin(at, data, data + len);
      } else if (keep) {
        const at = pkept + kept * width;
        kept += x.maskCompact(data + lo - off, (hi - lo) / width, width, pmask + (lo - skip) / width, at);
      } else out.set(mem.subarray(data + lo - off, data + hi - off), lo - skip);
    }
    if (pos !== total) throw corrupt(`compressed column has ${total - pos} bytes after its last chunk`);
    checkSum(expected, x.hashFinal() >>> 0, "column block");
    if (direct) return kept;
    return keep ? copyKept(mem, pkept, kept, width, out) : out.byteLength / width;
  }

  /**
   * Copies stored raw bytes (`rawSize` of them; default `skip` plus `out`'s length), from `skip` on, into `out`
   * through Wasm memory, checksumming all of them on the way, and throws `CorruptSegmentError` when the
   * checksum differs from `expected`.
   */
  copyRawInto(stored: Uint8Array, out: Uint8Array, expected: number, skip = 0, rawSize?: number): void {
    const rawBytes = windowSource(out.byteLength, skip, rawSize, 1);
    const n = stored.byteLength;
    if (rawBytes !== n) throw corrupt(`raw column holds ${n} bytes, expected ${rawBytes}`);
    checkSum(expected, this.#streamHash(stored, out, skip).hash, "column block");
  }

  /**
   * As `copyRawInto` over the window of `keep.length` elements of `width` bytes from byte `skip` on,
   * copying out only those whose byte in `keep` is 1 (see `decompressBlocksInto`); returns how many.
   */
  copyRawKept(
    stored: Uint8Array,
    width: number,
    out: Uint8Array,
    expected: number,
    skip: number,
    rawSize: number,
    keep: Uint8Array,
  ): number {
    const rawBytes = windowSource(keep.length * width, skip, rawSize, width);
    const n = stored.byteLength;
    if (rawBytes !== n) throw corrupt(`raw column holds ${n} bytes, expected ${rawBytes}`);
    const { hash, kept } = this.#streamHash(stored, out, skip, keep, width);
    checkSum(expected, hash, "column block");
    return kept;
  }

  // ---- integers: frame of reference + bit-packing (format in assembly/bitpack.ts) -----------------------

  /**
   * Packs the integers in `raw` (elements of `width` = 1, 2, 4 or 8 bytes, `signed` or not). `mode` 0
   * packs values, 1 packs deltas; "auto" (default) picks the smaller.
   */
  packInts(raw: Uint8Array, width: number, signed: boolean, mode: 0 | 1 | "auto" = "auto"): Packed {
    checkWidth(raw, width);
    const n = raw.byteLength / width;
    const [pin, pout] = this.#alloc(raw.byteLength, packBound(n, width));
    this.#mem().set(raw, pin);
    return this.#packStaged(pin, n, width, signed, mode, pout, null);
  }

  #packStaged(
    pin: number,
    n: number,
    width: number,
    signed: boolean,
    mode: 0 | 1 | "auto",
    pout: number,
    prefix: number | null,
  ): Packed {
    const x = this.#x;
    const s = signed ? 1 : 0;
    let m = mode === "auto" ? 0 : mode;
    if (n === 0) m = 0;
    else if (mode === "auto" && x.intPackSize(pin, n, width, s, 1) < x.intPackSize(pin, n, width, s, 0))
      m = 1;
    const head = prefix === null ? 0 : 1;
    const len = x.intPack(pin, n, width, s, m, pout + head) + head;
    const mem = this.#mem();
    if (prefix !== null) mem[pout] = prefix;
    return { bytes: mem.slice(pout, pout + len), checksum: x.checksum(pout, len) >>> 0 };
  }

  /**
   * Unpacks integers packed by `packInts`, `rawSize / width` of them (default: `skip / width` plus as many
   * as `out` holds), into `out`: the unpacked bytes from `skip` on, as many as `out` holds. Only those are
   * unpacked (blocks before them are skipped by their headers, or summed when packed as deltas). Checks
   * the checksum against `expected` (unless null) before decoding; malformed input throws
   * `CorruptSegmentError`. `keep` and the result: as for `decompressBlocksInto`.
   */
  unpackIntsInto(
    packed: Uint8Array,
    width: number,
    out: Uint8Array,
    expected: number | null,
    skip = 0,
    rawSize?: number,
    keep?: Uint8Array,
  ): number {
    checkWidth(out, width);
    const win = keep ? keep.length * width : out.byteLength;
    const rawBytes = windowSource(win, skip, rawSize, width);
    const x = this.#x;
    const len = packed.byteLength;
    const n = rawBytes / width;
    const lo = skip / width;
    const count = win / width;
    const [pin, pout, pmask] = this.#alloc(len, win, keep ? count : 0);
    const mem = this.#mem();
    mem.set(packed, pin);
    if (expected !== null) checkSum(expected, x.checksum(pin, len) >>> 0, "column block");
    const r = x.intUnpack(pin, len, n, width, lo, lo + count, pout);
    if (r !== len) throw corrupt(`packed integers are malformed (${r < 0 ? `error ${r}` : "size mismatch"})`);
    return this.#copyOut(pout, count, width, out, keep, pmask);
  }

  /**
   * Copies `count` decoded elements of `width` bytes at `p` out to `out` — only those whose byte in
   * `keep` is 1 when it is given (compacted in place first; `pmask` is scratch for it) — and returns
   * how many were copied.
   */
  #copyOut(p: number, count: number, width: number, out: Uint8Array, keep?: Uint8Array, pmask = 0): number {
    const mem = this.#mem();
    if (!keep) {
      out.set(mem.subarray(p, p + count * width));
      return count;
    }
    mem.set(keep, pmask);
    // In place is safe: the kernel reads element i before writing element j <= i.
    return copyKept(mem, p, this.#x.maskCompact(p, count, width, pmask, p), width, out);
  }

  /**
   * Unpacks `count` integers of `width` bytes from `packed` into new bytes. The count is checked against
   * the most `packed` could hold before anything is allocated.
   */
  unpackInts(packed: Uint8Array, count: number, width: number): Uint8Array {
    if (!Number.isSafeInteger(count) || count < 0 || count > maxPackedCount(packed.byteLength, width)) {
      throw corrupt(`${packed.byteLength} packed bytes cannot hold ${count} integers`);
    }
    const out = new Uint8Array(count * width);
    this.unpackIntsInto(packed, width, out, null);
    return out;
  }

  /**
   * Unpacks `count` int32 dictionary codes from `packed` and checks them, in Wasm memory, against a
   * dictionary of `size` entries: throws `CorruptSegmentError` when one lies outside [-1, size), and,
   * with `findComplete`, says whether every entry occurs (`complete`).
   */
  unpackCodes(
    packed: Uint8Array,
    count: number,
    size: number,
    findComplete = true,
  ): { codes: Int32Array; complete: boolean } {
    const { at, distinct } = this.#unpackCodes(packed, count, size, null, findComplete);
    const codes = new Int32Array(count);
    new Uint8Array(codes.buffer).set(this.#mem().subarray(at, at + 4 * count));
    return { codes, complete: findComplete && distinct === size };
  }

  /**
   * `unpackCodes` into Wasm memory at `dst` (held with `hold`): `count` int32 codes, each checked to lie
   * in [-1, size) (throws `CorruptSegmentError` otherwise), with no copy out and no count of entries.
   */
  unpackCodesAt(packed: Uint8Array, count: number, size: number, dst: number): void {
    this.#unpackCodes(packed, count, size, dst, false);
  }

  /**
   * Unpacks and checks codes at `dst` (scratch when null); returns where they are and, with
   * `findComplete`, how many entries occur (else only the range is checked, in SIMD, and 0 returned).
   */
  #unpackCodes(
    packed: Uint8Array,
    count: number,
    size: number,
    dst: number | null,
    findComplete: boolean,
  ): { at: number; distinct: number } {
    if (!Number.isSafeInteger(count) || count < 0 || count > maxPackedCount(packed.byteLength, 4)) {
      throw corrupt(`${packed.byteLength} packed bytes cannot hold ${count} integers`);
    }
    const x = this.#x;
    const len = packed.byteLength;
    const [pin, pout, pseen] = this.#alloc(len, dst === null ? 4 * count : 0, findComplete ? size : 0);
    const at = dst ?? pout;
    this.#mem().set(packed, pin);
    const r = x.intUnpack(pin, len, count, 4, 0, count, at);
    if (r !== len) throw corrupt(`packed integers are malformed (${r < 0 ? `error ${r}` : "size mismatch"})`);
    let distinct = -1;
    if (findComplete) distinct = x.codesCheck(at, count, size, pseen);
    else if (x.codesInRange(at, count, size) === 1) distinct = 0;
    if (distinct < 0) throw corrupt("string column has a code outside its dictionary");
    return { at, distinct };
  }

  // ---- decimal floats: f64 values that are exact decimals, as scaled integers --------------------------
  //
  // Format: u8 k (0..15), then the integers m[i] = v[i] * 10^k packed as signed 8-byte integers
  // (packInts format); decoding computes f64(m[i]) / 10^k, which encoding checked gives v[i] bit for bit.

  // ---- column ranges ------------------------------------------------------------------------------------

  /**
   * The least and greatest of `values`, a column of `dtype` (a numeric one, not bool), for the per-tile
   * statistics of the index: NaN, and NaT for timestamps, left out; bigints for int64, uint64 and
   * timestamps, numbers otherwise; null when no value is left. The column streams through Wasm memory
   * RANGE_WINDOW bytes at a time into SIMD kernels (assembly/range.ts), several times faster than a JS
   * loop even with the copy.
   */
  columnRange(values: NumericArray, dtype: DType): [number, number] | [bigint, bigint] | null {
    const x = this.#x;
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    const n = bytes.byteLength;
    const width = values.BYTES_PER_ELEMENT;
    const float = dtype === "float64" || dtype === "float32";
    const [p] = this.#alloc(Math.min(RANGE_WINDOW, n));
    const state = x.rangeState();
    const buffer = x.memory.buffer;
    const floats = new Float64Array(buffer, state, 2);
    const ints = new BigInt64Array(buffer, state, 2);
    // The identities: every value is below lo and above hi (for uint64, in the flipped order it uses).
    if (float) floats.set([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    else ints.set([I64_MAX, I64_MIN]);
    const mem = this.#mem();
    const signed =
      values instanceof Int8Array || values instanceof Int16Array || values instanceof Int32Array;
    for (let off = 0; off < n; off += RANGE_WINDOW) {
      const len = Math.min(RANGE_WINDOW, n - off);
      mem.set(bytes.subarray(off, off + len), p);
      const count = len / width;
      if (dtype === "float64") x.rangeF64(p, count);
      else if (dtype === "float32") x.rangeF32(p, count);
      else if (width === 8) x.rangeI64(p, count, dtype === "uint64" ? 1 : dtype === "timestamp" ? 2 : 0);
      else if (width === 4) x.rangeI32(p, count, signed ? 1 : 0);
      else x.rangeSmall(p, count, width, signed ? 1 : 0);
    }
    if (float) return floats[0] > floats[1] ? null : [floats[0], floats[1]];
    const [lo, hi] = ints;
    if (lo > hi) return null;
    if (dtype === "uint64") return [BigInt.asUintN(64, lo) ^ I64_TOP, BigInt.asUintN(64, hi) ^ I64_TOP];
    return width === 8 ? [lo, hi] : [Number(lo), Number(hi)];
  }

  /**
   * Encodes float64 bytes as decimals when every value is an exact decimal with at most 15 digits after
   * the point (prices in cents, quantities in lots); returns null otherwise. Only a sample is copied in
   * until some k fits it, so data that is not decimal costs next to nothing.
   */
  packDecimals(raw: Uint8Array): Packed | null {
    checkWidth(raw, 8);
    const x = this.#x;
    const n = raw.byteLength / 8;
    if (n === 0) return null;
    const sample = Math.min(n, 256);
    let [pin, pints, pout] = this.#alloc(sample * 8, sample * 8, 0);
    this.#mem().set(raw.subarray(0, sample * 8), pin);
    let k = 0;
    while (k <= MAX_DECIMALS && x.decimalEncode(pin, sample, k, pints) !== sample) k++;
    if (k > MAX_DECIMALS) return null;
    [pin, pints, pout] = this.#alloc(raw.byteLength, raw.byteLength, packBound(n, 8) + 1);
    this.#mem().set(raw, pin);
    // The sample's k may be too few digits for later values: allow a couple more before giving up.
    for (let tries = 0; x.decimalEncode(pin, n, k, pints) !== n; tries++) {
      if (tries === 2 || k === MAX_DECIMALS) return null;
      k++;
    }
    return this.#packStaged(pints, n, 8, true, "auto", pout, k);
  }

  /**
   * Decodes `packDecimals` output into `out` (float64 bytes); see `unpackIntsInto` for the window
   * (`skip`, `rawSize`), `keep` and the checks. Only the window's values are converted to floats.
   */
  unpackDecimalsInto(
    packed: Uint8Array,
    out: Uint8Array,
    expected: number | null,
    skip = 0,
    rawSize?: number,
    keep?: Uint8Array,
  ): number {
    checkWidth(out, 8);
    const win = keep ? keep.length * 8 : out.byteLength;
    const rawBytes = windowSource(win, skip, rawSize, 8);
    const x = this.#x;
    const len = packed.byteLength;
    const n = rawBytes / 8;
    const lo = skip / 8;
    const count = win / 8;
    const [pin, pout, pmask] = this.#alloc(len, win, keep ? count : 0);
    const mem = this.#mem();
    mem.set(packed, pin);
    if (expected !== null) checkSum(expected, x.checksum(pin, len) >>> 0, "column block");
    if (len < 1 || mem[pin] > MAX_DECIMALS) throw corrupt("decimal column has a bad scale");
    const k = mem[pin];
    const r = x.intUnpack(pin + 1, len - 1, n, 8, lo, lo + count, pout);
    if (r !== len - 1)
      throw corrupt(`decimal column is malformed (${r < 0 ? `error ${r}` : "size mismatch"})`);
    x.decimalDecode(pout, count, k, pout);
    return this.#copyOut(pout, count, 8, out, keep, pmask);
  }
}

/**
 * The raw size a decode into `out` reads from: `rawSize`, or by default `skip` plus `out`'s length (the
 * window runs to the end). Throws RangeError unless bytes [skip, skip + out.byteLength) lie within it, all
 * three whole elements of `width`.
 */
function windowSource(len: number, skip: number, rawSize: number | undefined, width: number): number {
  const rawBytes = rawSize ?? skip + len;
  if (
    !Number.isSafeInteger(skip) ||
    !Number.isSafeInteger(rawBytes) ||
    skip < 0 ||
    skip + len > rawBytes ||
    skip % width !== 0 ||
    rawBytes % width !== 0
  ) {
    throw new RangeError(
      `bytes ${skip}..${skip + len} are not a window of ${rawBytes} bytes of ${width}-byte elements`,
    );
  }
  return rawBytes;
}

/** Copies `kept` elements of `width` bytes at `p` to `out` (which must hold them) and returns `kept`. */
function copyKept(mem: Uint8Array, p: number, kept: number, width: number, out: Uint8Array): number {
  if (kept * width > out.byteLength) throw new RangeError(`${kept} kept rows overflow their target`);
  out.set(mem.subarray(p, p + kept * width));
  return kept;
}

function checkWidth(bytes: Uint8Array, width: number): void {
  if (!(width === 1 || width === 2 || width === 4 || width === 8) || bytes.byteLength % width !== 0) {
    throw new RangeError(`${bytes.byteLength} bytes are not whole integers of ${width} bytes`);
  }
}

/** Largest packInts output for n elements of `width` bytes (all blocks at full width). */
function packBound(n: number, width: number): number {
  return 1 + width + Math.ceil(n / 128) * (1 + width) + n * width;
}

/** Most elements `len` packed bytes can describe (every block at 0 bits). */
function maxPackedCount(len: number, width: number): number {
  return Math.ceil(Math.max(0, len - 1) / (1 + width)) * 128;
}

function concat(parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.byteLength;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

let compiled: Promise<WebAssembly.Module> | undefined;
let sharedPromise: Promise<Kernels> | undefined;

/** Compiles the embedded module once per realm (async: browsers refuse large synchronous compiles). */
function compile(): Promise<WebAssembly.Module> {
  compiled ??= WebAssembly.compile(decodeBase64(WASM_BASE64));
  return compiled;
}

/** A new, independent instance of the kernels (own memory), e.g. one per worker or per thread of work. */
export async function createKernels(): Promise<Kernels> {
  const instance = await WebAssembly.instantiate(await compile(), {});
  return new Kernels(instance);
}

let shared: Kernels | undefined;

/** This realm's shared kernels, instantiated on first use. */
export function loadKernels(): Promise<Kernels> {
  sharedPromise ??= createKernels().then((k) => {
    shared = k;
    return k;
  });
  return sharedPromise;
}

/**
 * This realm's shared kernels if they are ready, else undefined (and their loading is started), for
 * synchronous code that can fall back to TypeScript: a query run after any read has them.
 */
export function loadedKernels(): Kernels | undefined {
  if (shared === undefined && sharedPromise === undefined) {
    // A failed load is reported to whoever awaits loadKernels(); here it only means no Wasm.
    loadKernels().catch(() => {});
  }
  return shared;
}
