import { RESOURCE_TYPES, type Criterion, type ResourceType, type SourceRecord } from '../connectors/types';
import type { GatewayContext } from '../src/context';
import type { Part } from '../src/data/connection';
import { badInput } from '../src/errors';
import type { Resolvers, PatientFilter } from '../src/generated/graphql';
import { pageSize, parseRange, parseToken, patientSort, responsePath, selectsField } from '../src/graphql/arguments';
import { tryDecodeId } from '../src/ids';
import { isFhirDate } from '../src/model/dates';

/** Resource types the graph serves; others (Consent) are read only inside the gateway. */
const GRAPH_TYPES = new Set<ResourceType>(RESOURCE_TYPES.filter((t) => t !== 'Consent'));

const GENDER: Record<string, string> = { MALE: 'male', FEMALE: 'female', OTHER: 'other', UNKNOWN: 'unknown' };

function text(value: string | null | undefined, argument: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > 200) throw badInput(`"${argument}" must be 1–200 characters`, { argument });
  return trimmed;
}

export function patientCriteria(filter: PatientFilter | null | undefined): Criterion[] {
  if (!filter) return [];
  const criteria: Criterion[] = [];
  if (filter.identifier) criteria.push({ param: 'identifier', tokens: [parseToken(filter.identifier, 'filter.identifier')] });
  for (const param of ['name', 'family', 'given'] as const) {
    const value = text(filter[param], `filter.${param}`);
    if (value) criteria.push({ param, text: value });
  }
  if (filter.birthDate) {
    if (!isFhirDate(filter.birthDate) || filter.birthDate.length > 10) {
      throw badInput('"filter.birthDate" must be a date like 1970, 1970-04 or 1970-04-12', { argument: 'filter.birthDate' });
    }
    criteria.push({ param: 'birthdate', range: { from: filter.birthDate, to: filter.birthDate } });
  }
  const born = parseRange(filter.born, 'filter.born');
  if (born) criteria.push({ param: 'birthdate', range: born });
  if (filter.gender) criteria.push({ param: 'gender', tokens: [{ code: GENDER[filter.gender] ?? filter.gender.toLowerCase() }] });
  return criteria;
}

/** A record by gateway id, or null when the id is unknown, malformed, of another type, or not visible. */
async function byGatewayId(ctx: GatewayContext, id: string, types?: readonly ResourceType[]): Promise<SourceRecord | null> {
  const decoded = tryDecodeId(id);
  if (!decoded || !GRAPH_TYPES.has(decoded.type) || (types && !types.includes(decoded.type)) || !ctx.data.registry.get(decoded.source)) return null;
  return ctx.data.get(decoded.source, decoded.type, decoded.id);
}

export const queryResolvers: Resolvers = {
  Query: {
    patient: (_, { id }, ctx) => byGatewayId(ctx, id, ['Patient']),
    encounter: (_, { id }, ctx) => byGatewayId(ctx, id, ['Encounter']),
    node: (_, { id }, ctx) => byGatewayId(ctx, id),
    nodes: (_, { ids }, ctx) => {
      if (ids.length > 100) throw badInput('"ids" takes at most 100 ids', { argument: 'ids' });
      return Promise.all(ids.map((id) => byGatewayId(ctx, id)));
    },
    patients: (_, args, ctx, info) => {
      const sort = patientSort(args.orderBy);
      const criteria = patientCriteria(args.filter);
      const parts: Part[] = ctx.data.registry.servingType('Patient').map((c) => ({
        key: `${c.id}:Patient`,
        source: c.id,
        request: { type: 'Patient', criteria, sort },
      }));
      return ctx.data.connection(parts, { first: pageSize(args.first), after: args.after, sort, wantTotal: selectsField(info, 'totalCount'), path: responsePath(info) });
    },
    sources: (_, __, ctx) => ctx.data.registry.statuses(),
  },
  Node: { __resolveType: (p) => p.type as never },
  Resource: { __resolveType: (p) => p.type as never },
  SourceRef: {
    id: (p) => p.source,
    kind: (p, _, ctx) => ctx.data.registry.get(p.source)?.kind ?? 'unknown',
    recordId: (p) => p.id,
    lastUpdated: (p) => p.lastUpdated ?? null,
  },
  Source: {
    status: (p) => p.state.toUpperCase() as 'UP' | 'DOWN' | 'DEGRADED',
    latencyMs: (p) => p.latencyMs ?? null,
    message: (p) => p.message ?? null,
    types: (p) => p.types,
  },
};
