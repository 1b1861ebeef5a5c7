import type { ResourceType, SourceRecord } from '../connectors/types';
import type { GatewayContext } from '../src/context';
import type { Resolvers } from '../src/generated/graphql';
import { dateOf } from '../src/model/evaluate';
import { readPath } from '../src/model/fhir-json';
import { ELEMENTS, MEDICATION_TYPES, topElements } from '../src/model/elements';
import { reads } from '../src/graphql/reads';

const KIND: Partial<Record<ResourceType, 'REQUEST' | 'STATEMENT' | 'DISPENSE' | 'ADMINISTRATION'>> = {
  MedicationRequest: 'REQUEST',
  MedicationStatement: 'STATEMENT',
  MedicationDispense: 'DISPENSE',
  MedicationAdministration: 'ADMINISTRATION',
};

/** The first FHIR date element the type uses for "when", as the source wrote it. */
const DATE_ELEMENTS: Partial<Record<ResourceType, string[]>> = {
  MedicationRequest: ['authoredOn'],
  MedicationStatement: ['effectiveDateTime', 'effectivePeriod.start', 'dateAsserted'],
  MedicationDispense: ['whenHandedOver', 'whenPrepared'],
  MedicationAdministration: ['effectiveDateTime', 'effectivePeriod.start'],
};

const shared = {
  kind: reads([], (p: SourceRecord) => KIND[p.type] ?? 'REQUEST'),
  date: reads(topElements([...Object.values(DATE_ELEMENTS).flat(), ...MEDICATION_TYPES.flatMap((t) => ELEMENTS[t].date ?? [])]), (p: SourceRecord) => {
    if (!dateOf(p.resource, p.type)) return null;
    for (const path of DATE_ELEMENTS[p.type] ?? []) {
      const value = readPath(p.resource, path);
      if (typeof value === 'string') return value;
    }
    return null;
  }),
  /** R4 calls the encounter `encounter` on requests and `context` on the other three. */
  encounter: reads(['encounter', 'context'], (p: SourceRecord, _: unknown, ctx: GatewayContext) =>
    ctx.data.resolve(p.source, p.resource.encounter ?? p.resource.context, ['Encounter'])),
};

export const medicationResolvers: Resolvers = {
  MedicationRecord: {
    __resolveType: (p) => p.type as 'MedicationRequest' | 'MedicationStatement' | 'MedicationDispense' | 'MedicationAdministration',
  },
  MedicationRequest: shared,
  MedicationStatement: shared,
  MedicationDispense: shared,
  MedicationAdministration: shared,
};
