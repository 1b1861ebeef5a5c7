import { grantsOf, intersectGrants, parseScope, SCOPE_TYPES, splitScopes } from '../../src/auth/scopes';

describe('SMART scopes', () => {
  it.each([
    ['patient/Observation.rs', 'patient', ['Observation'], true],
    ['patient/Observation.r', 'patient', ['Observation'], true],
    ['patient/Observation.s', 'patient', ['Observation'], true],
    ['user/Claim.cruds', 'user', ['Claim'], true],
    ['system/Claim.rs', 'system', ['Claim'], true],
    ['patient/Observation.c', 'patient', ['Observation'], false],
    ['patient/Observation.read', 'patient', ['Observation'], true],
    ['patient/Observation.write', 'patient', ['Observation'], false],
    ['user/Encounter.*', 'user', ['Encounter'], true],
  ])('%s reads %s %s: %s', (scope, context, types, read) => {
    expect(parseScope(scope)).toMatchObject({ context, types, read });
  });

  it('a wildcard covers every type the graph serves, never Consent', () => {
    expect(parseScope('user/*.rs')?.types).toEqual(SCOPE_TYPES);
    expect(SCOPE_TYPES).not.toContain('Consent');
    expect(parseScope('system/Consent.rs')).toBeUndefined();
  });

  it.each(['openid', 'fhirUser', 'launch/patient', 'offline_access', 'patient/Foo.rs', 'patient/Observation.sr', 'patient/Observation.xyz', 'admin/Observation.rs', 'patient/Observation.rs?code=1234-5', 'patient/Observation.rs?category='])(
    '%s grants nothing',
    (scope) => {
      expect(grantsOf([scope], true).size).toBe(0);
    },
  );

  it('granular scopes restrict to categories, and several of them add up', () => {
    const grants = grantsOf(['patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory', 'patient/Observation.rs?category=vital-signs'], true);
    expect(grants.get('Observation')).toEqual({
      categories: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }, { code: 'vital-signs' }],
    });
  });

  it('an unrestricted scope wins over a granular one for the same type', () => {
    expect(grantsOf(['patient/Observation.rs?category=laboratory', 'patient/Observation.read'], true).get('Observation')).toEqual({});
  });

  it('patient/ scopes count only with a patient in context', () => {
    expect(grantsOf(['patient/*.rs'], false).size).toBe(0);
    expect(grantsOf(['patient/*.rs'], true).size).toBe(SCOPE_TYPES.length);
  });

  it('a token gets no more than its client is registered for', () => {
    const client = grantsOf(['patient/Observation.rs', 'patient/Condition.rs?category=problem-list-item'], true);
    const token = grantsOf(['patient/*.rs'], true);
    const both = intersectGrants(token, client);
    expect([...both.keys()].sort()).toEqual(['Condition', 'Observation']);
    expect(both.get('Condition')).toEqual({ categories: [{ code: 'problem-list-item' }] });
    expect(intersectGrants(grantsOf(['patient/Condition.rs?category=encounter-diagnosis'], true), client).has('Condition')).toBe(false);
  });

  it('splits the scope claim on any whitespace', () => {
    expect(splitScopes(' patient/*.rs  openid\tfhirUser ')).toEqual(['patient/*.rs', 'openid', 'fhirUser']);
    expect(splitScopes(undefined)).toEqual([]);
    expect(splitScopes(['patient/*.rs'])).toEqual([]);
  });
});
