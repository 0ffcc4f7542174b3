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
  compareF64(src: number, n: number, s: number, op: number, dst: number): void;
  compareI64(src: number, n: number, s: bigint, op: number, nat: number, dst: number): void;
  compareI32(src: number, n: number, s: number, op: number, dst: number): void;
  maskLogic(a: number, b: number, n: number, op: number, dst: number): void;
  maskSum(src: number, n: number): number;
  maskCompact(src: number, n: number, width: number, mask: number, dst: number): number;
  arithColumns(a: number, b: number, n: number, op: number, dst: number): void;
  arithScalar(a: number, s: number, n: number, op: number, swapped: number, dst: number): void;
  groupF64(
    kind: number,
    src: number,
    gids: number,
    n: number,
    groups: number,
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
    groups: number,
    nat: number,
    count: number,
    a: number,
    b: number,
    rowOffset: number,
  ): void;
}

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
    const [src, dst] = this.#k.scratch(values.byteLength, n);
    const mem = this.#k.bytes();
    mem.set(bytesOf(values), src);
    if (values instanceof BigInt64Array)
      this.#x.compareI64(src, n, s as bigint, COMPARE[op], nat ? 1 : 0, dst);
    else if (values instanceof Float64Array) this.#x.compareF64(src, n, s as number, COMPARE[op], dst);
    else this.#x.compareI32(src, n, s as number, COMPARE[op], dst);
    return mem.slice(dst, dst + n);
  }

  /** `a op b` bytewise (and, or, xor), or `a xor 1` for not; a and b have one length. */
  logic(op: "and" | "or" | "xor" | "not", a: Uint8Array, b: Uint8Array | null): Uint8Array {
    const n = a.length;
    const two = b !== null;
    const [pa, pb] = this.#k.scratch(n, two ? n : 0);
    const mem = this.#k.bytes();
    mem.set(a, pa);
    if (two) mem.set(b, pb);
    // In place: the result overwrites a's copy.
    this.#x.maskLogic(pa, pb, n, LOGIC[op], pa);
    return mem.slice(pa, pa + n);
  }

  /** The sum of a mask's bytes: its count of 1s. */
  maskSum(mask: Uint8Array): number {
    const [p] = this.#k.scratch(mask.length);
    this.#k.bytes().set(mask, p);
    return this.#x.maskSum(p, mask.length);
  }

  /**
   * The rows of each column whose mask byte is 1, in order, as new arrays of the columns' own types;
   * `kept` is how many there are (the mask's count of 1s). The mask is copied in once for all columns.
   */
  compact<T extends NumericArray>(mask: Uint8Array, kept: number, columns: readonly T[]): T[] {
    const n = mask.length;
    let widest = 1;
    for (const c of columns) {
      if (c.length !== n) throw new RangeError(`compact: a column of ${c.length} rows for a mask of ${n}`);
      widest = Math.max(widest, c.BYTES_PER_ELEMENT);
    }
    const [pm, src, dst] = this.#k.scratch(n, widest * n, widest * kept);
    const mem = this.#k.bytes();
    mem.set(mask, pm);
    return columns.map((c) => {
      const width = c.BYTES_PER_ELEMENT;
      mem.set(bytesOf(c), src);
      const got = this.#x.maskCompact(src, n, width, pm, dst);
      if (got !== kept) throw new RangeError(`compact: the mask keeps ${got} rows, not ${kept}`);
      const Ctor = c.constructor as new (buffer: ArrayBuffer) => T;
      return new Ctor(mem.slice(dst, dst + width * kept).buffer);
    });
  }

  /** `a op b` elementwise over two float64 columns of one length. */
  arithColumns(op: ArithOp, a: Float64Array, b: Float64Array): Float64Array {
    const n = a.length;
    const [pa, pb] = this.#k.scratch(8 * n, 8 * n);
    const mem = this.#k.bytes();
    mem.set(bytesOf(a), pa);
    mem.set(bytesOf(b), pb);
    this.#x.arithColumns(pa, pb, n, ARITH[op], pa);
    return new Float64Array(mem.slice(pa, pa + 8 * n).buffer);
  }

  /** `a op s` elementwise (or `s op a` when `swapped`) over a float64 column. */
  arithScalar(op: ArithOp, a: Float64Array, s: number, swapped: boolean): Float64Array {
    const n = a.length;
    const [pa] = this.#k.scratch(8 * n);
    const mem = this.#k.bytes();
    mem.set(bytesOf(a), pa);
    this.#x.arithScalar(pa, s, n, ARITH[op], swapped ? 1 : 0, pa);
    return new Float64Array(mem.slice(pa, pa + 8 * n).buffer);
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
   * `group` for several aggregations over one grouping: the group numbers are copied in once, and a
   * column shared by consecutive aggregations once.
   */
  groups(
    specs: readonly { kind: GroupKind; values: Float64Array | BigInt64Array; nat?: boolean }[],
    gids: Int32Array,
    groups: number,
    rowOffset: number,
  ): GroupState[] {
    const n = gids.length;
    const g8 = 8 * groups;
    const [pg, pv, pc, pa, pb] = this.#k.scratch(4 * n, 8 * n, g8, g8, g8);
    const mem = this.#k.bytes();
    mem.set(bytesOf(gids), pg);
    let loaded: ArrayBufferView | null = null;
    return specs.map(({ kind, values, nat }) => {
      if (values.length !== n) throw new RangeError(`group: ${values.length} values for ${n} group numbers`);
      if (values !== loaded) mem.set(bytesOf(values), pv);
      loaded = values;
      const wide = values instanceof BigInt64Array;
      if (wide) this.#x.groupI64(GROUP[kind], pv, pg, n, groups, nat ? 1 : 0, pc, pa, pb, rowOffset);
      else this.#x.groupF64(GROUP[kind], pv, pg, n, groups, pc, pa, pb, rowOffset);
      const out = (p: number) => mem.slice(p, p + g8).buffer;
      const intValue = wide && kind !== "count" && kind !== "meanI64";
      return {
        count: new Float64Array(out(pc)),
        a: intValue ? new BigInt64Array(out(pa)) : new Float64Array(out(pa)),
        b: new Float64Array(out(pb)),
      };
    });
  }
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
