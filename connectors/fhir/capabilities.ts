/** Learning what a FHIR server can search from its CapabilityStatement. */
import { RESOURCE_TYPES, type ResourceType, type SearchParam, type SortField, type SourceCapabilities, type TypeCapabilities } from '../types';
import { FHIR_PARAMS, SORT_FIELDS, sortParamName } from './search-params';

interface CapabilityResource {
  type?: unknown;
  searchParam?: unknown;
  searchInclude?: unknown;
}

/** Whether a list of CapabilityStatement `searchParam` entries names `name`. */
function listsParam(searchParams: unknown, name: string): boolean {
  return Array.isArray(searchParams) && searchParams.some((p) => (p as { name?: unknown })?.name === name);
}

/** Each resource entry of a CapabilityStatement's REST modes whose type the gateway knows, with its mode. */
function* resourceEntries(statement: unknown): Generator<{ mode: { searchParam?: unknown }; entry: CapabilityResource; type: ResourceType }> {
  const rest = (statement as { rest?: unknown })?.rest;
  if (!Array.isArray(rest)) return;
  for (const mode of rest) {
    const resources = (mode as { resource?: unknown })?.resource;
    if (!Array.isArray(resources)) continue;
    for (const entry of resources as CapabilityResource[]) {
      const type = entry?.type;
      if (typeof type === 'string' && (RESOURCE_TYPES as readonly string[]).includes(type)) yield { mode: mode as { searchParam?: unknown }, entry, type: type as ResourceType };
    }
  }
}

/**
 * Resource types and search parameter names a CapabilityStatement lists for its server REST mode.
 * `_has` (reverse chaining) counts for every type when the REST mode lists it for all types.
 */
export function readCapabilityStatement(statement: unknown): Map<ResourceType, Set<string>> {
  const listed = new Map<ResourceType, Set<string>>();
  for (const { mode, entry, type } of resourceEntries(statement)) {
    const names = new Set<string>(['_id', '_lastUpdated']);
    if (Array.isArray(entry.searchParam)) {
      for (const p of entry.searchParam) {
        const name = (p as { name?: unknown })?.name;
        if (typeof name === 'string') names.add(name);
      }
    }
    if (listsParam(mode.searchParam, '_has')) names.add('_has');
    listed.set(type, names);
  }
  return listed;
}

/** `service-provider` → `serviceProvider`: the element a same-named search parameter reads. */
const elementOfParam = (param: string): string => param.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/**
 * The `_include` targets a CapabilityStatement lists (`searchInclude`, e.g. `Claim:provider`), per
 * type, as element name → search parameter. Only parameters named after their element are kept
 * (`provider` → Claim.provider, `service-provider` → Encounter.serviceProvider): those are the
 * references the schema's fields follow.
 */
export function readSearchIncludes(statement: unknown): Map<ResourceType, Map<string, string>> {
  const includes = new Map<ResourceType, Map<string, string>>();
  for (const { entry, type } of resourceEntries(statement)) {
    if (!Array.isArray(entry.searchInclude)) continue;
    const map = new Map<string, string>();
    for (const value of entry.searchInclude) {
      if (typeof value !== 'string') continue;
      const [owner, param, target] = value.split(':');
      if (owner !== type || !param || target !== undefined || !/^[a-z][a-z-]*$/.test(param)) continue;
      map.set(elementOfParam(param), param);
    }
    if (map.size > 0) includes.set(type, map);
  }
  return includes;
}

/**
 * The gateway capabilities a server has: a criterion or sort pushes down when the server lists
 * the FHIR parameter it maps to. A server that lists a type with no search parameters at all is
 * assumed to support the standard ones (many servers omit them). Reverse chaining (`_has:…`) is
 * never assumed: it pushes down only when the server lists `_has`.
 */
export function capabilitiesFrom(listed: Map<ResourceType, Set<string>>): SourceCapabilities {
  const types: Partial<Record<ResourceType, TypeCapabilities>> = {};
  for (const [type, names] of listed) {
    const standard = names.size - (names.has('_has') ? 1 : 0) <= 2;
    const supports = (name: string | undefined): boolean =>
      name !== undefined && (name.startsWith('_has:') ? names.has('_has') : standard || names.has(name));
    const params = new Set<SearchParam>();
    for (const [param, name] of Object.entries(FHIR_PARAMS[type]) as [SearchParam, string | undefined][]) {
      if (supports(name)) params.add(param);
    }
    const sorts = new Set<SortField>(SORT_FIELDS.filter((field) => supports(sortParamName(type, field))));
    types[type] = { params, sorts, multiValueRefs: true };
  }
  return { types };
}

/** What to assume when a server gives no usable CapabilityStatement: every type, standard parameters. */
export function defaultCapabilities(): SourceCapabilities {
  return capabilitiesFrom(new Map(RESOURCE_TYPES.map((t) => [t, new Set(['_id', '_lastUpdated'])])));
}
