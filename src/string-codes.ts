/**
 * Dictionary codes riding along a string column: a column decoded from a dictionary-encoded segment can
 * carry its dictionary and one code per row, so a query groups or compares by small integers instead of
 * looking every row's string up. Kept beside the array (a WeakMap), never in it, so a column is still a
 * plain array of strings everywhere else; a copy made without the codes simply has none. Shared by the
 * codec (which knows the codes) and the query engine (which uses them), so it sits at the root of `src/`.
 */

/** A string column's dictionary and its rows' codes into it (-1: null). */
export interface StringCodes {
  readonly dict: readonly string[];
  readonly codes: Int32Array;
  /** True when every dictionary entry occurs among the codes: the codes then number the distinct values. */
  readonly complete?: boolean;
}

const registry = new WeakMap<object, StringCodes>();

/** The codes `values` carries, if it was decoded (or gathered) with them. */
export function codesOf(values: unknown): StringCodes | undefined {
  return typeof values === "object" && values !== null ? registry.get(values) : undefined;
}

/** Records that `values[i]` is `codes.dict[codes.codes[i]]` (null for -1) for every row. */
export function setCodes(values: readonly (string | null)[], codes: StringCodes): void {
  registry.set(values, codes);
}
