/** The unified patient's links and provenance, `matchPatient`, and the manual link mutations. */
import type { SourceRecord } from '../connectors/types';
import type { GatewayContext } from '../src/context';
import type { CollapsedRecord } from '../src/data/collapse';
import { badInput } from '../src/errors';
import type { LinkBasis, MatchGrade, MutationLinkPatientsArgs, PatientMatchInput, PatientResolvers, Resolvers } from '../src/generated/graphql';
import type { RecordKey } from '../src/identity';
import { encodeId, encodePersonId, tryDecodeId, tryDecodePersonId } from '../src/ids';
import { isUnified, unifyPerson, unifyRecord, type LinkModel, type UnifiedPatient } from '../src/unified/patient';
import { reads } from '../src/graphql/reads';

const upper = <T extends string>(value: string): T => value.toUpperCase().replace(/-/g, '_') as T;

/** Every source record a node was assembled from: a unified patient's records, or a fact and its duplicates. */
export function sourcesOf(p: SourceRecord): SourceRecord[] {
  if (isUnified(p)) return p.person.members;
  return [p, ...((p as CollapsedRecord).sameAs ?? [])];
}

/** The person's records a patient's lists span: a unified patient's visible records, else the index's, else the record. */
export function membersOf(p: SourceRecord, ctx: GatewayContext): RecordKey[] {
  if (isUnified(p)) return p.person.members.map((m) => ({ source: m.source, recordId: m.id }));
  if (ctx.identity && p.type === 'Patient') return ctx.identity.membersOf(p.source, p.id);
  return [{ source: p.source, recordId: p.id }];
}

function linksOf(p: SourceRecord, ctx: GatewayContext): LinkModel[] {
  if (isUnified(p)) return p.person.links;
  const person = ctx.identity?.personOf(p.source, p.id);
  if (!ctx.identity || !person) return [{ source: p.source, recordId: p.id, grade: 'certain', basis: 'self' }];
  return ctx.identity.recordsOf(person);
}

/** `Patient/$match` input as a FHIR Patient. */
function matchResource(input: PatientMatchInput): Record<string, unknown> {
  const telecom = [
    ...(input.phone ? [{ system: 'phone', value: input.phone }] : []),
    ...(input.email ? [{ system: 'email', value: input.email }] : []),
  ];
  return {
    resourceType: 'Patient',
    ...(input.family || input.given ? { name: [{ ...(input.family ? { family: input.family } : {}), given: input.given ?? [] }] } : {}),
    ...(input.birthDate ? { birthDate: input.birthDate } : {}),
    ...(input.gender ? { gender: input.gender.toLowerCase() } : {}),
    ...(input.identifier
      ? { identifier: input.identifier.map((i) => ({ ...(i.system ? { system: i.system } : {}), value: i.value })) }
      : {}),
    ...(input.address
      ? {
          address: [
            { line: input.address.line ?? [], city: input.address.city, state: input.address.state, postalCode: input.address.postalCode },
          ],
        }
      : {}),
    ...(telecom.length > 0 ? { telecom } : {}),
  };
}

/** A patient argument of the mutations: a source record (visible to the caller) or every record of a unified patient. */
async function recordsNamed(ctx: GatewayContext, id: string, argument: string): Promise<RecordKey[]> {
  const identity = ctx.manageIdentity();
  const person = tryDecodePersonId(id);
  if (person) {
    const patient = await unifyPerson(ctx, person);
    if (!patient) throw badInput(`"${argument}" names no patient`, { argument });
    return patient.person.members.map((m) => ({ source: m.source, recordId: m.id }));
  }
  const decoded = tryDecodeId(id);
  const record =
    decoded?.type === 'Patient' && ctx.data.registry.get(decoded.source) ? await ctx.data.get(decoded.source, 'Patient', decoded.id) : null;
  if (!record) throw badInput(`"${argument}" names no patient`, { argument });
  await identity.observe([record]);
  return [{ source: record.source, recordId: record.id }];
}

function actor(ctx: GatewayContext): string {
  return ctx.principal.subject ?? ctx.principal.clientId ?? 'development';
}

async function unifiedAfter(ctx: GatewayContext, key: RecordKey): Promise<UnifiedPatient | null> {
  const person = ctx.identity?.personOf(key.source, key.recordId);
  return person ? unifyPerson(ctx, person) : null;
}

async function decisionArgs(
  ctx: GatewayContext,
  args: MutationLinkPatientsArgs,
): Promise<{ a: RecordKey[]; b: RecordKey[]; reason: string }> {
  const reason = (args.reason ?? '').trim();
  if (reason.length > 500) throw badInput('"reason" must be at most 500 characters', { argument: 'reason' });
  const [a, b] = await Promise.all([recordsNamed(ctx, args.a, 'a'), recordsNamed(ctx, args.b, 'b')]);
  return { a, b, reason };
}

const sources = { sources: sourcesOf };

export const identityResolvers: Resolvers = {
  Patient: {
    id: reads<NonNullable<PatientResolvers['id']>>([], (p) => (isUnified(p) ? encodePersonId(p.person.personId) : encodeId(p.source, p.type, p.id))),
    links: (p, _, ctx) => linksOf(p, ctx),
    provenance: (p) => (isUnified(p) ? p.person.provenance : []),
    sources: sourcesOf,
  },
  PatientLink: {
    id: (l) => encodeId(l.source, 'Patient', l.recordId),
    source: (l) => l.source,
    recordId: (l) => l.recordId,
    grade: (l) => upper<MatchGrade>(l.grade),
    score: (l) => l.score ?? null,
    basis: (l) => upper<LinkBasis>(l.basis),
    record: (l, _, ctx) => (ctx.data.registry.get(l.source) ? ctx.data.get(l.source, 'Patient', l.recordId) : null),
  },
  FieldProvenance: {
    field: (p) => p.field,
    source: (p) => p.record,
  },
  MatchCandidate: {
    patient: (c, _, ctx) => (c.personId ? unifyPerson(ctx, c.personId) : null),
    link: (c, _, ctx) => {
      const linked = c.personId
        ? ctx.identity?.recordsOf(c.personId).find((r) => r.source === c.source && r.recordId === c.recordId)
        : undefined;
      return linked ?? { source: c.source, recordId: c.recordId, grade: 'certain', basis: 'self' };
    },
    grade: (c) => upper<MatchGrade>(c.grade),
    score: (c) => c.score,
    explanation: (c) => c.explanation,
  },
  MatchExplanation: {
    fields: (e) => e.fields.map((f) => ({ field: f.field, level: f.level, weight: f.weight })),
    notes: (e) => [...e.notes],
  },
  Query: {
    matchPatient: async (_, { input, count, onlyCertainMatches }, ctx) => {
      if (!ctx.identity) throw badInput('Identity resolution is not configured (no `identity` section)');
      const limit = count ?? 10;
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw badInput('"count" must be between 1 and 100', { argument: 'count' });
      const candidates = ctx.identity.match(matchResource(input), { limit: limit * 2, onlyCertainMatches: onlyCertainMatches ?? false });
      const visible = await Promise.all(
        candidates.map((c) => (ctx.data.registry.get(c.source) ? ctx.data.get(c.source, 'Patient', c.recordId) : null)),
      );
      return candidates.filter((_, i) => visible[i] !== null).slice(0, limit);
    },
  },
  Mutation: {
    linkPatients: async (_, args, ctx) => {
      const identity = ctx.manageIdentity();
      const { a, b, reason } = await decisionArgs(ctx, args);
      await identity.link(a[0]!, b[0]!, actor(ctx), reason);
      return unifiedAfter(ctx, a[0]!);
    },
    unlinkPatients: async (_, args, ctx) => {
      const identity = ctx.manageIdentity();
      const { a, b, reason } = await decisionArgs(ctx, args);
      for (const x of a)
        for (const y of b) if (x.source !== y.source || x.recordId !== y.recordId) await identity.unlink(x, y, actor(ctx), reason);
      const after = await Promise.all([unifiedAfter(ctx, a[0]!), unifiedAfter(ctx, b[0]!)]);
      return after.filter((p): p is UnifiedPatient => p !== null);
    },
  },
  Encounter: sources,
  Condition: sources,
  Observation: sources,
  Procedure: sources,
  Immunization: sources,
  AllergyIntolerance: sources,
  MedicationRequest: sources,
  MedicationStatement: sources,
  MedicationDispense: sources,
  MedicationAdministration: sources,
  DocumentReference: sources,
  Claim: sources,
  ExplanationOfBenefit: sources,
  Coverage: sources,
};

export { unifyRecord };
