/**
 * Token scopes over an OMOP source, through the whole gateway over HTTP with real signed tokens: a
 * grant narrowed by category (`system/Encounter.rs?category=…`) reads only visits of that class —
 * pushed down to SQL and checked again on every record, so the list asks for the class column —
 * while a plain grant's list of visits read for their dates selects no class column at all
 * (consent evaluation, which reads the class itself, is off here).
 */
import type { SqlConnector, StatementEvent } from '../../../connectors/sql/connector';
import { tryDecodeId } from '../../../src/ids';
import { makeKeys, mint, serveJwks, type Keys } from '../../security/fixtures';
import { dataOf, startGateway, type TestGateway } from '../../support/services';
import { describeSql, openSql, SQL_DBS, sqlSource } from '../../support/sql';

const EMERGENCY = 'http://terminology.hl7.org/CodeSystem/v3-ActCode|EMER';
/** The OMOP visit concepts the preset maps to that class. */
const EMERGENCY_CONCEPTS = [9203, 262];

type Visits = { patients: { edges: { node: { id: string; encounters: { edges: { node: { id: string; period: { start: string } | null } }[] } } }[] } };

for (const db of SQL_DBS) {
  describeSql(db, 'omop', `scopes over an OMOP source, ${db}`, () => {
    let gateway: TestGateway;
    let keys: Keys;
    let jwks: Awaited<ReturnType<typeof serveJwks>>;
    const statements: StatementEvent[] = [];
    /** Each patient's visits as the database holds them: id and concept. */
    const visitsOf = new Map<string, { id: string; concept: number }[]>();

    beforeAll(async () => {
      keys = await makeKeys('k1', 'ES384');
      jwks = await serveJwks([keys.publicJwk]);
      gateway = await startGateway({
        sources: [{ id: 'research', kind: 'sql', mapping: 'omop', ...sqlSource(db, 'omop', { readOnly: true }) }],
        limits: { maxCost: 1_000_000 },
        // Consent evaluation (on by default with tokens) reads each visit's class and type itself; this is about scopes alone.
        consent: { enabled: false },
        auth: {
          mode: 'jwt',
          issuer: 'https://auth.example.test',
          audience: 'https://healthgraph.example.test',
          jwks: jwks.url,
          clients: [
            { id: 'registry-app', scopes: ['system/Patient.rs', 'system/Encounter.rs'] },
            { id: 'er-app', scopes: ['system/Patient.rs', `system/Encounter.rs?category=${EMERGENCY}`] },
          ],
        },
      });
      (gateway.gateway.registry.get('research') as SqlConnector).onStatement = (e) => statements.push(e);
      const raw = await openSql(db, 'omop');
      const rows = await raw.query<{ id: unknown; person: unknown; concept: unknown }>('SELECT visit_occurrence_id AS id, person_id AS person, visit_concept_id AS concept FROM visit_occurrence');
      await raw.close();
      for (const row of rows) {
        const list = visitsOf.get(String(row.person)) ?? [];
        list.push({ id: String(row.id), concept: Number(row.concept) });
        visitsOf.set(String(row.person), list);
      }
    });
    afterAll(async () => {
      await gateway?.close();
      await jwks?.close();
    });

    const visitsAs = async (client: string, scope: string): Promise<{ data: Visits; sql: string }> => {
      const token = await mint(keys, { client_id: client, sub: 'svc', scope });
      statements.length = 0;
      const result = await gateway.query(
        '{ patients(first: 50) { edges { node { id encounters(first: 1000) { edges { node { id period { start } } } } } } } }',
        {},
        { authorization: `Bearer ${token}` },
      );
      return { data: dataOf<Visits>(result), sql: statements.find((s) => s.operation.startsWith('SELECT Encounter'))?.sql ?? '' };
    };
    const ids = (data: Visits): Map<string, string[]> =>
      new Map(data.patients.edges.map((e) => [tryDecodeId(e.node.id)!.id, e.node.encounters.edges.map((v) => tryDecodeId(v.node.id)!.id).sort()]));

    test('a plain grant reads every visit, and a list read for dates selects no class column', async () => {
      const { data, sql } = await visitsAs('registry-app', 'system/Patient.rs system/Encounter.rs');
      const got = ids(data);
      expect(got.size).toBeGreaterThan(0);
      for (const [patient, visits] of got) expect(visits).toEqual((visitsOf.get(patient) ?? []).map((v) => v.id).sort());
      expect(sql).toMatch(/visit_start_date/);
      expect(sql).not.toMatch(/visit_concept_id/);
    });

    test('a grant narrowed to emergency visits reads those only: the class is pushed down and read again, so the list selects it', async () => {
      const { data, sql } = await visitsAs('er-app', `system/Patient.rs system/Encounter.rs?category=${EMERGENCY}`);
      const got = ids(data);
      const emergency = [...got.values()].flat();
      // The data holds some emergency visits, and many more of other classes.
      expect(emergency.length).toBeGreaterThan(0);
      expect([...visitsOf.values()].flat().length).toBeGreaterThan(emergency.length * 5);
      for (const [patient, visits] of got) {
        expect(visits).toEqual((visitsOf.get(patient) ?? []).filter((v) => EMERGENCY_CONCEPTS.includes(v.concept)).map((v) => v.id).sort());
      }
      expect(sql).toMatch(/visit_concept_id/);
    });
  });
}
