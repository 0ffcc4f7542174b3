// LZ4 block format, written from the format description (lz4.org, "LZ4 Block Format Description").
//
// A block is a series of sequences. Each sequence is a token byte (high nibble: literal count, low nibble:
// match length - 4; 15 means "more length bytes follow", each adding 0..255, ending on a byte < 255), the
// literals, a 2-byte little-endian offset (1..65535) back into the output and the match length bytes.
// The last sequence has literals only. The compressor keeps the spec's end-of-block rules (the last 5
// bytes are literals, no match starts within 12 bytes of the end), so any LZ4 decoder reads its output.

// @ts-ignore: decorator
@inline const MINMATCH: usize = 4;
// @ts-ignore: decorator
@inline const MFLIMIT: usize = 12;
// @ts-ignore: decorator
@inline const LASTLITERALS: usize = 5;
// @ts-ignore: decorator
@inline const MAX_DISTANCE: usize = 65535;
// 4096 u32 slots (16 KB): stays in L1 and is cheap to clear for every block.
// @ts-ignore: decorator
@inline const HASH_LOG: u32 = 12;
// After 2^SKIP_TRIGGER failed probes the search stride grows, so incompressible data is skipped quickly.
// @ts-ignore: decorator
@inline const SKIP_TRIGGER: u32 = 6;

const TABLE: usize = memory.data(4 << HASH_LOG, 16);

/** Decoding failures (negative results of lz4Decompress). */
export const LZ4_ERR_TRUNCATED: i32 = -1;
export const LZ4_ERR_OFFSET: i32 = -2;
export const LZ4_ERR_OVERFLOW: i32 = -3;
export const LZ4_ERR_SIZE: i32 = -4;

// @ts-ignore: decorator
@inline function hash(seq: u32): usize {
  return <usize>((seq * 2654435761) >> (32 - HASH_LOG)) << 2;
}

/** Largest possible compressed size of n input bytes. */
export function lz4Bound(n: i32): i32 {
  return n + n / 255 + 16;
}

// Length of the common run at p and q, reading p no further than limit.
// @ts-ignore: decorator
@inline function commonLength(p: usize, q: usize, limit: usize): usize {
  const start = p;
  while (p + 8 <= limit) {
    const diff = load<u64>(p) ^ load<u64>(q);
    if (diff != 0) return p - start + <usize>(ctz<u64>(diff) >> 3);
    p += 8;
    q += 8;
  }
  while (p < limit && load<u8>(p) == load<u8>(q)) {
    p++;
    q++;
  }
  return p - start;
}

// @ts-ignore: decorator
@inline function writeLength(op: usize, len: usize): usize {
  while (len >= 255) {
    store<u8>(op, 255);
    op++;
    len -= 255;
  }
  store<u8>(op, <u8>len);
  return op + 1;
}

// Copies len bytes forward; may write (not read) up to 16 bytes past dst + len when dstEnd allows.
// @ts-ignore: decorator
@inline function copyLiterals(dst: usize, src: usize, len: usize, dstEnd: usize): void {
  if (len <= 32 && dst + 32 <= dstEnd) {
    v128.store(dst, v128.load(src));
    v128.store(dst, v128.load(src, 16), 16);
  } else {
    memory.copy(dst, src, len);
  }
}

/**
 * Compresses n bytes at src into dst (capacity cap) as one LZ4 block. Returns the compressed length, or
 * 0 when the output would not fit in cap (so a caller can pass cap < n to give up on incompressible
 * data early). src must be followed by 16 readable bytes; the block must be at most 2 GB.
 */
export function lz4Compress(src: usize, n: i32, dst: usize, cap: i32): i32 {
  const iend = src + <usize>n;
  const oend = dst + <usize>cap;
  let op = dst;
  let anchor = src;

  if (<usize>n > MFLIMIT) {
    memory.fill(TABLE, 0, 4 << HASH_LOG);
    const mflimit = iend - MFLIMIT; // no match may start after this
    const matchlimit = iend - LASTLITERALS; // no match may extend past this
    let ip = src + 1;
    let h = hash(load<u32>(ip));

    while (true) {
      // Find a match: probe ip, ip + step, ...; the table holds the last position seen per hash.
      let ref: usize = 0;
      let fwd = ip;
      let step: u32 = 1;
      let probes: u32 = 1 << SKIP_TRIGGER;
      let found = false;
      while (true) {
        ip = fwd;
        fwd += step;
        step = probes++ >> SKIP_TRIGGER;
        if (fwd > mflimit) break;
        ref = src + <usize>load<u32>(TABLE + h);
        store<u32>(TABLE + h, <u32>(ip - src));
        h = hash(load<u32>(fwd));
        if (ref + MAX_DISTANCE >= ip && load<u32>(ref) == load<u32>(ip)) {
          found = true;
          break;
        }
      }
      if (!found) break;

      // Extend the match backwards over pending literals.
      while (ip > anchor && ref > src && load<u8>(ip - 1) == load<u8>(ref - 1)) {
        ip--;
        ref--;
      }

      const lit = ip - anchor;
      let token = op++;
      if (op + lit + lit / 255 + 2 + 1 + LASTLITERALS > oend) return 0;
      if (lit >= 15) {
        store<u8>(token, 15 << 4);
        op = writeLength(op, lit - 15);
      } else {
        store<u8>(token, <u8>(lit << 4));
      }
      copyLiterals(op, anchor, lit, oend);
      op += lit;

      // Emit the match, and as long as the next position starts another one, chain sequences without
      // literals between them.
      while (true) {
        store<u16>(op, <u16>(ip - ref));
        op += 2;
        const ml = commonLength(ip + MINMATCH, ref + MINMATCH, matchlimit);
        ip += MINMATCH + ml;
        if (op + ml / 255 + 1 + LASTLITERALS > oend) return 0;
        if (ml >= 15) {
          store<u8>(token, load<u8>(token) | 15);
          op = writeLength(op, ml - 15);
        } else {
          store<u8>(token, load<u8>(token) | <u8>ml);
        }
        anchor = ip;
        if (ip > mflimit) break;
        store<u32>(TABLE + hash(load<u32>(ip - 2)), <u32>(ip - 2 - src));
        const hh = hash(load<u32>(ip));
        ref = src + <usize>load<u32>(TABLE + hh);
        store<u32>(TABLE + hh, <u32>(ip - src));
        if (ref + MAX_DISTANCE >= ip && load<u32>(ref) == load<u32>(ip)) {
          token = op++;
          store<u8>(token, 0);
          continue;
        }
        break;
      }
      if (ip > mflimit) break;
      ip++;
      h = hash(load<u32>(ip));
    }
  }

  // Last literals.
  const lit = iend - anchor;
  if (op + 1 + lit + lit / 255 + 1 > oend) return 0;
  const token = op++;
  if (lit >= 15) {
    store<u8>(token, 15 << 4);
    op = writeLength(op, lit - 15);
  } else {
    store<u8>(token, <u8>(lit << 4));
  }
  memory.copy(op, anchor, lit);
  op += lit;
  return <i32>(op - dst);
}

/**
 * Decompresses the LZ4 block of n bytes at src into exactly outLen bytes at dst. Returns outLen, or a
 * negative LZ4_ERR_* when the block is malformed: every length, literal copy and match is bounds-checked
 * against both buffers, so hostile input can neither read nor write outside them.
 */
export function lz4Decompress(src: usize, n: i32, dst: usize, outLen: i32): i32 {
  let ip = src;
  const iend = src + <usize>n;
  let op = dst;
  const oend = dst + <usize>outLen;

  // Far from both ends every short sequence fits: fixed-size over-copies, no per-copy bounds checks.
  const ilimit = n >= 32 ? iend - 32 : src;
  const olimit = outLen >= 64 ? oend - 64 : dst;

  while (true) {
    if (ip >= iend) return LZ4_ERR_TRUNCATED;
    const token = <usize>load<u8>(ip);
    ip++;

    if (token < 0xf0 && (token & 15) != 15 && ip <= ilimit && op <= olimit) {
      const lit = token >> 4;
      v128.store(op, v128.load(ip));
      ip += lit;
      op += lit;
      const offset = <usize>load<u16>(ip);
      ip += 2;
      if (offset >= 8 && offset <= op - dst) {
        let m = op - offset;
        const ml = (token & 15) + MINMATCH;
        if (offset >= 16) {
          v128.store(op, v128.load(m));
          v128.store(op, v128.load(m, 16), 16);
        } else {
          store<u64>(op, load<u64>(m));
          store<u64>(op, load<u64>(m, 8), 8);
          store<u64>(op, load<u64>(m, 16), 16);
        }
        op += ml;
        continue;
      }
      // A short offset (or a bad one): step back and take the careful path for the match.
      if (offset == 0 || offset > op - dst) return LZ4_ERR_OFFSET;
      let ml = (token & 15) + MINMATCH;
      let m = op - offset;
      const e = op + ml;
      if (offset == 1) {
        memory.fill(op, load<u8>(m), ml);
      } else {
        for (let d = op; d < e; d++) {
          store<u8>(d, load<u8>(m));
          m++;
        }
      }
      op = e;
      continue;
    }

    // Literals.
    let lit = token >> 4;
    if (lit == 15) {
      let s: usize;
      do {
        if (ip >= iend) return LZ4_ERR_TRUNCATED;
        s = <usize>load<u8>(ip);
        ip++;
        lit += s;
        if (lit > oend - op) return LZ4_ERR_OVERFLOW;
      } while (s == 255);
    }
    if (lit > iend - ip) return LZ4_ERR_TRUNCATED;
    if (lit > oend - op) return LZ4_ERR_OVERFLOW;
    if (lit <= 16 && ip + 16 <= iend && op + 16 <= oend) {
      v128.store(op, v128.load(ip));
    } else if (lit <= 64 && ip + lit + 16 <= iend && op + lit + 16 <= oend) {
      let d = op;
      let s = ip;
      const e = op + lit;
      do {
        v128.store(d, v128.load(s));
        d += 16;
        s += 16;
      } while (d < e);
    } else {
      memory.copy(op, ip, lit);
    }
    ip += lit;
    op += lit;
    if (ip == iend) break; // the last sequence has no match

    // Match.
    if (iend - ip < 2) return LZ4_ERR_TRUNCATED;
    const offset = <usize>load<u16>(ip);
    ip += 2;
    if (offset == 0 || offset > op - dst) return LZ4_ERR_OFFSET;
    let ml = token & 15;
    if (ml == 15) {
      let s: usize;
      do {
        if (ip >= iend) return LZ4_ERR_TRUNCATED;
        s = <usize>load<u8>(ip);
        ip++;
        ml += s;
        if (ml > oend - op) return LZ4_ERR_OVERFLOW;
      } while (s == 255);
    }
    ml += MINMATCH;
    if (ml > oend - op) return LZ4_ERR_OVERFLOW;
    let m = op - offset;
    const e = op + ml;
    if (offset >= 16 && e + 16 <= oend) {
      // Each 16-byte step reads bytes already final (offset >= 16); may overrun e by < 16 bytes.
      let d = op;
      do {
        v128.store(d, v128.load(m));
        d += 16;
        m += 16;
      } while (d < e);
    } else if (offset >= 8 && e + 8 <= oend) {
      let d = op;
      do {
        store<u64>(d, load<u64>(m));
        d += 8;
        m += 8;
      } while (d < e);
    } else if (offset >= ml) {
      memory.copy(op, m, ml);
    } else if (offset == 1) {
      memory.fill(op, load<u8>(m), ml);
    } else if (ml <= 32) {
      // Overlapping short match: byte by byte, the format's defined semantics.
      for (let d = op; d < e; d++) {
        store<u8>(d, load<u8>(m));
        m++;
      }
    } else {
      // Overlapping long match: the output repeats with period `offset`; copy from m as much as lies
      // before the write position, doubling the copyable span each time.
      let d = op;
      while (d < e) {
        const len = min<usize>(e - d, d - m);
        memory.copy(d, m, len);
        d += len;
      }
    }
    op = e;
  }
  return op == oend ? outLen : LZ4_ERR_SIZE;
}
