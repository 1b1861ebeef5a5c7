/**
 * Per-parent pages under a policy that removes records after the fetch (consent, labels): the lists
 * of many parents are still one statement cut per parent in the database, and a parent whose page
 * the removals may have left short is asked for again on its own. Real OMOP data in PostgreSQL,
 * MariaDB and SQLite; the policy here withholds every visit whose id is a multiple of 3.
 */
import type { SqlConnector, StatementEvent } from '../../connectors/sql/connector';
import type { SearchRequest, SourceRecord, SortSpec } from '../../connectors/types';
import { DataAccess } from '../../src/data/access';
import type { Part } from '../../src/data/connection';
import type { AccessPolicy } from '../../src/data/policy';
import { SourceRegistry } from '../../src/data/registry';
import { describeSql, presetConnector, SQL_DBS } from '../support/sql';

const withheld = (record: SourceRecord): boolean => record.type === 'Encounter' && Number(record.id) % 3 === 0;

/** Removes withheld visits after the fetch, as consent does; records nothing. */
const removingPolicy: AccessPolicy = {
  searchConstraints: () => [],
  postFilters: (_source, type) => type === 'Encounter',
  filter: async (records) => records.filter((r) => !withheld(r)),
  release: (record) => record,
};

const sort: SortSpec[] = [{ field: 'date', direction: 'desc' }];
const FIRST = 3;
/** What a batch asks each parent for: the page and one more, +1 to know whether more follow (DataAccess.loadBatch). */
const CUT = FIRST + 2;

for (const db of SQL_DBS) {
  describeSql(db, 'omop', `per-parent pages under a removing policy, ${db}`, () => {
    let connector: SqlConnector;
    let registry: SourceRegistry;
    const statements: StatementEvent[] = [];

    beforeAll(async () => {
      connector = presetConnector(db, 'omop', (e) => statements.push(e));
      registry = new SourceRegistry([connector]);
      await registry.start();
    });
    afterAll(() => connector.close());

    test('each parent gets exactly its first visible records; one statement cut per parent, and one more per parent that may be short', async () => {
      const ctx = { requestId: 'test' };
      const patients = (await connector.search({ type: 'Patient', criteria: [], sort: [], limit: 1000, offset: 0, wantTotal: false }, ctx)).records.map((r) => r.id);
      // Expected from each patient's whole list in the source's order (an unbatched search per patient), filtered here.
      const expected = new Map<string, { ids: string[]; hasMore: boolean; short: boolean }>();
      let visits = 0;
      for (const patient of patients) {
        const request: SearchRequest = { type: 'Encounter', criteria: [{ param: 'patient', ids: [patient] }], sort, limit: 100_000, offset: 0, wantTotal: false };
        const all = (await connector.search(request, ctx)).records;
        visits += all.length;
        const visible = all.filter((r) => !withheld(r));
        const cutKept = all.slice(0, CUT).filter((r) => !withheld(r)).length;
        expected.set(patient, { ids: visible.slice(0, FIRST).map((r) => r.id), hasMore: visible.length > FIRST, short: all.length >= CUT && cutKept < CUT });
      }
      const shortOnes = [...expected.values()].filter((e) => e.short).length;
      // The data holds both kinds, so both paths run.
      expect(shortOnes).toBeGreaterThan(0);
      expect(shortOnes).toBeLessThan(patients.length);

      // A batch may fetch fewer records than the parents have in all (without the cut per parent,
      // the batch would give up and ask for every parent's page on its own).
      const maxBatchRecords = 500;
      expect(visits).toBeGreaterThan(maxBatchRecords);
      statements.length = 0;
      const data = new DataAccess({ registry, policy: removingPolicy, call: ctx, maxBatchRecords });
      const part = (patient: string): Part => ({ key: 'omop:Encounter', source: 'omop', request: { type: 'Encounter', criteria: [{ param: 'patient', ids: [patient] }], sort } });
      const pages = await Promise.all(patients.map((p) => data.connection([part(p)], { first: FIRST, sort, wantTotal: false })));

      patients.forEach((patient, i) => {
        const want = expected.get(patient)!;
        expect({ patient, ids: pages[i]!.edges.map((e) => e.node.id), hasMore: pages[i]!.pageInfo.hasNextPage }).toEqual({ patient, ids: want.ids, hasMore: want.hasMore });
      });
      // One statement for every parent, ranked per parent in the database, then the short parents' own.
      const batched = statements.filter((s) => /ROW_NUMBER\(\) OVER \(PARTITION BY/.test(s.sql));
      expect(batched).toHaveLength(1);
      expect(batched[0]!.operation).toBe(`SELECT Encounter by patient, first ${CUT} per patient`);
      const own = statements.filter((s) => s !== batched[0]);
      expect(own.length).toBeGreaterThanOrEqual(shortOnes);
      expect(own.every((s) => s.operation.startsWith('SELECT Encounter by patient') && !s.operation.includes(' per patient'))).toBe(true);
      expect(new Set(own.map((s) => JSON.stringify(s.params))).size).toBe(shortOnes);
    });
  });
}
