/** Turning GraphQL arguments into the gateway's source-neutral criteria, sorts and page sizes. */
import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import type { Criterion, DateRange, SortSpec, Token } from '../../connectors/types';
import { badInput } from '../errors';
import { isFhirDate } from '../model/dates';

/** `system|code`, `code` (any system) or `system|` (any code in the system). */
export function parseToken(value: string, argument: string): Token {
  const text = value.trim();
  if (text.length === 0 || text.length > 512) throw badInput(`"${argument}" must be "system|code" or "code"`, { argument });
  const bar = text.indexOf('|');
  if (bar < 0) return { code: text };
  const system = text.slice(0, bar);
  const code = text.slice(bar + 1);
  if (system.length === 0 && code.length === 0) throw badInput(`"${argument}" must be "system|code" or "code"`, { argument });
  return system.length === 0 ? { code } : { system, code };
}

export function parseTokens(values: readonly string[] | null | undefined, argument: string): Token[] | undefined {
  if (!values || values.length === 0) return undefined;
  if (values.length > 100) throw badInput(`"${argument}" takes at most 100 values`, { argument });
  return values.map((v) => parseToken(v, argument));
}

export function parseRange(range: { from?: string | null; to?: string | null } | null | undefined, argument: string): DateRange | undefined {
  if (!range) return undefined;
  const out: DateRange = {};
  for (const bound of ['from', 'to'] as const) {
    const value = range[bound];
    if (value === null || value === undefined) continue;
    if (!isFhirDate(value)) {
      throw badInput(`"${argument}.${bound}" must be a date like 2017, 2017-06 or 2017-06-30 (optionally with a time)`, { argument: `${argument}.${bound}` });
    }
    out[bound] = value;
  }
  if (out.from === undefined && out.to === undefined) return undefined;
  if (out.from && out.to && out.from.slice(0, 10) > out.to.slice(0, 10)) throw badInput(`"${argument}.from" is after "${argument}.to"`, { argument });
  return out;
}

export interface ClinicalFilterArgs {
  code?: readonly string[] | null;
  date?: { from?: string | null; to?: string | null } | null;
  status?: readonly string[] | null;
  category?: readonly string[] | null;
}

export function clinicalCriteria(filter: ClinicalFilterArgs | null | undefined): Criterion[] {
  if (!filter) return [];
  const criteria: Criterion[] = [];
  const code = parseTokens(filter.code, 'filter.code');
  if (code) criteria.push({ param: 'code', tokens: code });
  const date = parseRange(filter.date, 'filter.date');
  if (date) criteria.push({ param: 'date', range: date });
  const status = parseTokens(filter.status, 'filter.status');
  if (status) criteria.push({ param: 'status', tokens: status });
  const category = parseTokens(filter.category, 'filter.category');
  if (category) criteria.push({ param: 'category', tokens: category });
  return criteria;
}

const CLINICAL_SORT: Record<string, SortSpec['field']> = { DATE: 'date', LAST_UPDATED: 'lastUpdated' };
const PATIENT_SORT: Record<string, SortSpec['field']> = { NAME: 'name', BIRTH_DATE: 'birthdate', LAST_UPDATED: 'lastUpdated' };

export function clinicalSort(order: { field?: string | null; direction?: string | null } | null | undefined): SortSpec[] {
  return [{ field: CLINICAL_SORT[order?.field ?? 'DATE'] ?? 'date', direction: order?.direction === 'ASC' ? 'asc' : 'desc' }];
}

export function patientSort(order: { field?: string | null; direction?: string | null } | null | undefined): SortSpec[] {
  return [{ field: PATIENT_SORT[order?.field ?? 'NAME'] ?? 'name', direction: order?.direction === 'DESC' ? 'desc' : 'asc' }];
}

export function pageSize(first: number | null | undefined): number {
  const value = first ?? 20;
  if (!Number.isInteger(value) || value < 0 || value > 1000) throw badInput('"first" must be between 0 and 1000', { argument: 'first' });
  return value;
}

function selects(selectionSet: SelectionSetNode | undefined, name: string, info: GraphQLResolveInfo, depth = 0): boolean {
  if (!selectionSet || depth > 10) return false;
  return selectionSet.selections.some((s) => {
    if (s.kind === Kind.FIELD) return s.name.value === name;
    if (s.kind === Kind.INLINE_FRAGMENT) return selects(s.selectionSet, name, info, depth + 1);
    const fragment = info.fragments[s.name.value];
    return fragment ? selects(fragment.selectionSet, name, info, depth + 1) : false;
  });
}

/** Whether the current field's selection asks for a sub-field (through fragments too). */
export function selectsField(info: GraphQLResolveInfo, name: string): boolean {
  return info.fieldNodes.some((node: FieldNode) => selects(node.selectionSet, name, info));
}

/** The current field's path in the response (`['patients']`, `['patient', 'encounters']`). */
export function responsePath(info: GraphQLResolveInfo): (string | number)[] {
  const path: (string | number)[] = [];
  for (let p: GraphQLResolveInfo['path'] | undefined = info.path; p; p = p.prev) path.unshift(p.key);
  return path;
}
