/**
 * Model-based: random frames and random query chains, floe's answer against an obvious row-by-row
 * interpreter of the same query written here (slow, one object per row, no typed-array tricks).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DataFrame, dateBounds, QueryBuilder, requiredColumns, runQuery } from "../../src/api/index.ts";
import { accumulate, finishColumn, PartialMerger } from "../../src/query/aggregate.ts";
import type { ExprNode } from "../../src/query/expr.ts";
import { groupRows } from "../../src/query/group-keys.ts";
import type { AggName, Aggregation, Clause, ResampleSpec } from "../../src/query/query-builder.ts";
import { bucketOrder, bucketRows, resolveOrigin, timeBounds } from "../../src/query/resample.ts";

import { aggsArb, frameArb, queryArb, resampleStepArb, SEC } from "./arbitraries.ts";

const NAT = -(2n ** 63n);

// ---- the reference interpreter -------------------------------------------------------------------

type Cell = number | bigint | string | boolean | null;
/** A value with its kind: f float, i int, s string, b bool, t timestamp. */
type V = { k: "f" | "i" | "s" | "b" | "t"; v: Cell };
interface RefFrame {
  names: string[];
  dtypes: Record<string, string>;
  rows: Record<string, Cell>[]; // "__ts" holds the index
  index: "timestamp" | "row";
  rowStart: number;
}

const KIND: Record<string, V["k"]> = {
  float64: "f",
  int32: "i",
  int64: "i",
  string: "s",
  bool: "b",
  timestamp: "t",
};

function fromFrame(df: DataFrame): RefFrame {
  const rows: Record<string, Cell>[] = [];
  for (let r = 0; r < df.numRows; r++) {
    const row: Record<string, Cell> = {};
    if (df.index.kind === "timestamp") row.__ts = df.index.values[r];
    for (const n of df.columnNames) {
      const x = (df.column(n) as ArrayLike<Cell>)[r];
      row[n] = df.dtype(n) === "bool" ? x === 1 : x;
    }
    rows.push(row);
  }
  return { names: [...df.columnNames], dtypes: { ...df.dtypes }, rows, index: df.index.kind, rowStart: 0 };
}

function litV(node: Extract<ExprNode, { op: "lit" }>): V {
  const x = node.value;
  if (node.timestamp) return { k: "t", v: x };
  if (typeof x === "number") return Number.isInteger(x) ? { k: "i", v: BigInt(x) } : { k: "f", v: x };
  if (typeof x === "bigint") return { k: "i", v: x };
  if (typeof x === "string") return { k: "s", v: x };
  if (typeof x === "boolean") return { k: "b", v: x };
  return { k: "s", v: null };
}

function missing(v: V): boolean {
  return v.v === null || (typeof v.v === "number" && Number.isNaN(v.v)) || (v.k === "t" && v.v === NAT);
}

function evalRow(node: ExprNode, row: Record<string, Cell>, f: RefFrame): V {
  switch (node.op) {
    case "col":
      if (node.name === "index") return { k: "t", v: row.__ts };
      return { k: KIND[f.dtypes[node.name]], v: row[node.name] };
    case "lit":
      return litV(node);
    case "not":
      return { k: "b", v: !evalRow(node.arg, row, f).v };
    case "isnull":
    case "notnull":
      return { k: "b", v: missing(evalRow(node.arg, row, f)) === (node.op === "isnull") };
    case "abs":
    case "neg": {
      const a = evalRow(node.arg, row, f);
      if (a.k === "f") return { k: "f", v: node.op === "abs" ? Math.abs(a.v as number) : -(a.v as number) };
      const x = BigInt(a.v as bigint);
      return { k: "i", v: BigInt.asIntN(64, node.op === "abs" ? (x < 0n ? -x : x) : -x) };
    }
    case "isin":
    case "isnotin": {
      const a = evalRow(node.arg, row, f);
      const found = node.values.some((x) =>
        typeof x === "number" && Number.isNaN(x)
          ? typeof a.v === "number" && Number.isNaN(a.v)
          : a.k === "s" || x === null
            ? a.v === x
            : typeof x === "string"
              ? false
              : Number(a.v) === Number(x),
      );
      return { k: "b", v: found === (node.op === "isin") };
    }
    case "regexMatch": {
      const a = evalRow(node.arg, row, f);
      return { k: "b", v: a.v !== null && new RegExp(node.pattern, node.flags).test(a.v as string) };
    }
    default: {
      const a = evalRow(node.left, row, f);
      const b = evalRow(node.right, row, f);
      if (node.op === "and") return { k: "b", v: Boolean(a.v) && Boolean(b.v) };
      if (node.op === "or") return { k: "b", v: Boolean(a.v) || Boolean(b.v) };
      if (node.op === "xor") return { k: "b", v: Boolean(a.v) !== Boolean(b.v) };
      if (["add", "sub", "mul", "div"].includes(node.op)) {
        if (node.op === "div" || a.k === "f" || b.k === "f") {
          const x = Number(a.v);
          const y = Number(b.v);
          const r = node.op === "add" ? x + y : node.op === "sub" ? x - y : node.op === "mul" ? x * y : x / y;
          return { k: "f", v: r };
        }
        const x = BigInt(a.v as bigint | number | boolean);
        const y = BigInt(b.v as bigint | number | boolean);
        const r = node.op === "add" ? x + y : node.op === "sub" ? x - y : x * y;
        return { k: "i", v: BigInt.asIntN(64, r) };
      }
      // a comparison
      if (missing(a) || missing(b)) return { k: "b", v: node.op === "ne" };
      let x: Cell = a.v;
      let y: Cell = b.v;
      if (a.k === "f" || b.k === "f" || a.k === "b" || b.k === "b") {
        x = Number(x);
        y = Number(y);
      } else if (a.k === "i" || a.k === "t") {
        x = BigInt(x as number | bigint);
        y = BigInt(y as number | bigint);
      }
      const r =
        node.op === "gt"
          ? x! > y!
          : node.op === "ge"
            ? x! >= y!
            : node.op === "lt"
              ? x! < y!
              : node.op === "le"
                ? x! <= y!
                : node.op === "eq"
                  ? x === y
                  : x !== y;
      return { k: "b", v: r };
    }
  }
}

function staticDtype(node: ExprNode, f: RefFrame): string {
  switch (node.op) {
    case "col":
      return node.name === "index" ? "timestamp" : f.dtypes[node.name];
    case "lit":
      return typeof node.value === "number" && !Number.isInteger(node.value) ? "float64" : "int64";
    case "abs":
    case "neg":
      return staticDtype(node.arg, f) === "float64" ? "float64" : "int64";
    case "add":
    case "sub":
    case "mul":
    case "div": {
      const a = staticDtype(node.left, f);
      const b = staticDtype(node.right, f);
      return node.op === "div" || a === "float64" || b === "float64" ? "float64" : "int64";
    }
    default:
      return "bool";
  }
}

function refRun(f: RefFrame, clauses: readonly Clause[]): RefFrame {
  for (const c of clauses) {
    const n = f.rows.length;
    const clamp = (v: number | null, open: number) =>
      v === null ? open : v < 0 ? Math.max(0, n + v) : Math.min(n, v);
    const sliceRows = (a: number, b: number): RefFrame => ({
      ...f,
      rows: f.rows.slice(a, Math.max(a, b)),
      rowStart: f.rowStart + a,
    });
    switch (c.kind) {
      case "filter": {
        const kept = f.rows.filter((r) => evalRow(c.expr, r, f).v === true);
        // A filter that drops nothing leaves the frame as it was, row numbering included.
        if (kept.length !== n) f = { ...f, rows: kept, rowStart: 0 };
        break;
      }
      case "apply": {
        const dtype = staticDtype(c.expr, f);
        const rows = f.rows.map((r) => {
          const v = evalRow(c.expr, r, f);
          return { ...r, [c.name]: v.v };
        });
        f = {
          ...f,
          names: f.names.includes(c.name) ? f.names : [...f.names, c.name],
          dtypes: { ...f.dtypes, [c.name]: dtype },
          rows,
        };
        break;
      }
      case "dateRange":
        f = {
          ...f,
          rows: f.rows.filter(
            (r) =>
              (c.start === null || (r.__ts as bigint) >= c.start) &&
              (c.end === null || (r.__ts as bigint) <= c.end),
          ),
        };
        break;
      case "rowRange":
        f = sliceRows(clamp(c.start, 0), clamp(c.end, n));
        break;
      case "head":
        f = c.n >= 0 ? sliceRows(0, Math.min(n, c.n)) : sliceRows(0, Math.max(0, n + c.n));
        break;
      case "tail":
        f = c.n >= 0 ? sliceRows(Math.max(0, n - c.n), n) : sliceRows(Math.min(n, -c.n), n);
        break;
      case "groupby":
        f = refGroupby(f, c.keys, c.aggs);
        break;
      case "resample":
        f = refResample(f, c.spec, c.aggs);
        break;
    }
  }
  return f;
}

function refAgg(f: RefFrame, a: Aggregation, rows: Record<string, Cell>[] | null): Cell {
  const dtype = f.dtypes[a.column];
  const vals = (rows ?? [])
    .map((r) => ({ k: KIND[dtype], v: r[a.column] }) as V)
    .filter((v) => !missing(v))
    .map((v) => v.v);
  const agg: AggName = a.agg;
  if (agg === "count") return BigInt(vals.length);
  if (agg === "mean")
    return vals.length === 0 ? Number.NaN : vals.reduce<number>((s, x) => s + Number(x), 0) / vals.length;
  if (agg === "sum") {
    if (dtype === "float64") return vals.reduce<number>((s, x) => s + (x as number), 0);
    return vals.reduce<bigint>((s, x) => s + BigInt(x as number | bigint | boolean), 0n);
  }
  if (vals.length === 0) return dtype === "string" ? null : Number.NaN;
  if (agg === "first") return vals[0];
  if (agg === "last") return vals[vals.length - 1];
  return vals.reduce((m, x) => ((agg === "min" ? x! < m! : x! > m!) ? x : m));
}

function aggDtype(f: RefFrame, a: Aggregation, anyEmpty: boolean): string {
  const d = f.dtypes[a.column];
  if (a.agg === "count") return "int64";
  if (a.agg === "mean") return "float64";
  if (a.agg === "sum") return d === "float64" ? "float64" : "int64";
  return anyEmpty && d !== "float64" && d !== "string" ? "float64" : d;
}

function refGroupby(f: RefFrame, keys: readonly string[], aggs: readonly Aggregation[]): RefFrame {
  const groups = new Map<string, { key: Cell[]; rows: Record<string, Cell>[] }>();
  for (const r of f.rows) {
    const key = keys.map((k) => r[k]);
    if (key.some((x) => x === null || (typeof x === "number" && Number.isNaN(x)))) continue;
    const code = JSON.stringify(key.map((x) => (typeof x === "bigint" ? `${x}n` : x)));
    if (!groups.has(code)) groups.set(code, { key, rows: [] });
    groups.get(code)!.rows.push(r);
  }
  const num = (x: Cell) => (typeof x === "boolean" ? Number(x) : x);
  const sorted = [...groups.values()].sort((g, h) => {
    for (let i = 0; i < keys.length; i++) {
      const x = num(g.key[i])!;
      const y = num(h.key[i])!;
      if (x < y) return -1;
      if (x > y) return 1;
    }
    return 0;
  });
  const rows = sorted.map((g) => {
    const row: Record<string, Cell> = {};
    keys.forEach((k, i) => {
      row[k] = g.key[i];
    });
    for (const a of aggs) row[a.out] = refAgg(f, a, g.rows);
    return row;
  });
  const dtypes: Record<string, string> = {};
  for (const k of keys) dtypes[k] = f.dtypes[k];
  for (const a of aggs) dtypes[a.out] = aggDtype(f, a, false);
  return { names: [...keys, ...aggs.map((a) => a.out)], dtypes, rows, index: "row", rowStart: 0 };
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function refResample(f: RefFrame, spec: ResampleSpec, aggs: readonly Aggregation[]): RefFrame {
  const times = f.rows.map((r) => r.__ts as bigint);
  const step = spec.ruleNs;
  const DAY = 86_400n * SEC;
  const byBucket = new Map<bigint, Record<string, Cell>[]>();
  let origin = 0n;
  if (times.length > 0) {
    const sorted = [...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const first = sorted[0];
    const last = sorted[sorted.length - 1];
    const o = spec.origin;
    origin =
      typeof o === "object"
        ? o.ns
        : o === "epoch"
          ? 0n
          : o === "start"
            ? first
            : o === "start_day"
              ? floorDiv(first, DAY) * DAY
              : o === "end"
                ? last
                : floorDiv(last + DAY - 1n, DAY) * DAY;
    origin += spec.offsetNs;
  }
  f.rows.forEach((r, i) => {
    const d = times[i] - origin;
    const k = spec.closed === "left" ? floorDiv(d, step) : floorDiv(d + step - 1n, step) - 1n;
    if (!byBucket.has(k)) byBucket.set(k, []);
    byBucket.get(k)!.push(r);
  });
  let ks = [...byBucket.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (spec.emptyBuckets === "keep" && ks.length > 0) {
    const all: bigint[] = [];
    for (let k = ks[0]; k <= ks[ks.length - 1]; k++) all.push(k);
    ks = all;
  }
  const anyEmpty = ks.some((k) => !byBucket.has(k));
  const rows = ks.map((k) => {
    const row: Record<string, Cell> = { __ts: origin + (k + (spec.label === "right" ? 1n : 0n)) * step };
    for (const a of aggs) row[a.out] = refAgg(f, a, byBucket.get(k) ?? null);
    return row;
  });
  const dtypes: Record<string, string> = {};
  for (const a of aggs) dtypes[a.out] = aggDtype(f, a, anyEmpty);
  return { names: aggs.map((a) => a.out), dtypes, rows, index: "timestamp", rowStart: 0 };
}

// ---- comparing ------------------------------------------------------------------------------------

function sameCell(x: Cell, y: Cell): boolean {
  if (typeof x === "number" && typeof y === "number") {
    if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) && Number.isNaN(y);
    return Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y));
  }
  return x === y;
}

function expectSame(actual: DataFrame, expected: RefFrame, context: string): void {
  const got = fromFrame(actual);
  expect(got.names, context).toEqual(expected.names);
  expect(actual.dtypes, context).toEqual(expected.dtypes);
  expect(actual.index.kind, context).toBe(expected.index);
  if (actual.index.kind === "row") expect(actual.index.start, context).toBe(expected.rowStart);
  expect(got.rows.length, context).toBe(expected.rows.length);
  got.rows.forEach((row, r) => {
    if (expected.index === "timestamp")
      expect(row.__ts, `${context} row ${r} index`).toBe(expected.rows[r].__ts);
    for (const n of expected.names) {
      let want = expected.rows[r][n];
      if (expected.dtypes[n] === "float64" && (typeof want === "boolean" || typeof want === "bigint")) {
        want = Number(want); // an int column's min with an empty bucket: pandas makes it float64
      } else if (typeof want === "boolean" && expected.dtypes[n] !== "bool") want = Number(want);
      const ok = sameCell(row[n], want);
      if (!ok) expect(row[n], `${context} row ${r} column ${n}`).toEqual(want);
    }
  });
}

// ---- properties -----------------------------------------------------------------------------------

describe("runQuery equals a row-by-row reference", () => {
  it("for random frames and random query chains", () => {
    fc.assert(
      fc.property(frameArb, queryArb, (df, q) => {
        const expected = refRun(fromFrame(df), q.clauses);
        expectSame(runQuery(df, q), expected, q.toString());
      }),
      { numRuns: Number(process.env.QUERY_RUNS ?? 400) },
    );
  });
});

describe("partial aggregates merge as one batch", () => {
  it("for any split of the rows into batches (groupby and resample)", () => {
    fc.assert(
      fc.property(
        frameArb,
        aggsArb,
        fc.array(fc.nat(), { maxLength: 4 }),
        fc.boolean(),
        resampleStepArb,
        (df, spec, cuts, byTime, step) => {
          const q = byTime ? step(new QueryBuilder()) : new QueryBuilder().groupby(["s", "flag"]).agg(spec);
          const clause = q.clauses[0] as Extract<Clause, { kind: "groupby" | "resample" }>;
          const whole = runQuery(df, q);
          const n = df.numRows;
          const bounds = [...new Set([0, ...cuts.map((c) => (n === 0 ? 0 : c % (n + 1))), n])].sort(
            (a, b) => a - b,
          );
          const ts = df.index.kind === "timestamp" ? df.index.values : new BigInt64Array(0);
          const origin =
            clause.kind === "resample"
              ? timeBounds(ts)
                ? resolveOrigin(clause.spec, timeBounds(ts)!)
                : 0n
              : 0n;
          const merger = new PartialMerger();
          let parts = 0;
          for (let j = 0; j + 1 < bounds.length; j++) {
            const [from, to] = [bounds[j], bounds[j + 1]];
            const part = (name: string) => ({
              dtype: df.dtype(name),
              values: (df.column(name) as Float64Array).slice(from, to),
            });
            const grouping =
              clause.kind === "resample"
                ? bucketRows(ts.slice(from, to), clause.spec, origin)
                : groupRows(
                    clause.keys.map((k) => part(k)),
                    to - from,
                  );
            const inputs = clause.aggs.map((a) => part(a.column));
            const states = accumulate(
              clause.aggs,
              inputs,
              grouping.gids,
              grouping.keys.columns[0].length,
              from,
            );
            merger.add({ keys: grouping.keys, states });
            parts++;
          }
          if (parts === 0) return;
          const merged = merger.result();
          const order =
            clause.kind === "resample"
              ? bucketOrder(merged.keys, clause.spec, origin).order
              : Int32Array.from(
                  whole.numRows === 0
                    ? []
                    : Array.from(
                        { length: whole.numRows },
                        (_, r) =>
                          merger.groupOf([
                            (whole.column("s") as string[])[r],
                            (whole.column("flag") as Uint8Array)[r],
                          ])!,
                      ),
                );
          clause.aggs.forEach((a, j) => {
            const got = finishColumn(merged.states[j], order);
            const want = whole.column(a.out) as ArrayLike<Cell>;
            expect(got.dtype).toBe(whole.dtype(a.out));
            for (let r = 0; r < want.length; r++) {
              if (!sameCell((got.values as ArrayLike<Cell>)[r], want[r])) {
                expect((got.values as ArrayLike<Cell>)[r], `${q} ${a.out} row ${r}`).toEqual(want[r]);
              }
            }
          });
        },
      ),
      { numRuns: Number(process.env.QUERY_RUNS ?? 300) },
    );
  });
});

describe("what the plan promises", () => {
  it("rows outside dateBounds never change the answer (segments there may be skipped)", () => {
    fc.assert(
      fc.property(frameArb, queryArb, (df, q) => {
        const { start, end } = dateBounds(q);
        if (df.index.kind !== "timestamp") return;
        const ts = df.index.values;
        const keep: number[] = [];
        for (let i = 0; i < ts.length; i++) {
          if ((start === null || ts[i] >= start) && (end === null || ts[i] <= end)) keep.push(i);
        }
        const narrowed = restrict(df, df.columnNames, keep);
        expect(runQuery(narrowed, q).equals(runQuery(df, q)), q.toString()).toBe(true);
      }),
      { numRuns: Number(process.env.QUERY_RUNS ?? 300) },
    );
  });

  it("the columns requiredColumns leaves out never change the answer (they need not be read)", () => {
    fc.assert(
      fc.property(frameArb, queryArb, (df, q) => {
        const needed = requiredColumns(q, df.columnNames);
        const narrowed = restrict(
          df,
          needed,
          Array.from({ length: df.numRows }, (_, i) => i),
        );
        expect(runQuery(narrowed, q).equals(runQuery(df, q)), q.toString()).toBe(true);
      }),
      { numRuns: Number(process.env.QUERY_RUNS ?? 300) },
    );
  });
});

/** `df` with only `names` and the rows `rows`. */
function restrict(df: DataFrame, names: readonly string[], rows: number[]): DataFrame {
  const pick = <T>(values: ArrayLike<T>): T[] => rows.map((r) => values[r]);
  const columns = names.map((name) => {
    const values = df.column(name);
    const picked = pick(values as ArrayLike<unknown>);
    const typed = Array.isArray(values)
      ? picked
      : (values.constructor as unknown as { from(x: unknown[]): unknown }).from(picked);
    return { name, dtype: df.dtype(name), values: typed as Float64Array };
  });
  const index =
    df.index.kind === "timestamp"
      ? { ...df.index, values: BigInt64Array.from(pick(df.index.values)) }
      : df.index;
  return DataFrame.fromColumns(columns, index, rows.length);
}
