import { AuditRecorder } from '../../src/audit/recorder';
import type { SourceRecord } from '../../connectors/types';

const rec = (source: string, type: SourceRecord['type'], id: string): SourceRecord => ({ source, type, id, resource: { resourceType: type, id } });

describe('audit recorder', () => {
  it('lists each disclosed record once per type (per source, in disclosure order) and every patient once, sorted', () => {
    const recorder = new AuditRecorder('req-1', undefined);
    recorder.disclose(rec('lake', 'Observation', 'o9'), ['p2']);
    recorder.disclose(rec('ehr', 'Observation', 'o2'), ['p1']);
    recorder.disclose(rec('lake', 'Observation', 'o1'), ['p2']);
    recorder.disclose(rec('lake', 'Observation', 'o9'), ['p2']);
    recorder.disclose(rec('ehr', 'Condition', 'c1'), ['p1', 'p3']);
    recorder.disclose(rec('ehr', 'Patient', 'p1'), ['p1']);
    const event = recorder.event('ok', 200);
    expect(Object.keys(event.disclosed)).toEqual(['Condition', 'Observation', 'Patient']);
    expect(event.disclosed).toEqual({ Condition: ['ehr/c1'], Observation: ['lake/o9', 'lake/o1', 'ehr/o2'], Patient: ['ehr/p1'] });
    expect(event.patients).toEqual(['ehr/Patient/p1', 'ehr/Patient/p3', 'lake/Patient/p2']);
  });

  it('records nothing for a request that disclosed nothing', () => {
    const event = new AuditRecorder('req-2', undefined).event('denied', 401, 'no token');
    expect(event.disclosed).toEqual({});
    expect(event.patients).toEqual([]);
  });
});
