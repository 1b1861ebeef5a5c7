/**
 * Keyset paging over SQL, in PostgreSQL, MariaDB and SQLite: a cursor carries the position of the
 * last record of each part, and the next page is `WHERE (sort values, id) > position`, not an
 * OFFSET. Paging visits every record once in the order of one big page, for a one-table type, a
 * two-table type (OMOP measurements and observations) and the patient list; a row deleted behind
 * the cursor does not shift the next page (it would under OFFSET); a tampered position is a
 * BAD_USER_INPUT error.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { SqlConnector, StatementEvent } from '../../../connectors/sql/connector';
import { encodeId } from '../../../src/ids';
import { dataOf, errorCodes, startGateway, type TestGateway } from '../../support/services';
import { describeSql, openSql, SQL_DBS, sqlSource, sqlUrl } from '../../support/sql';

type Json = Record<string, unknown>;
type Page = { edges: { cursor: string; node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };

/** Every id of a list, paging `size` at a time from the start; also the cursors the pages ended with. */
async function pageThrough(gateway: TestGateway, query: string, pick: (data: Json) => Page, size: number, variables: Json = {}): Promise<{ ids: string[]; cursors: string[] }> {
  const ids: string[] = [];
  const cursors: string[] = [];
  let after: string | null = null;
  for (let i = 0; i < 500; i++) {
    const page = pick(dataOf(await gateway.query(query, { ...variables, first: size, after })));
    ids.push(...page.edges.map((e) => e.node.id));
    if (!page.pageInfo.hasNextPage) return { ids, cursors };
    after = page.pageInfo.endCursor;
    cursors.push(after!);
  }
  throw new Error('paging did not end');
}

const decode = (cursor: string): { o: Record<string, number>; p?: Record<string, unknown[]> } => JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));

for (const db of SQL_DBS) {
  describeSql(db, 'omop', `keyset paging over OMOP CDM in ${db}`, () => {
    let gateway: TestGateway;
    const statements: StatementEvent[] = [];
    let busiest: { person: number; visits: number };
    let observed: { person: number; observations: number };
    beforeAll(async () => {
      gateway = await startGateway([{ id: 'research', kind: 'sql', mapping: 'omop', ...sqlSource(db, 'omop') }]);
      (gateway.gateway.registry.get('research') as SqlConnector).onStatement = (e) => statements.push(e);
      const raw = await openSql(db, 'omop');
      const row = (
        await raw.query<{ person: number; visits: number }>('SELECT person_id AS person, COUNT(*) AS visits FROM visit_occurrence GROUP BY person_id ORDER BY COUNT(*) DESC, person_id LIMIT 1')
      )[0]!;
      // A patient with both kinds, and fewer than one page of 1000 in all.
      const both = (
        await raw.query<{ person: number; n: number }>(
          `SELECT person_id AS person, COUNT(*) AS n FROM (SELECT person_id FROM measurement UNION ALL SELECT person_id FROM observation) x
            WHERE person_id IN (SELECT person_id FROM observation) AND person_id IN (SELECT person_id FROM measurement)
            GROUP BY person_id HAVING COUNT(*) BETWEEN 12 AND 1000 ORDER BY COUNT(*) DESC, person_id LIMIT 1`,
        )
      )[0]!;
      await raw.close();
      busiest = { person: Number(row.person), visits: Number(row.visits) };
      observed = { person: Number(both.person), observations: Number(both.n) };
    });
    afterAll(async () => {
      await gateway?.close();
    });

    const visitsQuery = `query ($id: ID!, $first: Int, $after: String) { patient(id: $id) { encounters(first: $first, after: $after) {
        edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } }`;

    test("a patient's visits, 7 at a time: every visit once, in the order of one page, each later page after a position and without OFFSET", async () => {
      const id = encodeId('research', 'Patient', String(busiest.person));
      const whole = dataOf<{ patient: { encounters: Page } }>(await gateway.query(visitsQuery, { id, first: 1000 })).patient.encounters;
      expect(whole.edges).toHaveLength(busiest.visits);
      statements.length = 0;
      const paged = await pageThrough(gateway, visitsQuery, (d) => (d as { patient: { encounters: Page } }).patient.encounters, 7, { id });
      expect(paged.ids).toEqual(whole.edges.map((e) => e.node.id));
      const later = statements.filter((s) => s.operation.startsWith('SELECT Encounter'));
      expect(later.filter((s) => s.operation.endsWith('after a position'))).toHaveLength(paged.cursors.length);
      for (const s of later) expect(s.sql).not.toMatch(/OFFSET/i);
      // The cursor holds the last visit's position: its date and its id.
      const last = decode(paged.cursors[0]!);
      expect(last.o['research:Encounter']).toBe(7);
      expect(last.p?.['research:Encounter']).toHaveLength(2);
    });

    test("a first page fetched for many patients at once (ranked per patient) ends in a position the next page starts after", async () => {
      type Nested = { patients: { edges: { node: { source: { recordId: string }; encounters: Page } }[] } };
      statements.length = 0;
      const lists = dataOf<Nested>(
        await gateway.query('{ patients(first: 10) { edges { node { source { recordId } encounters(first: 3) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } } } }'),
      );
      expect(statements.some((s) => /first \d+ per patient/.test(s.operation))).toBe(true);
      const busy = lists.patients.edges.find((e) => e.node.encounters.pageInfo.hasNextPage)!.node;
      const id = encodeId('research', 'Patient', busy.source.recordId);
      const whole = dataOf<{ patient: { encounters: Page } }>(await gateway.query(visitsQuery, { id, first: 1000 })).patient.encounters.edges.map((e) => e.node.id);
      expect(busy.encounters.edges.map((e) => e.node.id)).toEqual(whole.slice(0, 3));
      expect(decode(busy.encounters.pageInfo.endCursor!).p?.['research:Encounter']).toHaveLength(2);
      const next = dataOf<{ patient: { encounters: Page } }>(await gateway.query(visitsQuery, { id, first: 3, after: busy.encounters.pageInfo.endCursor })).patient.encounters;
      expect(next.edges.map((e) => e.node.id)).toEqual(whole.slice(3, 6));
    });

    test("a two-table type (measurements and observations), 5 at a time: every record once, in the order of one page", async () => {
      const query = `query ($id: ID!, $first: Int, $after: String) { patient(id: $id) { observations(first: $first, after: $after) {
          edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } }`;
      const id = encodeId('research', 'Patient', String(observed.person));
      const whole = dataOf<{ patient: { observations: Page } }>(await gateway.query(query, { id, first: 1000 })).patient.observations;
      expect(whole.edges).toHaveLength(observed.observations);
      const paged = await pageThrough(gateway, query, (d) => (d as { patient: { observations: Page } }).patient.observations, 5, { id });
      expect(paged.ids).toEqual(whole.edges.map((e) => e.node.id));
      expect(new Set(paged.ids).size).toBe(paged.ids.length);
      // The position names the table (0 measurement, 1 observation) before the id.
      expect(decode(paged.cursors[0]!).p?.['research:Observation']).toHaveLength(3);
    });

    test('patients by birth date, newest first, 4 at a time: the order of one page', async () => {
      const query = `query ($first: Int, $after: String) { patients(first: $first, after: $after, orderBy: { field: BIRTH_DATE, direction: DESC }) {
          edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`;
      const whole = dataOf<{ patients: Page }>(await gateway.query(query, { first: 1000 })).patients;
      const paged = await pageThrough(gateway, query, (d) => (d as { patients: Page }).patients, 4);
      expect(paged.ids).toEqual(whole.edges.map((e) => e.node.id));
      expect(paged.ids.length).toBeGreaterThan(4);
    });

    test('a cursor whose position was tampered with (shape, types, an id that is no integer) is BAD_USER_INPUT', async () => {
      const id = encodeId('research', 'Patient', String(busiest.person));
      const first = dataOf<{ patient: { encounters: Page } }>(await gateway.query(visitsQuery, { id, first: 3 })).patient.encounters;
      const cursor = decode(first.pageInfo.endCursor!) as Json & { p: Record<string, unknown[]> };
      for (const position of [[1], ['2011-01-01', 5, 6], [{ nested: true }, 5], ['2011-01-01', null], ['2011-01-01', 'abc'], ['2011-01-01', 1.5], 'not a list']) {
        const tampered = Buffer.from(JSON.stringify({ ...cursor, p: { 'research:Encounter': position } })).toString('base64url');
        const result = await gateway.query(visitsQuery, { id, first: 3, after: tampered });
        expect(errorCodes(result.body)).toEqual(['BAD_USER_INPUT']);
      }
    });

    test('a position whose sort value is of the wrong kind (text where the column holds dates) is BAD_USER_INPUT where the database refuses it, never a source failure', async () => {
      const id = encodeId('research', 'Patient', String(busiest.person));
      const first = dataOf<{ patient: { encounters: Page } }>(await gateway.query(visitsQuery, { id, first: 3 })).patient.encounters;
      const cursor = decode(first.pageInfo.endCursor!) as Json & { p: Record<string, unknown[]> };
      const [, ...rest] = cursor.p['research:Encounter']!;
      const tampered = Buffer.from(JSON.stringify({ ...cursor, p: { 'research:Encounter': ['not a date', ...rest] } })).toString('base64url');
      const result = await gateway.query(visitsQuery, { id, first: 3, after: tampered });
      // PostgreSQL refuses the value; MariaDB and SQLite compare it as text and answer a page.
      if (db === 'postgres') expect(errorCodes(result.body)).toEqual(['BAD_USER_INPUT']);
      else expect(errorCodes(result.body)).toEqual([]);
    });
  });
}

describeSql('sqlite', 'omop', 'keyset paging when rows change between pages (SQLite copy)', () => {
  let gateway: TestGateway;
  let file: string;
  beforeAll(async () => {
    file = join(mkdtempSync(join(tmpdir(), 'hg-keyset-')), 'omop.db');
    copyFileSync(sqlUrl('sqlite', 'omop').replace(/^sqlite:\/\//, ''), file);
    gateway = await startGateway([{ id: 'research', kind: 'sql', mapping: 'omop', url: `sqlite://${file}` }]);
  });
  afterAll(async () => {
    await gateway?.close();
    rmSync(join(file, '..'), { recursive: true, force: true });
  });

  test('a visit deleted behind the cursor does not make the next page skip one', async () => {
    const writer = new Database(file);
    try {
      const person = (writer.prepare('SELECT person_id AS p FROM visit_occurrence GROUP BY person_id ORDER BY COUNT(*) DESC, person_id LIMIT 1').get() as { p: number }).p;
      const id = encodeId('research', 'Patient', String(person));
      const query = `query ($id: ID!, $first: Int, $after: String) { patient(id: $id) { encounters(first: $first, after: $after) {
          edges { node { id source { recordId } } } pageInfo { hasNextPage endCursor } } } }`;
      type Visits = { patient: { encounters: { edges: { node: { id: string; source: { recordId: string } } }[]; pageInfo: { endCursor: string } } } };
      const all = dataOf<Visits>(await gateway.query(query, { id, first: 1000 })).patient.encounters.edges.map((e) => e.node.source.recordId);
      const first = dataOf<Visits>(await gateway.query(query, { id, first: 5 })).patient.encounters;
      expect(first.edges.map((e) => e.node.source.recordId)).toEqual(all.slice(0, 5));
      // The first visit of page one goes away (with what points at it) before page two is asked for.
      const gone = Number(all[0]);
      for (const table of ['condition_occurrence', 'drug_exposure', 'procedure_occurrence', 'measurement', 'observation']) {
        writer.prepare(`UPDATE ${table} SET visit_occurrence_id = NULL WHERE visit_occurrence_id = ?`).run(gone);
      }
      writer.prepare('DELETE FROM visit_occurrence WHERE visit_occurrence_id = ?').run(gone);
      const second = dataOf<Visits>(await gateway.query(query, { id, first: 5, after: first.pageInfo.endCursor })).patient.encounters;
      expect(second.edges.map((e) => e.node.source.recordId)).toEqual(all.slice(5, 10));
    } finally {
      writer.close();
    }
  });
});
