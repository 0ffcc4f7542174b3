/**
 * A query chunk run on columns held in Wasm memory: for a groupby after an optional filter and applies
 * (the shape `residentPlan` accepts), the chunk's segment is decoded into held buffers, the filter's
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
import type { CompareOp } from "../query/expr.ts";
import type { KeyValue } from "../query/group-keys.ts";
import { type GroupKind, type QueryKernels, queryKernelsOf, readyQueryKernels } from "../query/kernels.ts";
import { type ResidentExpr, type ResidentPlan, residentPlan } from "../query/resident-plan.ts";
import { codesOf } from "../string-codes.ts";
import { type ReadRequest, resolveRowRange } from "./read-plan.ts";
import type { IndexRecord, VersionRecord } from "./records.ts";
import type { VersionStore } from "./version-store.ts";

/** Chunks up to this many rows run resident (about 50 bytes of Wasm memory a row for a query like Q4). */
const MAX_ROWS = 1 << 20;
/** Distinct codes (an int64 key's span, a tuple's product) up to this many number through a dense table. */
const DENSE_CODES = 1 << 20;

/** Chunks this thread ran resident: lets tests see which path a query took. */
export const residentRuns = { chunks: 0 };

/** `a op b` with the operands swapped: `lit < col` is `col > lit`. */
const SWAPPED: Readonly<Record<CompareOp, CompareOp>> = {
  gt: "lt",
  ge: "le",
  lt: "gt",
  le: "ge",
  eq: "eq",
  ne: "ne",
};

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
  return store.withOneSegment(k, symbol, record, index, request, columns, (parsed, start, end) => {
    // A column written before dynamic schema widened it decodes as stored: the general path widens it.
    for (const name of columns) if (parsed.columns.get(name)?.dtype !== dtypes.get(name)) return null;
    const out = runResident(k, q, plan, parsed, start, end, rowStart, dtypes);
    if (out !== null) residentRuns.chunks++;
    return out;
  });
}

function runResident(
  k: Kernels,
  q: QueryKernels,
  plan: ResidentPlan,
  parsed: ParsedSegment,
  from: number,
  to: number,
  rowStart: number,
  dtypes: ReadonlyMap<string, DType>,
): ChunkResult | null {
  const n = to - from;
  // One buffer of n rows of up to 8 bytes each (at least one 16-byte step: a chunk may have no rows).
  const stride = Math.max(16, (8 * n + 15) & ~15);
  const count =
    plan.filterColumns.length +
    plan.keptColumns.length +
    plan.temporaries.masks +
    plan.temporaries.values +
    2 * plan.keys.length +
    3;
  // Decoding needs scratch for a block and a row window beside the held columns; none may grow memory.
  let blocks = 0;
  for (const c of parsed.columns.values())
    blocks = Math.max(blocks, c.block.bytes.byteLength + c.block.rawBytes);
  const base = k.hold(count * stride, 40 * n + blocks + (4 << 20));
  try {
    let next = base;
    const take = (): number => {
      if (next >= base + count * stride) throw new Error("internal: resident buffers overrun");
      const at = next;
      next += stride;
      return at;
    };
    const memory = k.bytes().buffer;
    const checkMemory = () => {
      if (k.bytes().buffer !== memory) throw new Error("internal: Wasm memory grew under held columns");
    };
    // Columns by name: every row until the mask is applied, then the kept rows.
    const at = new Map<string, number>();
    for (const name of plan.filterColumns) {
      const p = take();
      decodeSegmentColumn(k, parsed, name, new Float64Array(memory, p, n), 0, from, to);
      at.set(name, p);
    }
    checkMemory();
    const compare = (e: ResidentExpr): number => {
      if (e.op === "not") {
        const a = compare(e.arg);
        q.logicAt("not", a, 0, n, a);
        return a;
      }
      if (e.op === "and" || e.op === "or" || e.op === "xor") {
        const a = compare(e.left);
        q.logicAt(e.op, a, compare(e.right), n, a);
        return a;
      }
      const { op, left, right } = e as { op: CompareOp; left: ResidentExpr; right: ResidentExpr };
      const dst = take();
      if (left.op === "col" && right.op === "col") {
        q.compareColumnsAt(op, at.get(left.name)!, at.get(right.name)!, n, dst);
      } else if (left.op === "col" && right.op === "lit")
        q.compareAt(op, at.get(left.name)!, right.value, n, dst);
      else if (left.op === "lit" && right.op === "col") {
        q.compareAt(SWAPPED[op], at.get(right.name)!, left.value, n, dst);
      } else throw new Error("internal: a resident comparison without a column");
      return dst;
    };
    const mask = plan.filter === null ? -1 : compare(plan.filter);
    const rows = mask < 0 ? n : q.maskSumAt(mask, n);
    for (const name of plan.keptColumns) {
      const have = at.get(name);
      if (have !== undefined) {
        // A filter column read again later: compacted where it lies.
        if (mask >= 0) q.compactAt(have, n, 8, mask, have);
        continue;
      }
      const p = take();
      const target =
        dtypes.get(name) === "int64" ? new BigInt64Array(memory, p, n) : new Float64Array(memory, p, n);
      if (mask < 0) decodeSegmentColumn(k, parsed, name, target, 0, from, to);
      else {
        const got = decodeSegmentColumnKept(
          k,
          parsed,
          name,
          new Uint8Array(memory, mask, n),
          target,
          0,
          from,
          to,
        );
        if (got !== rows) throw new Error("internal: a column kept other rows than the mask");
      }
      at.set(name, p);
    }
    checkMemory();
    const arith = (e: ResidentExpr): number => {
      if (e.op === "col") return at.get(e.name)!;
      const { op, left, right } = e as {
        op: "add" | "sub" | "mul" | "div";
        left: ResidentExpr;
        right: ResidentExpr;
      };
      const dst = take();
      if (left.op === "lit") q.arithScalarAt(op, arith(right), left.value as number, rows, true, dst);
      else if (right.op === "lit") q.arithScalarAt(op, arith(left), right.value as number, rows, false, dst);
      else q.arithColumnsAt(op, arith(left), arith(right), rows, dst);
      return dst;
    };
    for (const { name, expr } of plan.applies) at.set(name, arith(expr));

    // Each key as codes, then the tuple of codes as one code, numbered through a dense table.
    const keys: { codes: number; size: number; dict?: readonly string[] }[] = [];
    for (const key of plan.keys) {
      const p = take();
      // A whole segment's dictionary codes unpack straight into held memory.
      const dict =
        key.dtype === "string" && from === 0 && to === parsed.rows
          ? decodeSegmentCodesAt(k, parsed, key.name, p)
          : null;
      if (dict !== null) {
        if (mask >= 0) q.compactAt(p, n, 4, mask, p);
        keys.push({ codes: p, size: dict.length, dict });
      } else if (key.dtype === "string") {
        const values: StringArray = [];
        const builder = new CodesBuilder(n, true);
        decodeSegmentColumn(k, parsed, key.name, values, 0, from, to, builder);
        builder.finish(values);
        const coded = codesOf(values);
        if (coded === undefined || coded.codes.length !== n) throw new Error("internal: a key without codes");
        new Int32Array(memory, p, n).set(coded.codes);
        if (mask >= 0) q.compactAt(p, n, 4, mask, p);
        keys.push({ codes: p, size: coded.dict.length, dict: coded.dict });
      } else {
        const size = q.keyCodesAt(at.get(key.name)!, rows, DENSE_CODES, p);
        if (size === null) return null;
        keys.push({ codes: p, size });
      }
    }
    checkMemory();
    const radix = keys.reduce((r, c) => r * c.size, 1);
    if (radix > DENSE_CODES) return null;
    let codes = keys[0].codes;
    if (keys.length > 1) {
      codes = take();
      k.bytes().copyWithin(codes, keys[0].codes, keys[0].codes + 4 * rows);
      for (const c of keys.slice(1)) q.combineCodesAt(codes, c.codes, rows, c.size);
    }
    const gids = take();
    const firsts = take();
    const groups = q.denseNumberAt(codes, rows, radix, gids, firsts);

    const specs = plan.aggs.map((a) => {
      const int64 = a.dtype === "int64";
      const kind: GroupKind = a.agg === "mean" ? (int64 ? "meanI64" : "sum") : a.agg;
      return { kind, at: at.get(a.column)!, int64 };
    });
    const states = q.groupsAt(specs, gids, rows, groups, rowStart);
    // The kernels' scratch may have grown the memory: views from here on are of its current buffer.
    const now = k.bytes().buffer;
    const first = new Int32Array(now, firsts, groups);
    const columns = plan.keys.map((key, c): KeyValue[] => {
      const out: KeyValue[] = new Array(groups);
      const dict = keys[c].dict;
      if (dict !== undefined) {
        const cv = new Int32Array(now, keys[c].codes, rows);
        for (let g = 0; g < groups; g++) out[g] = dict[cv[first[g]]];
      } else {
        const v = new BigInt64Array(now, at.get(key.name)!, rows);
        for (let g = 0; g < groups; g++) out[g] = v[first[g]];
      }
      return out;
    });
    return {
      kind: "partial",
      keys: { dtypes: plan.keys.map((c) => c.dtype), columns },
      states: states.map((g, j) => stateOf(plan.aggs[j].agg, plan.aggs[j].dtype, g)),
    };
  } finally {
    k.release(base);
  }
}
