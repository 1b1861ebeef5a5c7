import type { ResourceType } from '../connectors/types';
import type { Resolvers } from '../src/generated/graphql';
import { MEDICATION_TYPES } from '../src/model/elements';
import { relatedList, type ListArgs } from './connections';

const KIND_TYPES: Record<string, ResourceType> = {
  REQUEST: 'MedicationRequest',
  STATEMENT: 'MedicationStatement',
  DISPENSE: 'MedicationDispense',
  ADMINISTRATION: 'MedicationAdministration',
};

/** The medication types a `kind` filter selects (all four by default). */
export function medicationTypes(args: ListArgs): readonly ResourceType[] {
  const kinds = args.filter?.kind;
  if (!kinds || kinds.length === 0) return MEDICATION_TYPES;
  return MEDICATION_TYPES.filter((t) => kinds.some((k) => KIND_TYPES[k] === t));
}

export const patientResolvers: Resolvers = {
  Patient: {
    encounters: relatedList(['Encounter'], 'patient'),
    conditions: relatedList(['Condition'], 'patient'),
    observations: relatedList(['Observation'], 'patient'),
    medications: relatedList(MEDICATION_TYPES, 'patient', medicationTypes),
    procedures: relatedList(['Procedure'], 'patient'),
    immunizations: relatedList(['Immunization'], 'patient'),
    allergies: relatedList(['AllergyIntolerance'], 'patient'),
    documents: relatedList(['DocumentReference'], 'patient'),
    claims: relatedList(['Claim'], 'patient'),
    explanationOfBenefits: relatedList(['ExplanationOfBenefit'], 'patient'),
    coverage: relatedList(['Coverage'], 'patient'),
  },
};
