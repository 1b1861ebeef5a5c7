import { capabilitiesFrom, defaultCapabilities, readCapabilityStatement } from '../../connectors/fhir/capabilities';
import { RESOURCE_TYPES } from '../../connectors/types';

const statement = {
  resourceType: 'CapabilityStatement',
  rest: [
    {
      mode: 'server',
      resource: [
        { type: 'Patient', searchParam: [{ name: 'identifier' }, { name: 'family' }, { name: 'birthdate' }] },
        { type: 'Observation', searchParam: [{ name: 'patient' }, { name: 'code' }, { name: 'date' }] },
        { type: 'Encounter' },
        { type: 'Spaceship', searchParam: [{ name: 'warp' }] },
        { type: 42 },
      ],
    },
  ],
};

describe('learning what a FHIR server can search', () => {
  it('reads the types and search parameters a CapabilityStatement lists, ignoring unknown types', () => {
    const listed = readCapabilityStatement(statement);
    expect([...listed.keys()].sort()).toEqual(['Encounter', 'Observation', 'Patient']);
    expect([...listed.get('Observation')!].sort()).toEqual(['_id', '_lastUpdated', 'code', 'date', 'patient']);
  });

  it('pushes down only the filters and sorts the server lists', () => {
    const caps = capabilitiesFrom(readCapabilityStatement(statement));
    const patient = caps.types.Patient!;
    expect([...patient.params].sort()).toEqual(['_id', 'birthdate', 'family', 'identifier']);
    expect(patient.params.has('name')).toBe(false);
    expect(patient.params.has('gender')).toBe(false);
    expect([...patient.sorts].sort()).toEqual(['birthdate', 'id', 'lastUpdated', 'name']);
    const observation = caps.types.Observation!;
    expect([...observation.params].sort()).toEqual(['_id', 'code', 'date', 'patient']);
    expect(observation.multiValueRefs).toBe(true);
  });

  it('assumes the standard parameters for a type listed without any', () => {
    const encounter = capabilitiesFrom(readCapabilityStatement(statement)).types.Encounter!;
    expect([...encounter.params]).toEqual(expect.arrayContaining(['_id', 'patient', 'code', 'date', 'status', 'category', 'identifier']));
    expect(encounter.sorts.has('date')).toBe(true);
  });

  it('pushes hasCondition (_has:Condition:patient:code) only when the server lists _has, for a type or for all types', () => {
    expect(capabilitiesFrom(readCapabilityStatement(statement)).types.Patient!.params.has('hasCondition')).toBe(false);
    // A type listed without parameters gets the standard ones, never reverse chaining.
    const bare = { rest: [{ mode: 'server', resource: [{ type: 'Patient' }] }] };
    expect(capabilitiesFrom(readCapabilityStatement(bare)).types.Patient!.params.has('hasCondition')).toBe(false);
    expect(defaultCapabilities().types.Patient!.params.has('hasCondition')).toBe(false);
    const everywhere = { rest: [{ mode: 'server', searchParam: [{ name: '_has' }], resource: [{ type: 'Patient' }] }] };
    const patient = capabilitiesFrom(readCapabilityStatement(everywhere)).types.Patient!;
    expect(patient.params.has('hasCondition')).toBe(true);
    expect(patient.params.has('gender')).toBe(true); // still the standard parameters
    const perType = { rest: [{ mode: 'server', resource: [{ type: 'Patient', searchParam: [{ name: '_has' }, { name: 'name' }] }] }] };
    expect([...capabilitiesFrom(readCapabilityStatement(perType)).types.Patient!.params].sort()).toEqual(['_id', 'hasCondition', 'name']);
  });

  it('serves no type the statement does not list', () => {
    expect(capabilitiesFrom(readCapabilityStatement(statement)).types.Claim).toBeUndefined();
  });

  it.each([null, 'nonsense', {}, { rest: 'x' }, { rest: [{ resource: 'x' }] }])(
    'a statement it cannot read (%p) lists nothing',
    (value) => {
      expect(readCapabilityStatement(value).size).toBe(0);
    },
  );

  it('without a usable statement, every type with standard parameters', () => {
    const caps = defaultCapabilities();
    expect(Object.keys(caps.types).sort()).toEqual([...RESOURCE_TYPES].sort());
    expect(caps.types.Observation!.params.has('code')).toBe(true);
  });
});
