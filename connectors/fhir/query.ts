/** Spelling a gateway SearchRequest as a FHIR search query string. */
import type { Criterion, ResourceType, SortSpec, Token } from '../types';
import { FHIR_PARAMS, sortParamName } from './search-params';

/** FHIR escapes `,`, `|` and `$` inside values with a backslash. */
function escapeValue(value: string): string {
  return value.replace(/[\\,|$]/g, (c) => `\\${c}`);
}

function tokenValue(t: Token): string {
  return t.system !== undefined ? `${escapeValue(t.system)}|${escapeValue(t.code)}` : escapeValue(t.code);
}

/** The `[name, value]` pairs of one criterion; date ranges give one pair per bound. */
export function criterionParams(type: ResourceType, criterion: Criterion): [string, string][] {
  const name = FHIR_PARAMS[type][criterion.param];
  if (!name) throw new Error(`no FHIR search parameter for ${type}.${criterion.param}`);
  switch (criterion.param) {
    case 'patient':
    case 'encounter':
    case '_id':
      return [[name, criterion.ids.map(escapeValue).join(',')]];
    case 'code':
    case 'identifier':
    case 'category':
    case 'status':
    case 'gender':
    case 'hasCondition':
      return [[name, criterion.tokens.map(tokenValue).join(',')]];
    case 'date':
    case 'birthdate': {
      const pairs: [string, string][] = [];
      if (criterion.range.from) pairs.push([name, `ge${criterion.range.from}`]);
      if (criterion.range.to) pairs.push([name, `le${criterion.range.to}`]);
      return pairs;
    }
    case 'name':
    case 'family':
    case 'given':
      return [[name, criterion.text]];
  }
}

export function sortParam(type: ResourceType, sort: readonly SortSpec[]): string | undefined {
  const parts = sort
    .map((s) => {
      const name = sortParamName(type, s.field);
      return name ? (s.direction === 'desc' ? `-${name}` : name) : undefined;
    })
    .filter((p): p is string => p !== undefined);
  if (parts.length === 0) return undefined;
  if (!parts.includes('_id') && !parts.includes('-_id')) parts.push('_id');
  return parts.join(',');
}

export function buildSearch(type: ResourceType, criteria: readonly Criterion[], extra: [string, string][]): string {
  const params = new URLSearchParams();
  for (const criterion of criteria) for (const [k, v] of criterionParams(type, criterion)) params.append(k, v);
  for (const [k, v] of extra) params.append(k, v);
  return `${type}?${params.toString()}`;
}
