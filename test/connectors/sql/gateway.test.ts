/**
 * An OMOP database behind the whole gateway, over HTTP: a GraphQL query answered from SQL, a
 * broken SQL source failing alone next to a FHIR source and a working SQL source, and the
 * database sessions refusing writes and long statements.
 */
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SqlConnector } from '../../../connectors/sql/connector';
import { createDriver } from '../../../connectors/sql/dialects';
import { SqlDriverError } from '../../../connectors/sql/dialects/types';
import { encodeId } from '../../../src/ids';
import { dataOf, errorCodes, fhirUrl, startGateway, type TestGateway } from '../../support/services';
import { describeSql, openSql, sqlSource, sqlUrl } from '../../support/sql';

type Json = Record<string, unknown>;

describeSql('sqlite', 'omop', 'an OMOP source behind the gateway', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway([
      { id: 'ehr', kind: 'fhir', url: fhirUrl(), timeoutMs: 2000, retry: { maxAttempts: 1 } },
      { id: 'research', kind: 'sql', mapping: 'omop', ...sqlSource('sqlite', 'omop') },
      { id: 'legacy', kind: 'sql', mapping: 'omop', url: 'postgres://nobody:nothing@127.0.0.1:1/cdm', statementTimeoutMs: 1000 },
    ]);
  });
  afterAll(async () => {
    await gateway?.close();
  });

  test('a GraphQL query over HTTP reads patients, conditions coded in SNOMED CT and visits from SQL', async () => {
    const raw = await openSql('sqlite', 'omop');
    const person = (await raw.query<{ id: number; n: number }>('SELECT person_id AS id, COUNT(*) AS n FROM condition_occurrence GROUP BY person_id ORDER BY COUNT(*) DESC, person_id LIMIT 1'))[0]!;
    const visits = Number(await raw.scalar('SELECT COUNT(*) FROM visit_occurrence WHERE person_id = ?', [person.id]));
    await raw.close();
    const result = await gateway.query(
      `query ($id: ID!) { patient(id: $id) { id gender birthDate source { id kind recordId }
          conditions(first: 5) { totalCount edges { node { code { coding { system code } } onsetDateTime encounter { id period { start } } } } }
          encounters(first: 1) { totalCount } } }`,
      { id: encodeId('research', 'Patient', String(person.id)) },
    );
    const patient = dataOf<{ patient: Json }>(result).patient as {
      source: Json;
      conditions: { totalCount: number; edges: { node: { code: { coding: { system: string }[] }; encounter: Json | null } }[] };
      encounters: { totalCount: number };
    };
    expect(patient.source).toEqual({ id: 'research', kind: 'sql', recordId: String(person.id) });
    expect(patient.conditions.totalCount).toBe(Number(person.n));
    expect(patient.conditions.edges).toHaveLength(5);
    expect(patient.conditions.edges[0]!.node.code.coding.map((c) => c.system)).toContain('http://snomed.info/sct');
    expect(patient.conditions.edges.some((e) => e.node.encounter !== null)).toBe(true);
    expect(patient.encounters.totalCount).toBe(visits);
  });

  test('the example query of docs/sources/sql.md runs against an OMOP source', async () => {
    const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'sources', 'sql.md'), 'utf8');
    const example = /```graphql\n([\s\S]*?)```/.exec(doc)![1]!;
    const only = await startGateway([{ id: 'research', kind: 'sql', mapping: 'omop', ...sqlSource('sqlite', 'omop') }]);
    try {
      const data = dataOf<{ patients: { edges: unknown[] } }>(await only.query(example));
      expect(data.patients.edges.length).toBeGreaterThan(0);
    } finally {
      await only.close();
    }
  });

  test("a list under many patients fetches only each patient's first page from SQL, with the same edges, cursors and pages as when totals are asked", async () => {
    const only = await startGateway([{ id: 'research', kind: 'sql', mapping: 'omop', ...sqlSource('sqlite', 'omop') }]);
    const operations: string[] = [];
    (only.gateway.registry.get('research') as SqlConnector).onStatement = (e) => operations.push(e.operation);
    const query = (total: boolean): string =>
      `{ patients(first: 10) { edges { node { id source { recordId } encounters(first: 2) { ${total ? 'totalCount' : ''} edges { cursor node { id period { start } } } pageInfo { hasNextPage endCursor } } } } } }`;
    type Patients = { patients: { edges: { node: { source: { recordId: string }; encounters: { totalCount?: number; pageInfo: { hasNextPage: boolean } } } }[] } };
    try {
      const cut = dataOf<Patients>(await only.query(query(false)));
      expect(operations).toContain('SELECT Encounter by patient, first 4 per patient'); // the page, one to know a next page exists, one for the part's own hasMore
      operations.length = 0;
      const full = dataOf<Patients>(await only.query(query(true)));
      expect(operations).toContain('SELECT Encounter by patient');
      const raw = await openSql('sqlite', 'omop');
      for (const edge of full.patients.edges) {
        const visits = Number(await raw.scalar('SELECT COUNT(*) FROM visit_occurrence WHERE person_id = ?', [Number(edge.node.source.recordId)]));
        expect(edge.node.encounters.totalCount).toBe(visits);
        expect(edge.node.encounters.pageInfo.hasNextPage).toBe(visits > 2);
        delete edge.node.encounters.totalCount;
      }
      await raw.close();
      expect(full.patients.edges.some((e) => e.node.encounters.pageInfo.hasNextPage)).toBe(true);
      expect(cut).toEqual(full);
    } finally {
      await only.close();
    }
  });

  test('a database that is down fails alone: SOURCE_UNAVAILABLE for it, answers from the FHIR and the working SQL source', async () => {
    const result = await gateway.query('{ patients(first: 100) { totalCount edges { node { source { id } } } } }');
    expect(result.status).toBe(200);
    const codes = errorCodes(result.body);
    expect(codes).toContain('SOURCE_UNAVAILABLE');
    const legacy = result.body.errors!.find((e) => e.extensions?.source === 'legacy');
    expect(legacy?.message).not.toMatch(/ECONNREFUSED|SELECT|127\.0\.0\.1/);
    const data = result.body.data as { patients: { edges: { node: { source: { id: string } } }[] } | null } | null;
    const sources = new Set(data?.patients?.edges.map((e) => e.node.source.id));
    expect(sources.has('research')).toBe(true);
    expect(sources.has('ehr')).toBe(true);
    expect(sources.has('legacy')).toBe(false);
  });
});

describe('database sessions opened by the SQL connector', () => {
  for (const db of ['postgres', 'mariadb', 'sqlite'] as const) {
    describeSql(db, 'omop', `${db}`, () => {
      test('refuse to write', async () => {
        const { url, schema } = sqlSource(db, 'omop');
        const driver = createDriver({ url, schema, poolSize: 1, statementTimeoutMs: 2000 });
        const table = db === 'postgres' ? 'cdm.person' : 'person';
        await expect(driver.query(`DELETE FROM ${table} WHERE person_id = -1`, [])).rejects.toBeInstanceOf(SqlDriverError);
        await driver.close();
      });
      test('cancel a statement that runs past the statement timeout, and answer the next one', async () => {
        const driver = createDriver({ url: sqlUrl(db, 'omop'), poolSize: 1, statementTimeoutMs: 300 });
        // SQLite has no sleep: a recursive count that takes over a second.
        const slow =
          db === 'postgres'
            ? 'SELECT pg_sleep(3)'
            : db === 'mariadb'
              ? 'SELECT SLEEP(3) AS s FROM (SELECT 1) x'
              : 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000000) SELECT COUNT(*) AS s FROM c';
        const started = Date.now();
        const outcome = await driver.query(slow, []).then(
          (rows) => rows,
          (e: unknown) => e,
        );
        expect(Date.now() - started).toBeLessThan(2500);
        if (outcome instanceof SqlDriverError) expect(outcome.failure).toBe('timeout');
        else expect(outcome).toEqual([{ s: 1 }]); // MariaDB may end SLEEP early with 1 instead of an error
        if (db === 'sqlite') expect(outcome).toBeInstanceOf(SqlDriverError);
        await expect(driver.query('SELECT 1 AS ok', [])).resolves.toEqual([{ ok: 1 }]);
        await driver.close();
      });
      if (db === 'postgres') {
        const names = "SELECT name FROM pg_prepared_statements WHERE name LIKE 'hg!_%' ESCAPE '!' ORDER BY name";
        test('prepare a statement once it repeats (one connection: the session lists it), and none when told not to', async () => {
          for (const preparedStatements of [true, false]) {
            const driver = createDriver({ url: sqlUrl(db, 'omop'), poolSize: 1, statementTimeoutMs: 2000, preparedStatements });
            const statement = 'SELECT person_id FROM cdm.person WHERE person_id = ANY($1) ORDER BY person_id';
            const answers = [await driver.query(statement, [[1, 2]]), await driver.query(statement, [[2, 3]]), await driver.query(statement, [[3]])];
            expect(answers.map((rows) => rows.map((r) => Number(r.person_id)))).toEqual([[1, 2], [2, 3], [3]]);
            const listed = (await driver.query(names, [])).map((r) => String(r.name));
            expect({ preparedStatements, listed: listed.length }).toEqual({ preparedStatements, listed: preparedStatements ? 1 : 0 });
            await driver.close();
          }
        });
        test('run a prepared statement again unprepared when its table changed under it', async () => {
          const owner = await openSql(db, 'omop');
          const table = `public.hg_prepared_probe_${process.pid}`;
          await owner.query(`CREATE TABLE ${table} (id integer)`);
          await owner.query(`INSERT INTO ${table} VALUES (1)`);
          const driver = createDriver({ url: sqlUrl(db, 'omop'), poolSize: 1, statementTimeoutMs: 2000 });
          try {
            const statement = `SELECT * FROM ${table} WHERE id = $1`;
            await driver.query(statement, [1]);
            expect(await driver.query(statement, [1])).toEqual([{ id: 1 }]); // prepared now
            await owner.query(`ALTER TABLE ${table} ADD COLUMN note text`);
            // The server refuses the prepared form ("cached plan must not change result type"); the driver asks again unprepared.
            expect(await driver.query(statement, [1])).toEqual([{ id: 1, note: null }]);
            expect(await driver.query(statement, [1])).toEqual([{ id: 1, note: null }]);
          } finally {
            await driver.close();
            await owner.query(`DROP TABLE ${table}`);
            await owner.close();
          }
        });
      }
      if (db === 'sqlite') {
        // With more than one core, statements run side by side in as many workers as the pool allows.
        (availableParallelism() >= 2 ? test : test.skip)('answer a quick statement while a slow one runs (two workers); one worker answers in turn', async () => {
          const slow = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT COUNT(*) AS s FROM c';
          for (const poolSize of [2, 1]) {
            const driver = createDriver({ url: sqlUrl(db, 'omop'), poolSize, statementTimeoutMs: 20_000 });
            await driver.query('SELECT 1 AS ok', []); // the first worker is open
            const order: string[] = [];
            await Promise.all([driver.query(slow, []).then(() => order.push('slow')), driver.query('SELECT 2 AS ok', []).then(() => order.push('quick'))]);
            expect({ poolSize, order }).toEqual({ poolSize, order: poolSize === 2 ? ['quick', 'slow'] : ['slow', 'quick'] });
            await driver.close();
          }
        });
        test('refuse statements at once while two timed-out ones still hold their threads', async () => {
          const driver = createDriver({ url: sqlUrl(db, 'omop'), poolSize: 1, statementTimeoutMs: 100 });
          const slow = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000000) SELECT COUNT(*) AS s FROM c';
          // Queued together: the third waits behind the two, which time out one after the other.
          const [first, second, third] = await Promise.allSettled([driver.query(slow, []), driver.query(slow, []), driver.query('SELECT 1 AS ok', [])]);
          expect(first).toMatchObject({ status: 'rejected', reason: { failure: 'timeout' } });
          expect(second).toMatchObject({ status: 'rejected', reason: { failure: 'timeout' } });
          expect(third).toMatchObject({ status: 'rejected', reason: { failure: 'unavailable' } });
          await driver.close();
        });
      }
    });
  }
});
