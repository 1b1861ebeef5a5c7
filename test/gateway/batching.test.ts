/**
 * No N+1: a query over many parents costs a bounded number of upstream requests (one per source,
 * type and level, plus one per 100 parent ids), counted both by a recording proxy in front of the
 * FHIR peer and by the gateway's own `x-upstream-requests` header. Results equal the per-patient
 * answers the peer gives, and nothing is shared between requests.
 */
import { useRecordedGateway, type RecordedUpstream, type RecordingProxy } from '../support/recording-proxy';
import {
  dataOf,
  fhirSource,
  gatewayId,
  searchAll,
  searchFhir,
  startGateway,
  type QueryResult,
  type TestGateway,
} from '../support/services';

let proxy: RecordingProxy;
let gw: TestGateway;

useRecordedGateway((p, g) => {
  proxy = p;
  gw = g;
});

interface Conn<T> {
  totalCount?: number;
  edges: { node: T }[];
}
interface EncounterNode {
  source: { recordId: string };
  conditions: Conn<{ source: { recordId: string } }>;
}
interface PatientNode {
  source: { recordId: string };
  conditions: Conn<{ source: { recordId: string } }>;
  encounters: Conn<EncounterNode>;
}

const SUMMARY = `
  query Summary {
    patients(first: 50) {
      edges { node {
        source { recordId }
        conditions(first: 10) { totalCount edges { node { source { recordId } } } }
        encounters(first: 4) { totalCount edges { node {
          source { recordId }
          conditions(first: 5) { edges { node { source { recordId } } } }
        } } }
      } }
    }
  }`;

const recordIds = <T extends { source: { recordId: string } }>(c: Conn<T>): string[] => c.edges.map((e) => e.node.source.recordId);
const countByType = (requests: RecordedUpstream[]): Record<string, number> =>
  requests.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.type]: (acc[r.type] ?? 0) + 1 }), {});
const byType = (): Record<string, number> => countByType(proxy.searches());

describe('a query for 50 patients with their conditions and encounters', () => {
  let result: QueryResult;
  let patients: PatientNode[];
  let upstream: RecordedUpstream[];
  let httpRequests: RecordedUpstream[];

  beforeAll(async () => {
    proxy.clear();
    result = await gw.query(SUMMARY);
    upstream = proxy.searches();
    httpRequests = proxy.http.filter((r) => r.type !== 'metadata');
    patients = dataOf<{ patients: Conn<PatientNode> }>(result).patients.edges.map((e) => e.node);
  });

  it('makes one upstream request per type and level (and per 1000 records or 100 parent ids)', async () => {
    expect(patients).toHaveLength(50);
    const patientIds = patients.map((p) => p.source.recordId).join(',');
    const encounterIds = patients.flatMap((p) => recordIds(p.encounters));
    expect(encounterIds.length).toBeGreaterThan(100);
    const { total: encounters } = await searchFhir('Encounter', { patient: patientIds, _total: 'accurate', _count: '1' });
    const { total: conditions } = await searchFhir('Condition', { patient: patientIds, _total: 'accurate', _count: '1' });
    const pages = (n: number | undefined): number => Math.max(1, Math.ceil((n ?? 0) / 1000));
    const chunks = Math.ceil(encounterIds.length / 100);
    // Patient page; Encounter by patient; Condition by patient; Condition by encounter
    expect(countByType(upstream)).toEqual({ Patient: 1, Encounter: pages(encounters), Condition: pages(conditions) + chunks });
    expect(upstream.length).toBeLessThanOrEqual(8);
    // The peer takes FHIR batches: each level's searches travel as one HTTP request.
    expect(httpRequests.length).toBeLessThan(upstream.length);
    expect(result.upstream).toBe(httpRequests.length);
    const patientParam = upstream.find((r) => r.type === 'Encounter')!.params.find(([k]) => k === 'patient')![1];
    expect(patientParam.split(',').sort()).toEqual(patients.map((p) => p.source.recordId).sort());
  });

  it('gives each patient the conditions and encounters the peer has for that patient', async () => {
    for (const patient of patients.slice(0, 50)) {
      const id = patient.source.recordId;
      const [conditions, encounters] = await Promise.all([
        searchAll('Condition', { patient: id, _sort: '-onset-date,_id' }),
        searchAll('Encounter', { patient: id, _sort: '-date,_id' }),
      ]);
      expect(recordIds(patient.conditions)).toEqual(conditions.slice(0, 10).map((c) => c.id));
      expect(patient.conditions.totalCount).toBe(conditions.length);
      expect(recordIds(patient.encounters)).toEqual(encounters.slice(0, 4).map((e) => e.id));
      expect(patient.encounters.totalCount).toBe(encounters.length);
    }
  });

  it('gives each encounter the conditions recorded in it', async () => {
    const encounters = patients.flatMap((p) => p.encounters.edges.map((e) => e.node));
    const withConditions = encounters.filter((e) => e.conditions.edges.length > 0);
    expect(withConditions.length).toBeGreaterThan(0);
    for (const encounter of encounters.slice(0, 60)) {
      const expected = await searchAll('Condition', { encounter: encounter.source.recordId, _sort: '-onset-date,_id' });
      expect(recordIds(encounter.conditions)).toEqual(expected.slice(0, 5).map((c) => c.id));
    }
  });
});

describe('per-request loaders', () => {
  it('two concurrent requests for different patients each get their own records and their own count', async () => {
    const { edges } = dataOf<{ patients: Conn<{ id: string }> }>(
      await gw.query('{ patients(first: 2) { edges { node { id } } } }'),
    ).patients;
    const [a, b] = edges.map((e) => e.node.id) as [string, string];
    const q =
      'query($id: ID!) { patient(id: $id) { id conditions(first: 50) { edges { node { subject { id } } } } encounters(first: 50) { edges { node { subject { id } } } } } }';
    const alone = await gw.query(q, { id: a });
    const [ra, rb] = await Promise.all([gw.query(q, { id: a }), gw.query(q, { id: b })]);
    expect(ra.body).toEqual(alone.body);
    for (const [r, id] of [
      [ra, a],
      [rb, b],
    ] as const) {
      const patient = dataOf<{
        patient: { id: string; conditions: Conn<{ subject: { id: string } }>; encounters: Conn<{ subject: { id: string } }> };
      }>(r).patient;
      expect(patient.id).toBe(id);
      for (const edge of [...patient.conditions.edges, ...patient.encounters.edges]) expect(edge.node.subject.id).toBe(id);
      // the patient, then its conditions and encounters in one batch; the subjects are the patient already in hand
      expect(r.upstream).toBe(alone.upstream);
    }
    expect(alone.upstream).toBe(2);
  });

  it('the same list asked twice in one request (aliases) is fetched once, first pages and later ones', async () => {
    const { edges } = dataOf<{ patients: Conn<{ id: string }> }>(await gw.query('{ patients(first: 1) { edges { node { id } } } }')).patients;
    const id = edges[0]!.node.id;
    const once = await gw.query('query($id: ID!) { patient(id: $id) { a: encounters(first: 2) { edges { cursor node { id } } } } }', { id });
    const page = dataOf<{ patient: { a: Conn<{ id: string }> & { edges: { cursor: string }[] } } }>(once).patient.a;
    expect(page.edges).toHaveLength(2);
    proxy.clear();
    const twice = await gw.query('query($id: ID!) { patient(id: $id) { a: encounters(first: 2) { edges { node { id } } } b: encounters(first: 2) { edges { node { id } } } } }', { id });
    expect(byType()).toEqual({ Patient: 1, Encounter: 1 });
    const first = dataOf<{ patient: { a: Conn<{ id: string }>; b: Conn<{ id: string }> } }>(twice).patient;
    expect(first.b).toEqual(first.a);
    expect(twice.upstream).toBe(once.upstream); // the patient, then one Encounter search
    const after = page.edges[1]!.cursor;
    proxy.clear();
    const next = await gw.query(
      'query($id: ID!, $after: String) { patient(id: $id) { a: encounters(first: 2, after: $after) { edges { node { id } } } b: encounters(first: 2, after: $after) { edges { node { id } } } } }',
      { id, after },
    );
    const second = dataOf<{ patient: { a: Conn<{ id: string }>; b: Conn<{ id: string }> } }>(next).patient;
    expect(second.b).toEqual(second.a);
    expect(second.a.edges.map((e) => e.node.id)).not.toContain(first.a.edges[0]!.node.id);
    expect(byType()).toEqual({ Patient: 1, Encounter: 1 });
  });

  it('a record read in one request is fetched again by the next one', async () => {
    const { edges } = dataOf<{ patients: Conn<{ id: string }> }>(
      await gw.query('{ patients(first: 1) { edges { node { id } } } }'),
    ).patients;
    const q = 'query($id: ID!) { patient(id: $id) { id } }';
    const first = await gw.query(q, { id: edges[0]!.node.id });
    const second = await gw.query(q, { id: edges[0]!.node.id });
    expect(first.upstream).toBe(1);
    expect(second.upstream).toBe(1);
  });
});

describe('references', () => {
  it('identical references are fetched once, in one request per type', async () => {
    // Resolved one level down, as with a server that lists no `_include` (test/gateway/include.test.ts covers those).
    const plain = await startGateway([fhirSource('ehr', proxy.url, { include: 'off' })]);
    const all = await searchAll('Encounter', { _sort: '-date' });
    const patientId = (all[0]!.subject as { reference: string }).reference.split('/')[1]!;
    const own = all.filter((e) => (e.subject as { reference: string }).reference.endsWith(`/${patientId}`));
    const providers = own.map((e) => (e.serviceProvider as { reference: string }).reference.split('/')[1]!);
    expect(new Set(providers).size).toBeLessThan(providers.length);
    proxy.clear();
    const result = await plain.query(
      'query($id: ID!) { patient(id: $id) { encounters(first: 100) { edges { node { serviceProvider { id name } subject { id } } } } } }',
      { id: gatewayId('ehr', 'Patient', patientId) },
    );
    await plain.close();
    const data = dataOf<{ patient: { encounters: Conn<{ serviceProvider: { id: string } }> } }>(result);
    expect(data.patient.encounters.edges).toHaveLength(Math.min(100, own.length));
    const organizationReads = proxy.searches().filter((r) => r.type === 'Organization');
    expect(organizationReads).toHaveLength(1);
    const asked = organizationReads[0]!.path.includes('_id=')
      ? organizationReads[0]!.params.find(([k]) => k === '_id')![1].split(',')
      : [organizationReads[0]!.path.split('/')[1]!];
    expect(new Set(asked).size).toBe(asked.length);
    expect(asked.sort()).toEqual([...new Set(providers.slice(0, 100))].sort());
    expect(byType()).toEqual({ Patient: 1, Encounter: 1, Organization: 1 });
  });
});
