export { type AggState, accumulate, finishColumn, mergePartials, type Partial } from "./aggregate.ts";
export { type Column, type Columns, evaluate, evaluateMask } from "./evaluate.ts";
export { runQuery } from "./execute.ts";
export { col, Expr, type ExprInput, type ExprNode, type LiteralValue, lit } from "./expr.ts";
export { groupRows } from "./group-keys.ts";
export { parseExpr } from "./parse.ts";
export { type DateBounds, dateBounds, requiredColumns } from "./plan.ts";
export {
  type AggName,
  type Aggregation,
  type AggSpec,
  type Clause,
  GroupBy,
  QueryBuilder,
  Resample,
  type ResampleOptions,
  type ResampleOrigin,
} from "./query-builder.ts";
export { applyReadQuery } from "./read.ts";
