import { GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { type Criterion, type ResourceType, type SourceRecord } from '../connectors/types';
import type { GatewayContext } from '../src/context';
import type { Part } from '../src/data/connection';
import { badInput } from '../src/errors';
import type { Resolvers, PatientFilter } from '../src/generated/graphql';
import { pageSize, parseRange, parseToken, parseTokens, patientSort, responsePath, selectsField } from '../src/graphql/arguments';
import { collapsedConnection } from '../src/data/collapse';
import { tryDecodeId, tryDecodePersonId } from '../src/ids';
import { isFhirDate } from '../src/model/dates';
import { personCollapse } from '../src/unified/collapses';
import { unifyPerson, unifyRecord } from '../src/unified/patient';
import { listLookahead, projectionOf } from '../src/graphql/lookahead';


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
  const conditions = parseTokens(filter.hasCondition, 'filter.hasCondition');
  if (conditions) criteria.push({ param: 'hasCondition', tokens: conditions });
  if (filter.gender) criteria.push({ param: 'gender', tokens: [{ code: GENDER[filter.gender] ?? filter.gender.toLowerCase() }] });
  return criteria;
}

/** A record by gateway id, or null when the id is unknown, malformed, of a type not accepted, or not visible. */
async function byGatewayId(ctx: GatewayContext, id: string, accepts: (type: ResourceType) => boolean): Promise<SourceRecord | null> {
  const decoded = tryDecodeId(id);
  if (!decoded || !accepts(decoded.type) || !ctx.data.registry.get(decoded.source)) return null;
  return ctx.data.get(decoded.source, decoded.type, decoded.id);
}

/**
 * A patient by id. With identity resolution on, a unified id gives its person, and any source
 * record's id gives the person that record belongs to.
 */
async function patientById(ctx: GatewayContext, id: string): Promise<SourceRecord | null> {
  if (!ctx.identity) return byGatewayId(ctx, id, isPatient);
  const person = tryDecodePersonId(id);
  if (person) return unifyPerson(ctx, person);
  const record = await byGatewayId(ctx, id, isPatient);
  return record && unifyRecord(ctx, record);
}

/** Any node by id; a unified patient id names its person (source record ids still give the record, as Relay expects). */
async function nodeById(ctx: GatewayContext, id: string, schema: GraphQLSchema): Promise<SourceRecord | null> {
  const person = ctx.identity ? tryDecodePersonId(id) : undefined;
  return person ? unifyPerson(ctx, person) : byGatewayId(ctx, id, (type) => hasObjectType(schema, type));
}

const isPatient = (type: ResourceType): boolean => type === 'Patient';

/** Types the gateway reads only internally (Consent, PractitionerRole) have no object type in the graph. */
const hasObjectType = (schema: GraphQLSchema, type: ResourceType): boolean => schema.getType(type) instanceof GraphQLObjectType;

export const queryResolvers: Resolvers = {
  Query: {
    patient: (_, { id }, ctx) => patientById(ctx, id),
    encounter: (_, { id }, ctx) => byGatewayId(ctx, id, (type) => type === 'Encounter'),
    node: (_, { id }, ctx, info) => nodeById(ctx, id, info.schema),
    nodes: (_, { ids }, ctx, info) => {
      if (ids.length > 100) throw badInput('"ids" takes at most 100 ids', { argument: 'ids' });
      return Promise.all(ids.map((id) => nodeById(ctx, id, info.schema)));
    },
    patients: (_, args, ctx, info) => {
      const sort = patientSort(args.orderBy);
      const criteria = patientCriteria(args.filter);
      const ahead = listLookahead(info);
      const include = ahead.references;
      // Without identity resolution each record is shown as it is: only what the nodes read is asked for.
      const projection = ctx.identity ? {} : projectionOf(ahead, 'Patient');
      const parts: Part[] = ctx.data.registry.servingType('Patient').map((c) => ({
        key: `${c.id}:Patient`,
        source: c.id,
        request: { type: 'Patient', criteria, sort, ...(include.length > 0 ? { include } : {}), ...projection },
      }));
      const connectionArgs = { first: pageSize(args.first), after: args.after, sort, wantTotal: selectsField(info, 'totalCount'), path: responsePath(info) };
      if (!ctx.identity) return ctx.data.connection(parts, { ...connectionArgs, positions: ahead.cursors });
      // One Patient per person: filters go to every source; a person shows where its first matching record sorts.
      const identity = ctx.identity;
      return collapsedConnection(ctx.data, parts, connectionArgs, personCollapse(identity)).then(async (connection) => {
        await Promise.all(connection.edges.map(async (edge) => (edge.node = await unifyRecord(ctx, edge.node))));
        return connection;
      });
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
