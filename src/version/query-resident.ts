/**
 * A query chunk run on columns held in Wasm memory: for a groupby after an optional filter and applies
 * (the shape `residentPlan` accepts), the chunk's segments are decoded into held buffers, the filter's
 * mask computed, the other columns decoded compacted by it, the applies, the group numbers and the
 * per-group states all computed there by the kernels, and only the states and the groups' keys copied
 * out — no column is copied out of Wasm memory or back in. Any other chunk takes the general path.
 */
import {
  CodesBuilder,
  decodeSegmentCodesAt,
  decodeSegmentColumn,
  decodeSegmentColumnKept,
  type ParsedSegment,
} from "../codec/segment.ts";
import type { Kernels } from "../codec/wasm.ts";
import type { DType, StringArray } from "../dtypes.ts";
import { stateOf } from "../query/aggregate.ts";
import type { ChunkResult, ChunkSteps } from "../query/chunk.ts";
import { type CompareOp, SWAPPED } from "../query/expr.ts";
import type { KeyValue } from "../query/group-keys.ts";
import { type GroupKind, type QueryKernels, queryKernelsOf, readyQueryKernels } from "../query/kernels.ts";
import { type ResidentExpr, type ResidentPlan, residentPlan } from "../query/resident-plan.ts";
import { codesOf } from "../string-codes.ts";
import type { ChunkPiece } from "./read-path.ts";
import { type ReadRequest, resolveRowRange } from "./read-plan.ts";
import type { IndexRecord, VersionRecord } from "./records.ts";
import type { VersionStore } from "./version-store.ts";

/**
 * Chunks up to this many rows run resident. A thread's Wasm memory never shrinks and a query like Q4
 * holds ~100 bytes a row (columns, and scratch for decoding a piece), so this bounds it to ~25 MB a
 * thread; the default chunk is 100,000 rows, and a bigger one takes the general path.
 */
const MAX_ROWS = 1 << 18;
/** Distinct codes (an int64 key's span, a tuple's product) up to this many number through a dense table. */
const DENSE_CODES = 1 << 20;

/** Chunks this thread ran resident: lets tests see which path a query took. */
export const residentRuns = { chunks: 0 };

/**
 * The chunk's partial aggregate computed in Wasm memory, or null when the query, the request or the
 * chunk's storage is outside what the resident path takes (the caller then runs the general path).
 */
export function residentChunk(
  store: VersionStore,
  k: Kernels,
  symbol: string,
  record: VersionRecord,
  index: IndexRecord,
  request: ReadRequest,
  rowStart: number,
  steps: ChunkSteps,
): ChunkResult | null {
  // The answer is a partial aggregate: a timestamp index some step reads would need decoding too.
  const indexRead = index.index.kind === "timestamp" && !request.withoutIndex;
  if (request.dateRange || request.rowRange === undefined || indexRead) return null;
  // Off with the kernels (useQueryKernels(false)): tests and benchmarks then compare the plain loops.
  if (readyQueryKernels() === undefined) return null;
  const dtypes = new Map(index.columns.map((c) => [c.name, c.dtype]));
  const wanted = new Set(request.columns ?? dtypes.keys());
  const plan = residentPlan(steps, (name) => (wanted.has(name) ? dtypes.get(name) : undefined));
  if (plan === null) return null;
  const [from, to] = resolveRowRange(request.rowRange, index.rows);
  if (to - from > MAX_ROWS) return null;
  const columns = [...new Set([...plan.filterColumns, ...plan.keptColumns, ...plan.keys.map((c) => c.name)])];
  const q = queryKernelsOf(k);
  return store.withPieces(k, symbol, record, index, request, columns, (pieces, open) => {
    const chunk = new HeldChunk(k, q, plan, dtypes, to - from);
    try {
      // One segment: parsed once for every stage. Several: each stage parses the ones it reads.
      const out =
        pieces.length === 1
          ? open(pieces[0], (parsed) => chunk.run(pieces, (_, use) => use(parsed), rowStart))
          : chunk.run(pieces, open, rowStart);
      if (out !== null) residentRuns.chunks++;
      return out;
    } finally {
      chunk.release();
    }
  });
}

/** Parses a piece's segment for `use` (the same one for every call when the chunk has one piece). */
type Visit = (piece: ChunkPiece, use: (parsed: ParsedSegment) => void) => void;

/** A column stored otherwise than the index says (before dynamic schema widened it): not resident. */
class NotResident extends Error {}

/** One chunk's columns held in Wasm memory, and the stages that fill and reduce them. */
class HeldChunk {
  readonly #k: Kernels;
  readonly #q: QueryKernels;
  readonly #plan: ResidentPlan;
  readonly #dtypes: ReadonlyMap<string, DType>;
  /** The chunk's rows. */
  readonly #n: number;
  readonly #base: number;
  readonly #end: number;
  readonly #stride: number;
  #next: number;
  /** Columns by name: every row until the mask is applied, then the kept rows. */
  readonly #at = new Map<string, number>();

  constructor(
    k: Kernels,
    q: QueryKernels,
    plan: ResidentPlan,
    dtypes: ReadonlyMap<string, DType>,
    n: number,
  ) {
    this.#k = k;
    this.#q = q;
    this.#plan = plan;
    this.#dtypes = dtypes;
    this.#n = n;
    // One buffer of n rows of up to 8 bytes each (at least one 16-byte step: a chunk may have no rows).
    this.#stride = Math.max(16, (8 * n + 15) & ~15);
    const count =
      plan.filterColumns.length +
      plan.keptColumns.length +
      plan.temporaries.masks +
      plan.temporaries.values +
      plan.keys.length +
      3;
    this.#base = k.hold(count * this.#stride);
    this.#next = this.#base;
    this.#end = this.#base + count * this.#stride;
  }

  /** Gives the held memory back. */
  release(): void {
    this.#k.release(this.#base);
  }

  /** The chunk's partial aggregate, or null when it turns out not to be resident after all. */
  run(pieces: readonly ChunkPiece[], visit: Visit, rowStart: number): ChunkResult | null {
    try {
      const mask = this.#filter(pieces, visit);
      const rows = mask < 0 ? this.#n : this.#q.maskSumAt(mask, this.#n);
      const dicts = this.#decodeKept(pieces, visit, mask);
      for (const { name, expr } of this.#plan.applies) this.#at.set(name, this.#arith(expr, rows));
      return this.#aggregate(dicts, rows, rowStart);
    } catch (err) {
      if (err instanceof NotResident) return null;
      throw err;
    }
  }

  #take(): number {
    if (this.#next >= this.#end) throw new Error("internal: resident buffers overrun");
    const at = this.#next;
    this.#next += this.#stride;
    return at;
  }

  /**
   * Makes room for decoding a piece of `parsed` (scratch for its largest block and a row window), so
   * the decode does not grow the memory under the views made after this; checks the stored dtypes.
   */
  #room(parsed: ParsedSegment, piece: ChunkPiece, names: readonly string[]): ArrayBuffer {
    let blocks = 0;
    for (const name of names) {
      const c = parsed.columns.get(name);
      if (c === undefined || c.dtype !== this.#dtypes.get(name)) throw new NotResident();
      blocks = Math.max(blocks, c.block.bytes.byteLength + c.block.rawBytes);
    }
    // A decode's scratch: its block, a mask and codes of the piece's rows, and 64 KB windows.
    this.#k.scratch(16 * (piece.to - piece.from) + blocks + (1 << 20));
    return this.#k.bytes().buffer as ArrayBuffer;
  }

  /** A view of column `name`'s held buffer (n rows) in `memory`, of its dtype's array. */
  #view(memory: ArrayBuffer, name: string): Float64Array | BigInt64Array {
    const p = this.#at.get(name)!;
    return this.#dtypes.get(name) === "int64"
      ? new BigInt64Array(memory, p, this.#n)
      : new Float64Array(memory, p, this.#n);
  }

  /** Decodes the filter's columns and computes its 0/1 mask; -1 without a filter. */
  #filter(pieces: readonly ChunkPiece[], visit: Visit): number {
    const { filter, filterColumns } = this.#plan;
    for (const name of filterColumns) this.#at.set(name, this.#take());
    for (const piece of pieces) {
      const names = piece.columns.filter((c) => filterColumns.includes(c));
      if (names.length === 0) continue;
      visit(piece, (parsed) => {
        const memory = this.#room(parsed, piece, names);
        for (const name of names) {
          const out = this.#view(memory, name);
          decodeSegmentColumn(this.#k, parsed, name, out, piece.outRow, piece.from, piece.to);
        }
      });
    }
    return filter === null ? -1 : this.#compare(filter);
  }

  #compare(e: ResidentExpr): number {
    const q = this.#q;
    const n = this.#n;
    if (e.op === "not") {
      const a = this.#compare(e.arg);
      q.logicAt("not", a, 0, n, a);
      return a;
    }
    if (e.op === "and" || e.op === "or" || e.op === "xor") {
      const a = this.#compare(e.left);
      q.logicAt(e.op, a, this.#compare(e.right), n, a);
      return a;
    }
    const { op, left, right } = e as { op: CompareOp; left: ResidentExpr; right: ResidentExpr };
    const dst = this.#take();
    const at = (c: ResidentExpr) => this.#at.get((c as { name: string }).name)!;
    if (left.op === "col" && right.op === "col") {
      q.compareColumnsAt(op, at(left), at(right), n, dst);
      return dst;
    }
    const [col, lit, o] = left.op === "col" ? [left, right, op] : [right, left, SWAPPED[op]];
    if (col.op !== "col" || lit.op !== "lit")
      throw new Error("internal: a resident comparison without a column");
    // An int64 column's literal is a bigint (resident-plan.ts); a float64 column's a number.
    if (typeof lit.value === "bigint") q.compareI64At(o, at(col), lit.value, n, dst);
    else q.compareAt(o, at(col), lit.value, n, dst);
    return dst;
  }

  /**
   * Decodes the columns read after the filter (the kept rows only) and the string keys' codes: a
   * filter column read again is compacted where it lies. Returns the string keys' dictionaries by name.
   */
  #decodeKept(pieces: readonly ChunkPiece[], visit: Visit, mask: number): Map<string, readonly string[]> {
    const { keptColumns, keys } = this.#plan;
    const q = this.#q;
    const n = this.#n;
    const late = keptColumns.filter((name) => !this.#at.has(name));
    for (const name of keptColumns) {
      const have = this.#at.get(name);
      if (have !== undefined && mask >= 0) q.compactAt(have, n, 8, mask, have);
    }
    for (const name of late) this.#at.set(name, this.#take());
    const strings = keys.filter((c) => c.dtype === "string").map((c) => c.name);
    for (const name of strings) this.#at.set(name, this.#take());
    // Rows the mask keeps before each piece's first row: where its kept rows go.
    const before = new Map<number, number>();
    if (mask >= 0) {
      let sum = 0;
      let last = 0;
      for (const row of [...new Set(pieces.map((p) => p.outRow))].sort((a, b) => a - b)) {
        sum += q.maskSumAt(mask + last, row - last);
        last = row;
        before.set(row, sum);
      }
    }
    const whole = pieces.length === 1 && pieces[0].from === 0;
    const dicts = new Map<string, readonly string[]>();
    const builders = new Map(strings.map((name) => [name, new CodesBuilder(n, true)]));
    const codes = new Map(strings.map((name) => [name, [] as StringArray]));
    for (const piece of pieces) {
      const numeric = piece.columns.filter((c) => late.includes(c));
      const text = piece.columns.filter((c) => strings.includes(c));
      if (numeric.length + text.length === 0) continue;
      visit(piece, (parsed) => {
        const memory = this.#room(parsed, piece, [...numeric, ...text]);
        const kept = mask < 0 ? 0 : q.maskSumAt(mask + piece.outRow, piece.to - piece.from);
        for (const name of numeric) {
          const out = this.#view(memory, name);
          if (mask < 0) decodeSegmentColumn(this.#k, parsed, name, out, piece.outRow, piece.from, piece.to);
          else {
            const keep = new Uint8Array(memory, mask + piece.outRow, piece.to - piece.from);
            const at = before.get(piece.outRow)!;
            const got = decodeSegmentColumnKept(this.#k, parsed, name, keep, out, at, piece.from, piece.to);
            if (got !== kept) throw new Error("internal: a column kept other rows than the mask");
          }
        }
        for (const name of text) {
          // A whole segment's dictionary codes unpack straight into held memory.
          const dict =
            whole && piece.to === parsed.rows
              ? decodeSegmentCodesAt(this.#k, parsed, name, this.#at.get(name)!)
              : null;
          if (dict !== null) dicts.set(name, dict);
          else
            decodeSegmentColumn(
              this.#k,
              parsed,
              name,
              codes.get(name)!,
              piece.outRow,
              piece.from,
              piece.to,
              builders.get(name),
            );
        }
      });
    }
    for (const name of strings) {
      const p = this.#at.get(name)!;
      if (!dicts.has(name)) {
        const values = codes.get(name)!;
        builders.get(name)!.finish(values);
        const coded = codesOf(values);
        if (coded === undefined || coded.codes.length !== n) throw new Error("internal: a key without codes");
        new Int32Array(this.#k.bytes().buffer, p, n).set(coded.codes);
        dicts.set(name, coded.dict);
      }
      if (mask >= 0) q.compactAt(p, n, 4, mask, p);
    }
    return dicts;
  }

  #arith(e: ResidentExpr, rows: number): number {
    if (e.op === "col") return this.#at.get(e.name)!;
    const { op, left, right } = e as {
      op: "add" | "sub" | "mul" | "div";
      left: ResidentExpr;
      right: ResidentExpr;
    };
    const q = this.#q;
    const dst = this.#take();
    if (left.op === "lit")
      q.arithScalarAt(op, this.#arith(right, rows), left.value as number, rows, true, dst);
    else if (right.op === "lit")
      q.arithScalarAt(op, this.#arith(left, rows), right.value as number, rows, false, dst);
    else q.arithColumnsAt(op, this.#arith(left, rows), this.#arith(right, rows), rows, dst);
    return dst;
  }

  /**
   * Numbers the kept rows' groups (each key as codes, the tuple of codes as one code, through a dense
   * table) and folds the aggregations into per-group states: null when the keys have too many codes.
   */
  #aggregate(
    dicts: ReadonlyMap<string, readonly string[]>,
    rows: number,
    rowStart: number,
  ): ChunkResult | null {
    const { keys, aggs } = this.#plan;
    const q = this.#q;
    const coded: { codes: number; size: number }[] = [];
    for (const key of keys) {
      const dict = dicts.get(key.name);
      if (dict !== undefined) coded.push({ codes: this.#at.get(key.name)!, size: dict.length });
      else {
        const p = this.#take();
        const size = q.keyCodesAt(this.#at.get(key.name)!, rows, DENSE_CODES, p);
        if (size === null) return null;
        coded.push({ codes: p, size });
      }
    }
    const radix = coded.reduce((r, c) => r * c.size, 1);
    if (radix > DENSE_CODES) return null;
    let codes = coded[0].codes;
    if (coded.length > 1) {
      codes = this.#take();
      this.#k.bytes().copyWithin(codes, coded[0].codes, coded[0].codes + 4 * rows);
      for (const c of coded.slice(1)) q.combineCodesAt(codes, c.codes, rows, c.size);
    }
    const gids = this.#take();
    const firsts = this.#take();
    const groups = q.denseNumberAt(codes, rows, radix, gids, firsts);
    const specs = aggs.map((a) => {
      const int64 = a.dtype === "int64";
      const kind: GroupKind = a.agg === "mean" ? (int64 ? "meanI64" : "sum") : a.agg;
      return { kind, at: this.#at.get(a.column)!, int64 };
    });
    const states = q.groupsAt(specs, gids, rows, groups, rowStart);
    // The kernels' scratch may have grown the memory: views from here on are of its current buffer.
    const memory = this.#k.bytes().buffer;
    const first = new Int32Array(memory, firsts, groups);
    const columns = keys.map((key, c): KeyValue[] => {
      const out: KeyValue[] = new Array(groups);
      const dict = dicts.get(key.name);
      if (dict !== undefined) {
        const cv = new Int32Array(memory, coded[c].codes, rows);
        for (let g = 0; g < groups; g++) out[g] = dict[cv[first[g]]];
      } else {
        // Read through 32-bit halves: a number per key within ±2^53, no BigInt made (see KeyValue).
        const w = new Int32Array(memory, this.#at.get(key.name)!, 2 * rows);
        const u = new Uint32Array(memory, this.#at.get(key.name)!, 2 * rows);
        for (let g = 0; g < groups; g++) {
          const r = 2 * first[g];
          const hi = w[r + 1];
          out[g] =
            hi >= -0x200000 && hi < 0x200000
              ? hi * 4294967296 + u[r]
              : new BigInt64Array(memory, this.#at.get(key.name)! + 4 * r, 1)[0];
        }
      }
      return out;
    });
    return {
      kind: "partial",
      keys: { dtypes: keys.map((c) => c.dtype), columns },
      states: states.map((g, j) => stateOf(aggs[j].agg, aggs[j].dtype, g)),
    };
  }
}
