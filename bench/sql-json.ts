/**
 * `node dist/bench/sql-json.js` — the OMOP cohort question of bench/sql.ts with the answer's JSON
 * built by PostgreSQL itself, in one statement: the design of engines that compile a whole GraphQL
 * query into one SQL query (Hasura: `json_build_object` / `json_agg` over lateral sub-queries).
 * It sizes that design on this machine against the same hand-written baseline as bench/sql.ts, and
 * is what docs/benchmarks.md cites when it weighs the design for the "≤ 2× the hand-written SQL"
 * goal of issue 3.
 *
 * The statement has the construction such engines generate — `json_build_object` per object,
 * `json_agg` per list, one lateral sub-query per list in the gateway's order — with dates as plain
 * text (formatting them with `to_char` cost PostgreSQL a further ~1 ms). Its
 * answer is checked equal to the hand-written one (record ids, as the hand-written answer has them;
 * no gateway ids, no policy, no audit trail — only what the database can build). Reported: p50/p95
 * of both, timed in alternating rounds; the statement's execution time inside PostgreSQL
 * (EXPLAIN ANALYZE, median of runs); and the execution time of the same lateral sub-queries with
 * no JSON built (counting rows), which shows what building the JSON costs the database. Both
 * answers are also timed behind a bare `node:http` endpoint (the floor of a server of either
 * design: no GraphQL, ids, policy or audit trail).
 *
 * PostgreSQL only (Hasura's home database). Env: BENCH_SQL_ROUNDS (default 8 rounds of 25 requests
 * per series), BENCH_SQL_WARMUP (default 100 per series). Needs the SQL test services (`make services`).
 */
import { isDeepStrictEqual } from 'node:util';
import { createDriver } from '../connectors/sql/dialects';
import { connectionUrl, findRepoRoot, NAMESPACE } from '../test/peers/sql/config';
import { topConditionCode } from './cohort';
import { handWritten, OHDSI, serveAnswer, SYSTEMS } from './hand-written';
import { machineFacts } from './machine';
import { alternatingRuns, latencySummary, percentile } from './stats';

const ROUNDS = Number(process.env.BENCH_SQL_ROUNDS ?? 8);
const WARMUP = Number(process.env.BENCH_SQL_WARMUP ?? 100);
const PER_ROUND = 25;
const EXPLAIN_RUNS = 15;

const round = (n: number): number => Math.round(n * 100) / 100;

/** A quoted SQL string literal of a constant of this file (never of input). */
const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** `{ coding: [...] }` of an OMOP concept as the hand-written answer has it, or NULL for concept 0 / none. */
function codingsSql(conceptId: string, vocabulary: string, code: string): string {
  const uri = `CASE ${vocabulary} ${Object.entries(SYSTEMS)
    .map(([v, u]) => `WHEN ${literal(v)} THEN ${literal(u)}`)
    .join(' ')} END`;
  const ohdsi = `json_build_object('system', ${literal(OHDSI)}, 'code', ${conceptId}::text)`;
  return `CASE WHEN ${conceptId} IS NULL OR ${conceptId} = 0 THEN NULL
    WHEN ${uri} IS NOT NULL AND ${code} IS NOT NULL THEN json_build_object('coding', json_build_array(json_build_object('system', ${uri}, 'code', ${code}), ${ohdsi}))
    ELSE json_build_object('coding', json_build_array(${ohdsi})) END`;
}

/**
 * The statement. With `json` false, the same lateral sub-queries are only counted: the database's
 * work of finding the rows, without building the answer.
 */
export function statement(schema: string, json: boolean): string {
  const t = (name: string): string => `"${schema}".${name}`;
  // One list: the first 50 of a patient's rows in the gateway's order (date descending, missing dates last, then id).
  const list = (from: string, node: string, order: string): string =>
    json
      ? `json_build_object('edges', COALESCE((SELECT json_agg(json_build_object('node', ${node}) ORDER BY ${order}) FROM (${from} ORDER BY ${order} LIMIT 50) x), '[]'::json))`
      : `(SELECT count(*) FROM (${from} ORDER BY ${order} LIMIT 50) x)`;
  const conditions = list(
    `SELECT o.condition_occurrence_id, o.condition_start_date, o.condition_concept_id, c.vocabulary_id, c.concept_code FROM ${t('condition_occurrence')} o
      JOIN ${t('concept')} c ON c.concept_id = o.condition_concept_id WHERE o.person_id = p.person_id AND c.vocabulary_id = 'SNOMED' AND c.concept_code = $1`,
    `json_build_object('id', x.condition_occurrence_id::text, 'onsetDateTime', x.condition_start_date::text, 'code', ${codingsSql('x.condition_concept_id', 'x.vocabulary_id', 'x.concept_code')})`,
    'condition_start_date DESC NULLS LAST, condition_occurrence_id',
  );
  const visits = list(
    `SELECT visit_occurrence_id, visit_start_date, visit_end_date FROM ${t('visit_occurrence')} WHERE person_id = p.person_id`,
    `json_build_object('id', x.visit_occurrence_id::text, 'period', CASE WHEN x.visit_start_date IS NULL AND x.visit_end_date IS NULL THEN NULL
      ELSE json_build_object('start', x.visit_start_date::text, 'end', x.visit_end_date::text) END)`,
    'visit_start_date DESC NULLS LAST, visit_occurrence_id',
  );
  // Patient-reported exposures (type 32865) are MedicationStatements: the question selects no field of those.
  const drugs = list(
    `SELECT d.drug_exposure_id, d.drug_exposure_start_date, d.drug_type_concept_id, d.drug_concept_id, c.vocabulary_id, c.concept_code FROM ${t('drug_exposure')} d
      LEFT JOIN ${t('concept')} c ON c.concept_id = d.drug_concept_id WHERE d.person_id = p.person_id`,
    `CASE WHEN x.drug_type_concept_id = 32865 THEN '{}'::json ELSE json_build_object('id', x.drug_exposure_id::text, 'authoredOn', x.drug_exposure_start_date::text,
      'medicationCodeableConcept', ${codingsSql('x.drug_concept_id', 'x.vocabulary_id', 'x.concept_code')}) END`,
    'drug_exposure_start_date DESC NULLS LAST, drug_exposure_id',
  );
  const people = `SELECT person_id, birth_datetime FROM ${t('person')} ORDER BY person_id LIMIT 50`;
  if (!json) return `SELECT sum(${conditions} + ${visits} + ${drugs}) AS n FROM (${people}) p`;
  const node = `json_build_object('id', p.person_id::text, 'birthDate', left(p.birth_datetime::text, 10), 'conditions', ${conditions}, 'encounters', ${visits}, 'medications', ${drugs})`;
  return `SELECT json_build_object('data', json_build_object('patients', json_build_object('edges',
    COALESCE(json_agg(json_build_object('node', ${node}) ORDER BY p.person_id), '[]'::json))))::text AS answer FROM (${people}) p`;
}

async function main(): Promise<void> {
  const root = findRepoRoot(__dirname);
  const url = connectionUrl('postgres', 'omop', root, { readOnly: true });
  const schema = NAMESPACE.omop;
  const driver = createDriver({ url, schema, poolSize: 4, statementTimeoutMs: 10_000 });
  try {
    const code = await topConditionCode(driver, schema);
    const built = statement(schema, true);
    const dbJson = async (): Promise<string> => String((await driver.query(built, [code]))[0]?.answer);
    const answer = await dbJson();
    const hand = await handWritten(driver, schema, code);
    // Same question, same data, same answer: the comparison is void otherwise.
    if (!isDeepStrictEqual(JSON.parse(answer), JSON.parse(hand.answer!))) throw new Error('the answer built by PostgreSQL differs from the hand-written one');
    // Both also behind a bare node:http endpoint, asked over loopback: the floor of a server of either design.
    const handAnswer = async (): Promise<string> => (await handWritten(driver, schema, code)).answer!;
    const endpoints = { dbJson: await serveAnswer(dbJson), hand: await serveAnswer(handAnswer) };
    const ask = (url: string) => () => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).then((r) => r.text());
    const times = await alternatingRuns(
      { dbJson, hand: handAnswer, dbJsonOverHttp: ask(endpoints.dbJson.url), handOverHttp: ask(endpoints.hand.url) },
      { rounds: ROUNDS, perRound: PER_ROUND, warmup: WARMUP },
    ).finally(() => Promise.all([endpoints.dbJson.close(), endpoints.hand.close()]));
    // Inside the database: EXPLAIN ANALYZE's execution time, with and without building the JSON.
    const executionMs = async (sql: string): Promise<number> => {
      const runs: number[] = [];
      for (let i = 0; i < EXPLAIN_RUNS; i++) {
        const plan = await driver.query(`EXPLAIN (ANALYZE, TIMING OFF) ${sql}`, [code]);
        const line = plan.map((row) => String(Object.values(row)[0])).find((l) => l.startsWith('Execution Time'));
        runs.push(Number(line?.match(/[\d.]+/)?.[0]));
      }
      return round(percentile(runs.sort((a, b) => a - b), 50));
    };
    const withJson = await executionMs(built);
    const rowsOnly = await executionMs(statement(schema, false));
    const db = latencySummary(times.dbJson);
    const handTiming = latencySummary(times.hand);
    const dbHttp = latencySummary(times.dbJsonOverHttp);
    const handHttp = latencySummary(times.handOverHttp);
    const report = {
      benchmark: 'sql-omop-cohort-database-built-json',
      command: 'node dist/bench/sql-json.js',
      machine: machineFacts(),
      database: 'postgres',
      question: `first 50 patients; per patient: conditions with SNOMED CT ${code}, visits, drug exposures (first 50 each)`,
      databaseBuiltJson: {
        statements: 1,
        answerBytes: Buffer.byteLength(answer),
        sameAnswer: true,
        latencyMs: db,
        latencyMsOverHttp: dbHttp,
        executionMsInDatabase: withJson,
        executionMsWithoutJson: rowsOnly,
        note: 'one statement; PostgreSQL builds the whole answer (json_build_object, json_agg over lateral sub-queries), read as one text value; no gateway ids, policy or audit trail',
      },
      handWrittenSql: {
        statements: 4,
        latencyMs: handTiming,
        latencyMsOverHttp: handHttp,
        note: 'the baseline of bench/sql.ts: 4 statements, rows grouped into the answer in JavaScript',
      },
      ratioP50: round(db.p50 / handTiming.p50),
      ratioP50OverHttp: round(dbHttp.p50 / handHttp.p50),
      // How bench/sql.ts's ratioP50 (the gateway asked over HTTP, the hand-written SQL in process) reads for a server of this design, before any GraphQL, ids, policy or audit trail.
      ratioP50OverHttpToInProcess: round(dbHttp.p50 / handTiming.p50),
      jsonBuildingMsInDatabase: round(withJson - rowsOnly),
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await driver.close();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench/sql-json: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
