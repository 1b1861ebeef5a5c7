/**
 * Where the gateway's abstract search parameters live in each FHIR resource type. This table is
 * how the core evaluates filters and sorts in memory (post-filtering, merging sources), and the
 * reference other source kinds map onto. Each list is tried in order; the first present wins
 * for dates, all values count for codes and references.
 */
import type { ResourceType } from '../../connectors/types';

export interface TypeElements {
  /** Reference elements that point at the patient. */
  patient?: string[];
  /** Reference elements that point at the encounter. */
  encounter?: string[];
  /** Elements holding the clinically relevant date (for `date` filters and sorting). */
  date?: string[];
  /** CodeableConcept / Coding elements matched by `code`. */
  code?: string[];
  /** CodeableConcept / Coding elements matched by `category`. */
  category?: string[];
  /** Element matched by `status`: a code, or a CodeableConcept. */
  status?: string;
}

export const ELEMENTS: Record<ResourceType, TypeElements> = {
  Patient: { date: ['birthDate'] },
  Encounter: {
    patient: ['subject'],
    date: ['period.start', 'period.end'],
    code: ['type', 'class'],
    category: ['class'],
    status: 'status',
  },
  Condition: {
    patient: ['subject'],
    encounter: ['encounter'],
    date: ['onsetDateTime', 'onsetPeriod.start', 'recordedDate'],
    code: ['code'],
    category: ['category'],
    status: 'clinicalStatus',
  },
  Observation: {
    patient: ['subject'],
    encounter: ['encounter'],
    date: ['effectiveDateTime', 'effectivePeriod.start', 'effectiveInstant', 'issued'],
    code: ['code'],
    category: ['category'],
    status: 'status',
  },
  MedicationRequest: {
    patient: ['subject'],
    encounter: ['encounter'],
    date: ['authoredOn'],
    code: ['medicationCodeableConcept'],
    category: ['category'],
    status: 'status',
  },
  MedicationStatement: {
    patient: ['subject'],
    encounter: ['context'],
    date: ['effectiveDateTime', 'effectivePeriod.start', 'dateAsserted'],
    code: ['medicationCodeableConcept'],
    category: ['category'],
    status: 'status',
  },
  MedicationDispense: {
    patient: ['subject'],
    encounter: ['context'],
    date: ['whenHandedOver', 'whenPrepared'],
    code: ['medicationCodeableConcept'],
    category: ['category'],
    status: 'status',
  },
  MedicationAdministration: {
    patient: ['subject'],
    encounter: ['context'],
    date: ['effectiveDateTime', 'effectivePeriod.start'],
    code: ['medicationCodeableConcept'],
    category: ['category'],
    status: 'status',
  },
  Medication: { code: ['code'], status: 'status' },
  Claim: {
    patient: ['patient'],
    encounter: ['item.encounter'],
    date: ['created', 'billablePeriod.start'],
    code: ['type'],
    category: ['type'],
    status: 'status',
  },
  ExplanationOfBenefit: {
    patient: ['patient'],
    encounter: ['item.encounter'],
    date: ['created', 'billablePeriod.start'],
    code: ['type'],
    category: ['type'],
    status: 'status',
  },
  Coverage: { patient: ['beneficiary'], date: ['period.start'], code: ['type'], category: ['type'], status: 'status' },
  Procedure: {
    patient: ['subject'],
    encounter: ['encounter'],
    date: ['performedDateTime', 'performedPeriod.start'],
    code: ['code'],
    category: ['category'],
    status: 'status',
  },
  Immunization: {
    patient: ['patient'],
    encounter: ['encounter'],
    date: ['occurrenceDateTime', 'recorded'],
    code: ['vaccineCode'],
    status: 'status',
  },
  AllergyIntolerance: {
    patient: ['patient'],
    encounter: ['encounter'],
    date: ['recordedDate', 'onsetDateTime'],
    code: ['code'],
    category: ['category'],
    status: 'clinicalStatus',
  },
  DocumentReference: {
    patient: ['subject'],
    encounter: ['context.encounter'],
    date: ['date', 'context.period.start'],
    code: ['type'],
    category: ['category'],
    status: 'status',
  },
  Practitioner: {},
  PractitionerRole: {},
  Organization: {},
  Location: {},
  /** Read by the consent service (src/consent), never served through the graph. */
  Consent: { patient: ['patient'], date: ['dateTime'], category: ['category'], status: 'status' },
};

/** The medication resource types, in the order the `medications` connection merges them. */
export const MEDICATION_TYPES = [
  'MedicationRequest',
  'MedicationStatement',
  'MedicationDispense',
  'MedicationAdministration',
] as const satisfies readonly ResourceType[];

/** The top-level elements of element paths (`effectivePeriod.start` → `effectivePeriod`). */
export function topElements(paths: readonly string[]): string[] {
  return [...new Set(paths.map((path) => path.split('.')[0]!))];
}
