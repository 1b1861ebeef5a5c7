/**
 * The OMOP cohort question of bench/sql.ts answered by hand-written SQL — the baseline the gateway
 * is compared with (bench/sql.ts) and so is the answer built by the database itself
 * (bench/sql-json.ts).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Row, SqlDriver } from '../connectors/sql/dialects/types';
import { tryDecodeId } from '../src/ids';

export const OHDSI = 'https://fhir-terminology.ohdsi.org';
/** The vocabularies of the concepts this question meets, and their FHIR system URIs (as the omop preset has them). */
export const SYSTEMS: Record<string, string> = { SNOMED: 'http://snomed.info/sct', RxNorm: 'http://www.nlm.nih.gov/research/umls/rxnorm' };

type Json = Record<string, unknown>;
const text = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v));
const day = (v: unknown): string | null => (v === null || v === undefined ? null : String(v).slice(0, 10));
const codings = (conceptId: unknown, vocabulary: unknown, code: unknown): Json | null => {
  const id = text(conceptId);
  if (id === undefined || id === '0') return null;
  const uri = SYSTEMS[String(vocabulary)];
  return { coding: uri && code !== null ? [{ system: uri, code: String(code) }, { system: OHDSI, code: id }] : [{ system: OHDSI, code: id }] };
};
const edges = (nodes: Json[] | undefined): Json => ({ edges: (nodes ?? []).map((node) => ({ node })) });
function byPerson(rows: Row[], node: (row: Row) => Json): Map<string, Json[]> {
  const out = new Map<string, Json[]>();
  for (const row of rows) {
    const key = String(row.person_id);
    const list = out.get(key);
    if (list) list.push(node(row));
    else out.set(key, [node(row)]);
  }
  return out;
}

/**
 * The same question in hand-written SQL, answered as the client gets it: 4 statements (the
 * patients, then each list for all of them at once, first 50 per patient with ROW_NUMBER() in the
 * database, in the gateway's order: date descending, missing dates last, then id), the rows
 * grouped into the same nested JSON and serialized. `rowsOnly` stops after the statements and
 * fetches every row of the lists (the baseline of earlier runs).
 */
export async function handWritten(driver: SqlDriver, schema: string | undefined, code: string, rowsOnly = false): Promise<{ rows: number; answer?: string }> {
  const d = driver.dialect;
  const t = (name: string): string => (schema && d.name !== 'sqlite' ? `${d.quote(schema)}.${d.quote(name)}` : d.quote(name));
  const ph = (n: number): string => d.placeholder(n);
  const people = await driver.query(`SELECT person_id, birth_datetime FROM ${t('person')} ORDER BY person_id LIMIT 50`, []);
  const ids = people.map((p) => p.person_id);
  const list = (from: number): string => (d.name === 'postgres' ? `= ANY(${ph(from)})` : `IN (${ids.map((_, i) => ph(from + i)).join(', ')})`);
  const idParams = d.name === 'postgres' ? [ids] : ids;
  // "first 50 per patient, newest first": ranked inside the database unless rowsOnly.
  const firstPer = (select: string, date: string, id: string): string =>
    rowsOnly
      ? select
      : `SELECT * FROM (${select.replace(/^SELECT /, `SELECT ROW_NUMBER() OVER (PARTITION BY person_id ORDER BY (CASE WHEN ${date} IS NULL THEN 1 ELSE 0 END), ${date} DESC, ${id}) AS rn, `)}) ranked WHERE rn <= 50 ORDER BY person_id, rn`;
  const [conditions, visits, drugs] = await Promise.all([
    driver.query(
      firstPer(
        `SELECT o.condition_occurrence_id, o.person_id, o.condition_start_date, o.condition_concept_id, c.concept_code, c.vocabulary_id FROM ${t('condition_occurrence')} o
          JOIN ${t('concept')} c ON c.concept_id = o.condition_concept_id WHERE c.vocabulary_id = ${ph(1)} AND c.concept_code = ${ph(2)} AND o.person_id ${list(3)}`,
        'condition_start_date',
        'condition_occurrence_id',
      ),
      ['SNOMED', code, ...idParams],
    ),
    driver.query(
      firstPer(`SELECT visit_occurrence_id, person_id, visit_start_date, visit_end_date FROM ${t('visit_occurrence')} WHERE person_id ${list(1)}`, 'visit_start_date', 'visit_occurrence_id'),
      idParams,
    ),
    driver.query(
      firstPer(
        `SELECT d.drug_exposure_id, d.person_id, d.drug_exposure_start_date, d.drug_type_concept_id, d.drug_concept_id, c.concept_code, c.vocabulary_id FROM ${t('drug_exposure')} d
          LEFT JOIN ${t('concept')} c ON c.concept_id = d.drug_concept_id WHERE d.person_id ${list(1)}`,
        'drug_exposure_start_date',
        'drug_exposure_id',
      ),
      idParams,
    ),
  ]);
  const rows = people.length + conditions.length + visits.length + drugs.length;
  if (rowsOnly) return { rows };
  const conditionsOf = byPerson(conditions, (r) => ({ id: String(r.condition_occurrence_id), onsetDateTime: day(r.condition_start_date), code: codings(r.condition_concept_id, r.vocabulary_id, r.concept_code) }));
  const visitsOf = byPerson(visits, (r) => ({
    id: String(r.visit_occurrence_id),
    period: r.visit_start_date === null && r.visit_end_date === null ? null : { start: day(r.visit_start_date), end: day(r.visit_end_date) },
  }));
  // Patient-reported exposures (type 32865) are MedicationStatements: the question selects no field of those.
  const drugsOf = byPerson(drugs, (r) =>
    Number(r.drug_type_concept_id) === 32865
      ? {}
      : { id: String(r.drug_exposure_id), authoredOn: day(r.drug_exposure_start_date), medicationCodeableConcept: codings(r.drug_concept_id, r.vocabulary_id, r.concept_code) },
  );
  const answer = {
    data: {
      patients: {
        edges: people.map((p) => {
          const id = String(p.person_id);
          return { node: { id, birthDate: day(p.birth_datetime), conditions: edges(conditionsOf.get(id)), encounters: edges(visitsOf.get(id)), medications: edges(drugsOf.get(id)) } };
        }),
      },
    },
  };
  return { rows, answer: JSON.stringify(answer) };
}


/**
 * An answer behind a bare `node:http` endpoint: what a team would deploy instead of the gateway.
 * Asked with the same client over the same loopback as the gateway, so a comparison with it then
 * differs only in what each does between the socket and the database.
 */
export async function serveAnswer(answer: () => Promise<string>): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    answer().then(
      (text) => {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      },
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The gateway's answer with its opaque ids replaced by the record ids they carry, for comparing with the hand-written one. */
export function withRecordIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withRecordIds);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'id' && typeof v === 'string' ? (tryDecodeId(v)?.id ?? v) : withRecordIds(v)]));
}
