/**
 * Planning one part of a list against its source's capabilities: which criteria and sorts the
 * source evaluates itself (pushdown) and which the gateway must evaluate after fetching.
 */
import type { Criterion, SortSpec, TypeCapabilities } from '../../connectors/types';

export interface PartPlan {
  /** Criteria sent to the source. */
  pushed: Criterion[];
  /** Criteria the gateway evaluates on what comes back. */
  residual: Criterion[];
  /** Whether the source applies the sort (otherwise the gateway sorts). */
  sortPushed: boolean;
}

export function planPart(caps: TypeCapabilities, criteria: readonly Criterion[], sort: readonly SortSpec[]): PartPlan {
  const pushed: Criterion[] = [];
  const residual: Criterion[] = [];
  for (const criterion of criteria) (caps.params.has(criterion.param) ? pushed : residual).push(criterion);
  return { pushed, residual, sortPushed: sort.every((s) => caps.sorts.has(s.field)) };
}

/** A single-valued reference criterion (`patient = X`) that several lists could share one request for. */
export function batchableRef(criteria: readonly Criterion[]): { index: number; param: 'patient' | 'encounter'; id: string } | undefined {
  let found: { index: number; param: 'patient' | 'encounter'; id: string } | undefined;
  for (let i = 0; i < criteria.length; i++) {
    const c = criteria[i]!;
    if ((c.param === 'patient' || c.param === 'encounter') && c.ids.length === 1) {
      if (found) return undefined;
      found = { index: i, param: c.param, id: c.ids[0]! };
    }
  }
  return found;
}
