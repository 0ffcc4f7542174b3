// The model of the crash soak (soak.test.ts), shared by the supervisor and its worker processes
// (soak-worker.mjs), so both derive the same frames and the same expected store from the same journal.
//
// Every row a worker writes says where it came from: `src` (the operation's id, writer * 1e6 + seq) and
// `row` (its place in that operation's frame); `x`, `tag` and the timestamp follow from those and from
// the operation's parameters, which its journal line records. So the supervisor recomputes any frame from
// a small record, and on a shared symbol any version can be checked on its own.

import { isDeepStrictEqual } from "node:util";
import { prng } from "../concurrency/frames.mjs";

export const LIB = "soak";
export const SHARED = ["shared0", "shared1"];
/** Library options: small tiles so that appends, updates and deletes cut across several segments. */
export const LIB_OPTIONS = { rowsPerSegment: 40, columnsPerSegment: 2 };
/** Column names of every frame, in order; the timestamp index is named `ts`. */
export const COLUMNS = ["src", "row", "x", "tag"];

export function privateSymbols(w) {
  return [`p${w}a`, `p${w}b`, `p${w}c`];
}

export function opId(w, seq) {
  return w * 1_000_000 + seq;
}

export { prng };

/** The `x` of row `row` of operation `src`: a float64 with every mantissa bit used. */
export function xOf(src, row) {
  const r = prng(Math.imul(src, 7919) ^ Math.imul(row + 1, 104729));
  return ((r() >>> 5) * 67108864 + (r() >>> 6)) / 2 ** 40 - 4096;
}

export function tagOf(src, row) {
  return row % 5 === 0 ? "" : `${src.toString(36)}-${row}${"z".repeat(row % 7)}`;
}

/** `rows` sorted integer timestamps in [lo, hi] (duplicates possible), fixed by `src`. */
export function timestampsOf(src, rows, lo, hi) {
  const r = prng(src ^ 0x5bd1e995);
  const span = hi - lo + 1;
  const out = [];
  for (let i = 0; i < rows; i++) out.push(lo + Math.floor((r() / 2 ** 32) * span));
  return out.sort((a, b) => a - b);
}

/** The rows of operation `spec` = { src, rows, lo, hi }: parallel arrays ts, src, row. */
export function rowsOf(spec) {
  return {
    ts: timestampsOf(spec.src, spec.rows, spec.lo, spec.hi),
    src: new Array(spec.rows).fill(spec.src),
    row: Array.from({ length: spec.rows }, (_, i) => i),
  };
}

/** A floe DataFrame (of the given DataFrame class) holding `rows` ({ ts, src, row }). */
export function toFrame(DataFrame, rows) {
  const n = rows.ts.length;
  const x = new Float64Array(n);
  const tag = [];
  for (let i = 0; i < n; i++) {
    x[i] = xOf(rows.src[i], rows.row[i]);
    tag.push(tagOf(rows.src[i], rows.row[i]));
  }
  return new DataFrame(
    { src: Int32Array.from(rows.src), row: Int32Array.from(rows.row), x, tag },
    {
      index: { name: "ts", values: BigInt64Array.from(rows.ts, (t) => BigInt(t)) },
      dtypes: { tag: "string" },
    },
  );
}

function concatRows(...parts) {
  return {
    ts: parts.flatMap((p) => p.ts),
    src: parts.flatMap((p) => p.src),
    row: parts.flatMap((p) => p.row),
  };
}

function filterRows(rows, keep) {
  const out = { ts: [], src: [], row: [] };
  for (let i = 0; i < rows.ts.length; i++) {
    if (!keep(rows.ts[i])) continue;
    out.ts.push(rows.ts[i]);
    out.src.push(rows.src[i]);
    out.row.push(rows.row[i]);
  }
  return out;
}

/**
 * The first way in which `frame` (a floe DataFrame read back) differs from `rows`, or null when the
 * columns, dtypes, index and every value agree exactly.
 */
export function frameDifference(frame, rows) {
  if (frame.columnNames.join(",") !== COLUMNS.join(",")) return `columns [${frame.columnNames}]`;
  if (frame.index.kind !== "timestamp" || frame.index.name !== "ts") return `index ${frame.index.kind}`;
  const n = rows.ts.length;
  if (frame.numRows !== n) return `${frame.numRows} rows, expected ${n}`;
  const ts = frame.index.values;
  const src = frame.column("src");
  const row = frame.column("row");
  const x = frame.column("x");
  const tag = frame.column("tag");
  if (!(src instanceof Int32Array) || !(row instanceof Int32Array) || !(x instanceof Float64Array)) {
    return "wrong column dtypes";
  }
  for (let i = 0; i < n; i++) {
    const want = `(${rows.ts[i]}, ${rows.src[i]}, ${rows.row[i]})`;
    if (ts[i] !== BigInt(rows.ts[i]) || src[i] !== rows.src[i] || row[i] !== rows.row[i]) {
      return `row ${i}: (ts, src, row) = (${ts[i]}, ${src[i]}, ${row[i]}), expected ${want}`;
    }
    if (!Object.is(x[i], xOf(src[i], row[i])) || tag[i] !== tagOf(src[i], row[i])) {
      return `row ${i} ${want}: x ${x[i]} tag ${JSON.stringify(tag[i])} are not that row's`;
    }
  }
  return null;
}

/** The rows of a frame read back, as { ts, src, row } (numbers). */
export function rowsFromFrame(frame) {
  // A version writeMetadata made for a symbol without one holds no data (no columns at all).
  if (frame.numRows === 0) return { ts: [], src: [], row: [] };
  return {
    ts: Array.from(frame.index.values, Number),
    src: Array.from(frame.column("src")),
    row: Array.from(frame.column("row")),
  };
}

export function sameMetadata(a, b) {
  return isDeepStrictEqual(a ?? null, b ?? null);
}

/** Operation kinds that make a new version of a private symbol. */
export const VERSIONING = new Set(["write", "append", "update", "deleteRange", "writeMeta"]);
/** Operation kinds on shared symbols. */
export const SHARED_KINDS = new Set(["sWrite", "sAppend", "sWriteMeta", "sDelete", "sPrune"]);

/** An empty model: private symbols and snapshots of one writer. */
export function emptyModel(w) {
  const symbols = {};
  for (const s of privateSymbols(w)) symbols[s] = { next: 0, live: new Map(), all: new Map() };
  return { w, symbols, snapshots: new Map(), sharedVersions: [] };
}

export function latestLive(sym) {
  let best = -1;
  for (const v of sym.live.keys()) if (v > best) best = v;
  return best < 0 ? undefined : best;
}

/** Drops a shared version from the writer's own list (deleted, or found gone). */
export function forgetShared(model, op) {
  model.sharedVersions = model.sharedVersions.filter((s) => !(s.sym === op.sym && s.version === op.version));
}

/**
 * Applies a committed operation to the model; returns the version number it made, if it makes one.
 * Shared-symbol operations only record, for the writer's own later deletes, the version they made.
 */
export function applyOp(model, op, version) {
  if (SHARED_KINDS.has(op.kind)) {
    if (op.kind === "sDelete") forgetShared(model, op);
    else if (version !== undefined && op.kind !== "sPrune")
      model.sharedVersions.push({ sym: op.sym, version });
    return undefined;
  }
  switch (op.kind) {
    case "read":
      return undefined;
    case "snapshot":
      model.snapshots.set(op.name, op);
      return undefined;
    case "deleteSnapshot":
      model.snapshots.delete(op.name);
      return undefined;
  }
  const sym = model.symbols[op.sym];
  if (op.kind === "deleteVersions") {
    for (const v of op.versions) sym.live.delete(v);
    return undefined;
  }
  if (op.kind === "deleteSymbol") {
    sym.live.clear();
    return undefined;
  }
  if (op.kind === "prune") {
    const keep = latestLive(sym);
    for (const v of [...sym.live.keys()]) if (v !== keep) sym.live.delete(v);
    return undefined;
  }
  const base = latestLive(sym) === undefined ? undefined : sym.live.get(latestLive(sym));
  let rows;
  switch (op.kind) {
    case "write":
      rows = rowsOf(op.spec);
      break;
    case "append":
      rows = base ? concatRows(base.rows, rowsOf(op.spec)) : rowsOf(op.spec);
      break;
    case "update": {
      const [a, b] = op.range;
      // No rows: a new version with the new metadata, the data untouched (as ArcticDB).
      if (rowsOf(op.spec).ts.length === 0) {
        rows = base.rows;
        break;
      }
      rows = concatRows(
        filterRows(base.rows, (t) => t < a),
        rowsOf(op.spec),
        filterRows(base.rows, (t) => t > b),
      );
      break;
    }
    case "deleteRange": {
      const [a, b] = op.range;
      rows = filterRows(base.rows, (t) => (a !== null && t < a) || (b !== null && t > b));
      break;
    }
    case "writeMeta":
      rows = base.rows;
      break;
    default:
      throw new Error(`unknown operation ${op.kind}`);
  }
  const v = sym.next++;
  const content = { rows, meta: op.meta };
  sym.live.set(v, content);
  sym.all.set(v, content);
  if (op.prune) for (const old of [...sym.live.keys()]) if (old !== v) sym.live.delete(old);
  return v;
}

/**
 * Parses a journal (JSON lines). A last line without its newline was cut short by a kill and is left
 * out: its write never finished, so for an intent the operation never began, and for a done line the
 * operation counts as in flight.
 */
export function parseJournal(text) {
  const lines = text.split("\n");
  lines.pop(); // "" after the last newline, or a torn line
  return lines.map((l) => JSON.parse(l));
}

/**
 * Replays writer `w`'s journal into its model. Returns the model and every operation with its fate:
 * "done" (with the version it made), "fail" (threw; error code), "committed" / "not committed" (in
 * flight at a kill, settled by the next incarnation), or "in flight" (not settled, only possible for the
 * last operation or a shared one).
 */
export function replayJournal(w, entries) {
  const model = emptyModel(w);
  const ops = [];
  const bySeq = new Map();
  let pending; // the private operation in flight, which must be settled before the next one
  for (const e of entries) {
    if (e.k === "intent") {
      if (pending) throw new Error(`writer ${w}: op ${e.seq} began while op ${pending.seq} was unsettled`);
      const rec = { seq: e.seq, op: e.op, t: e.t, fate: "in flight" };
      ops.push(rec);
      bySeq.set(e.seq, rec);
      if (!SHARED_KINDS.has(e.op.kind) && e.op.kind !== "read") pending = rec;
    } else if (e.k === "done" || e.k === "fail" || e.k === "resolve") {
      const rec = bySeq.get(e.seq);
      if (rec?.fate !== "in flight") throw new Error(`writer ${w}: stray ${e.k} of op ${e.seq}`);
      rec.doneT = e.t;
      if (e.k === "fail") {
        rec.fate = "fail";
        rec.code = e.code;
      } else {
        const committed = e.k === "done" || e.committed;
        rec.fate = e.k === "done" ? "done" : committed ? "committed" : "not committed";
        if (committed) {
          const v = applyOp(model, rec.op, e.version);
          if (v !== undefined && e.version !== undefined && v !== e.version) {
            throw new Error(`writer ${w}: op ${e.seq} made version ${e.version}, the model says ${v}`);
          }
          rec.version = v ?? e.version;
        }
      }
      if (pending === rec) pending = undefined;
    }
  }
  const lastSeq = ops.length === 0 ? 0 : ops[ops.length - 1].seq;
  return { model, ops, pending, lastSeq };
}

/**
 * Checks a version of a shared symbol on its own: its metadata names the operation that made it
 * (`intents`: op id → { op, fate, version }), and its rows must be that operation's result: whole
 * operations' rows in order, a write's (or a first append's) rows first, then appends, ending with its
 * own rows when it is an append, being only its own when it is a write. Returns a problem or null.
 */
export function sharedProblem(sym, version, item, intents) {
  const meta = item.metadata;
  if (!meta || typeof meta.w !== "number" || typeof meta.seq !== "number") {
    return `metadata ${JSON.stringify(meta)} names no operation`;
  }
  const id = opId(meta.w, meta.seq);
  const own = intents.get(id);
  if (!own) return `metadata names op ${id}, which no journal holds`;
  if (own.op.sym !== sym || own.op.kind !== meta.op) return `op ${id} is ${own.op.kind} of ${own.op.sym}`;
  if (!sameMetadata(own.op.meta, meta)) return `metadata ${JSON.stringify(meta)} is not op ${id}'s`;
  if (own.fate === "fail") return `op ${id} failed (${own.code}) but its version exists`;
  if (own.version !== undefined && own.version !== version) {
    return `op ${id} reported version ${own.version}`;
  }
  const rows = rowsFromFrame(item.data);
  const runs = [];
  for (let i = 0; i < rows.src.length; ) {
    let j = i;
    while (j < rows.src.length && rows.src[j] === rows.src[i]) j++;
    runs.push({ src: rows.src[i], start: i, end: j });
    i = j;
  }
  for (const [n, run] of runs.entries()) {
    const op = intents.get(run.src)?.op;
    if (!op) return `rows ${run.start}..${run.end} come from op ${run.src}, which no journal holds`;
    if (op.sym !== sym) return `rows ${run.start}..${run.end} are op ${run.src}'s, of ${op.sym}`;
    if (op.kind !== "sAppend" && !(op.kind === "sWrite" && n === 0)) {
      return `rows ${run.start}..${run.end} are op ${run.src}'s (${op.kind}) at run ${n}`;
    }
    const want = rowsOf(op.spec);
    if (run.end - run.start !== want.ts.length) {
      return `op ${run.src} has ${run.end - run.start} rows here, it wrote ${want.ts.length}`;
    }
    for (let i = run.start; i < run.end; i++) {
      const r = i - run.start;
      if (rows.row[i] !== r || rows.ts[i] !== want.ts[r]) return `row ${i} (op ${run.src}) is out of place`;
    }
  }
  const ids = runs.map((r) => r.src);
  if (new Set(ids).size !== ids.length) return `an operation's rows appear twice: ${ids}`;
  if (own.op.kind === "sWrite" && (ids.length !== 1 || ids[0] !== id)) return `a write holding ${ids}`;
  if (own.op.kind === "sAppend" && ids[ids.length - 1] !== id) return `an append ending with ${ids.at(-1)}`;
  // Values follow from (src, row), which frameDifference checks against the rows just taken apart.
  return frameDifference(item.data, rows);
}
