import { badInput } from '../src/errors';
import type { Resolvers } from '../src/generated/graphql';

/** The audit trail through the graph; who may read it is decided in src/server/security.ts. */
export const auditResolvers: Resolvers = {
  Query: {
    auditEvents: (_, { filter, first, before }, ctx) => {
      const limit = first ?? 50;
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw badInput('"first" must be between 1 and 500', { argument: 'first' });
      return ctx.readAudit({
        limit,
        before: before ?? undefined,
        clientId: filter?.clientId ?? undefined,
        subject: filter?.subject ?? undefined,
        patient: filter?.patient ?? undefined,
        since: filter?.since ?? undefined,
        until: filter?.until ?? undefined,
        outcome: filter?.outcome ?? undefined,
        breakTheGlass: filter?.breakTheGlass ?? undefined,
      });
    },
  },
  AuditEvent: {
    seq: (e) => e.seq,
    time: (e) => e.time,
    hash: (e) => e.hash,
    requestId: (e) => e.event.requestId,
    outcome: (e) => e.event.outcome,
    status: (e) => e.event.status,
    clientId: (e) => e.event.clientId ?? null,
    subject: (e) => e.event.subject ?? null,
    purpose: (e) => e.event.purpose ?? null,
    breakTheGlass: (e) => e.event.breakTheGlass,
    scopes: (e) => e.event.scopes,
    operation: (e) => e.event.operation ?? null,
    patients: (e) => e.event.patients,
    disclosed: (e) => e.event.disclosed,
    decisions: (e) => e.event.decisions,
    consents: (e) => e.event.consents,
  },
};
