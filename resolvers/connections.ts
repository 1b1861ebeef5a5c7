/** Building list resolvers: a parent's related records as a Relay connection over one or more types. */
import type { GraphQLResolveInfo } from 'graphql';
import type { Criterion, ResourceType, SourceRecord } from '../connectors/types';
import type { GatewayContext } from '../src/context';
import { collapsedConnection } from '../src/data/collapse';
import type { ConnectionModel, Part } from '../src/data/connection';
import { factCollapse } from '../src/unified/collapses';
import { membersOf } from './identity';
import { listLookahead, projectionOf } from '../src/graphql/lookahead';
import { reads } from '../src/graphql/reads';
import { clinicalCriteria, clinicalSort, pageSize, responsePath, selectsField, type ClinicalFilterArgs } from '../src/graphql/arguments';

export interface ListArgs {
  first?: number | null;
  after?: string | null;
  filter?: (ClinicalFilterArgs & { kind?: readonly string[] | null }) | null;
  orderBy?: { field?: string | null; direction?: string | null } | null;
}

type Link = 'patient' | 'encounter';

/**
 * The records of `types` that point at the parent record (its patient or its encounter). A patient
 * with identity resolution on is a person: its lists span every linked record in every source
 * (one part per type and record), and a fact held by two sources is shown once (src/unified).
 */
export function relatedList(types: readonly ResourceType[], link: Link, pickTypes?: (args: ListArgs) => readonly ResourceType[]) {
  // Reads only the parent's id and source: a list under a projected node costs it no element.
  return reads([], (parent: SourceRecord, args: ListArgs, ctx: GatewayContext, info: GraphQLResolveInfo): Promise<ConnectionModel> => {
    const sort = clinicalSort(args.orderBy);
    const criteria: Criterion[] = [{ param: link, ids: [parent.id] }, ...clinicalCriteria(args.filter)];
    const wanted = pickTypes ? pickTypes(args) : types;
    const ahead = listLookahead(info);
    const include = ahead.references.length > 0 ? { include: ahead.references } : {};
    // Only what the nodes read is asked for, except where records of several sources are compared (collapsed).
    const request = (type: ResourceType, criteria: Criterion[], project = true): Part['request'] => ({
      type,
      criteria,
      sort,
      ...include,
      ...(project ? projectionOf(ahead, type) : {}),
    });
    const connectionArgs = { first: pageSize(args.first), after: args.after, sort, wantTotal: selectsField(info, 'totalCount'), path: responsePath(info), positions: ahead.cursors };
    const members = link === 'patient' ? membersOf(parent, ctx) : [];
    if (members.length <= 1) {
      const parts: Part[] = wanted.map((type) => ({
        key: `${parent.source}:${type}`,
        source: parent.source,
        request: request(type, criteria),
      }));
      return ctx.data.connection(parts, connectionArgs);
    }
    const filters = clinicalCriteria(args.filter);
    const oneSource = new Set(members.map((m) => m.source)).size === 1;
    const parts: Part[] = wanted.flatMap((type) =>
      members.map((m) => ({ key: `${m.source}:${type}:${m.recordId}`, source: m.source, request: request(type, [{ param: 'patient' as const, ids: [m.recordId] }, ...filters], oneSource) })),
    );
    if (oneSource) return ctx.data.connection(parts, connectionArgs);
    return collapsedConnection(ctx.data, parts, connectionArgs, factCollapse(ctx.identity));
  });
}
