import type { Resolvers } from '../src/generated/graphql';
import { MEDICATION_TYPES } from '../src/model/elements';
import { relatedList } from './connections';
import { medicationTypes } from './patient';

export const encounterResolvers: Resolvers = {
  Encounter: {
    conditions: relatedList(['Condition'], 'encounter'),
    observations: relatedList(['Observation'], 'encounter'),
    medications: relatedList(MEDICATION_TYPES, 'encounter', medicationTypes),
    procedures: relatedList(['Procedure'], 'encounter'),
    immunizations: relatedList(['Immunization'], 'encounter'),
    documents: relatedList(['DocumentReference'], 'encounter'),
  },
};
