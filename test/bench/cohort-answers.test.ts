/**
 * The SQL benchmarks compare the gateway with other ways of answering the same OMOP cohort question
 * (bench/sql.ts, bench/sql-json.ts); a comparison is void unless the answers are the same. These
 * tests hold the baselines to that on every database: the hand-written SQL's answer equals the
 * gateway's (record ids for gateway ids), and on PostgreSQL the answer the database builds as JSON
 * equals the hand-written one, and its row-counting twin counts the answer's list nodes.
 */
import { isDeepStrictEqual } from 'node:util';
import { cohortQuery, topConditionCode } from '../../bench/cohort';
import { handWritten, withRecordIds } from '../../bench/hand-written';
import { statement } from '../../bench/sql-json';
import { createDriver } from '../../connectors/sql/dialects';
import type { SqlDriver } from '../../connectors/sql/dialects/types';
import { startGateway, type TestGateway } from '../support/services';
import { describeSql, SQL_DBS, sqlSource } from '../support/sql';

type Answer = { data: { patients: { edges: { node: Record<string, { edges: unknown[] } | unknown> }[] } } };

/** List nodes of an answer (conditions, encounters and medications of every patient). */
function listNodes(answer: Answer): number {
  return answer.data.patients.edges.reduce(
    (n, { node }) => n + ['conditions', 'encounters', 'medications'].reduce((m, list) => m + (node[list] as { edges: unknown[] }).edges.length, 0),
    0,
  );
}

for (const db of SQL_DBS) {
  describeSql(db, 'omop', `the SQL benchmarks' baselines, ${db}`, () => {
    const source = sqlSource(db, 'omop', { readOnly: true });
    let driver: SqlDriver;
    let gateway: TestGateway;
    let code: string;
    let hand: Answer;

    beforeAll(async () => {
      driver = createDriver({ ...source, poolSize: 2, statementTimeoutMs: 10_000 });
      gateway = await startGateway({ sources: [{ id: 'omop', kind: 'sql', mapping: 'omop', ...source }], limits: { maxCost: 10_000_000 } });
      code = await topConditionCode(driver, source.schema);
      hand = JSON.parse((await handWritten(driver, source.schema, code)).answer!) as Answer;
    });
    afterAll(async () => {
      await gateway?.close();
      await driver?.close();
    });

    test('the hand-written answer is the gateway answer, with record ids for gateway ids, and a wide one', async () => {
      const result = await gateway.query(cohortQuery(code));
      expect(result.body.errors).toBeUndefined();
      expect(isDeepStrictEqual(withRecordIds(result.body), hand)).toBe(true);
      expect(hand.data.patients.edges.length).toBeGreaterThan(20);
      expect(listNodes(hand)).toBeGreaterThan(1000);
      // The condition filter keeps some conditions, not all of them.
      const conditions = hand.data.patients.edges.flatMap(({ node }) => (node.conditions as { edges: { node: { code: { coding: { code: string }[] } } }[] }).edges);
      expect(conditions.length).toBeGreaterThan(0);
      expect(conditions.every((c) => c.node.code.coding[0]!.code === code)).toBe(true);
    });

    if (db === 'postgres') {
      test('the answer PostgreSQL builds as JSON is the hand-written answer, and its row-counting twin counts the same list nodes', async () => {
        const [row] = await driver.query(statement(source.schema!, true), [code]);
        expect(isDeepStrictEqual(JSON.parse(String(row?.answer)), hand)).toBe(true);
        const [count] = await driver.query(statement(source.schema!, false), [code]);
        expect(Number(count?.n)).toBe(listNodes(hand));
      });
    }
  });
}
