/**
 * `hasCondition` over a Patient table mapping: an EXISTS subquery over each table mapping of the
 * Condition type, correlated on the Condition's patient reference column and carrying the same
 * code condition (and fixed filters) a Condition search by code would use.
 */
import type { Token } from '../../types';
import { and, criterionCondition, FALSE, or, referenceTarget, type PredicateContext } from './predicates';
import type { PartSpec } from './schema';
import { type Params, Scope } from './scope';

/** The `filter:` / `exclude:` conditions every row of a table mapping satisfies. */
export function fixedFilter(spec: PartSpec, scope: Scope, p: Params): string[] {
  const { dialect } = scope.ctx;
  const keep = Object.entries(spec.filter).map(([column, value]) =>
    dialect.inList(scope.col(column), Array.isArray(value) ? value : [value], p.add),
  );
  const drop = Object.entries(spec.exclude).map(([column, value]) => {
    const col = scope.col(column);
    return `(${col} IS NULL OR NOT (${dialect.inList(col, Array.isArray(value) ? value : [value], p.add)}))`;
  });
  return [...keep, ...drop];
}

/**
 * The condition "this patient row has a Condition with one of the codes", or null when it cannot be
 * written in SQL (no Condition mapping, a patient reference reached through child rows, a code that
 * cannot be pushed down). FALSE when no Condition table can refer to this Patient table.
 */
export function hasConditionSql(
  conditions: readonly PartSpec[],
  patient: PartSpec,
  patientScope: Scope,
  patientIdExpr: string,
  tokens: Token[],
  p: Params,
  pctx: PredicateContext,
): string | null {
  if (conditions.length === 0) return null;
  const branches: string[] = [];
  for (const [index, part] of conditions.entries()) {
    const scope = new Scope(patientScope.ctx, part.table, `${patientScope.alias}h${index}`, part.joins, `resources.Condition`, 'h');
    scope.idColumn = part.id;
    const ref = referenceTarget('Condition', part, 'patient', scope);
    if (ref === null) return null;
    // A reference with another id prefix points at another Patient table mapping.
    if (ref.idPrefix !== patient.idPrefix) continue;
    const code = criterionCondition('Condition', part, { param: 'code', tokens }, scope, scope.col(part.id), p, pctx);
    if (code === null) return null;
    if (code === FALSE) continue;
    const where = and([`${ref.column} = ${patientIdExpr}`, ...fixedFilter(part, scope, p), code]);
    branches.push(`EXISTS (SELECT 1 ${scope.fromWithoutLookups()} WHERE ${where})`);
  }
  return or(branches);
}
