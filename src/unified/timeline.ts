/**
 * The patient timeline: every event of a person — encounters, conditions, medications, procedures,
 * observations, immunizations, allergies, claims, documents — from all linked records in all
 * sources, in one list ordered by instant, then kind, then id.
 *
 * One part per (resource type × linked record); the date range is pushed down to every part as a
 * `date` criterion, each part is read lazily from its cursor offset, and parts are merged and
 * collapsed (same fact in two sources shown once) by src/data/collapse.ts.
 */
import type { ResourceType, SourceRecord } from '../../connectors/types';
import type { CollapsedArgs } from '../data/collapse';
import type { PartRecord } from '../data/collapse';
import { dateOf } from '../model/evaluate';
import { precisionOf } from '../model/dates';
import { isObject } from '../model/fhir-json';
import { codesOf, rawDateOf } from './duplicates';

export const TIMELINE_KINDS = [
  'ENCOUNTER',
  'CONDITION',
  'MEDICATION',
  'PROCEDURE',
  'OBSERVATION',
  'IMMUNIZATION',
  'ALLERGY',
  'CLAIM',
  'DOCUMENT',
] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

export const KIND_TYPES: Record<TimelineKind, readonly ResourceType[]> = {
  ENCOUNTER: ['Encounter'],
  CONDITION: ['Condition'],
  MEDICATION: ['MedicationRequest', 'MedicationStatement', 'MedicationDispense', 'MedicationAdministration'],
  PROCEDURE: ['Procedure'],
  OBSERVATION: ['Observation'],
  IMMUNIZATION: ['Immunization'],
  ALLERGY: ['AllergyIntolerance'],
  CLAIM: ['Claim'],
  DOCUMENT: ['DocumentReference'],
};

const KIND_OF = new Map<ResourceType, TimelineKind>(TIMELINE_KINDS.flatMap((k) => KIND_TYPES[k].map((t) => [t, k] as const)));
const KIND_RANK = new Map<ResourceType, number>([...KIND_OF].map(([t, k]) => [t, TIMELINE_KINDS.indexOf(k)]));

export function kindOf(type: ResourceType): TimelineKind | undefined {
  return KIND_OF.get(type);
}

/** The timeline's order: instant, then kind, then record id, then part (a total order). */
export const timelineOrder: NonNullable<CollapsedArgs['order']> = (a: PartRecord, b: PartRecord) => {
  const ia = dateOf(a.record.resource, a.record.type)?.start ?? Infinity;
  const ib = dateOf(b.record.resource, b.record.type)?.start ?? Infinity;
  if (ia !== ib) return ia < ib ? -1 : 1;
  const ka = KIND_RANK.get(a.record.type) ?? 99;
  const kb = KIND_RANK.get(b.record.type) ?? 99;
  if (ka !== kb) return ka - kb;
  if (a.record.id !== b.record.id) return a.record.id < b.record.id ? -1 : 1;
  return a.part - b.part;
};

export function instantOf(record: SourceRecord): string | null {
  const range = dateOf(record.resource, record.type);
  return range ? new Date(range.start).toISOString() : null;
}

export function precisionOfRecord(record: SourceRecord): string | null {
  const raw = rawDateOf(record.resource, record.type);
  const precision = raw ? precisionOf(raw) : undefined;
  return precision ? precision.toUpperCase() : null;
}

/** The CodeableConcept of the type's code element, as the source wrote it. */
export function codeConceptOf(record: SourceRecord): unknown {
  const r = record.resource;
  const element: Partial<Record<ResourceType, string>> = {
    Encounter: 'type',
    Condition: 'code',
    MedicationRequest: 'medicationCodeableConcept',
    MedicationStatement: 'medicationCodeableConcept',
    MedicationDispense: 'medicationCodeableConcept',
    MedicationAdministration: 'medicationCodeableConcept',
    Procedure: 'code',
    Observation: 'code',
    Immunization: 'vaccineCode',
    AllergyIntolerance: 'code',
    Claim: 'type',
    DocumentReference: 'type',
  };
  const value = r[element[record.type] ?? 'code'];
  return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
}

export function displayOf(record: SourceRecord): string | null {
  const concept = codeConceptOf(record);
  if (isObject(concept)) {
    if (typeof concept.text === 'string' && concept.text.length > 0) return concept.text;
    const coding = Array.isArray(concept.coding) ? concept.coding.find((c) => isObject(c) && typeof c.display === 'string') : undefined;
    if (isObject(coding) && typeof coding.display === 'string') return coding.display;
  }
  const code = codesOf(record.resource, record.type)[0];
  return code ? code.code : null;
}

function quantity(value: unknown): string | undefined {
  if (!isObject(value) || typeof value.value !== 'number') return undefined;
  const unit = typeof value.unit === 'string' ? value.unit : typeof value.code === 'string' ? value.code : '';
  return `${Number(value.value.toPrecision(6))}${unit ? ` ${unit}` : ''}`;
}

const LABEL: Record<TimelineKind, string> = {
  ENCOUNTER: 'Encounter',
  CONDITION: 'Condition',
  MEDICATION: 'Medication',
  PROCEDURE: 'Procedure',
  OBSERVATION: 'Observation',
  IMMUNIZATION: 'Immunization',
  ALLERGY: 'Allergy',
  CLAIM: 'Claim',
  DOCUMENT: 'Document',
};

/** One line: `Observation: Body Height 176.3 cm`, `Claim: institutional 125.00 USD`, `Encounter: General examination (finished)`. */
export function summaryOf(record: SourceRecord): string {
  const kind = kindOf(record.type);
  const r = record.resource;
  const head = `${kind ? LABEL[kind] : record.type}: ${displayOf(record) ?? 'unnamed'}`;
  const details: string[] = [];
  if (record.type === 'Observation') {
    const value =
      quantity(r.valueQuantity) ??
      (isObject(r.valueCodeableConcept) && typeof r.valueCodeableConcept.text === 'string' ? r.valueCodeableConcept.text : undefined) ??
      (typeof r.valueString === 'string' ? r.valueString : undefined);
    if (value) details.push(value);
  }
  if (record.type === 'Claim' && isObject(r.total) && typeof r.total.value === 'number')
    details.push(`${r.total.value.toFixed(2)} ${typeof r.total.currency === 'string' ? r.total.currency : ''}`.trim());
  const status = typeof r.status === 'string' ? r.status : undefined;
  const line = details.length > 0 ? `${head} ${details.join(' ')}` : head;
  return status && record.type !== 'Claim' && record.type !== 'Observation' ? `${line} (${status})` : line;
}
