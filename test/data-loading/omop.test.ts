/**
 * The shared OMOP CDM database arrives whole and unchanged in PostgreSQL, MariaDB and SQLite: every
 * table holds as many rows as its CSV has lines, values keep their dates and their columns, and the
 * usual look-ups find what they should. Expectations come from the zip itself (line counts) and from
 * the dataset's README, never from the loader.
 */
import { existsSync } from 'node:fs';
import { omopArchivePath } from '../peers/sql/omop';
import { zipEntries } from '../peers/sql/zip';
import { REPO_ROOT, SQL_DBS, describeSql, openSql, type SqlConnection } from '../support/sql';

/** The counts the shared data's README states. */
const DOCUMENTED_COUNTS: Record<string, number> = {
  person: 28,
  visit_occurrence: 1791,
  condition_occurrence: 470,
  drug_exposure: 883,
  procedure_occurrence: 1649,
  measurement: 10040,
  observation: 8099,
  provider: 67,
  death: 3,
  concept: 2294,
  cost: 0,
  payer_plan_period: 0,
};

/** Data lines of each CSV in the archive (lines minus the header), by lower-case table name. */
function csvLineCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  const archive = omopArchivePath(REPO_ROOT);
  if (!existsSync(archive)) return counts;
  for (const entry of zipEntries(archive)) {
    const match = /^([A-Z_]+)\.csv$/.exec(entry.name);
    if (!match?.[1]) continue;
    const text = entry.read().toString('utf8');
    const newlines = text.split('\n').length - 1 + (text.endsWith('\n') ? 0 : 1);
    counts.set(match[1].toLowerCase(), newlines - 1);
  }
  return counts;
}

const lineCounts = csvLineCounts();

describe.each(SQL_DBS)('the OMOP CDM test database in %s', (db) => {
  describeSql(db, 'omop', `OMOP in ${db}`, () => {
    let sql: SqlConnection;
    beforeAll(async () => {
      sql = await openSql(db, 'omop');
    });
    afterAll(async () => {
      await sql?.close();
    });

    it('holds every table of the archive, each with as many rows as its CSV has lines', async () => {
      expect(lineCounts.size).toBeGreaterThanOrEqual(39);
      const actual: Record<string, number> = {};
      const expected: Record<string, number> = {};
      for (const [table, lines] of lineCounts) {
        expected[table] = lines;
        actual[table] = Number(await sql.scalar(`SELECT COUNT(*) FROM ${table}`));
      }
      expect(actual).toEqual(expected);
    });

    it('holds the row counts the shared data documents', async () => {
      const actual: Record<string, number> = {};
      for (const table of Object.keys(DOCUMENTED_COUNTS)) actual[table] = Number(await sql.scalar(`SELECT COUNT(*) FROM ${table}`));
      expect(actual).toEqual(DOCUMENTED_COUNTS);
      expect(Number(await sql.scalar('SELECT COUNT(*) FROM concept_relationship'))).toBe(266588);
    });

    it('keeps dates as the calendar days the CSV states, whatever the time zone', async () => {
      // PERSON.csv: 1,8507,1998,4,9,1998-04-09 00:00:00,…  VISIT_OCCURRENCE.csv: 21,1,9202,2000-12-27,…
      const person = await sql.query(
        'SELECT year_of_birth, month_of_birth, day_of_birth, birth_datetime FROM person WHERE person_id = ?',
        [1],
      );
      expect(person).toEqual([{ year_of_birth: 1998, month_of_birth: 4, day_of_birth: 9, birth_datetime: '1998-04-09 00:00:00' }]);
      const visit = await sql.query('SELECT visit_start_date, visit_end_date FROM visit_occurrence WHERE visit_occurrence_id = ?', [21]);
      expect(visit).toEqual([{ visit_start_date: '2000-12-27', visit_end_date: '2000-12-27' }]);
      const death = await sql.query('SELECT person_id, death_date FROM death ORDER BY person_id');
      expect(death[0]).toEqual({ person_id: 7, death_date: '2019-05-28' });
    });

    it('puts each CSV column in the column of the same name, even where the header order differs from the DDL', async () => {
      // VISIT_DETAIL.csv lists discharged_to_source_value before discharged_to_concept_id; the first row's
      // visit_occurrence_id (its last column) is 21 and its preceding_visit_detail_id is empty.
      const rows = await sql.query(
        'SELECT visit_occurrence_id, discharged_to_concept_id, discharged_to_source_value, preceding_visit_detail_id FROM visit_detail WHERE visit_detail_id = ?',
        [1000021],
      );
      expect(rows).toEqual([
        { visit_occurrence_id: 21, discharged_to_concept_id: 0, discharged_to_source_value: null, preceding_visit_detail_id: null },
      ]);
    });

    it('reads empty CSV fields as NULL and keeps decimals', async () => {
      // CONCEPT.csv: 40316773,Prediabetes,Condition,SNOMED,Clinical Finding,"",15777000,1970-01-01,2002-01-31,U
      const concept = await sql.query(
        'SELECT concept_name, standard_concept, invalid_reason FROM concept WHERE concept_id = ?',
        [40316773],
      );
      expect(concept).toEqual([{ concept_name: 'Prediabetes', standard_concept: null, invalid_reason: 'U' }]);
      // MEASUREMENT.csv: 1,1,3025315,2013-05-17,…,48.1,…,kg
      const weight = await sql.query('SELECT value_as_number, unit_source_value FROM measurement WHERE measurement_id = ?', [1]);
      expect(weight.map((row) => ({ ...row, value_as_number: Number(row.value_as_number) }))).toEqual([
        { value_as_number: 48.1, unit_source_value: 'kg' },
      ]);
    });

    it('finds a concept by code and vocabulary, and the standard concepts of the conditions recorded', async () => {
      expect(
        await sql.query('SELECT concept_id FROM concept WHERE concept_code = ? AND vocabulary_id = ?', ['15777000', 'SNOMED']),
      ).toEqual([{ concept_id: 40316773 }]);
      const unmapped = Number(
        await sql.scalar(
          'SELECT COUNT(*) FROM condition_occurrence co WHERE co.condition_concept_id <> 0 AND NOT EXISTS (SELECT 1 FROM concept c WHERE c.concept_id = co.condition_concept_id)',
        ),
      );
      expect(unmapped).toBe(0);
    });
  });
});
