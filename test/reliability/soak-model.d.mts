// Types of soak-model.mjs for soak.test.ts; the worker uses the .mjs directly.

export const LIB: string;
export const SHARED: string[];
export const LIB_OPTIONS: { rowsPerSegment: number; columnsPerSegment: number };
export const COLUMNS: string[];

/** Rows of a frame: timestamps (ns), the operation that wrote each row, and its place there. */
export interface Rows {
  ts: number[];
  src: number[];
  row: number[];
}
export interface Spec {
  src: number;
  rows: number;
  lo: number;
  hi: number;
}
/** An operation as journaled. */
export interface Op {
  kind: string;
  sym?: string;
  name?: string;
  spec?: Spec;
  meta?: unknown;
  version?: number;
  versions?: number[] | Record<string, number>;
  range?: (number | null)[];
  prune?: boolean;
}
export interface Content {
  rows: Rows;
  meta: unknown;
}
export interface SymbolModel {
  next: number;
  live: Map<number, Content>;
  all: Map<number, Content>;
}
export interface Model {
  w: number;
  symbols: Record<string, SymbolModel>;
  snapshots: Map<string, Op>;
}
/** An operation and what became of it. */
export interface OpRecord {
  seq: number;
  op: Op;
  t: number;
  doneT?: number;
  fate: "done" | "fail" | "committed" | "not committed" | "in flight";
  code?: string;
  version?: number;
}
type FrameLike = {
  numRows: number;
  columnNames: readonly string[];
  column(name: string): unknown;
  index: unknown;
};

export function privateSymbols(w: number): string[];
export function opId(w: number, seq: number): number;
export function prng(seed: number): () => number;
export function rowsOf(spec: Spec): Rows;
export function toFrame<T>(DataFrame: new (...args: never[]) => T, rows: Rows): T;
export function frameDifference(frame: FrameLike, rows: Rows): string | null;
export function sameMetadata(a: unknown, b: unknown): boolean;
export function parseJournal(text: string): unknown[];
export function replayJournal(
  w: number,
  entries: unknown[],
): { model: Model; ops: OpRecord[]; pending: OpRecord | undefined; lastSeq: number };
export function sharedProblem(
  sym: string,
  version: number,
  item: { metadata: unknown; data?: FrameLike },
  intents: Map<number, OpRecord>,
): string | null;
