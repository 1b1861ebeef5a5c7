/**
 * Medplum's in-memory repository with indexes, so the test peer answers like a real server.
 *
 * MemoryRepository.search scans every resource of the type and evaluates each filter's FHIRPath,
 * ignores `_include`/`_revinclude`, applies multiple `_sort` rules in the wrong priority and clones
 * the whole match set before paging. This subclass keeps the same semantics for matching (it still
 * calls Medplum's `matchesSearchRequest`) but narrows candidates through an `_id` and a reference
 * index first, sorts with proper priority, clones only the page and resolves includes.
 */
import { createHash } from 'node:crypto';
import {
  DEFAULT_SEARCH_COUNT,
  OperationOutcomeError,
  Operator,
  badRequest,
  deepClone,
  evalFhirPath,
  getSearchParameters,
  matchesSearchRequest,
  parseFhirPath,
  splitSearchOnComma,
} from '@medplum/core';
import type { FhirPathAtom, Filter, IncludeTarget, SearchRequest, SortRule, WithId } from '@medplum/core';
import type { Bundle, BundleEntry, Resource, SearchParameter } from '@medplum/fhirtypes';
import { MemoryRepository } from '@medplum/fhir-router';

/** Largest page the peer returns, like Medplum's server. */
export const MAX_SEARCH_COUNT = 1000;
export { DEFAULT_SEARCH_COUNT };

type Stored = WithId<Resource>;

export class IndexedMemoryRepository extends MemoryRepository {
  /** type → id → resource, in creation order (the default search order). */
  private readonly store = new Map<string, Map<string, Stored>>();
  /** type → reference string (`Patient/123`) → ids of resources of that type holding it. */
  private readonly references = new Map<string, Map<string, Set<string>>>();
  private idCounter = 0;

  /** @param idSeed - ids are derived from this seed and a counter, so a reload yields the same ids. */
  constructor(private readonly idSeed = 'healthgraph-peer') {
    super();
  }

  override generateId(): string {
    this.idCounter += 1;
    const hex = createHash('sha1').update(`${this.idSeed}:${this.idCounter}`).digest('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }

  override async createResource<T extends Resource>(resource: T): Promise<WithId<T>> {
    const saved = await super.createResource(resource);
    this.unindex(saved.resourceType, saved.id);
    this.index(saved);
    return deepClone(saved);
  }

  override async deleteResource(resourceType: string, id: string): Promise<void> {
    await super.deleteResource(resourceType, id);
    this.unindex(resourceType, id);
  }

  override clear(): void {
    super.clear();
    this.store.clear();
    this.references.clear();
  }

  /** Number of stored resources, per type. */
  counts(): Record<string, number> {
    const result: Record<string, number> = {};
    for (const [type, byId] of this.store) {
      result[type] = byId.size;
    }
    return result;
  }

  override async search<T extends Resource>(request: SearchRequest<T>): Promise<Bundle<WithId<T>>> {
    rejectUnknownParameters(request);
    const normalized = normalizeReferenceFilters(request);
    const matches = this.matchAll(normalized);
    sortResources(matches, normalized.sortRules);
    const offset = Math.max(0, normalized.offset ?? 0);
    const count = Math.min(Math.max(0, normalized.count ?? DEFAULT_SEARCH_COUNT), MAX_SEARCH_COUNT);
    const page = matches.slice(offset, offset + count);
    const entry: BundleEntry[] = page.map((resource) => ({ resource: deepClone(resource), search: { mode: 'match' } }));
    entry.push(...this.includes(normalized, page));
    return {
      resourceType: 'Bundle',
      type: 'searchset',
      ...(normalized.total === 'none' ? {} : { total: matches.length }),
      ...(entry.length ? { entry } : {}),
    } as Bundle<WithId<T>>;
  }

  private matchAll(request: SearchRequest): Stored[] {
    const { candidates, residual } = this.candidates(request);
    if (residual.length === 0) {
      return [...candidates];
    }
    const rest = { ...request, filters: residual };
    const matches: Stored[] = [];
    for (const resource of candidates) {
      if (matchesSearchRequest(resource, rest)) {
        matches.push(resource);
      }
    }
    return matches;
  }

  /**
   * The records the indexes name for every `_id` and reference filter (the intersection, so those
   * filters are answered exactly), and the filters Medplum's matcher must still decide.
   */
  private candidates(request: SearchRequest): { candidates: Iterable<Stored>; residual: Filter[] } {
    const byId = this.store.get(request.resourceType);
    const filters = request.filters ?? [];
    if (!byId) {
      return { candidates: [], residual: [] };
    }
    let selected: Set<string> | undefined;
    const residual: Filter[] = [];
    for (const filter of filters) {
      const ids = this.idsFor(request.resourceType, filter);
      if (!ids) {
        residual.push(filter);
      } else if (!selected) {
        selected = ids;
      } else {
        const narrowed = new Set<string>();
        for (const id of ids.size < selected.size ? ids : selected) {
          if ((ids.size < selected.size ? selected : ids).has(id)) {
            narrowed.add(id);
          }
        }
        selected = narrowed;
      }
    }
    if (!selected) {
      return { candidates: byId.values(), residual };
    }
    const ordered: Stored[] = [];
    for (const id of selected) {
      const resource = byId.get(id);
      if (resource) {
        ordered.push(resource);
      }
    }
    return { candidates: ordered, residual };
  }

  private idsFor(resourceType: string, filter: Filter): Set<string> | undefined {
    if (filter.operator !== Operator.EQUALS) {
      return undefined;
    }
    if (filter.code === '_id') {
      return new Set(splitSearchOnComma(filter.value));
    }
    if (searchParameter(resourceType, filter.code)?.type !== 'reference') {
      return undefined;
    }
    const index = this.references.get(resourceType);
    const ids = new Set<string>();
    for (const reference of splitSearchOnComma(filter.value)) {
      for (const id of index?.get(reference) ?? []) {
        ids.add(id);
      }
    }
    return ids;
  }

  private includes(request: SearchRequest, page: Stored[]): BundleEntry[] {
    const seen = new Set(page.map(referenceOf));
    const included: BundleEntry[] = [];
    const add = (resource: Stored): void => {
      if (!seen.has(referenceOf(resource))) {
        seen.add(referenceOf(resource));
        included.push({ resource: deepClone(resource), search: { mode: 'include' } });
      }
    };
    for (const target of request.include ?? []) {
      for (const resource of this.forwardIncludes(request.resourceType, target, page)) {
        add(resource);
      }
    }
    const pageReferences = page.map(referenceOf).join(',');
    for (const target of request.revInclude ?? []) {
      if (page.length > 0) {
        const filter: Filter = { code: target.searchParam, operator: Operator.EQUALS, value: pageReferences };
        const reverse = { resourceType: target.resourceType, filters: [filter] } as SearchRequest;
        this.matchAll(normalizeReferenceFilters(reverse)).forEach(add);
      }
    }
    return included;
  }

  private forwardIncludes(resourceType: string, target: IncludeTarget, page: Stored[]): Stored[] {
    const param = searchParameter(resourceType, target.searchParam);
    if (target.resourceType !== resourceType || param?.type !== 'reference' || !param.expression) {
      return [];
    }
    const found: Stored[] = [];
    for (const resource of page) {
      for (const reference of collectReferences(evalFhirPath(param.expression, resource))) {
        const [type, id] = reference.split('/');
        const hit = type && id ? this.store.get(type)?.get(id) : undefined;
        if (hit && (!target.targetType || target.targetType === type)) {
          found.push(hit);
        }
      }
    }
    return found;
  }

  private index(resource: Stored): void {
    let byId = this.store.get(resource.resourceType);
    if (!byId) {
      byId = new Map();
      this.store.set(resource.resourceType, byId);
    }
    byId.set(resource.id, resource);
    let index = this.references.get(resource.resourceType);
    if (!index) {
      index = new Map();
      this.references.set(resource.resourceType, index);
    }
    for (const reference of collectReferences(resource)) {
      let ids = index.get(reference);
      if (!ids) {
        ids = new Set();
        index.set(reference, ids);
      }
      ids.add(resource.id);
    }
  }

  private unindex(resourceType: string, id: string): void {
    const old = this.store.get(resourceType)?.get(id);
    if (!old) {
      return;
    }
    this.store.get(resourceType)?.delete(id);
    const index = this.references.get(resourceType);
    for (const reference of collectReferences(old)) {
      index?.get(reference)?.delete(id);
    }
  }
}

/** Like Medplum's server (and unlike its MemoryRepository, which silently matches nothing). */
function rejectUnknownParameters(request: SearchRequest): void {
  for (const filter of request.filters ?? []) {
    if (!searchParameter(request.resourceType, filter.code)) {
      throw new OperationOutcomeError(badRequest(`Unknown search parameter: ${filter.code}`));
    }
  }
}

function searchParameter(resourceType: string, code: string): SearchParameter | undefined {
  return getSearchParameters(resourceType)?.[code];
}

function referenceOf(resource: Stored): string {
  return `${resource.resourceType}/${resource.id}`;
}

/** Every `reference` string anywhere inside a value (a resource, or FHIRPath results). */
export function collectReferences(value: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) {
      collectReferences(item, into);
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'reference' && typeof child === 'string') {
        into.add(child);
      } else if (typeof child === 'object') {
        collectReferences(child, into);
      }
    }
  }
  return into;
}

/**
 * Lets reference parameters take a bare id, as FHIR allows when the parameter has one target type
 * (`patient=123` means `Patient/123`). With several targets the id is tried against each.
 */
export function normalizeReferenceFilters<T extends Resource>(request: SearchRequest<T>): SearchRequest<T> {
  if (!request.filters?.length) {
    return request;
  }
  const filters = request.filters.map((filter) => {
    const param = searchParameter(request.resourceType, filter.code);
    if (param?.type !== 'reference' || filter.operator !== Operator.EQUALS) {
      return filter;
    }
    const targets = param.target ?? [];
    const values = splitSearchOnComma(filter.value).flatMap((value) =>
      value.includes('/') || targets.length === 0 ? [value] : targets.map((target) => `${target}/${value}`),
    );
    return { ...filter, value: values.join(',') };
  });
  return { ...request, filters };
}

function sortResources(resources: Stored[], rules: SortRule[] | undefined): void {
  if (!rules?.length || resources.length < 2) {
    return;
  }
  const keyed = resources.map((resource) => ({ resource, keys: rules.map((rule) => sortKey(resource, rule.code)) }));
  keyed.sort((a, b) => {
    for (let i = 0; i < rules.length; i++) {
      const order = compareKeys(a.keys[i], b.keys[i]);
      if (order !== 0) {
        return rules[i]?.descending ? -order : order;
      }
    }
    return 0;
  });
  keyed.forEach((item, i) => {
    resources[i] = item.resource;
  });
}

function compareKeys(a: string | undefined, b: string | undefined): number {
  if (a === b) {
    return 0;
  }
  if (a === undefined) {
    return 1;
  }
  if (b === undefined) {
    return -1;
  }
  return a < b ? -1 : 1;
}

function sortKey(resource: Stored, code: string): string | undefined {
  if (code === '_id') {
    return resource.id;
  }
  if (code === '_lastUpdated') {
    return resource.meta?.lastUpdated;
  }
  const expression = parsedExpression(resource.resourceType, code);
  const first = expression ? evalFhirPath(expression, resource)[0] : undefined;
  return scalarKey(first);
}

const parsedExpressions = new Map<string, FhirPathAtom | undefined>();

/** A search parameter's FHIRPath, parsed once (Medplum parses a string expression on every call). */
function parsedExpression(resourceType: string, code: string): FhirPathAtom | undefined {
  const key = `${resourceType}.${code}`;
  if (!parsedExpressions.has(key)) {
    const expression = searchParameter(resourceType, code)?.expression;
    parsedExpressions.set(key, expression ? parseFhirPath(expression) : undefined);
  }
  return parsedExpressions.get(key);
}

function scalarKey(value: unknown): string | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'object') {
    return String(value).toLowerCase();
  }
  const record = value as Record<string, unknown>;
  if (typeof record.start === 'string') {
    return record.start;
  }
  if (typeof record.family === 'string' || Array.isArray(record.given)) {
    return [record.family, ...((record.given as unknown[]) ?? [])].join(' ').toLowerCase();
  }
  const coding = Array.isArray(record.coding) ? (record.coding[0] as Record<string, unknown> | undefined) : undefined;
  if (coding && typeof coding.code === 'string') {
    return coding.code;
  }
  return JSON.stringify(value);
}
