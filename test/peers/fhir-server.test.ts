/// <reference types="jest" />
// tsconfig.build.json compiles test/peers (with node types only); this keeps the test compiling there.
import type { FhirServer } from './fhir-server';
import { startFhirServer } from './fhir-server';

interface Entry {
  fullUrl?: string;
  resource: { resourceType: string; id: string; [key: string]: unknown };
  search?: { mode?: string };
}
interface SearchBundle {
  resourceType: string;
  total?: number;
  entry?: Entry[];
  link?: { relation: string; url: string }[];
}

let server: FhirServer;

beforeAll(async () => {
  server = await startFhirServer({ port: 0, demo: 6, seed: 3 });
}, 60_000);

afterAll(async () => {
  await server.close();
});

async function get<T = SearchBundle>(path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(path.startsWith('http') ? path : `${server.url}/${path}`);
  return { status: res.status, body: (await res.json()) as T };
}

async function patientIds(): Promise<string[]> {
  const { body } = await get('Patient?_count=100');
  return (body.entry ?? []).map((e) => e.resource.id);
}

function subjectOf(entry: Entry): string {
  return (entry.resource.subject as { reference: string }).reference;
}

describe('the FHIR test peer on generated data', () => {
  it('loads every generated patient, and each shared provider once', async () => {
    expect(server.patients).toBe(6);
    const { body } = await get('Organization?_summary=count');
    expect(body.total).toBeLessThanOrEqual(8);
  });

  it('declares resource types and their search parameters in its CapabilityStatement', async () => {
    const { body } = await get<{ rest: { resource: { type: string; searchParam: { name: string }[]; searchRevInclude: string[] }[] }[] }>('metadata');
    const observation = body.rest[0]?.resource.find((r) => r.type === 'Observation');
    expect(observation?.searchParam.map((p) => p.name)).toEqual(expect.arrayContaining(['patient', 'code', 'date', '_id']));
    const patient = body.rest[0]?.resource.find((r) => r.type === 'Patient');
    expect(patient?.searchRevInclude).toContain('Encounter:patient');
  });

  it('reads a patient by id and answers 404 with an OperationOutcome for an unknown id', async () => {
    const [id] = await patientIds();
    const found = await get<{ resourceType: string; id: string }>(`Patient/${id}`);
    expect(found.body).toMatchObject({ resourceType: 'Patient', id });
    const missing = await get<{ resourceType: string }>('Patient/does-not-exist');
    expect(missing.status).toBe(404);
    expect(missing.body.resourceType).toBe('OperationOutcome');
  });

  it('finds a patient by MRN', async () => {
    const { body } = await get('Patient?identifier=urn:healthgraph:demo:mrn|HG3-00002');
    expect(body.total).toBe(1);
  });

  it('turns urn:uuid references into Type/id references that resolve', async () => {
    const { body } = await get('Encounter?_count=1');
    const encounter = body.entry?.[0]?.resource as unknown as { subject: { reference: string }; serviceProvider: { reference: string } };
    expect(encounter.subject.reference).toMatch(/^Patient\/[0-9a-f-]{36}$/);
    const provider = await get<{ resourceType: string }>(encounter.serviceProvider.reference);
    expect(provider.body.resourceType).toBe('Organization');
  });

  it('pages through a search with absolute next links until every match is seen once', async () => {
    const [id] = await patientIds();
    let page = await get(`Observation?patient=${id}&_count=7`);
    const total = page.body.total ?? 0;
    const seen: string[] = [];
    for (;;) {
      seen.push(...(page.body.entry ?? []).map((e) => e.resource.id));
      const next = page.body.link?.find((l) => l.relation === 'next')?.url;
      if (!next) {
        break;
      }
      expect(next.startsWith(`${server.url}/Observation?`)).toBe(true);
      page = await get(next);
    }
    expect(total).toBeGreaterThan(7);
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
  });

  it('returns several patients for one _id search with comma-separated ids', async () => {
    const ids = (await patientIds()).slice(0, 3);
    const { body } = await get(`Patient?_id=${ids.join(',')}`);
    expect((body.entry ?? []).map((e) => e.resource.id).sort()).toEqual([...ids].sort());
  });

  it('returns exactly the conditions of several patients for one patient=a,b search', async () => {
    const ids = (await patientIds()).slice(0, 3);
    const batched = await get(`Condition?patient=${ids.join(',')}&_count=1000`);
    let separately = 0;
    for (const id of ids) {
      separately += (await get(`Condition?patient=Patient/${id}&_count=1000`)).body.total ?? 0;
    }
    expect(batched.body.total).toBe(separately);
    for (const entry of batched.body.entry ?? []) {
      expect(ids.map((id) => `Patient/${id}`)).toContain(subjectOf(entry));
    }
  });

  it('sorts by date, newest first', async () => {
    const [id] = await patientIds();
    const { body } = await get(`Encounter?patient=${id}&_sort=-date&_count=100`);
    const starts = (body.entry ?? []).map((e) => (e.resource.period as { start: string }).start);
    expect(starts.length).toBeGreaterThan(2);
    const instants = starts.map((s) => Date.parse(s));
    expect([...instants].sort((a, b) => b - a)).toEqual(instants);
  });

  it('includes referenced and referencing resources with _include and _revinclude', async () => {
    const [id] = await patientIds();
    const forward = await get(`Encounter?patient=${id}&_count=2&_include=Encounter:service-provider`);
    const included = (forward.body.entry ?? []).filter((e) => e.search?.mode === 'include');
    expect(included.length).toBeGreaterThan(0);
    expect(included.every((e) => e.resource.resourceType === 'Organization')).toBe(true);
    const reverse = await get(`Patient?_id=${id}&_revinclude=Encounter:patient`);
    const encounters = (reverse.body.entry ?? []).filter((e) => e.resource.resourceType === 'Encounter');
    expect(encounters.length).toBeGreaterThanOrEqual(3);
  });

  it('rejects an unknown search parameter and an unknown resource type', async () => {
    expect((await get('Patient?shoe-size=42')).status).toBe(400);
    expect((await get('Spaceship?_count=1')).status).toBe(404);
  });

  it('answers FHIR GraphQL queries on $graphql', async () => {
    const [id] = await patientIds();
    const query = `{ Patient(id: "${id}") { id ConditionList(_reference: patient) { code { text } } } }`;
    const res = await fetch(`${server.url}/$graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    const body = (await res.json()) as { data: { Patient: { id: string; ConditionList: unknown[] } } };
    expect(res.status).toBe(200);
    expect(body.data.Patient.id).toBe(id);
    const conditions = await get(`Condition?patient=${id}&_count=1000`);
    expect(body.data.Patient.ConditionList).toHaveLength(conditions.body.total ?? -1);
  });
});
