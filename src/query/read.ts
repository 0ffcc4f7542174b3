/**
 * The query step of a read: what `Library.read` (and `readBatch`, `head`, `tail`) run on the frame
 * they decoded when the caller passed `{ query }`.
 */
import { InvalidArgumentError } from "../errors.ts";
import { DataFrame } from "../frame/dataframe.ts";
import { runQuery } from "./execute.ts";
import { QueryBuilder } from "./query-builder.ts";

/**
 * Applies a read's `query` to the frame the read decoded. `columns` is the read's own `columns` option:
 * the frame must hold `requiredColumns(query, stored, columns)`, and without a groupby/resample the
 * answer keeps only `columns` (in that order) and then the columns the query's `apply`s made (an
 * aggregation's answer is its own).
 * Returns the frame unchanged when `query` is undefined. Throws `InvalidArgumentError` when `query` is
 * not a `QueryBuilder`.
 */
export function applyReadQuery(
  frame: DataFrame,
  query: QueryBuilder | undefined,
  columns?: readonly string[],
): DataFrame {
  if (query === undefined) return frame;
  if (!(query instanceof QueryBuilder)) {
    throw new InvalidArgumentError(
      'read: query must be a QueryBuilder, such as new QueryBuilder().filter(col("px").gt(100)).',
    );
  }
  return shapeAnswer(runQuery(frame, query), query, columns);
}

/**
 * The answer of `query` in the shape a read returns: without a groupby/resample, the read's `columns`
 * (in that order) and then the columns the query's `apply`s made; an aggregation's answer as it is.
 */
export function shapeAnswer(answer: DataFrame, query: QueryBuilder, columns?: readonly string[]): DataFrame {
  const aggregates = query.clauses.some((c) => c.kind === "groupby" || c.kind === "resample");
  if (columns === undefined || aggregates) return answer;
  // The read's columns in its order (as a read without a query returns them), then those apply made.
  const names = columns.filter((n) => answer.columnNames.includes(n));
  for (const c of query.clauses) {
    if (c.kind === "apply" && !names.includes(c.name)) names.push(c.name);
  }
  if (names.every((n, i) => answer.columnNames[i] === n) && names.length === answer.columnNames.length) {
    return answer;
  }
  return DataFrame.fromColumns(
    names.map((name) => ({ name, dtype: answer.dtype(name), values: answer.column(name) })),
    answer.index,
    answer.numRows,
  );
}
