/**
 * Every example query shown in the playground (docs/examples) runs without errors against the
 * gateway over the FHIR peer, with the variables it ships with.
 */
import { join } from 'node:path';
import { loadExamples } from '../../src/server/playground';
import { fhirSource, fhirUrl, searchFhir, startGateway, type TestGateway } from '../support/services';

const examples = loadExamples(join(__dirname, '..', '..', 'docs', 'examples'));
let gw: TestGateway;

beforeAll(async () => {
  gw = await startGateway([fhirSource('ehr', fhirUrl())]);
});

afterAll(async () => {
  await gw?.close();
});

describe('the example queries in docs/examples', () => {
  it('are there', () => {
    expect(examples.length).toBeGreaterThanOrEqual(6);
  });

  it.each(examples.map((e) => [e.name, e] as const))('"%s" runs without errors and finds records', async (_name, example) => {
    const result = await gw.query(example.query, example.variables);
    expect(result.body.errors).toBeUndefined();
    expect(result.status).toBe(200);
    expect(result.body.data).toBeTruthy();
    // every example reads at least one record (or source) from the peer
    expect(JSON.stringify(result.body.data)).toMatch(/"id":"[^"]+"/);
  });

  it('the identifier example finds exactly the patient the peer finds', async () => {
    const example = examples.find((e) => e.name.startsWith('Look up a patient by identifier'))!;
    const { identifier, birthDate } = example.variables as { identifier: string; birthDate: string };
    const { total } = await searchFhir('Patient', { identifier, birthdate: birthDate, _total: 'accurate' });
    const result = await gw.query<{ data: { patients: { totalCount: number } } }>(example.query, example.variables);
    expect(total).toBe(1);
    expect(result.body.data.patients.totalCount).toBe(1);
  });
});
