/**
 * Consent over an OMOP source, through the whole gateway over HTTP: lists the policy filters after
 * the fetch still ask SQL only for what the query and the policy read (projection), are still one
 * statement cut per patient, and withhold what they must. The test CDM holds one condition coded
 * "Misuses drugs" (SNOMED CT 361055000), a substance-use code that 42 CFR Part 2 withholds without
 * an explicit consent; the development caller's purpose is treatment, so nothing else is withheld.
 */
import type { SqlConnector, StatementEvent } from '../../../connectors/sql/connector';
import { tryDecodeId } from '../../../src/ids';
import { dataOf, startGateway, type TestGateway } from '../../support/services';
import { describeSql, openSql, SQL_DBS, sqlSource, type SqlConnection } from '../../support/sql';

const SUD_CODE = '361055000';

type Page = { edges: { node: { id: string } }[] };

for (const db of SQL_DBS) {
  describeSql(db, 'omop', `consent over an OMOP source, ${db}`, () => {
    let withConsent: TestGateway;
    let without: TestGateway;
    let raw: SqlConnection;
    const statements: StatementEvent[] = [];

    beforeAll(async () => {
      const source = { id: 'research', kind: 'sql', mapping: 'omop', ...sqlSource(db, 'omop', { readOnly: true }) };
      withConsent = await startGateway({ sources: [source], consent: { enabled: true } });
      without = await startGateway({ sources: [source] });
      (withConsent.gateway.registry.get('research') as SqlConnector).onStatement = (e) => statements.push(e);
      raw = await openSql(db, 'omop');
    });
    afterAll(async () => {
      await withConsent?.close();
      await without?.close();
      await raw?.close();
    });

    test('the substance-use condition is withheld from a list that reads only ids; the statement selects the code, not every column, and is cut per patient', async () => {
      const sud = await raw.query<{ id: unknown; person: unknown }>(
        `SELECT o.condition_occurrence_id AS id, o.person_id AS person FROM condition_occurrence o JOIN concept c ON c.concept_id = o.condition_concept_id
          WHERE c.vocabulary_id = 'SNOMED' AND c.concept_code = '${SUD_CODE}'`,
      );
      expect(sud).toHaveLength(1);
      const query = '{ patients(first: 50) { edges { node { id conditions(first: 200) { edges { node { id } } } } } } }';
      statements.length = 0;
      const guarded = dataOf<{ patients: { edges: { node: { id: string; conditions: Page } }[] } }>(await withConsent.query(query));
      const open = dataOf<{ patients: { edges: { node: { id: string; conditions: Page } }[] } }>(await without.query(query));
      const idsOf = (data: typeof guarded): Map<string, string[]> =>
        new Map(data.patients.edges.map((e) => [tryDecodeId(e.node.id)!.id, e.node.conditions.edges.map((c) => tryDecodeId(c.node.id)!.id)]));
      const shown = idsOf(guarded);
      const all = idsOf(open);
      const person = String(sud[0]!.person);
      const withheld = String(sud[0]!.id);
      expect(all.get(person)).toContain(withheld);
      // Exactly the one condition is gone: nothing else withheld, nothing else lost.
      expect(shown.get(person)).toEqual(all.get(person)!.filter((id) => id !== withheld));
      for (const [patient, ids] of all) if (patient !== person) expect(shown.get(patient)).toEqual(ids);
      const conditions = statements.filter((s) => s.operation.startsWith('SELECT Condition'));
      expect(conditions.map((s) => s.operation)).toEqual(['SELECT Condition by patient, first 202 per patient']);
      const sql = conditions[0]!.sql;
      // The code (for the labels) and the onset (for Consent periods) are read; what neither the
      // query nor the policy reads is not (the encounter, the recorder, the end date).
      expect(sql).toMatch(/condition_concept_id/);
      expect(sql).toMatch(/condition_start_date/);
      expect(sql).not.toMatch(/visit_occurrence_id|provider_id|condition_end_date/);
      // Labels need codes, not their names.
      expect(sql).not.toMatch(/concept_name/);
    });
  });
}
