/** Building list resolvers: a parent's related records as a Relay connection over one or more types. */
import type { GraphQLResolveInfo } from 'graphql';
import type { Criterion, ResourceType, SourceRecord } from '../connectors/types';
import type { GatewayContext } from '../src/context';
import type { ConnectionModel, Part } from '../src/data/connection';
import { clinicalCriteria, clinicalSort, pageSize, responsePath, selectsField, type ClinicalFilterArgs } from '../src/graphql/arguments';

export interface ListArgs {
  first?: number | null;
  after?: string | null;
  filter?: (ClinicalFilterArgs & { kind?: readonly string[] | null }) | null;
  orderBy?: { field?: string | null; direction?: string | null } | null;
}

type Link = 'patient' | 'encounter';

/** The records of `types` that point at the parent record (its patient or its encounter). */
export function relatedList(types: readonly ResourceType[], link: Link, pickTypes?: (args: ListArgs) => readonly ResourceType[]) {
  return (parent: SourceRecord, args: ListArgs, ctx: GatewayContext, info: GraphQLResolveInfo): Promise<ConnectionModel> => {
    const sort = clinicalSort(args.orderBy);
    const criteria: Criterion[] = [{ param: link, ids: [parent.id] }, ...clinicalCriteria(args.filter)];
    const wanted = pickTypes ? pickTypes(args) : types;
    const parts: Part[] = wanted.map((type) => ({
      key: `${parent.source}:${type}`,
      source: parent.source,
      request: { type, criteria, sort },
    }));
    return ctx.data.connection(parts, { first: pageSize(args.first), after: args.after, sort, wantTotal: selectsField(info, 'totalCount'), path: responsePath(info) });
  };
}
