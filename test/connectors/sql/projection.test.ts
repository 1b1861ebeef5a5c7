/**
 * Projection: a list asks its SQL source only for the elements its nodes are read for (plus those
 * the gateway reads itself), in PostgreSQL, MariaDB and SQLite. The answer is the one whole
 * records give; records read by reference later in the same query are still whole; a selection
 * the gateway cannot see through (`fhir`) gets whole records.
 */
import type { SqlConnector, StatementEvent } from '../../../connectors/sql/connector';
import { encodeId } from '../../../src/ids';
import { dataOf, startGateway, type TestGateway } from '../../support/services';
import { describeSql, openSql, SQL_DBS, sqlSource } from '../../support/sql';

type Json = Record<string, unknown>;
type Edges<T> = { edges: { node: T }[] };

for (const db of SQL_DBS) {
  describeSql(db, 'omop', `projection over OMOP CDM in ${db}`, () => {
    let gateway: TestGateway;
    const statements: StatementEvent[] = [];
    beforeAll(async () => {
      gateway = await startGateway([{ id: 'research', kind: 'sql', mapping: 'omop', ...sqlSource(db, 'omop') }]);
      (gateway.gateway.registry.get('research') as SqlConnector).onStatement = (e) => statements.push(e);
    });
    afterAll(async () => {
      await gateway?.close();
    });
    const run = async <T>(query: string, variables?: Json): Promise<{ data: T; sql: StatementEvent[] }> => {
      statements.length = 0;
      const data = dataOf<T>(await gateway.query(query, variables));
      return { data, sql: [...statements] };
    };
    const of = (sql: StatementEvent[], operation: string): string => sql.find((s) => s.operation.startsWith(operation))?.sql ?? '';

    test('a list of visits read for their period selects neither their concept look-up nor their provider, and answers as whole records do', async () => {
      const list = (extra: string): string => `{ patients(first: 5) { edges { node { id encounters(first: 10) { edges { node { id period { start end } ${extra} } } } } } } }`;
      const projected = await run<{ patients: Edges<{ id: string; encounters: Edges<Json> }> }>(list(''));
      const whole = await run<{ patients: Edges<{ id: string; encounters: Edges<Json> }> }>(list('fhir'));
      const narrow = of(projected.sql, 'SELECT Encounter');
      const wide = of(whole.sql, 'SELECT Encounter');
      expect(wide).toMatch(/JOIN \S*concept/);
      expect(wide).toMatch(/provider_id/);
      expect(narrow).toMatch(/visit_start_date/);
      expect(narrow).not.toMatch(/JOIN \S*concept/);
      expect(narrow).not.toMatch(/provider_id|care_site_id/);
      // Same edges and values; `fhir` (the whole resource) is what the wide query adds.
      for (const edge of whole.data.patients.edges) for (const e of edge.node.encounters.edges) delete e.node.fhir;
      expect(projected.data).toEqual(whole.data);
      expect(projected.data.patients.edges.some((e) => e.node.encounters.edges.length > 0)).toBe(true);
    });

    test("codes read without their texts select no concept name; a coding's display or a code's text brings it back, as whole records have it", async () => {
      type Coded = { id: string; code: { coding: Json[]; text?: string } | null; fhir?: { code?: { coding: Json[]; text?: string } } };
      type Answer = { patients: Edges<{ conditions: Edges<Coded> }> };
      const list = (selection: string): string => `{ patients(first: 10) { edges { node { conditions(first: 20) { edges { node { id ${selection} } } } } } } }`;
      const codesOnly = await run<Answer>(list('code { coding { system code } }'));
      const withDisplay = await run<Answer>(list('code { coding { system code display } }'));
      const withText = await run<Answer>(list('... on Condition { code { text } }'));
      const whole = await run<Answer>(list('code { coding { system code display } text } fhir'));
      const name = /concept_name/;
      expect(of(codesOnly.sql, 'SELECT Condition')).toMatch(/concept_code/);
      expect(of(codesOnly.sql, 'SELECT Condition')).not.toMatch(name);
      expect(of(withDisplay.sql, 'SELECT Condition')).toMatch(name);
      expect(of(withText.sql, 'SELECT Condition')).toMatch(name);
      const nodes = (a: Answer): Coded[] => a.patients.edges.flatMap((e) => e.node.conditions.edges.map((c) => c.node));
      const wholeNodes = nodes(whole.data);
      expect(wholeNodes.length).toBeGreaterThan(0);
      expect(wholeNodes.every((n) => typeof n.code?.text === 'string' && n.code.coding.some((c) => typeof c.display === 'string'))).toBe(true);
      // Each answer is the whole record's, cut to what it asked.
      expect(nodes(codesOnly.data)).toEqual(wholeNodes.map((n) => ({ id: n.id, code: { coding: n.fhir!.code!.coding.map((c) => ({ system: c.system, code: c.code })) } })));
      expect(nodes(withDisplay.data)).toEqual(wholeNodes.map((n) => ({ id: n.id, code: { coding: n.fhir!.code!.coding.map((c) => ({ system: c.system, code: c.code, display: c.display ?? null })) } })));
      expect(nodes(withText.data)).toEqual(wholeNodes.map((n) => ({ id: n.id, code: { text: n.fhir!.code!.text } })));
    });

    test('patients read only for their id select no element column at all', async () => {
      const { data, sql } = await run<{ patients: Edges<{ id: string }> }>('{ patients(first: 3) { edges { node { id } } } }');
      expect(data.patients.edges).toHaveLength(3);
      expect(of(sql, 'SELECT Patient')).not.toMatch(/birth_datetime|gender_concept_id|address_1/);
    });

    test('a visit first listed for its id alone is whole when a condition then follows its reference to it', async () => {
      const raw = await openSql(db, 'omop');
      // A condition with a visit whose end date is set, and the visit's dates as the database holds them.
      const row = (
        await raw.query<{ person: number; visit: number; concept: number; start: unknown; end: unknown }>(
          `SELECT co.person_id AS person, v.visit_occurrence_id AS visit, v.visit_concept_id AS concept, v.visit_start_date AS start, v.visit_end_date AS end
             FROM condition_occurrence co JOIN visit_occurrence v ON v.visit_occurrence_id = co.visit_occurrence_id
            WHERE v.visit_end_date IS NOT NULL ORDER BY co.person_id, co.condition_occurrence_id LIMIT 1`,
        )
      )[0]!;
      await raw.close();
      const day = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v)).slice(0, 10);
      type Answer = {
        patient: { encounters: Edges<{ id: string }>; conditions: Edges<{ encounter: { source: { recordId: string }; period: { start: string; end: string }; type: { coding: { code: string }[] }[] } | null }> };
      };
      const { data } = await run<Answer>(
        `query ($id: ID!) { patient(id: $id) {
            encounters(first: 200) { edges { node { id } } }
            conditions(first: 200) { edges { node { encounter { source { recordId } period { start end } type { coding { code } } } } } } } }`,
        { id: encodeId('research', 'Patient', String(row.person)) },
      );
      const patient = data.patient;
      expect(patient.encounters.edges.length).toBeGreaterThan(0);
      const visit = patient.conditions.edges.map((e) => e.node.encounter).find((e) => e?.source.recordId === String(row.visit));
      expect(visit?.period.start.slice(0, 10)).toBe(day(row.start));
      expect(visit?.period.end.slice(0, 10)).toBe(day(row.end));
      // `type` (a concept look-up) is no element the list of visits asked for.
      expect(visit?.type.flatMap((t) => t.coding.map((c) => c.code))).toContain(String(row.concept));
    });
  });
}
