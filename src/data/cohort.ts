/**
 * `hasCondition` (patients with a Condition of one of some codes, in the same source) for sources
 * that cannot evaluate it themselves, or when the caller's policy restricts which Conditions count:
 * the source's Conditions with those codes are searched (through the policy, like any search; they
 * only yield patient ids and are never returned), and the criterion becomes `_id` = those patients.
 */
import type { Criterion, SourceRecord, Token } from '../../connectors/types';
import { HealthgraphError } from '../errors';
import { patientIdsOf } from '../model/evaluate';

/** Most patient ids one resolved cohort may hold: they travel as one `_id` search (URL length). */
export const MAX_COHORT_PATIENTS = 300;

export interface CohortDeps {
  /** Whether the source evaluates `hasCondition` itself and the policy puts no condition on which Conditions count. */
  pushes(source: string): boolean;
  /** Every visible Condition of the source with one of the codes; undefined when more than `maxRecords`. */
  conditions(source: string, tokens: Token[]): Promise<SourceRecord[] | undefined>;
  maxRecords: number;
}

/**
 * The criteria with any `hasCondition` the source cannot push replaced by an `_id` criterion (ids
 * intersected with an `_id` already there), or null when no patient can match.
 */
export async function resolveCohorts(source: string, criteria: Criterion[], deps: CohortDeps): Promise<Criterion[] | null> {
  if (!criteria.some((c) => c.param === 'hasCondition') || deps.pushes(source)) return criteria;
  let ids: Set<string> | undefined;
  const rest: Criterion[] = [];
  for (const criterion of criteria) {
    if (criterion.param === 'hasCondition') {
      const found = await patientsWith(source, criterion.tokens, deps);
      ids = ids ? new Set([...ids].filter((id) => found.has(id))) : found;
    } else if (criterion.param === '_id') {
      const wanted = new Set(criterion.ids);
      ids = ids ? new Set([...ids].filter((id) => wanted.has(id))) : wanted;
    } else {
      rest.push(criterion);
    }
  }
  if (!ids || ids.size === 0) return null;
  return [{ param: '_id', ids: [...ids].sort() }, ...rest];
}

async function patientsWith(source: string, tokens: Token[], deps: CohortDeps): Promise<Set<string>> {
  const conditions = await deps.conditions(source, tokens);
  if (!conditions) {
    throw new HealthgraphError(
      'QUERY_TOO_COMPLEX',
      `Source "${source}" cannot apply "hasCondition" itself and more than ${deps.maxRecords} of its Conditions have these codes; narrow the filter`,
      { source },
    );
  }
  const ids = new Set(conditions.flatMap((c) => patientIdsOf(c.resource, c.type)));
  if (ids.size > MAX_COHORT_PATIENTS) {
    throw new HealthgraphError(
      'QUERY_TOO_COMPLEX',
      `Source "${source}" cannot apply "hasCondition" itself and more than ${MAX_COHORT_PATIENTS} of its patients have these codes; narrow the filter`,
      { source },
    );
  }
  return ids;
}
