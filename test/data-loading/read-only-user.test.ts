/**
 * The read-only login (`healthgraph_ro`, or a read-only SQLite handle) reads every loaded table and can
 * change none: what tests of "an injection attempt never alters data" rely on.
 */
import { DATASETS, SQL_DBS, describeSql, openSql } from '../support/sql';

const WRITES: Record<string, string> = {
  omop: 'DELETE FROM person',
  claims: 'DELETE FROM member',
};
const READS: Record<string, string> = {
  omop: 'SELECT COUNT(*) FROM person',
  claims: 'SELECT COUNT(*) FROM member',
};

describe.each(SQL_DBS)('the read-only login in %s', (db) => {
  for (const dataset of DATASETS) {
    describeSql(db, dataset, `${dataset} in ${db}`, () => {
      it('reads the tables and is refused every write', async () => {
        const sql = await openSql(db, dataset, { readOnly: true });
        try {
          const before = Number(await sql.scalar(READS[dataset] ?? ''));
          expect(before).toBeGreaterThan(0);
          await expect(sql.query(WRITES[dataset] ?? '')).rejects.toThrow(/denied|readonly|read-only/i);
          await expect(sql.query('CREATE TABLE hg_scratch (id INTEGER)')).rejects.toThrow(/denied|readonly|read-only/i);
          expect(Number(await sql.scalar(READS[dataset] ?? ''))).toBe(before);
        } finally {
          await sql.close();
        }
      });
    });
  }
});
