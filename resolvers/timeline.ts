/** `Patient.timeline` and its events (src/unified/timeline.ts). */
import type { Criterion } from '../connectors/types';
import { collapsedConnection } from '../src/data/collapse';
import type { Part } from '../src/data/connection';
import type { PatientResolvers, Resolvers } from '../src/generated/graphql';
import { pageSize, parseRange, responsePath, selectsField } from '../src/graphql/arguments';
import { encodeId } from '../src/ids';
import { ELEMENTS } from '../src/model/elements';
import { readPath } from '../src/model/fhir-json';
import { factCollapse } from '../src/unified/collapses';
import { rawDateOf } from '../src/unified/duplicates';
import {
  codeConceptOf,
  displayOf,
  instantOf,
  KIND_TYPES,
  kindOf,
  precisionOfRecord,
  summaryOf,
  TIMELINE_KINDS,
  timelineOrder,
} from '../src/unified/timeline';
import { reads } from '../src/graphql/reads';
import { membersOf, sourcesOf } from './identity';

export const timelineResolvers: Resolvers = {
  Patient: {
    // Reads the patient's id and source only (its records' lists are its own).
    timeline: reads<NonNullable<PatientResolvers['timeline']>>([], (p, args, ctx, info) => {
      const kinds = args.kinds && args.kinds.length > 0 ? TIMELINE_KINDS.filter((k) => args.kinds!.includes(k)) : TIMELINE_KINDS;
      const range = parseRange({ from: args.from, to: args.to }, 'timeline');
      const extra: Criterion[] = range ? [{ param: 'date', range }] : [];
      const sort = [{ field: 'date' as const, direction: 'asc' as const }];
      const members = membersOf(p, ctx);
      const parts: Part[] = kinds.flatMap((kind) =>
        KIND_TYPES[kind].flatMap((type) =>
          members
            .filter((m) => ctx.data.registry.get(m.source)?.capabilities().types[type] !== undefined)
            .map((m) => ({
              key: `${m.source}:${type}:${m.recordId}`,
              source: m.source,
              request: { type, criteria: [{ param: 'patient' as const, ids: [m.recordId] }, ...extra], sort },
            })),
        ),
      );
      return collapsedConnection(
        ctx.data,
        parts,
        {
          first: pageSize(args.first),
          after: args.after,
          sort,
          wantTotal: selectsField(info, 'totalCount'),
          path: responsePath(info),
          order: timelineOrder,
        },
        factCollapse(ctx.identity),
      );
    }),
  },
  TimelineEvent: {
    id: (e) => encodeId(e.source, e.type, e.id),
    instant: (e) => instantOf(e) ?? '',
    date: (e) => rawDateOf(e.resource, e.type) ?? '',
    precision: (e) => (precisionOfRecord(e) ?? 'DAY') as never,
    kind: (e) => kindOf(e.type) ?? 'DOCUMENT',
    code: (e) => codeConceptOf(e) as never,
    display: (e) => displayOf(e),
    summary: (e) => summaryOf(e),
    encounter: (e, _, ctx) => {
      const path = ELEMENTS[e.type].encounter?.[0];
      return path && e.type !== 'Encounter' ? ctx.data.resolve(e.source, readPath(e.resource, path), ['Encounter']) : null;
    },
    source: (e) => e,
    sources: sourcesOf,
    resource: (e) => e,
  },
};
