import type { FhirResource, ResourceType, SortSpec } from '../../connectors/types';
import { comparator, dateOf, encounterIdsOf, matchesAll, matchesCriterion, patientIdsOf } from '../../src/model/evaluate';

const observation: FhirResource = {
  resourceType: 'Observation',
  id: 'obs-1',
  status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
  code: { coding: [{ system: 'http://loinc.org', code: '8302-2', display: 'Body Height' }], text: 'Body Height' },
  subject: { reference: 'Patient/p1' },
  encounter: { reference: 'urn:uuid:ignored/Encounter/e1' },
  effectiveDateTime: '2016-03-04T10:00:00-05:00',
};

const patient: FhirResource = {
  resourceType: 'Patient',
  id: 'p1',
  identifier: [{ system: 'http://hospital.example/mrn', value: 'MRN-1' }],
  name: [{ family: 'Müller', given: ['Ana', 'Sofía'], text: 'Ana Sofía Müller' }],
  gender: 'female',
  birthDate: '1970-04',
};

describe('in-memory evaluation of criteria', () => {
  it('codes match system|code, a bare code in any system, or any code of a system', () => {
    const match = (system: string | undefined, code: string): boolean =>
      matchesCriterion(observation, 'Observation', { param: 'code', tokens: [system === undefined ? { code } : { system, code }] });
    expect(match('http://loinc.org', '8302-2')).toBe(true);
    expect(match(undefined, '8302-2')).toBe(true);
    expect(match('http://loinc.org', '')).toBe(true);
    expect(match('http://snomed.info/sct', '8302-2')).toBe(false);
    expect(match('http://loinc.org', '29463-7')).toBe(false);
  });

  it('values inside one criterion are ORed, criteria are ANDed', () => {
    const either = { param: 'code' as const, tokens: [{ code: 'nope' }, { code: '8302-2' }] };
    expect(matchesCriterion(observation, 'Observation', either)).toBe(true);
    expect(matchesAll(observation, 'Observation', [either, { param: 'status', tokens: [{ code: 'final' }] }])).toBe(true);
    expect(matchesAll(observation, 'Observation', [either, { param: 'status', tokens: [{ code: 'amended' }] }])).toBe(false);
  });

  it('category and status read the type’s own elements', () => {
    expect(matchesCriterion(observation, 'Observation', { param: 'category', tokens: [{ code: 'vital-signs' }] })).toBe(true);
    expect(matchesCriterion(observation, 'Observation', { param: 'category', tokens: [{ code: 'laboratory' }] })).toBe(false);
    const condition: FhirResource = { resourceType: 'Condition', clinicalStatus: { coding: [{ code: 'active' }] } };
    expect(matchesCriterion(condition, 'Condition', { param: 'status', tokens: [{ code: 'active' }] })).toBe(true);
  });

  it('dates match a range they overlap, whatever their precision and zone', () => {
    const inRange = (from?: string, to?: string): boolean =>
      matchesCriterion(observation, 'Observation', { param: 'date', range: { from, to } });
    expect(inRange('2015', '2017-06-30')).toBe(true);
    expect(inRange('2016-03-04', '2016-03-04')).toBe(true);
    // 10:00 at UTC-5 is 15:00 UTC on the 4th, not on the 5th
    expect(inRange('2016-03-05')).toBe(false);
    expect(inRange(undefined, '2016-03-03')).toBe(false);
    expect(inRange('2016')).toBe(true);
  });

  it('a record without a date never matches a date range', () => {
    const undated: FhirResource = { resourceType: 'Observation', id: 'x' };
    expect(dateOf(undated, 'Observation')).toBeUndefined();
    expect(matchesCriterion(undated, 'Observation', { param: 'date', range: { from: '1900' } })).toBe(false);
  });

  it('the date of a type is its first present date element', () => {
    const condition: FhirResource = { resourceType: 'Condition', recordedDate: '2020-01-01', onsetDateTime: '2019-05-05' };
    expect(dateOf(condition, 'Condition')!.start).toBe(Date.parse('2019-05-05T00:00:00Z'));
  });

  it('patients match identifiers, birth dates, gender and name prefixes without accents or case', () => {
    const m = (c: Parameters<typeof matchesCriterion>[2]): boolean => matchesCriterion(patient, 'Patient', c);
    expect(m({ param: 'identifier', tokens: [{ system: 'http://hospital.example/mrn', code: 'MRN-1' }] })).toBe(true);
    expect(m({ param: 'identifier', tokens: [{ code: 'MRN-1' }] })).toBe(true);
    expect(m({ param: 'identifier', tokens: [{ system: 'http://other', code: 'MRN-1' }] })).toBe(false);
    expect(m({ param: 'birthdate', range: { from: '1970-04-12', to: '1970-04-12' } })).toBe(true);
    expect(m({ param: 'birthdate', range: { from: '1971' } })).toBe(false);
    expect(m({ param: 'gender', tokens: [{ code: 'female' }] })).toBe(true);
    expect(m({ param: 'name', text: 'mull' })).toBe(true);
    expect(m({ param: 'name', text: 'sof' })).toBe(true);
    expect(m({ param: 'family', text: 'Sof' })).toBe(false);
    expect(m({ param: 'given', text: 'ANA' })).toBe(true);
    expect(m({ param: 'name', text: 'ller' })).toBe(false);
  });

  it('finds the patient and encounter a record points at', () => {
    expect(patientIdsOf(observation, 'Observation')).toEqual(['p1']);
    expect(encounterIdsOf(observation, 'Observation')).toEqual(['e1']);
    expect(patientIdsOf(patient, 'Patient')).toEqual(['p1']);
    const claim: FhirResource = {
      resourceType: 'Claim',
      patient: { reference: 'Patient/p2' },
      item: [{ encounter: [{ reference: 'Encounter/e7' }] }, { encounter: [{ reference: 'Encounter/e8' }] }],
    };
    expect(patientIdsOf(claim, 'Claim')).toEqual(['p2']);
    expect(encounterIdsOf(claim, 'Claim')).toEqual(['e7', 'e8']);
  });

  it('by id and by reference', () => {
    expect(matchesCriterion(observation, 'Observation', { param: '_id', ids: ['obs-1', 'obs-2'] })).toBe(true);
    expect(matchesCriterion(observation, 'Observation', { param: 'patient', ids: ['p9'] })).toBe(false);
    expect(matchesCriterion(observation, 'Observation', { param: 'encounter', ids: ['e1'] })).toBe(true);
  });
});

describe('the sort comparator', () => {
  const rec = (id: string, date?: string, type: ResourceType = 'Observation') => ({
    type,
    resource: { resourceType: type, id, ...(date ? { effectiveDateTime: date } : {}) } as FhirResource,
  });
  const sorted = (sort: SortSpec[], records: ReturnType<typeof rec>[]): string[] =>
    [...records].sort(comparator(sort)).map((r) => r.resource.id!);

  it('orders by date descending, records without a date last, ties by id', () => {
    const records = [rec('b', '2016-01-01'), rec('none'), rec('a', '2016-01-01'), rec('c', '2018'), rec('d', '2015-06-30T23:00:00-05:00')];
    expect(sorted([{ field: 'date', direction: 'desc' }], records)).toEqual(['c', 'a', 'b', 'd', 'none']);
    expect(sorted([{ field: 'date', direction: 'asc' }], records)).toEqual(['d', 'a', 'b', 'c', 'none']);
  });

  it('compares instants, not strings: a later zone can be the earlier instant', () => {
    const records = [rec('east', '2016-01-01T10:00:00+09:00'), rec('west', '2016-01-01T02:00:00-05:00')];
    expect(sorted([{ field: 'date', direction: 'asc' }], records)).toEqual(['east', 'west']);
  });

  it('orders patients by name, folding accents and case', () => {
    const p = (id: string, family: string) => ({
      type: 'Patient' as const,
      resource: { resourceType: 'Patient', id, name: [{ family, given: ['X'] }] },
    });
    const list = [p('3', 'zimmer'), p('1', 'Ábel'), p('2', 'abbott')];
    expect([...list].sort(comparator([{ field: 'name', direction: 'asc' }])).map((r) => r.resource.id)).toEqual(['2', '1', '3']);
  });
});
