/** The resolver map: thin modules per type; everything not listed here is read by the field defaults. */
import type { Resolvers } from '../src/generated/graphql';
import { auditResolvers } from './audit';
import { claimResolvers } from './claim';
import { documentResolvers } from './document';
import { encounterResolvers } from './encounter';
import { identityResolvers } from './identity';
import { medicationResolvers } from './medication';
import { patientResolvers } from './patient';
import { queryResolvers } from './query';
import { timelineResolvers } from './timeline';
import { DateScalar, DateTimeScalar, JSONScalar } from './scalars';

export const resolvers: Resolvers[] = [
  { JSON: JSONScalar, Date: DateScalar, DateTime: DateTimeScalar },
  queryResolvers,
  patientResolvers,
  encounterResolvers,
  medicationResolvers,
  claimResolvers,
  documentResolvers,
  auditResolvers,
  identityResolvers,
  timelineResolvers,
];

/** Enums bound to FHIR required value sets: values map to FHIR codes (`ENTERED_IN_ERROR` ↔ `entered-in-error`). */
export const FHIR_ENUMS = [
  'AdministrativeGender',
  'EncounterStatus',
  'ObservationStatus',
  'EventStatus',
  'ImmunizationStatus',
  'AllergyIntoleranceType',
  'AllergyIntoleranceCategory',
  'AllergyIntoleranceCriticality',
  'AllergyIntoleranceSeverity',
  'MedicationRequestStatus',
  'MedicationRequestIntent',
  'MedicationStatementStatus',
  'MedicationDispenseStatus',
  'MedicationAdministrationStatus',
  'FinancialResourceStatus',
  'ClaimUse',
  'ClaimOutcome',
  'DocumentReferenceStatus',
  'CompositionStatus',
  'LocationStatus',
] as const;
