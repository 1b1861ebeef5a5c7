/**
 * SMART App Launch scopes → read permissions per resource type.
 *
 * - v2: `patient/Observation.rs`, `user/*.rs`, `system/Claim.rs`, granular `patient/Observation.rs?category=system|code`;
 *   read is granted by `r` or `s` (the graph reads by id and searches with the same permission).
 * - v1: `patient/Observation.read`, `user/*.*`; `.write` grants nothing here.
 * - `patient/` scopes only count when the token carries a `patient` claim (patient context); every
 *   read of such a token is then limited to that patient's compartment, whatever the other scopes say.
 * - Anything else (`openid`, `fhirUser`, `launch/patient`, unknown types, malformed scopes) grants nothing.
 */
import { RESOURCE_TYPES, isResourceType, type ResourceType, type Token } from '../../connectors/types';

export type ScopeContext = 'patient' | 'user' | 'system';

export interface ParsedScope {
  context: ScopeContext;
  /** A resource type, or every type the graph serves. */
  types: readonly ResourceType[];
  read: boolean;
  /** Granular scope: only records in one of these categories. Undefined: every record of the type. */
  categories?: Token[];
}

/** What a set of scopes lets the caller read, per resource type. */
export interface TypeGrant {
  /** Undefined: every record of the type; otherwise only records in one of these categories. */
  categories?: Token[];
}

export type Grants = ReadonlyMap<ResourceType, TypeGrant>;

/** Types a `*` scope covers: what the graph serves (Consent is read only inside the gateway). */
export const SCOPE_TYPES: readonly ResourceType[] = RESOURCE_TYPES.filter((t) => t !== 'Consent');

const SCOPE_RE = /^(patient|user|system)\/([A-Za-z]+|\*)\.([a-z*]+)(?:\?(.*))?$/;
const V2_RE = /^c?r?u?d?s?$/;

function parseToken(text: string): Token | undefined {
  if (text.length === 0) return undefined;
  const bar = text.indexOf('|');
  if (bar < 0) return { code: text };
  const system = text.slice(0, bar);
  const code = text.slice(bar + 1);
  if (code.length === 0) return undefined;
  return system.length > 0 ? { system, code } : { code };
}

/** Parses one scope string; undefined when it is not a resource scope this gateway understands. */
export function parseScope(scope: string): ParsedScope | undefined {
  const match = SCOPE_RE.exec(scope);
  if (!match) return undefined;
  const [, context, typeName, permission, query] = match as unknown as [string, ScopeContext, string, string, string | undefined];
  let types: readonly ResourceType[];
  if (typeName === '*') types = SCOPE_TYPES;
  else if (isResourceType(typeName) && SCOPE_TYPES.includes(typeName)) types = [typeName];
  else return undefined;
  let read: boolean;
  if (permission === 'read' || permission === '*') read = true;
  else if (permission === 'write') read = false;
  else if (V2_RE.test(permission) && permission.length > 0) read = permission.includes('r') || permission.includes('s');
  else return undefined;
  let categories: Token[] | undefined;
  if (query !== undefined) {
    const params = new URLSearchParams(query);
    const keys = [...new Set(params.keys())];
    // Only `category` is understood; a scope narrowed by anything else is not honoured at all (fail closed).
    if (keys.length !== 1 || keys[0] !== 'category') return undefined;
    const tokens = params.getAll('category').flatMap((v) => v.split(',')).map(parseToken);
    if (tokens.some((t) => t === undefined)) return undefined;
    categories = tokens as Token[];
  }
  return { context, types, read, categories };
}

export function splitScopes(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  return value.split(/\s+/).filter((s) => s.length > 0);
}

const tokenKey = (t: Token): string => `${t.system ?? ''}|${t.code}`;

function addGrant(grants: Map<ResourceType, TypeGrant>, type: ResourceType, categories: Token[] | undefined): void {
  const current = grants.get(type);
  if (!current) {
    grants.set(type, categories ? { categories: [...categories] } : {});
    return;
  }
  if (!current.categories) return;
  if (!categories) {
    grants.set(type, {});
    return;
  }
  const seen = new Set(current.categories.map(tokenKey));
  grants.set(type, { categories: [...current.categories, ...categories.filter((c) => !seen.has(tokenKey(c)))] });
}

/**
 * Read grants of a list of scopes. `patientContext` says whether the token carries a patient:
 * without one, `patient/` scopes grant nothing.
 */
export function grantsOf(scopes: readonly string[], patientContext: boolean): Map<ResourceType, TypeGrant> {
  const grants = new Map<ResourceType, TypeGrant>();
  for (const scope of scopes) {
    const parsed = parseScope(scope);
    if (!parsed || !parsed.read) continue;
    if (parsed.context === 'patient' && !patientContext) continue;
    for (const type of parsed.types) addGrant(grants, type, parsed.categories);
  }
  return grants;
}

/** What both grant: a token never gets more than its client is registered for. */
export function intersectGrants(a: Grants, b: Grants): Map<ResourceType, TypeGrant> {
  const out = new Map<ResourceType, TypeGrant>();
  for (const [type, ga] of a) {
    const gb = b.get(type);
    if (!gb) continue;
    if (!ga.categories) out.set(type, gb.categories ? { categories: [...gb.categories] } : {});
    else if (!gb.categories) out.set(type, { categories: [...ga.categories] });
    else {
      const keys = new Set(gb.categories.map(tokenKey));
      const both = ga.categories.filter((c) => keys.has(tokenKey(c)));
      if (both.length > 0) out.set(type, { categories: both });
    }
  }
  return out;
}

/** Grants for every type (development mode, no authentication). */
export function allGrants(): Map<ResourceType, TypeGrant> {
  return new Map(SCOPE_TYPES.map((t) => [t, {}]));
}
