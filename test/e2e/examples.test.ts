/**
 * Every example query shown in the playground (docs/examples) runs without errors against the
 * gateway over the FHIR peer, with the variables it ships with.
 */
import { join } from 'node:path';
import { loadExamples } from '../../src/server/playground';
import { fhirSource, fhirUrl, peerHasSynthea, searchFhir, startGateway, type TestGateway } from '../support/services';
import { describeSql, openSql, sqlSource } from '../support/sql';

const examples = loadExamples(join(__dirname, '..', '..', 'docs', 'examples'));
/** Examples whose variables name Synthea people (an SSN, a name): they need the Synthea test data. */
const SYNTHEA_EXAMPLES = ['Look up a patient by identifier', 'Find patients by name'];
const needsSynthea = (name: string): boolean => SYNTHEA_EXAMPLES.some((prefix) => name.startsWith(prefix));
const runnable = examples.filter((e) => peerHasSynthea || !needsSynthea(e.name));
const withSynthea = peerHasSynthea ? it : it.skip;
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

  it.each(runnable.map((e) => [e.name, e] as const))('"%s" runs without errors and finds records', async (_name, example) => {
    const result = await gw.query(example.query, example.variables);
    expect(result.body.errors).toBeUndefined();
    expect(result.status).toBe(200);
    expect(result.body.data).toBeTruthy();
    // every example reads at least one record (or source) from the peer
    expect(JSON.stringify(result.body.data)).toMatch(/"id":"[^"]+"/);
  });

  withSynthea('the identifier example finds exactly the patient the peer finds', async () => {
    const example = examples.find((e) => e.name.startsWith('Look up a patient by identifier'))!;
    const { identifier, birthDate } = example.variables as { identifier: string; birthDate: string };
    const { total } = await searchFhir('Patient', { identifier, birthdate: birthDate, _total: 'accurate' });
    const result = await gw.query<{ data: { patients: { totalCount: number } } }>(example.query, example.variables);
    expect(total).toBe(1);
    expect(result.body.data.patients.totalCount).toBe(1);
  });
});

describeSql('sqlite', 'claims', 'the claims-warehouse example over the claims test database', () => {
  it('reads the member its variables name, with claims and EOBs from the `claims` source, totals as in the database', async () => {
    const example = examples.find((e) => e.name.startsWith('Claims from the claims warehouse'))!;
    const member = String((example.variables as { member: string }).member.split('|')[1]);
    const raw = await openSql('sqlite', 'claims');
    const claims = Number(await raw.scalar('SELECT COUNT(*) FROM claim_header WHERE member_id = ?', [member]));
    const eobs = Number(await raw.scalar('SELECT COUNT(*) FROM eob e JOIN claim_header h ON h.claim_id = e.claim_id WHERE h.member_id = ?', [member]));
    await raw.close();
    const gateway = await startGateway([
      fhirSource('ehr', fhirUrl()),
      { id: 'claims', kind: 'sql', mapping: 'claims', ...sqlSource('sqlite', 'claims') },
    ]);
    try {
      const result = await gateway.query<{
        errors?: unknown[];
        data: {
          sources: { id: string; status: string }[];
          patients: { edges: { node: { source: { id: string }; claims: { totalCount: number; edges: { node: { source: { id: string } } }[] }; explanationOfBenefits: { totalCount: number } } }[] };
        };
      }>(example.query, example.variables);
      expect(result.body.errors).toBeUndefined();
      const { sources, patients } = result.body.data;
      expect(sources.map((s) => [s.id, s.status])).toEqual([['ehr', 'UP'], ['claims', 'UP']]);
      expect(patients.edges).toHaveLength(1);
      const node = patients.edges[0]!.node;
      expect(node.source.id).toBe('claims');
      expect(claims).toBeGreaterThan(0);
      expect(node.claims.totalCount).toBe(claims);
      expect(node.explanationOfBenefits.totalCount).toBe(eobs);
      expect(new Set(node.claims.edges.map((e) => e.node.source.id))).toEqual(new Set(['claims']));
    } finally {
      await gateway.close();
    }
  });
});
