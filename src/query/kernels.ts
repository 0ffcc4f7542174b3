/**
 * The query kernels of assembly/query.ts over typed arrays: each call copies its inputs into the
 * codecs' Wasm instance (scratch space from `Kernels.scratch`, valid for one call), runs one kernel and
 * copies the result out, so callers never see Wasm memory. Every result equals, bit for bit, what the
 * TypeScript loops of evaluate.ts and aggregate.ts compute; bench/query-kernels.mjs measures which is
 * faster, and those files call here only where the Wasm path won including its copies.
 */
import { type Kernels, loadedKernels } from "../codec/wasm.ts";
import type { NumericArray } from "../dtypes.ts";
import type { ArithOp, CompareOp } from "./expr.ts";

interface QueryExports {
  compareColumnsF64(a: number, b: number, n: number, op: number, dst: number): void;
  keyCodesI64(src: number, n: number, limit: number, dst: number, minAt: number): number;
  combineCodes(acc: number, codes: number, n: number, size: number): void;
  denseNumber(codes: number, n: number, size: number, table: number, gids: number, firsts: number): number;
  compareF64(src: number, n: number, s: number, op: number, dst: number): void;
  compareI64(src: number, n: number, s: bigint, op: number, nat: number, dst: number): void;
  compareI32(src: number, n: number, s: number, op: number, dst: number): void;
  maskLogic(a: number, b: number, n: number, op: number, dst: number): void;
  maskSum(src: number, n: number): number;
  maskCompact(src: number, n: number, width: number, mask: number, dst: number): number;
  arithColumns(a: number, b: number, n: number, op: number, dst: number): void;
  arithScalar(a: number, s: number, n: number, op: number, swapped: number, dst: number): void;
  groupReset(kind: number, count: number, a: number, b: number, groups: number): void;
  groupF64(
    kind: number,
    src: number,
    gids: number,
    n: number,
    count: number,
    a: number,
    b: number,
    rowOffset: number,
  ): void;
  groupI64(
    kind: number,
    src: number,
    gids: number,
    n: number,
    nat: number,
    count: number,
    a: number,
    b: number,
    rowOffset: number,
  ): void;
}

/**
 * Rows copied in per kernel call: long columns go through Wasm memory a window at a time, so it stays
 * small (it never shrinks) and each window's inputs and outputs stay in L2 between copy and kernel.
 */
const WINDOW = 1 << 15;

/** Operator codes of assembly/query.ts. */
const COMPARE: Readonly<Record<CompareOp, number>> = { gt: 0, ge: 1, lt: 2, le: 3, eq: 4, ne: 5 };
const LOGIC = { and: 0, or: 1, xor: 2, not: 3 } as const;
const ARITH: Readonly<Record<ArithOp, number>> = { add: 0, sub: 1, mul: 2, div: 3 };
/** The per-group aggregations the kernels fold (aggregate.ts's names; meanI64 is mean of int64). */
export type GroupKind = "count" | "sum" | "min" | "max" | "first" | "last" | "meanI64";
const GROUP: Readonly<Record<GroupKind, number>> = {
  count: 0,
  sum: 1,
  min: 2,
  max: 3,
  first: 4,
  last: 5,
  meanI64: 6,
};

/** A column a comparison kernel reads: float64, int64 (or timestamps) or int32 values. */
export type CompareColumn = Float64Array | BigInt64Array | Int32Array;

/** Per-group state as aggregate.ts keeps it: count, then a (sum or value) and b (compensation or row). */
export interface GroupState {
  count: Float64Array;
  a: Float64Array | BigInt64Array;
  b: Float64Array;
}

function bytesOf(x: ArrayBufferView): Uint8Array {
  return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
}

/** The query kernels of one Wasm instance; see the file comment. */
export class QueryKernels {
  readonly #k: Kernels;
  readonly #x: QueryExports;

  constructor(k: Kernels) {
    this.#k = k;
    this.#x = k.exports as unknown as QueryExports;
  }

  /**
   * `values[i] op s` as a 0/1 mask. Float64 and int32 values compare with a number (int32 as exact
   * doubles), int64 values with a bigint (already wrapped to int64); with `nat` the int64 values are
   * timestamps and NaT compares false (ne: true).
   */
  compare(values: CompareColumn, op: CompareOp, s: number | bigint, nat = false): Uint8Array {
    const n = values.length;
    const width = values.BYTES_PER_ELEMENT;
    const [src, dst] = this.#k.scratch(width * Math.min(n, WINDOW), Math.min(n, WINDOW));
    const mem = this.#k.bytes();
    const raw = bytesOf(values);
    const out = new Uint8Array(n);
    const code = COMPARE[op];
    for (let at = 0; at < n; at += WINDOW) {
      const len = Math.min(WINDOW, n - at);
      mem.set(raw.subarray(at * width, (at + len) * width), src);
      if (values instanceof BigInt64Array) this.#x.compareI64(src, len, s as bigint, code, nat ? 1 : 0, dst);
      else if (values instanceof Float64Array) this.#x.compareF64(src, len, s as number, code, dst);
      else this.#x.compareI32(src, len, s as number, code, dst);
      out.set(mem.subarray(dst, dst + len), at);
    }
    return out;
  }

  /** `a op b` bytewise (and, or, xor), or `a xor 1` for not; a and b have one length. */
  logic(op: "and" | "or" | "xor" | "not", a: Uint8Array, b: Uint8Array | null): Uint8Array {
    const n = a.length;
    const w = Math.min(n, WINDOW);
    const [pa, pb] = this.#k.scratch(w, b === null ? 0 : w);
    const mem = this.#k.bytes();
    const out = new Uint8Array(n);
    for (let at = 0; at < n; at += WINDOW) {
      const len = Math.min(WINDOW, n - at);
      mem.set(a.subarray(at, at + len), pa);
      if (b !== null) mem.set(b.subarray(at, at + len), pb);
      // In place: the result overwrites a's copy.
      this.#x.maskLogic(pa, pb, len, LOGIC[op], pa);
      out.set(mem.subarray(pa, pa + len), at);
    }
    return out;
  }

  /** The sum of a mask's bytes: its count of 1s. */
  maskSum(mask: Uint8Array): number {
    const n = mask.length;
    const [p] = this.#k.scratch(Math.min(n, WINDOW));
    const mem = this.#k.bytes();
    let total = 0;
    for (let at = 0; at < n; at += WINDOW) {
      const len = Math.min(WINDOW, n - at);
      mem.set(mask.subarray(at, at + len), p);
      total += this.#x.maskSum(p, len);
    }
    return total;
  }

  /**
   * The rows of each column whose mask byte is 1, in order, as new arrays of the columns' own types;
   * `kept` is how many there are (the mask's sum). Each window of the mask is copied in once for all
   * columns. Returns null when the mask keeps another number of rows (it holds bytes other than 0 and 1).
   */
  compact<T extends NumericArray>(mask: Uint8Array, kept: number, columns: readonly T[]): T[] | null {
    const n = mask.length;
    let widest = 1;
    for (const c of columns) {
      if (c.length !== n) throw new RangeError(`compact: a column of ${c.length} rows for a mask of ${n}`);
      widest = Math.max(widest, c.BYTES_PER_ELEMENT);
    }
    const w = Math.min(n, WINDOW);
    const [pm, src, dst] = this.#k.scratch(w, widest * w, widest * w);
    const mem = this.#k.bytes();
    const outs = columns.map((c) => new (c.constructor as new (length: number) => T)(kept));
    const outBytes = outs.map(bytesOf);
    let done = 0;
    for (let at = 0; at < n; at += WINDOW) {
      const len = Math.min(WINDOW, n - at);
      mem.set(mask.subarray(at, at + len), pm);
      let got = 0;
      columns.forEach((c, j) => {
        const width = c.BYTES_PER_ELEMENT;
        mem.set(bytesOf(c).subarray(at * width, (at + len) * width), src);
        got = this.#x.maskCompact(src, len, width, pm, dst);
        if (done + got <= kept) outBytes[j].set(mem.subarray(dst, dst + got * width), done * width);
      });
      done += got;
      if (done > kept) return null;
    }
    return done === kept || columns.length === 0 ? outs : null;
  }

  /** `a op b` elementwise over two float64 columns of one length. */
  arithColumns(op: ArithOp, a: Float64Array, b: Float64Array): Float64Array {
    const n = a.length;
    const w = Math.min(n, WINDOW);
    const [pa, pb] = this.#k.scratch(8 * w, 8 * w);
    const mem = this.#k.bytes();
    const ra = bytesOf(a);
    const rb = bytesOf(b);
    const out = new Float64Array(n);
    const ro = bytesOf(out);
    for (let at = 0; at < n; at += WINDOW) {
      const len = Math.min(WINDOW, n - at);
      mem.set(ra.subarray(8 * at, 8 * (at + len)), pa);
      mem.set(rb.subarray(8 * at, 8 * (at + len)), pb);
      this.#x.arithColumns(pa, pb, len, ARITH[op], pa);
      ro.set(mem.subarray(pa, pa + 8 * len), 8 * at);
    }
    return out;
  }

  /** `a op s` elementwise (or `s op a` when `swapped`) over a float64 column. */
  arithScalar(op: ArithOp, a: Float64Array, s: number, swapped: boolean): Float64Array {
    const n = a.length;
    const [pa] = this.#k.scratch(8 * Math.min(n, WINDOW));
    const mem = this.#k.bytes();
    const ra = bytesOf(a);
    const out = new Float64Array(n);
    const ro = bytesOf(out);
    for (let at = 0; at < n; at += WINDOW) {
      const len = Math.min(WINDOW, n - at);
      mem.set(ra.subarray(8 * at, 8 * (at + len)), pa);
      this.#x.arithScalar(pa, s, len, ARITH[op], swapped ? 1 : 0, pa);
      ro.set(mem.subarray(pa, pa + 8 * len), 8 * at);
    }
    return out;
  }

  /**
   * Fresh per-group state of `kind` over `values` grouped by `gids` (-1: skip) into `groups` groups,
   * as aggregate.ts's accumulate keeps it; rows with NaN (float64) or NaT (int64 with `nat`) are
   * skipped. `rowOffset` is the first row's position (first/last). Int64 values give an int64 `a` for
   * sum, min, max, first and last; everything else is float64.
   */
  group(
    kind: GroupKind,
    values: Float64Array | BigInt64Array,
    gids: Int32Array,
    groups: number,
    rowOffset: number,
    nat = false,
  ): GroupState {
    return this.groups([{ kind, values, nat }], gids, groups, rowOffset)[0];
  }

  /**
   * `group` for several aggregations over one grouping: each window of group numbers is copied in once,
   * and a column shared by consecutive aggregations once.
   */
  groups(
    specs: readonly { kind: GroupKind; values: Float64Array | BigInt64Array; nat?: boolean }[],
    gids: Int32Array,
    groups: number,
    rowOffset: number,
  ): GroupState[] {
    const n = gids.length;
    for (const { values } of specs) {
      if (values.length !== n) throw new RangeError(`group: ${values.length} values for ${n} group numbers`);
    }
    const w = Math.min(n, WINDOW);
    const g8 = 8 * groups;
    const [pg, pv, ...state] = this.#k.scratch(4 * w, 8 * w, ...specs.flatMap(() => [g8, g8, g8]));
    const mem = this.#k.bytes();
    specs.forEach(({ kind }, j) => {
      this.#x.groupReset(GROUP[kind], state[3 * j], state[3 * j + 1], state[3 * j + 2], groups);
    });
    const rawGids = bytesOf(gids);
    for (let at = 0; at < n; at += WINDOW) {
      const len = Math.min(WINDOW, n - at);
      mem.set(rawGids.subarray(4 * at, 4 * (at + len)), pg);
      let loaded: ArrayBufferView | null = null;
      specs.forEach(({ kind, values, nat }, j) => {
        if (values !== loaded) mem.set(bytesOf(values).subarray(8 * at, 8 * (at + len)), pv);
        loaded = values;
        const [pc, pa, pb] = state.slice(3 * j, 3 * j + 3);
        const code = GROUP[kind];
        if (values instanceof BigInt64Array) {
          this.#x.groupI64(code, pv, pg, len, nat ? 1 : 0, pc, pa, pb, rowOffset + at);
        } else this.#x.groupF64(code, pv, pg, len, pc, pa, pb, rowOffset + at);
      });
    }
    return this.#statesOut(
      specs.map(({ kind, values }) => ({ kind, int64: values instanceof BigInt64Array })),
      state,
      groups,
    );
  }

  /** The per-group states at `state` (three arrays of `groups` doubles each per spec), copied out. */
  #statesOut(
    specs: readonly { kind: GroupKind; int64: boolean }[],
    state: number[],
    groups: number,
  ): GroupState[] {
    const mem = this.#k.bytes();
    const g8 = 8 * groups;
    const out = (p: number) => mem.slice(p, p + g8).buffer;
    return specs.map(({ kind, int64 }, j) => {
      const intValue = int64 && kind !== "count" && kind !== "meanI64";
      return {
        count: new Float64Array(out(state[3 * j])),
        a: intValue ? new BigInt64Array(out(state[3 * j + 1])) : new Float64Array(out(state[3 * j + 1])),
        b: new Float64Array(out(state[3 * j + 2])),
      };
    });
  }

  // ---- on data already in Wasm memory (held with Kernels.hold): addresses in, nothing copied ----------

  /** `a[i] op b[i]` over two float64 columns of n rows at `a` and `b`, as a 0/1 mask at `dst`. */
  compareColumnsAt(op: CompareOp, a: number, b: number, n: number, dst: number): void {
    this.#x.compareColumnsF64(a, b, n, COMPARE[op], dst);
  }

  /** `values[i] op s` over n float64 values at `src`, as a 0/1 mask at `dst`. */
  compareAt(op: CompareOp, src: number, s: number, n: number, dst: number): void {
    this.#x.compareF64(src, n, s, COMPARE[op], dst);
  }

  /** `values[i] op s` over n int64 values at `src` (s already wrapped to int64), as a 0/1 mask at `dst`. */
  compareI64At(op: CompareOp, src: number, s: bigint, n: number, dst: number): void {
    this.#x.compareI64(src, n, s, COMPARE[op], 0, dst);
  }

  /** `a op b` over two masks of n bytes (b unused for not), into `dst`. */
  logicAt(op: "and" | "or" | "xor" | "not", a: number, b: number, n: number, dst: number): void {
    this.#x.maskLogic(a, b, n, LOGIC[op], dst);
  }

  /** The number of 1s in a 0/1 mask of n bytes at `p`. */
  maskSumAt(p: number, n: number): number {
    return this.#x.maskSum(p, n);
  }

  /** Moves the `width`-byte elements of n rows at `src` whose mask byte is 1 to `dst` (may be src). */
  compactAt(src: number, n: number, width: number, mask: number, dst: number): number {
    return this.#x.maskCompact(src, n, width, mask, dst);
  }

  /** `a[i] op b[i]` over two float64 columns of n rows, into `dst`. */
  arithColumnsAt(op: ArithOp, a: number, b: number, n: number, dst: number): void {
    this.#x.arithColumns(a, b, n, ARITH[op], dst);
  }

  /** `a[i] op s` (or `s op a[i]` when `swapped`) over a float64 column of n rows, into `dst`. */
  arithScalarAt(op: ArithOp, a: number, s: number, n: number, swapped: boolean, dst: number): void {
    this.#x.arithScalar(a, s, n, ARITH[op], swapped ? 1 : 0, dst);
  }

  /**
   * Codes of n int64 keys at `src`, as int32 offsets from their least value at `dst`: the number of
   * codes, or null (nothing written) when the keys span `limit` values or more.
   */
  keyCodesAt(src: number, n: number, limit: number, dst: number): number | null {
    const [minAt] = this.#k.scratch(8);
    const size = this.#x.keyCodesI64(src, n, limit, dst, minAt);
    return size < 0 ? null : size;
  }

  /** `acc[i] = acc[i] * size + codes[i]` over n rows (-1 where either is -1). */
  combineCodesAt(acc: number, codes: number, n: number, size: number): void {
    this.#x.combineCodes(acc, codes, n, size);
  }

  /**
   * Group numbers of n rows by their codes (each below `size`; -1: no group) in order of first
   * appearance into `gids`, and each group's first row into `firsts`. Returns the number of groups.
   */
  denseNumberAt(codes: number, n: number, size: number, gids: number, firsts: number): number {
    const [table] = this.#k.scratch(4 * size);
    const groups = this.#x.denseNumber(codes, n, size, table, gids, firsts);
    if (groups < 0) throw new Error("internal: a group code beyond its table");
    return groups;
  }

  /**
   * `groups` over columns of n rows already in Wasm memory: `at` is a column's address, `int64` says it
   * holds int64 values (else float64), `gids` the address of the rows' group numbers.
   */
  groupsAt(
    specs: readonly { kind: GroupKind; at: number; int64: boolean }[],
    gids: number,
    n: number,
    groups: number,
    rowOffset: number,
  ): GroupState[] {
    const g8 = 8 * groups;
    const state = this.#k.scratch(...specs.flatMap(() => [g8, g8, g8]));
    const counted = countedBy(specs, (s) => s.at);
    specs.forEach(({ kind, at, int64 }, j) => {
      const [pc, pa, pb] = state.slice(3 * j, 3 * j + 3);
      this.#x.groupReset(GROUP[kind], pc, pa, pb, groups);
      if (counted[j] >= 0) return;
      if (int64) this.#x.groupI64(GROUP[kind], at, gids, n, 0, pc, pa, pb, rowOffset);
      else this.#x.groupF64(GROUP[kind], at, gids, n, pc, pa, pb, rowOffset);
    });
    const out = this.#statesOut(specs, state, groups);
    counted.forEach((i, j) => {
      if (i >= 0) out[j].count = out[i].count.slice();
    });
    return out;
  }
}

/**
 * For each spec, another of the same column whose pass counts its values already, or -1: a count beside
 * another aggregation of one column is that one's count (every kind counts the values it folds, NaN and
 * NaT skipped alike), so its pass is not made again.
 */
function countedBy<S extends { kind: GroupKind }>(specs: readonly S[], column: (s: S) => unknown): number[] {
  return specs.map((s, j) =>
    s.kind !== "count"
      ? -1
      : specs.findIndex((t, i) => i !== j && t.kind !== "count" && column(t) === column(s)),
  );
}

const wrapped = new WeakMap<Kernels, QueryKernels>();

/** The query kernels of a Kernels instance (one wrapper per instance). */
export function queryKernelsOf(k: Kernels): QueryKernels {
  let q = wrapped.get(k);
  if (q === undefined) {
    q = new QueryKernels(k);
    wrapped.set(k, q);
  }
  return q;
}

let enabled = true;

/**
 * Lets the query engine use the kernels (the default) or not: benchmarks and tests run both paths to
 * compare them. Returns the previous setting.
 */
export function useQueryKernels(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/**
 * This realm's query kernels once the shared Wasm instance is loaded, else undefined (and the load is
 * started): the query engine is synchronous, so until then it runs its TypeScript loops.
 */
export function readyQueryKernels(): QueryKernels | undefined {
  if (!enabled) return undefined;
  const k = loadedKernels();
  return k === undefined ? undefined : queryKernelsOf(k);
}
