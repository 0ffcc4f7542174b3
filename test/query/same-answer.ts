import { expect } from "vitest";
import type { DataFrame } from "../../runtimes/node.ts";

/**
 * Asserts `actual` is the answer `expected` is: the same columns, dtypes, rows and index, with floats
 * equal up to 1e-9 relative (chunks' partial sums may differ from one pass in the last bits; NaN equals
 * NaN) and every other value equal.
 */
export function expectSameAnswer(actual: DataFrame, expected: DataFrame, context: string): void {
  expect(actual.columnNames, context).toEqual(expected.columnNames);
  expect(actual.dtypes, context).toEqual(expected.dtypes);
  expect(actual.numRows, context).toBe(expected.numRows);
  expect(actual.index, context).toEqual(expected.index);
  for (const name of expected.columnNames) {
    const a = Array.from(actual.column(name) as ArrayLike<unknown>);
    const e = Array.from(expected.column(name) as ArrayLike<unknown>);
    if (typeof e[0] === "number") {
      const close = a.every((x, r) => {
        const y = e[r] as number;
        return Object.is(x, y) || Math.abs((x as number) - y) <= 1e-9 * Math.max(1, Math.abs(y));
      });
      expect(close, `${context} ${name}: ${a.slice(0, 8).join(", ")}`).toBe(true);
    } else expect(a, `${context} ${name}`).toEqual(e);
  }
}
