/**
 * Filters, sorts and page sizes become the upstream's own search parameters: a recording proxy in
 * front of the FHIR peer shows exactly what the gateway asked for, and the answers equal what the
 * peer returns for the same search.
 */
import { useRecordedGateway, type RecordingProxy } from '../support/recording-proxy';
import { dataOf, gatewayId, searchAll, searchFhir, type TestGateway } from '../support/services';

let proxy: RecordingProxy;
let gw: TestGateway;

useRecordedGateway((p, g) => {
  proxy = p;
  gw = g;
});

interface Ids {
  edges: { node: { source: { recordId: string } } }[];
  totalCount: number;
}
const ids = (c: Ids): string[] => c.edges.map((e) => e.node.source.recordId);

/** The values of one parameter across the recorded searches of a type. */
function sent(type: string, name: string): string[] {
  return proxy
    .searches()
    .filter((r) => r.type === type)
    .flatMap((r) => r.params.filter(([k]) => k === name).map(([, v]) => v));
}

describe('clinical filters are pushed down as FHIR search parameters', () => {
  it('code, date range, sort and page size on a patient’s observations', async () => {
    const [height] = (await searchFhir('Observation', 'code=http://loinc.org|8302-2&date=ge2015&date=le2017-06-30&_count=1')).resources;
    const patient = { id: (height!.subject as { reference: string }).reference.split('/')[1]! };
    const result = await gw.query(
      `query($id: ID!) { patient(id: $id) { observations(first: 10, filter: { code: "http://loinc.org|8302-2", date: { from: "2015", to: "2017-06-30" } }, orderBy: { field: DATE, direction: DESC }) {
        totalCount edges { node { source { recordId } effectiveDateTime } } } } }`,
      { id: gatewayId('ehr', 'Patient', patient.id) },
    );
    const data = dataOf<{ patient: { observations: Ids } }>(result);

    const search = proxy.searches().find((r) => r.type === 'Observation');
    expect(search).toBeDefined();
    expect(search!.path).toContain('code=http://loinc.org|8302-2');
    expect(sent('Observation', 'date')).toEqual(['ge2015', 'le2017-06-30']);
    expect(sent('Observation', '_sort')).toEqual(['-date,_id']);
    expect(sent('Observation', '_count')).toEqual(['11']);
    expect(sent('Observation', 'patient')).toEqual([patient.id]);

    const expected = await searchAll(
      'Observation',
      `patient=${patient.id}&code=${encodeURIComponent('http://loinc.org|8302-2')}&date=ge2015&date=le2017-06-30&_sort=-date,_id`,
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(ids(data.patient.observations)).toEqual(expected.slice(0, 10).map((o) => o.id));
    for (const edge of data.patient.observations.edges as unknown as { node: { effectiveDateTime: string } }[]) {
      expect(edge.node.effectiveDateTime >= '2015' && edge.node.effectiveDateTime < '2017-07').toBe(true);
    }
    expect(data.patient.observations.totalCount).toBe(expected.length);
  });

  it('status and category', async () => {
    const [patient] = (await searchFhir('Patient', { _count: '1', _sort: 'family' })).resources;
    const data = dataOf<{ patient: { encounters: Ids; observations: Ids } }>(
      await gw.query(
        `query($id: ID!) { patient(id: $id) {
          encounters(first: 100, filter: { status: ["finished"] }) { totalCount edges { node { source { recordId } } } }
          observations(first: 100, filter: { category: ["http://terminology.hl7.org/CodeSystem/observation-category|vital-signs"] }) { totalCount edges { node { source { recordId } } } } } }`,
        { id: gatewayId('ehr', 'Patient', patient!.id) },
      ),
    );
    expect(sent('Encounter', 'status')).toEqual(['finished']);
    expect(sent('Observation', 'category')).toEqual(['http://terminology.hl7.org/CodeSystem/observation-category|vital-signs']);
    const encounters = await searchAll('Encounter', { patient: patient!.id, status: 'finished' });
    const vitals = await searchAll('Observation', {
      patient: patient!.id,
      category: 'http://terminology.hl7.org/CodeSystem/observation-category|vital-signs',
    });
    expect([...ids(data.patient.encounters)].sort()).toEqual(encounters.map((e) => e.id).sort());
    expect([...ids(data.patient.observations)].sort()).toEqual(vitals.map((o) => o.id).sort());
  });
});

describe('patient filters are pushed down', () => {
  it('identifier, birth date and gender', async () => {
    const [patient] = (await searchFhir('Patient', { _count: '1', _sort: 'birthdate' })).resources;
    const identifier = (patient!.identifier as { system: string; value: string }[]).find((i) => i.system && i.value)!;
    const birthDate = patient!.birthDate as string;
    const gender = (patient!.gender as string).toUpperCase();
    const data = dataOf<{ patients: Ids }>(
      await gw.query(
        `query($identifier: String, $birthDate: String) { patients(filter: { identifier: $identifier, birthDate: $birthDate, gender: ${gender} }, first: 5) { totalCount edges { node { source { recordId } } } } }`,
        {
          identifier: `${identifier.system}|${identifier.value}`,
          birthDate,
        },
      ),
    );
    expect(sent('Patient', 'identifier')).toEqual([`${identifier.system}|${identifier.value}`]);
    expect(sent('Patient', 'birthdate')).toEqual([`ge${birthDate}`, `le${birthDate}`]);
    expect(sent('Patient', 'gender')).toEqual([patient!.gender]);
    expect(sent('Patient', '_count')).toEqual(['6']);
    expect(ids(data.patients)).toEqual([patient!.id]);
    expect(data.patients.totalCount).toBe(1);
  });

  it('name, with the peer’s own answer as the expectation', async () => {
    const [patient] = (await searchFhir('Patient', { _count: '1', _sort: '-family' })).resources;
    const family = (patient!.name as { family: string }[])[0]!.family;
    const data = dataOf<{ patients: Ids }>(
      await gw.query(
        'query($name: String) { patients(filter: { name: $name }, first: 50) { totalCount edges { node { source { recordId } } } } }',
        { name: family },
      ),
    );
    expect(sent('Patient', 'name')).toEqual([family]);
    const expected = await searchAll('Patient', { name: family });
    expect([...ids(data.patients)].sort()).toEqual(expected.map((p) => p.id).sort());
    expect(ids(data.patients)).toContain(patient!.id);
  });

  it('a birth-year range', async () => {
    const data = dataOf<{ patients: Ids }>(
      await gw.query(
        '{ patients(filter: { born: { from: "1950", to: "1969-12" } }, first: 100) { totalCount edges { node { source { recordId } } } } }',
      ),
    );
    expect(sent('Patient', 'birthdate')).toEqual(['ge1950', 'le1969-12']);
    const expected = await searchAll('Patient', 'birthdate=ge1950&birthdate=le1969-12');
    expect([...ids(data.patients)].sort()).toEqual(expected.map((p) => p.id).sort());
  });
});
