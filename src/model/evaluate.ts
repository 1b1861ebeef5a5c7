/**
 * In-memory evaluation of the gateway's criteria and sort order over FHIR JSON. Used when a source
 * cannot evaluate a criterion itself, and to merge lists from several sources or resource types.
 */
import type { Criterion, DateRange, FhirResource, ResourceType, SortSpec, Token } from '../../connectors/types';
import { filterRange, instantRange, overlaps, type InstantRange } from './dates';
import { ELEMENTS } from './elements';
import { isObject, readAll, readPath } from './fhir-json';
import { parseReference } from './references';

interface CodingLike {
  system?: unknown;
  code?: unknown;
}

function codingsOf(value: unknown): CodingLike[] {
  if (typeof value === 'string') return [{ code: value }];
  if (!isObject(value)) return [];
  if (Array.isArray(value.coding)) return value.coding.filter(isObject);
  return [value];
}

function tokenMatches(token: Token, coding: CodingLike): boolean {
  if (token.system !== undefined && coding.system !== token.system) return false;
  return token.code === '' || coding.code === token.code;
}

function anyCodingMatches(values: unknown[], tokens: Token[]): boolean {
  return values.some((value) => codingsOf(value).some((coding) => tokens.some((t) => tokenMatches(t, coding))));
}

/** The first date the type's date elements hold, as the instant range it covers. */
export function dateOf(resource: FhirResource, type: ResourceType): InstantRange | undefined {
  for (const path of ELEMENTS[type].date ?? []) {
    const value = readPath(resource, path);
    if (typeof value === 'string') {
      const range = instantRange(value);
      if (range) return range;
    }
  }
  return undefined;
}

function dateMatches(value: InstantRange | undefined, range: DateRange): boolean {
  const wanted = filterRange(range.from, range.to);
  return value !== undefined && wanted !== undefined && overlaps(value, wanted);
}

/**
 * The id a reference's text (`Patient/1`, or an absolute URL) holds, kept per text: every record of
 * a wide answer asks for its patient twice (batch split, audit), mostly for the same few patients.
 * The arrays are frozen and shared; the map is cleared when it grows past MAX_REFERENCE_IDS.
 */
const referenceIds = new Map<string, readonly string[]>();
const MAX_REFERENCE_IDS = 50_000;
const NO_IDS: readonly string[] = Object.freeze([]);

function idsOfReference(value: unknown): readonly string[] {
  const reference = isObject(value) ? value.reference : undefined;
  if (typeof reference !== 'string') {
    const ref = parseReference(value);
    return ref ? [ref.id] : NO_IDS;
  }
  let ids = referenceIds.get(reference);
  if (ids === undefined) {
    const ref = parseReference(reference);
    ids = ref ? Object.freeze([ref.id]) : NO_IDS;
    if (referenceIds.size >= MAX_REFERENCE_IDS) referenceIds.clear();
    referenceIds.set(reference, ids);
  }
  return ids;
}

function referencedIds(resource: FhirResource, paths: readonly string[] | undefined): readonly string[] {
  // One top-level element holding one reference: no arrays built.
  if (paths?.length === 1 && !paths[0]!.includes('.')) {
    const value = resource[paths[0]!];
    if (!Array.isArray(value)) return value === undefined || value === null ? NO_IDS : idsOfReference(value);
  }
  const ids: string[] = [];
  for (const path of paths ?? []) {
    for (const value of readAll(resource, path)) {
      const ref = parseReference(value);
      if (ref) ids.push(ref.id);
    }
  }
  return ids;
}

/** The record ids of the patients a resource belongs to (the resource itself for a Patient). */
export function patientIdsOf(resource: FhirResource, type: ResourceType): readonly string[] {
  if (type === 'Patient') return resource.id ? [resource.id] : [];
  return referencedIds(resource, ELEMENTS[type].patient);
}

export function encounterIdsOf(resource: FhirResource, type: ResourceType): readonly string[] {
  return referencedIds(resource, ELEMENTS[type].encounter);
}

function nameParts(resource: FhirResource, part: 'name' | 'family' | 'given'): string[] {
  const names = readAll(resource, 'name').filter(isObject);
  const out: string[] = [];
  for (const name of names) {
    if (part !== 'given' && typeof name.family === 'string') out.push(name.family);
    if (part !== 'family' && Array.isArray(name.given)) out.push(...name.given.filter((g): g is string => typeof g === 'string'));
    if (part === 'name' && typeof name.text === 'string') out.push(...name.text.split(/\s+/));
  }
  return out;
}

function fold(text: string): string {
  return text.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

/** Whether a resource satisfies one criterion. */
export function matchesCriterion(resource: FhirResource, type: ResourceType, criterion: Criterion): boolean {
  const elements = ELEMENTS[type];
  switch (criterion.param) {
    case '_id':
      return resource.id !== undefined && criterion.ids.includes(resource.id);
    case 'patient':
      return patientIdsOf(resource, type).some((id) => criterion.ids.includes(id));
    case 'encounter':
      return encounterIdsOf(resource, type).some((id) => criterion.ids.includes(id));
    case 'code':
      return anyCodingMatches((elements.code ?? []).flatMap((p) => readAll(resource, p)), criterion.tokens);
    case 'category':
      return anyCodingMatches((elements.category ?? []).flatMap((p) => readAll(resource, p)), criterion.tokens);
    case 'status':
      return elements.status !== undefined && anyCodingMatches(readAll(resource, elements.status), criterion.tokens);
    case 'gender':
      return anyCodingMatches(readAll(resource, 'gender'), criterion.tokens);
    case 'identifier':
      return readAll(resource, 'identifier')
        .filter(isObject)
        .some((identifier) => criterion.tokens.some((t) => tokenMatches(t, { system: identifier.system, code: identifier.value })));
    case 'date':
      return dateMatches(dateOf(resource, type), criterion.range);
    case 'birthdate': {
      const birthDate = resource.birthDate;
      return typeof birthDate === 'string' && dateMatches(instantRange(birthDate), criterion.range);
    }
    case 'hasCondition':
      // Needs other records: the data layer turns it into an `_id` criterion before evaluating anything.
      throw new Error('hasCondition cannot be evaluated on one record');
    case 'name':
    case 'family':
    case 'given': {
      const wanted = fold(criterion.text);
      return nameParts(resource, criterion.param).some((part) => fold(part).startsWith(wanted));
    }
  }
}

export function matchesAll(resource: FhirResource, type: ResourceType, criteria: readonly Criterion[]): boolean {
  return criteria.every((c) => matchesCriterion(resource, type, c));
}

function sortKey(resource: FhirResource, type: ResourceType, field: SortSpec['field']): number | string | undefined {
  switch (field) {
    case 'date':
      return dateOf(resource, type)?.start;
    case 'birthdate':
      return typeof resource.birthDate === 'string' ? instantRange(resource.birthDate)?.start : undefined;
    case 'lastUpdated':
      return typeof resource.meta?.lastUpdated === 'string' ? instantRange(resource.meta.lastUpdated)?.start : undefined;
    case 'name': {
      const parts = nameParts(resource, 'family').concat(nameParts(resource, 'given'));
      return parts.length > 0 ? fold(parts.join(' ')) : undefined;
    }
    case 'id':
      return resource.id;
  }
}

/** A comparator for the sort specs, with missing values last and the resource id as tie-breaker. */
export function comparator(
  sort: readonly SortSpec[],
): (a: { resource: FhirResource; type: ResourceType }, b: { resource: FhirResource; type: ResourceType }) => number {
  return (a, b) => {
    for (const spec of sort) {
      const ka = sortKey(a.resource, a.type, spec.field);
      const kb = sortKey(b.resource, b.type, spec.field);
      if (ka === kb) continue;
      if (ka === undefined) return 1;
      if (kb === undefined) return -1;
      const order = ka < kb ? -1 : 1;
      return spec.direction === 'asc' ? order : -order;
    }
    const ia = a.resource.id ?? '';
    const ib = b.resource.id ?? '';
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  };
}
