/** Parsing FHIR references: the relative `Type/id` form (read without a regular expression match) and every other form agree. */
import { parseReference } from '../../src/model/references';

describe('parseReference', () => {
  test.each([
    ['Patient/123', { type: 'Patient', id: '123' }],
    [{ reference: 'Encounter/a-b.c' }, { type: 'Encounter', id: 'a-b.c' }],
    ['http://fhir.example/fhir/Patient/123', { type: 'Patient', id: '123' }],
    ['Patient/123/_history/2', { type: 'Patient', id: '123' }],
    ['https://h/fhir/Observation/o1/_history/7', { type: 'Observation', id: 'o1' }],
  ])('%j points at %j', (value, expected) => {
    expect(parseReference(value)).toEqual(expected);
  });

  test.each([
    ['#contained'],
    ['Patient/'],
    ['/123'],
    ['patient/123'],
    ['Unknowntype/123'],
    ['Patient/has space'],
    [`Patient/${'x'.repeat(65)}`],
    ['Patient/123/'],
    [{ identifier: { value: 'x' } }],
    [42],
    [undefined],
  ])('%j points at nothing the gateway can read', (value) => {
    expect(parseReference(value)).toBeUndefined();
  });
});
