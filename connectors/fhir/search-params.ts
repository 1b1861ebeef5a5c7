/**
 * How the gateway's abstract criteria and sorts are spelled as FHIR R4 search parameters, per
 * resource type. A source advertises what it supports in its CapabilityStatement; the connector
 * keeps only the mappings whose FHIR parameter the source lists.
 */
import type { ResourceType, SearchParam, SortField } from '../types';

type ParamNames = Partial<Record<SearchParam, string>>;

const CLINICAL: ParamNames = {
  _id: '_id',
  patient: 'patient',
  encounter: 'encounter',
  code: 'code',
  date: 'date',
  status: 'status',
  category: 'category',
  identifier: 'identifier',
};

export const FHIR_PARAMS: Record<ResourceType, ParamNames> = {
  Patient: {
    _id: '_id',
    identifier: 'identifier',
    name: 'name',
    family: 'family',
    given: 'given',
    birthdate: 'birthdate',
    gender: 'gender',
    // Reverse chaining: supported only when the server lists `_has` (capabilities.ts).
    hasCondition: '_has:Condition:patient:code',
  },
  Encounter: { ...CLINICAL, encounter: undefined, code: 'type', category: 'class' },
  Condition: { ...CLINICAL, date: 'onset-date', status: 'clinical-status' },
  Observation: CLINICAL,
  MedicationRequest: { ...CLINICAL, date: 'authoredon' },
  MedicationStatement: { ...CLINICAL, encounter: 'context', date: 'effective' },
  MedicationDispense: { ...CLINICAL, encounter: 'context', date: 'whenhandedover', category: undefined },
  MedicationAdministration: { ...CLINICAL, encounter: 'context', date: 'effective-time', category: undefined },
  Medication: { _id: '_id', code: 'code', identifier: 'identifier', status: 'status' },
  Claim: { _id: '_id', patient: 'patient', encounter: 'encounter', date: 'created', status: 'status', identifier: 'identifier' },
  ExplanationOfBenefit: { _id: '_id', patient: 'patient', encounter: 'encounter', date: 'created', status: 'status', identifier: 'identifier' },
  Coverage: { _id: '_id', patient: 'beneficiary', code: 'type', status: 'status', identifier: 'identifier' },
  Procedure: CLINICAL,
  Immunization: { ...CLINICAL, code: 'vaccine-code', encounter: undefined, category: undefined },
  AllergyIntolerance: { ...CLINICAL, status: 'clinical-status' },
  DocumentReference: { ...CLINICAL, code: 'type', encounter: 'encounter' },
  Practitioner: { _id: '_id', identifier: 'identifier', name: 'name' },
  PractitionerRole: { _id: '_id', identifier: 'identifier' },
  Organization: { _id: '_id', identifier: 'identifier', name: 'name' },
  Location: { _id: '_id', identifier: 'identifier', name: 'name' },
  Consent: { _id: '_id', patient: 'patient', status: 'status', category: 'category', date: 'date', identifier: 'identifier' },
};

/** The FHIR search parameter each sort field sorts by (the `date` sort uses the type's date parameter). */
export function sortParamName(type: ResourceType, field: SortField): string | undefined {
  switch (field) {
    case 'date':
      return type === 'Patient' ? undefined : FHIR_PARAMS[type].date;
    case 'birthdate':
      return type === 'Patient' ? 'birthdate' : undefined;
    case 'name':
      return type === 'Patient' ? 'family' : undefined;
    case 'lastUpdated':
      return '_lastUpdated';
    case 'id':
      return '_id';
  }
}

export const SORT_FIELDS: readonly SortField[] = ['date', 'birthdate', 'name', 'lastUpdated', 'id'];
