/**
 * Float cells as pandas prints them (its `FloatArrayFormatter` at the default `display.precision` of 6):
 * one format for the whole column, so a float column never looks like an integer one.
 */

/** pandas' `display.precision`: digits after the decimal point. */
const PRECISION = 6;

/**
 * Formats `values[r]` for each row `r` of `rows` (a negative row is the `..` of a truncated frame) as
 * pandas does: fixed point with six decimals, then the trailing zeros every cell shares trimmed off
 * (keeping one, so `100.0` stays a float); scientific notation for the whole column when a value is too
 * small to show (`0 < |v| < 1e-6`) or when a value over 1e6 makes the cells long. NaN prints `NaN`.
 */
export function formatFloatCells(values: ArrayLike<number>, rows: readonly number[]): string[] {
  const shown = rows.filter((r) => r >= 0).map((r) => values[r]);
  let cells = trimZeros(shown.map(fixed));
  const maxLength = Math.max(0, ...cells.map((c) => c.length + 1)); // pandas counts a leading space
  const large = shown.some((v) => Math.abs(v) > 1e6);
  const small = shown.some((v) => v !== 0 && Math.abs(v) < 10 ** -PRECISION);
  if (small || (large && maxLength > PRECISION + 6)) cells = shown.map(scientific);
  let next = 0;
  return rows.map((r) => (r < 0 ? ".." : cells[next++]));
}

function special(v: number): string | undefined {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  return undefined;
}

/** `%.6f`; JavaScript's toFixed turns to exponents from 1e21, where Python's does not. */
function fixed(v: number): string {
  const s = special(v);
  if (s !== undefined) return s;
  if (Math.abs(v) >= 1e21) return `${BigInt(v)}.${"0".repeat(PRECISION)}`;
  const text = v.toFixed(PRECISION);
  return Object.is(v, -0) ? `-${text}` : text;
}

/** `%.6e`, with Python's two-digit exponent (`1.234568e+06`). */
function scientific(v: number): string {
  const s = special(v);
  if (s !== undefined) return s;
  const [mantissa, exponent] = v.toExponential(PRECISION).split("e");
  const sign = exponent.startsWith("-") ? "-" : "+";
  return `${Object.is(v, -0) ? "-" : ""}${mantissa}e${sign}${exponent.replace(/^[+-]/, "").padStart(2, "0")}`;
}

/** Drops the trailing zeros all fixed-point cells share, leaving at least one digit after the point. */
function trimZeros(cells: string[]): string[] {
  const isNumber = (c: string) => /^-?\d+\.\d*$/.test(c);
  const numbers = cells.filter(isNumber);
  if (numbers.length === 0) return cells;
  let cut = 0;
  const shortestFraction = Math.min(...numbers.map((c) => c.length - c.indexOf(".") - 1));
  while (cut < shortestFraction && numbers.every((c) => c[c.length - 1 - cut] === "0")) cut++;
  return cells.map((c) => {
    if (!isNumber(c)) return c;
    const trimmed = c.slice(0, c.length - cut);
    return trimmed.endsWith(".") ? `${trimmed}0` : trimmed;
  });
}
