import { buildSearch, criterionParams, sortParam } from '../../connectors/fhir/query';

describe('spelling gateway searches as FHIR search parameters', () => {
  it('a code filter is system|code', () => {
    expect(criterionParams('Observation', { param: 'code', tokens: [{ system: 'http://loinc.org', code: '8302-2' }] })).toEqual([
      ['code', 'http://loinc.org|8302-2'],
    ]);
  });

  it('several values are one comma-separated parameter (OR)', () => {
    expect(criterionParams('Condition', { param: 'patient', ids: ['a', 'b', 'c'] })).toEqual([['patient', 'a,b,c']]);
    expect(criterionParams('Observation', { param: 'code', tokens: [{ code: '1' }, { system: 's', code: '2' }] })).toEqual([
      ['code', '1,s|2'],
    ]);
  });

  it.each([
    [',', 'a,b', 'a\\,b'],
    ['|', 'a|b', 'a\\|b'],
    ['$', 'a$b', 'a\\$b'],
    ['\\', 'a\\b', 'a\\\\b'],
  ])('escapes %s inside values with a backslash', (_, raw, escaped) => {
    expect(criterionParams('Patient', { param: 'identifier', tokens: [{ system: `urn:${raw}`, code: raw }] })).toEqual([
      ['identifier', `urn:${escaped}|${escaped}`],
    ]);
    expect(criterionParams('Condition', { param: '_id', ids: [raw, 'x'] })).toEqual([['_id', `${escaped},x`]]);
  });

  it('a date range is one ge and one le parameter, at the precision given', () => {
    expect(criterionParams('Observation', { param: 'date', range: { from: '2015', to: '2017-06-30' } })).toEqual([
      ['date', 'ge2015'],
      ['date', 'le2017-06-30'],
    ]);
    expect(criterionParams('Patient', { param: 'birthdate', range: { to: '1970' } })).toEqual([['birthdate', 'le1970']]);
  });

  it('uses each type’s own parameter names', () => {
    expect(criterionParams('Condition', { param: 'date', range: { from: '2015' } })).toEqual([['onset-date', 'ge2015']]);
    expect(criterionParams('Encounter', { param: 'code', tokens: [{ code: 'x' }] })).toEqual([['type', 'x']]);
    expect(criterionParams('Coverage', { param: 'patient', ids: ['p'] })).toEqual([['beneficiary', 'p']]);
    expect(criterionParams('MedicationStatement', { param: 'encounter', ids: ['e'] })).toEqual([['context', 'e']]);
    expect(() => criterionParams('Immunization', { param: 'encounter', ids: ['e'] })).toThrow(/no FHIR search parameter/);
  });

  it('sorts name the FHIR parameter, descending with "-", with _id as tie-breaker', () => {
    expect(sortParam('Observation', [{ field: 'date', direction: 'desc' }])).toBe('-date,_id');
    expect(sortParam('Patient', [{ field: 'name', direction: 'asc' }])).toBe('family,_id');
    expect(sortParam('Condition', [{ field: 'date', direction: 'asc' }])).toBe('onset-date,_id');
    expect(sortParam('Patient', [{ field: 'id', direction: 'desc' }])).toBe('-_id');
    expect(sortParam('Patient', [{ field: 'date', direction: 'asc' }])).toBeUndefined();
  });

  it('builds a URL-encoded query string', () => {
    const path = buildSearch(
      'Observation',
      [{ param: 'code', tokens: [{ system: 'http://loinc.org', code: '8302-2' }] }],
      [['_count', '10']],
    );
    expect(path).toBe('Observation?code=http%3A%2F%2Floinc.org%7C8302-2&_count=10');
    expect(new URLSearchParams(path.split('?')[1]).get('code')).toBe('http://loinc.org|8302-2');
  });

  it('free text is sent as typed, not token-escaped', () => {
    expect(criterionParams('Patient', { param: 'name', text: "O'Brien, Jr" })).toEqual([['name', "O'Brien, Jr"]]);
  });
});
