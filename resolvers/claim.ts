import type { Resolvers } from '../src/generated/graphql';

/** Claim diagnosis and procedure hold either a code or a reference; the reference resolves to the object. */
export const claimResolvers: Resolvers = {
  ClaimDiagnosis: {
    diagnosisCondition: (p, _, ctx) => ctx.data.resolve(p.source, p.json.diagnosisReference, ['Condition']),
  },
  ClaimProcedure: {
    procedure: (p, _, ctx) => ctx.data.resolve(p.source, p.json.procedureReference, ['Procedure']),
  },
};
