// Deterministic frames for the concurrency tests, shared by the test files (through frames.d.mts) and
// the child process / worker scripts, which are plain .mjs so that Node runs them without a loader.
// A writer and the checker regenerate the same frame from the same seed: nothing large crosses a pipe.

/** Float64 columns per frame, named c0…c8, plus the int32 column `n`: 76 bytes a row. */
export const FLOAT_COLUMNS = 9;

/** Rows that make a frame of about 1 MB (12,500 × 76 bytes = 950 kB), the seed's size. */
export const ROWS_1MB = 12_500;

/** mulberry32: a small, fast 32-bit PRNG; good enough to make each writer's data differ. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/**
 * The columns of frame `seed`: `rows` rows of random float64 in c0…c8 (full 53-bit mantissas, so they
 * do not compress and every bit counts) and random int32 in `n`.
 */
export function makeColumns(seed, rows) {
  const next = prng(seed);
  const columns = {};
  for (let c = 0; c < FLOAT_COLUMNS; c++) {
    const values = new Float64Array(rows);
    for (let i = 0; i < rows; i++) values[i] = ((next() >>> 5) * 67108864 + (next() >>> 6)) / 2 ** 53 - 0.5;
    columns[`c${c}`] = values;
  }
  const n = new Int32Array(rows);
  for (let i = 0; i < rows; i++) n[i] = next() | 0;
  columns.n = n;
  return columns;
}

/**
 * The first way in which `frame` (a floe DataFrame) differs from `columns`, as a message, or null when
 * the names, order, row count and every byte of every column agree. Comparing bytes is exact for
 * floats (no tolerance) and stops at the first difference instead of diffing whole arrays.
 */
export function firstDifference(frame, columns) {
  const want = Object.keys(columns);
  if (frame.columnNames.join(",") !== want.join(",")) {
    return `columns are [${frame.columnNames}], expected [${want}]`;
  }
  const rows = columns[want[0]].length;
  if (frame.numRows !== rows) return `${frame.numRows} rows, expected ${rows}`;
  for (const name of want) {
    const got = frame.column(name);
    const exp = columns[name];
    if (got.constructor !== exp.constructor) {
      return `column ${name} is a ${got.constructor.name}, expected a ${exp.constructor.name}`;
    }
    const a = new Uint8Array(got.buffer, got.byteOffset, got.byteLength);
    const b = new Uint8Array(exp.buffer, exp.byteOffset, exp.byteLength);
    for (let i = 0; i < b.length; i++) {
      if (a[i] !== b[i]) {
        const row = Math.floor(i / exp.BYTES_PER_ELEMENT);
        return `column ${name} row ${row}: got ${got[row]}, expected ${exp[row]}`;
      }
    }
  }
  return null;
}

/**
 * Chunk `id` of an append sequence: `rows` rows whose columns say which chunk and row they are
 * (`chunk`, `row`) and carry a value that follows from both, so any read can be checked on its own.
 */
export function makeChunk(id, rows) {
  const next = prng(id);
  const value = new Float64Array(rows);
  for (let i = 0; i < rows; i++) value[i] = next() / 2 ** 32 + id;
  return { chunk: new Int32Array(rows).fill(id), row: Int32Array.from({ length: rows }, (_, i) => i), value };
}

/**
 * Splits a frame read from an append sequence into its chunks. It must be whole chunks of `rows` rows,
 * each one exactly as `makeChunk` made it, none twice. Returns the chunk ids in order, or the first
 * way in which the frame is torn, mixed up or wrong.
 */
export function chunksOf(frame, rows) {
  if (frame.columnNames.join(",") !== "chunk,row,value") return { error: `columns [${frame.columnNames}]` };
  if (frame.numRows % rows !== 0) return { error: `${frame.numRows} rows is not a whole number of chunks` };
  const chunk = frame.column("chunk");
  const row = frame.column("row");
  const value = frame.column("value");
  const ids = [];
  for (let start = 0; start < frame.numRows; start += rows) {
    const id = chunk[start];
    if (ids.includes(id)) return { error: `chunk ${id} appears twice` };
    const want = makeChunk(id, rows);
    for (let i = 0; i < rows; i++) {
      const at = start + i;
      if (chunk[at] !== id || row[at] !== i || !Object.is(value[at], want.value[i])) {
        return {
          error: `row ${at}: (chunk ${chunk[at]}, row ${row[at]}, value ${value[at]}), expected (${id}, ${i}, ${want.value[i]})`,
        };
      }
    }
    ids.push(id);
  }
  return { ids };
}
