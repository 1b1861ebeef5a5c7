/**
 * The SQL connector over the OMOP CDM test database, the same suite in PostgreSQL, MariaDB and
 * SQLite. Expectations come from plain SQL on the raw tables (test/support/sql.ts), never from the
 * connector. Statements are captured through the connector's statement hook.
 */
import { sqlSourceSchema } from '../../../connectors/sql/config';
import { SqlConnector, type StatementEvent } from '../../../connectors/sql/connector';
import type { Criterion, ResourceType, SearchRequest, SearchResult, SourceRecord } from '../../../connectors/types';
import { HealthgraphError } from '../../../src/errors';
import { createLogger } from '../../../src/logger';
import { describeSql, openSql, presetConnector, SQL_DBS, type SqlConnection } from '../../support/sql';

const SYSTEMS: Record<string, string> = {
  SNOMED: 'http://snomed.info/sct',
  RxNorm: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  LOINC: 'http://loinc.org',
};
const OMOP = 'https://fhir-terminology.ohdsi.org';
const ctx = { requestId: 'test' };

function request(type: ResourceType, criteria: Criterion[] = [], extra: Partial<SearchRequest> = {}): SearchRequest {
  return { type, criteria, sort: [{ field: 'date', direction: 'desc' }], limit: 100_000, offset: 0, wantTotal: false, ...extra };
}

const ids = (records: SourceRecord[]): string[] => records.map((r) => r.id).sort();
const numericIds = (rows: { id: unknown }[], prefix = ''): string[] => rows.map((r) => `${prefix}${String(r.id)}`).sort();
const day = (value: unknown): string | undefined => (value === null || value === undefined ? undefined : String(value).slice(0, 10));

for (const db of SQL_DBS) {
  describeSql(db, 'omop', `the SQL connector over OMOP CDM in ${db}`, () => {
    let connector: SqlConnector;
    let raw: SqlConnection;
    const statements: StatementEvent[] = [];

    beforeAll(async () => {
      connector = presetConnector(db, 'omop', (e) => statements.push(e));
      await connector.start();
      raw = await openSql(db, 'omop');
    });
    afterAll(async () => {
      await connector.close();
      await raw.close();
    });
    beforeEach(() => {
      statements.length = 0;
    });

    test('every mapped type has exactly as many records as its rows, counted and listed', async () => {
      const expected: [ResourceType, string][] = [
        ['Patient', 'SELECT COUNT(*) FROM person'],
        ['Encounter', 'SELECT COUNT(*) FROM visit_occurrence'],
        ['Condition', 'SELECT COUNT(*) FROM condition_occurrence'],
        ['MedicationRequest', 'SELECT COUNT(*) FROM drug_exposure WHERE drug_type_concept_id <> 32865'],
        ['MedicationStatement', 'SELECT COUNT(*) FROM drug_exposure WHERE drug_type_concept_id = 32865'],
        ['Procedure', 'SELECT COUNT(*) FROM procedure_occurrence'],
        ['Observation', 'SELECT (SELECT COUNT(*) FROM measurement) + (SELECT COUNT(*) FROM observation)'],
        ['Practitioner', 'SELECT COUNT(*) FROM provider'],
        ['Organization', 'SELECT COUNT(*) FROM care_site'],
        ['Location', 'SELECT COUNT(*) FROM location'],
        ['Claim', "SELECT COUNT(*) FROM cost WHERE cost_domain_id = 'Visit'"],
        ['Coverage', 'SELECT COUNT(*) FROM payer_plan_period'],
      ];
      for (const [type, sql] of expected) {
        const want = Number(await raw.scalar(sql));
        const counted = await connector.search(request(type, [], { limit: 1, wantTotal: true }), ctx);
        expect({ type, total: counted.total }).toEqual({ type, total: want });
        const all = await connector.search(request(type, [], { sort: [] }), ctx);
        expect({ type, listed: new Set(ids(all.records)).size }).toEqual({ type, listed: want });
      }
      expect(Number(await raw.scalar('SELECT COUNT(*) FROM person'))).toBeGreaterThan(0);
    });

    test('patients carry gender, birth date, death date and source identifier from person and death', async () => {
      const rows = await raw.query<{ id: number; gender: number; birth: string; death: string | null; source: string }>(
        'SELECT p.person_id AS id, p.gender_concept_id AS gender, p.birth_datetime AS birth, d.death_date AS death, p.person_source_value AS source FROM person p LEFT JOIN death d ON d.person_id = p.person_id',
      );
      const records = await connector.getByIds('Patient', rows.map((r) => String(r.id)), ctx);
      expect(records).toHaveLength(rows.length);
      const byId = new Map(records.map((r) => [r.id, r.resource]));
      for (const row of rows) {
        const patient = byId.get(String(row.id))!;
        expect(patient.gender).toBe(({ 8507: 'male', 8532: 'female' } as Record<number, string>)[Number(row.gender)]);
        expect(patient.birthDate).toBe(day(row.birth));
        expect(patient.deceasedDateTime).toBe(day(row.death));
        expect(patient.identifier).toEqual([{ system: 'http://ohdsi.org/omop/person_source_value', value: row.source }]);
      }
      expect(rows.some((r) => r.death !== null)).toBe(true);
    });

    test('conditions carry the standard code, the OMOP concept, subject, encounter and dates of their rows', async () => {
      const rows = await raw.query<Record<string, unknown>>(
        `SELECT o.condition_occurrence_id AS id, o.person_id AS person, o.visit_occurrence_id AS visit, o.condition_start_date AS start, o.condition_end_date AS "end",
                o.condition_concept_id AS concept, c.concept_code AS code, c.vocabulary_id AS vocabulary, c.concept_name AS name
           FROM condition_occurrence o LEFT JOIN concept c ON c.concept_id = o.condition_concept_id`,
      );
      const { records } = await connector.search(request('Condition'), ctx);
      const byId = new Map(records.map((r) => [r.id, r.resource]));
      expect(byId.size).toBe(rows.length);
      for (const row of rows) {
        const condition = byId.get(String(row.id))!;
        expect(condition.subject).toEqual({ reference: `Patient/${String(row.person)}` });
        expect(condition.encounter).toEqual(row.visit === null ? undefined : { reference: `Encounter/${String(row.visit)}` });
        expect(condition.onsetDateTime).toBe(day(row.start));
        expect(condition.abatementDateTime).toBe(day(row.end));
        expect(condition.code).toEqual({
          text: row.name,
          coding: [
            { system: SYSTEMS[String(row.vocabulary)], code: String(row.code), display: row.name },
            { system: OMOP, code: String(row.concept), display: row.name },
          ],
        });
      }
    });

    test('measurements become observations with LOINC/SNOMED codes and UCUM quantities', async () => {
      const rows = await raw.query<Record<string, unknown>>(
        `SELECT m.measurement_id AS id, m.value_as_number AS value, m.unit_source_value AS unit, u.concept_code AS ucum, c.concept_code AS code, c.vocabulary_id AS vocabulary, m.measurement_date AS date
           FROM measurement m LEFT JOIN concept c ON c.concept_id = m.measurement_concept_id LEFT JOIN concept u ON u.concept_id = m.unit_concept_id
          WHERE m.person_id = (SELECT MIN(person_id) FROM measurement)`,
      );
      const records = await connector.getByIds('Observation', rows.map((r) => `m-${String(r.id)}`), ctx);
      expect(records).toHaveLength(rows.length);
      const byId = new Map(records.map((r) => [r.id, r.resource]));
      for (const row of rows) {
        const observation = byId.get(`m-${String(row.id)}`)!;
        expect(observation.effectiveDateTime).toBe(day(row.date));
        const coding = (observation.code as { coding: { system: string; code: string }[] }).coding[0]!;
        expect([coding.system, coding.code]).toEqual([SYSTEMS[String(row.vocabulary)], String(row.code)]);
        const quantity = observation.valueQuantity as Record<string, unknown> | undefined;
        if (row.value === null) expect(quantity).toBeUndefined();
        else {
          expect(quantity?.value).toBeCloseTo(Number(row.value), 6);
          expect(quantity?.unit).toBe(row.unit ?? undefined);
          expect(quantity?.code).toBe(row.ucum ?? undefined);
        }
      }
    });

    test('drug exposures become medication requests coded in RxNorm, with their encounter and dates', async () => {
      const rows = await raw.query<Record<string, unknown>>(
        `SELECT d.drug_exposure_id AS id, c.concept_code AS code, c.vocabulary_id AS vocabulary, d.drug_exposure_start_date AS start, d.visit_occurrence_id AS visit
           FROM drug_exposure d LEFT JOIN concept c ON c.concept_id = d.drug_concept_id`,
      );
      const { records } = await connector.search(request('MedicationRequest'), ctx);
      const byId = new Map(records.map((r) => [r.id, r.resource]));
      for (const row of rows) {
        const med = byId.get(String(row.id))!;
        expect(med.authoredOn).toBe(day(row.start));
        expect(med.encounter).toEqual(row.visit === null ? undefined : { reference: `Encounter/${String(row.visit)}` });
        const coding = (med.medicationCodeableConcept as { coding: { system: string; code: string }[] }).coding[0]!;
        expect([coding.system, coding.code]).toEqual([SYSTEMS[String(row.vocabulary)], String(row.code)]);
      }
    });

    test('a standard system|code is translated to concept ids in SQL, and every token form means what it means in memory', async () => {
      const top = (
        await raw.query<{ concept: number; code: string; n: number }>(
          `SELECT o.condition_concept_id AS concept, c.concept_code AS code, COUNT(*) AS n FROM condition_occurrence o JOIN concept c ON c.concept_id = o.condition_concept_id
            GROUP BY o.condition_concept_id, c.concept_code ORDER BY COUNT(*) DESC, o.condition_concept_id`,
        )
      )[0]!;
      const want = numericIds(await raw.query('SELECT condition_occurrence_id AS id FROM condition_occurrence WHERE condition_concept_id = ?', [top.concept]));
      const search = async (tokens: Criterion & { param: 'code' }) => ids((await connector.search(request('Condition', [tokens]), ctx)).records);

      expect(await search({ param: 'code', tokens: [{ system: 'http://snomed.info/sct', code: String(top.code) }] })).toEqual(want);
      expect(statements.at(-1)!.sql).toMatch(/IN \(SELECT l\.\S+ FROM \S*concept\S* l WHERE/);
      expect(await search({ param: 'code', tokens: [{ system: OMOP, code: String(top.concept) }] })).toEqual(want);
      expect(await search({ param: 'code', tokens: [{ code: String(top.code) }] })).toEqual(want);
      const snomed = numericIds(
        await raw.query("SELECT o.condition_occurrence_id AS id FROM condition_occurrence o JOIN concept c ON c.concept_id = o.condition_concept_id WHERE c.vocabulary_id = 'SNOMED'"),
      );
      expect(await search({ param: 'code', tokens: [{ system: 'http://snomed.info/sct', code: '' }] })).toEqual(snomed);
      expect(await search({ param: 'code', tokens: [{ system: 'http://loinc.org', code: String(top.code) }] })).toEqual([]);
      expect(await search({ param: 'code', tokens: [{ system: 'http://example.org/unknown', code: String(top.code) }] })).toEqual([]);
    });

    test('date filters match the records whose day overlaps the range, at any precision', async () => {
      const want = numericIds(
        await raw.query("SELECT condition_occurrence_id AS id FROM condition_occurrence WHERE condition_start_date >= '2015-01-01' AND condition_start_date <= '2016-06-30'"),
      );
      const got = ids((await connector.search(request('Condition', [{ param: 'date', range: { from: '2015', to: '2016-06' } }]), ctx)).records);
      expect(got).toEqual(want);
      expect(want.length).toBeGreaterThan(0);
      const born = numericIds(await raw.query("SELECT person_id AS id FROM person WHERE birth_datetime >= '1960-01-01' AND birth_datetime < '1980-01-01'"));
      expect(ids((await connector.search(request('Patient', [{ param: 'birthdate', range: { from: '1960', to: '1979-12-31' } }]), ctx)).records)).toEqual(born);
    });

    test('walking every page returns every row exactly once, in the order asked', async () => {
      for (const [type, size, criteria] of [
        ['Condition', 37, []],
        ['Observation', 50, [{ param: 'patient', ids: ['1'] }]],
      ] as [ResourceType, number, Criterion[]][]) {
        const total = (await connector.search(request(type, criteria, { limit: 1, wantTotal: true }), ctx)).total!;
        const seen: string[] = [];
        let previous = '9999';
        for (let offset = 0; ; offset += size) {
          const page = await connector.search(request(type, criteria, { limit: size, offset }), ctx);
          for (const record of page.records) {
            const date = String(record.resource.onsetDateTime ?? record.resource.effectiveDateTime);
            expect(date <= previous).toBe(true);
            previous = date;
            seen.push(record.id);
          }
          if (!page.hasMore) break;
        }
        expect(seen.length).toBe(total);
        expect(new Set(seen).size).toBe(total);
      }
    });

    test('a filtered, sorted page is one statement; many patients are one IN/ANY statement; counts only when asked', async () => {
      const patients = (await raw.query<{ id: number }>('SELECT person_id AS id FROM person ORDER BY person_id')).map((r) => String(r.id));
      const caps = connector.capabilities().types.Condition!;
      for (const param of ['patient', 'encounter', 'code', 'date'] as const) expect(caps.params.has(param)).toBe(true);
      expect(caps.sorts.has('date')).toBe(true);
      await connector.search(
        request('Condition', [
          { param: 'patient', ids: patients },
          { param: 'code', tokens: [{ system: 'http://snomed.info/sct', code: '' }] },
          { param: 'date', range: { from: '2000' } },
        ], { limit: 50 }),
        ctx,
      );
      expect(statements).toHaveLength(1);
      expect(statements[0]!.sql).toMatch(db === 'postgres' ? /= ANY\(\$1\)/ : /IN \(\?, \?/);
      expect(statements[0]!.sql).toMatch(/ORDER BY .* LIMIT 51/);
      expect(statements[0]!.operation).toBe('SELECT Condition by patient, code, date');
      statements.length = 0;
      await connector.search(request('Condition', [{ param: 'patient', ids: patients.slice(0, 3) }], { limit: 5, wantTotal: true }), ctx);
      expect(statements.map((s) => s.operation).sort()).toEqual(['COUNT Condition by patient', 'SELECT Condition by patient']);
      statements.length = 0;
      const records = await connector.getByIds('Encounter', ['1', '2', '3', '4', '5', 'nope'], ctx);
      expect(records.length).toBe(5);
      expect(statements).toHaveLength(1);
      expect(statements.every((s) => !/nope/.test(s.sql))).toBe(true);
    });

    test("each patient's first N records are ranked in the database, in one statement, for one table and for a UNION of two", async () => {
      const N = 3;
      const byDateThenId = (a: { date: string | undefined; part: number; id: number }, b: typeof a): number =>
        a.date === b.date ? a.part - b.part || a.id - b.id : a.date === undefined ? 1 : b.date === undefined ? -1 : a.date < b.date ? 1 : -1;
      const firstPerPatient = (rows: { person: unknown; id: unknown; date: unknown }[][], prefixes: string[]): Map<string, string[]> => {
        const all = rows.flatMap((list, part) => list.map((r) => ({ person: String(r.person), id: Number(r.id), part, date: day(r.date) })));
        const out = new Map<string, string[]>();
        for (const r of all.sort(byDateThenId)) {
          const list = out.get(r.person) ?? [];
          if (list.length < N) list.push(`${prefixes[r.part]}${r.id}`);
          out.set(r.person, list);
        }
        return out;
      };
      const patients = (await raw.query<{ id: number }>('SELECT person_id AS id FROM person ORDER BY person_id')).map((r) => String(r.id));
      const cases: [ResourceType, Map<string, string[]>][] = [
        ['Encounter', firstPerPatient([await raw.query('SELECT person_id AS person, visit_occurrence_id AS id, visit_start_date AS date FROM visit_occurrence')], [''])],
        [
          'Observation',
          firstPerPatient(
            [
              await raw.query('SELECT person_id AS person, measurement_id AS id, measurement_date AS date FROM measurement'),
              await raw.query('SELECT person_id AS person, observation_id AS id, observation_date AS date FROM observation'),
            ],
            ['m-', 'o-'],
          ),
        ],
      ];
      for (const [type, expected] of cases) {
        expect(connector.capabilities().types[type]!.limitPerRef?.has('patient')).toBe(true);
        statements.length = 0;
        const result = await connector.search(request(type, [{ param: 'patient', ids: patients }], { perRef: { param: 'patient', limit: N } }), ctx);
        expect(statements).toHaveLength(1);
        expect(statements[0]!.sql).toMatch(/ROW_NUMBER\(\) OVER \(PARTITION BY/);
        expect(statements[0]!.operation).toBe(`SELECT ${type} by patient, first ${N} per patient`);
        const got = new Map<string, string[]>();
        const datesOf = new Map<string, string[]>();
        const runs: string[] = []; // the patients in the order their records come
        for (const record of result.records) {
          const person = /\/(.+)$/.exec(String((record.resource.subject as { reference: string }).reference))![1]!;
          got.set(person, [...(got.get(person) ?? []), record.id]);
          const date = String(record.resource.period ? (record.resource.period as { start?: string }).start : record.resource.effectiveDateTime);
          datesOf.set(person, [...(datesOf.get(person) ?? []), date]);
          if (runs[runs.length - 1] !== person) runs.push(person);
        }
        expect({ type, got: Object.fromEntries(got) }).toEqual({ type, got: Object.fromEntries(expected) });
        // Each patient's records come together, newest first (the order asked); across patients the order is the source's.
        expect(new Set(runs).size).toBe(runs.length);
        for (const dates of datesOf.values()) expect(dates).toEqual([...dates].sort().reverse());
      }
    });

    test('hostile filter values find nothing, leak nothing and change nothing', async () => {
      const before = await raw.query('SELECT (SELECT COUNT(*) FROM person) AS p, (SELECT COUNT(*) FROM condition_occurrence) AS c, (SELECT COUNT(*) FROM concept) AS k');
      const evil = ["' OR 1=1 --", "1' OR '1'='1", '%', '_', '\\', '!%', "'; DELETE FROM person; --", '1; DROP TABLE person', 'é漢字😀', 'x'.repeat(20_000), '1 OR 1=1', '"', '`', ']'];
      const attempts: [ResourceType, Criterion][] = [];
      for (const text of evil) {
        attempts.push(['Condition', { param: 'code', tokens: [{ code: text }, { system: text, code: text }, { system: 'http://snomed.info/sct', code: text }] }]);
        attempts.push(['Condition', { param: 'patient', ids: [text] }]);
        attempts.push(['Condition', { param: 'encounter', ids: [text] }]);
        attempts.push(['Patient', { param: 'identifier', tokens: [{ code: text }, { system: text, code: text }] }]);
        attempts.push(['Patient', { param: 'gender', tokens: [{ code: text }] }]);
        attempts.push(['Encounter', { param: 'status', tokens: [{ code: text }] }]);
        attempts.push(['Encounter', { param: 'category', tokens: [{ code: text }] }]);
        attempts.push(['Practitioner', { param: 'name', text }]);
        attempts.push(['Condition', { param: 'date', range: { from: text } }]);
        attempts.push(['Observation', { param: '_id', ids: [text, `m-${text}`] }]);
      }
      for (const [type, criterion] of attempts) {
        const outcome: SearchResult | Error = await connector.search(request(type, [criterion], { limit: 10, wantTotal: true }), ctx).then(
          (r) => r,
          (e: Error) => e,
        );
        if (outcome instanceof Error) expect(outcome).toBeInstanceOf(HealthgraphError);
        else expect({ type, criterion: criterion.param, found: outcome.records.length, total: outcome.total }).toEqual({ type, criterion: criterion.param, found: 0, total: 0 });
      }
      expect(await connector.getByIds('Patient', evil, ctx)).toEqual([]);
      expect(await raw.query('SELECT (SELECT COUNT(*) FROM person) AS p, (SELECT COUNT(*) FROM condition_occurrence) AS c, (SELECT COUNT(*) FROM concept) AS k')).toEqual(before);
      // The LIKE wildcards really are escaped: a plain prefix does find practitioners.
      expect((await connector.search(request('Practitioner', [{ param: 'name', text: 'a' }]), ctx)).records.length).toBeGreaterThan(0);
    });

    test('an unreachable database is SOURCE_UNAVAILABLE with a short reason and no SQL text', async () => {
      const url = db === 'sqlite' ? 'sqlite:///nonexistent/omop.db' : db === 'postgres' ? 'postgres://x:y@127.0.0.1:1/cdm' : 'mysql://x:y@127.0.0.1:1/cdm';
      const broken = new SqlConnector(sqlSourceSchema.parse({ id: 'broken', kind: 'sql', url, mapping: 'omop', statementTimeoutMs: 1000 }), createLogger('silent'));
      await broken.start();
      expect((await broken.status()).state).toBe('down');
      const error = (await broken.search(request('Condition', [{ param: 'patient', ids: ['1'] }]), ctx).catch((e: unknown) => e)) as HealthgraphError;
      expect(error.code).toBe('SOURCE_UNAVAILABLE');
      expect(error.message).not.toMatch(/SELECT|FROM|condition_occurrence/i);
      await broken.close();
    });
  });
}
