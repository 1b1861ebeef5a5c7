import { decodeId, encodeId, tryDecodeId } from '../../src/ids';
import { HealthgraphError } from '../../src/errors';

describe('gateway ids', () => {
  it('round-trip the source, type and record id', () => {
    const id = encodeId('ehr', 'Patient', '129c6ac7-8d06-89de-ad63-0204a93e76c3');
    expect(decodeId(id)).toEqual({ source: 'ehr', type: 'Patient', id: '129c6ac7-8d06-89de-ad63-0204a93e76c3' });
  });

  it('are opaque: URL-safe, and neither the source nor the record id shows through', () => {
    const id = encodeId('ehr', 'Observation', 'obs-1');
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(id).not.toContain('obs-1');
    expect(id).not.toContain('ehr');
  });

  it('are stable and differ between sources, types and records', () => {
    expect(encodeId('ehr', 'Patient', 'a')).toBe(encodeId('ehr', 'Patient', 'a'));
    const ids = new Set([
      encodeId('ehr', 'Patient', 'a'),
      encodeId('lake', 'Patient', 'a'),
      encodeId('ehr', 'Encounter', 'a'),
      encodeId('ehr', 'Patient', 'b'),
    ]);
    expect(ids.size).toBe(4);
  });

  it('are the base64url of hg1:source:type:id for every length of prefix and id, ASCII or not (the encoder caches each prefix)', () => {
    const sources = ['a', 'ab', 'abc', 'omop', 'fhir-main', 'quelle-ü', 'ehr'];
    const ids = ['1', '12', '123', '1234', 'obs-1', 'urn:x:1', 'ü-1', '𝔘', '129c6ac7-8d06-89de-ad63-0204a93e76c3'];
    for (const source of sources) {
      for (const type of ['Patient', 'Condition', 'MedicationRequest'] as const) {
        for (const id of ids) {
          expect(encodeId(source, type, id)).toBe(Buffer.from(`hg1:${source}:${type}:${id}`, 'utf8').toString('base64url'));
          expect(decodeId(encodeId(source, type, id))).toEqual({ source, type, id });
        }
      }
    }
  });

  it('keep record ids that contain colons', () => {
    expect(tryDecodeId(encodeId('ehr', 'Patient', 'urn:x:1'))).toEqual({ source: 'ehr', type: 'Patient', id: 'urn:x:1' });
  });

  it.each([
    ['an empty string', ''],
    ['a raw FHIR id', '129c6ac7-8d06-89de-ad63-0204a93e76c3'],
    ['base64 of something else', Buffer.from('hello:world').toString('base64url')],
    ['an unknown resource type', Buffer.from('hg1:ehr:Spaceship:1').toString('base64url')],
    ['an id with no record part', Buffer.from('hg1:ehr:Patient:').toString('base64url')],
    ['characters outside base64url', 'aGcx+OmVocjpQYXRpZW50OjE='],
    ['an overlong value', 'a'.repeat(600)],
  ])('reject %s', (_, value) => {
    expect(tryDecodeId(value)).toBeUndefined();
    expect(() => decodeId(value, 'patientId')).toThrow(HealthgraphError);
    try {
      decodeId(value, 'patientId');
    } catch (error) {
      expect((error as HealthgraphError).code).toBe('BAD_USER_INPUT');
      expect((error as HealthgraphError).message).toContain('"patientId"');
    }
  });
});
