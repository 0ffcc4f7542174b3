// Types of frames.mjs for the TypeScript tests; the child scripts use the .mjs directly.

/** Float64 columns per frame, named c0…c8, plus the int32 column `n`. */
export const FLOAT_COLUMNS: number;
/** Rows that make a frame of about 1 MB. */
export const ROWS_1MB: number;

export type Columns = Record<string, Float64Array | Int32Array>;

/** A seeded 32-bit PRNG. */
export function prng(seed: number): () => number;
/** The deterministic columns of frame `seed`. */
export function makeColumns(seed: number, rows: number): Columns;
/** How `frame` first differs from `columns`, or null when they agree exactly. */
export function firstDifference(
  frame: { numRows: number; columnNames: readonly string[]; column(name: string): unknown },
  columns: Columns,
): string | null;

export type Chunk = { chunk: Int32Array; row: Int32Array; value: Float64Array };
/** Chunk `id` of an append sequence, `rows` rows that identify themselves. */
export function makeChunk(id: number, rows: number): Chunk;
/** The chunk ids of a frame read from an append sequence, or how it is torn or wrong. */
export function chunksOf(
  frame: { numRows: number; columnNames: readonly string[]; column(name: string): unknown },
  rows: number,
): { ids: number[]; error?: undefined } | { error: string; ids?: undefined };
