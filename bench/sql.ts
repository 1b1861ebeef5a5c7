/**
 * `node dist/bench/sql.js` — the OMOP cohort benchmark of the SQL connector (issue 3).
 *
 * Question: the first 50 patients, each with their conditions of one SNOMED CT code, their visits
 * and their drug exposures (50 per list). Asked (a) as one GraphQL request to a gateway (its own
 * process) over an OMOP source, and (b) as hand-written SQL over the same driver: the patients,
 * then the three lists for all of them with `IN (…)`, ranked per patient in the database — the
 * plan a careful engineer would write — turned into the same JSON answer, which is checked to be
 * equal to the gateway's. Reports SQL statements per GraphQL request, latency p50/p95 of each (one
 * request at a time), their ratio, the gateway's overhead (its p50 minus the hand-written one) over
 * the hand-written p50 — the goal's own words — the gateway's floor (a request that fetches
 * nothing), and its req/s under load.
 *
 * The four single-request series (gateway, hand-written in process, its rows only, hand-written over
 * HTTP) are timed in alternating rounds, so a machine that speeds up or slows down during the run
 * cannot tilt their ratios.
 *
 * Env: BENCH_SQL_DB=postgres|mariadb|sqlite (default postgres), BENCH_SQL_ROUNDS (default 8 rounds of 25 requests per series),
 * BENCH_SQL_WARMUP (default 100 per series), BENCH_SQL_SECONDS (default 10; 0 skips the load run), BENCH_PROFILE=1
 * (a V8 CPU profile of the gateway in bench/results/profiles; read it with dist/bench/profile-summary.js),
 * BENCH_SQL_CONSENT=1 and BENCH_SQL_MAX_BATCH (the gateway's config: consent evaluated, limits.maxBatchRecords; see cohortConfig).
 */
import Database from 'better-sqlite3';
import { createDriver } from '../connectors/sql/dialects';
import { sqliteDialect, sqlitePath } from '../connectors/sql/dialects/sqlite';
import type { Row, SqlDriver } from '../connectors/sql/dialects/types';
import { tryDecodeId } from '../src/ids';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { connectionUrl, findRepoRoot, NAMESPACE, type SqlDb } from '../test/peers/sql/config';
import { cohortConfig, cohortConfigEnv, cohortQuery, topConditionCode } from './cohort';
import { measure } from './load';
import { startGateway } from './processes';
import { machineFacts } from './machine';
import { alternatingRuns, askGraphql, percentile, timeRuns } from './stats';

const DB = (process.env.BENCH_SQL_DB ?? 'postgres') as SqlDb;
const SECONDS = Number(process.env.BENCH_SQL_SECONDS ?? 10);
/** Unmeasured requests before each timed series: the gateway's hot paths are optimized by V8 after some 100 requests, and a server runs warm. */
const WARMUP = Number(process.env.BENCH_SQL_WARMUP ?? 100);
const ROOT = findRepoRoot(__dirname);

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Requests per series and round: the series are timed in alternating rounds (see `interleaved`). */
const ROUNDS = Number(process.env.BENCH_SQL_ROUNDS ?? 8);
const PER_ROUND = 25;

type Timing = { p50: number; p95: number; mean: number };

function summary(times: number[]): Timing {
  const sorted = [...times].sort((a, b) => a - b);
  return { p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)), mean: round(sorted.reduce((s, t) => s + t, 0) / sorted.length) };
}

async function timed(n: number, fn: () => Promise<unknown>): Promise<Timing> {
  return summary(await timeRuns(n, WARMUP, fn));
}

/** Several series timed in alternating rounds (ROUNDS × PER_ROUND requests each, after WARMUP unmeasured ones; see alternatingRuns). */
async function interleaved<K extends string>(series: Record<K, () => Promise<unknown>>): Promise<Record<K, Timing>> {
  const times = await alternatingRuns(series, { rounds: ROUNDS, perRound: PER_ROUND, warmup: WARMUP });
  return Object.fromEntries(Object.entries<number[]>(times).map(([name, t]) => [name, summary(t)])) as Record<K, Timing>;
}

const OHDSI = 'https://fhir-terminology.ohdsi.org';
/** The vocabularies of the concepts this question meets, and their FHIR system URIs (as the omop preset has them). */
const SYSTEMS: Record<string, string> = { SNOMED: 'http://snomed.info/sct', RxNorm: 'http://www.nlm.nih.gov/research/umls/rxnorm' };

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
async function handWritten(driver: SqlDriver, schema: string | undefined, code: string, rowsOnly = false): Promise<{ rows: number; answer?: string }> {
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
 * The hand-written answer behind a bare `node:http` endpoint: what a team would deploy instead of
 * the gateway. Asked with the same client over the same loopback, so the comparison with the
 * gateway then differs only in what each does between the socket and the database.
 */
async function serveHandWritten(driver: SqlDriver, schema: string | undefined, code: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    handWritten(driver, schema, code).then(
      ({ answer }) => {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(answer!) });
        res.end(answer);
      },
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * For SQLite the hand-written side calls better-sqlite3 itself, in this thread: the gateway's driver
 * runs statements in a worker (so that a long one can time out without stalling the gateway), and
 * handing rows between threads would make the baseline slower than a hand-written loop is.
 */
function directSqlite(url: string): SqlDriver {
  const db = new Database(sqlitePath(url), { readonly: true, fileMustExist: true });
  const statements = new Map<string, Database.Statement>();
  return {
    dialect: sqliteDialect,
    query: (sql, params) => {
      let statement = statements.get(sql);
      if (!statement) statements.set(sql, (statement = db.prepare(sql)));
      return Promise.resolve(statement.all(...params) as Row[]);
    },
    close: () => {
      db.close();
      return Promise.resolve();
    },
  };
}

/** The gateway's answer with its opaque ids replaced by the record ids they carry, for comparing with the hand-written one. */
function withRecordIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withRecordIds);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'id' && typeof v === 'string' ? (tryDecodeId(v)?.id ?? v) : withRecordIds(v)]));
}

async function main(): Promise<void> {
  const url = connectionUrl(DB, 'omop', ROOT, { readOnly: true });
  const schema = DB === 'postgres' ? NAMESPACE.omop : undefined;
  const driver = DB === 'sqlite' ? directSqlite(url) : createDriver({ url, schema, poolSize: 4, statementTimeoutMs: 10_000 });
  const code = await topConditionCode(driver, schema);
  // The gateway runs as `bin/healthgraph serve` with the node flags of its #! line.
  const config = cohortConfig(url, schema);
  const gateway = await startGateway(ROOT, process.env, config);
  const endpoint = gateway.url;
  try {
    const body = JSON.stringify({ query: cohortQuery(code) });
    // What a timed request does on the client side: send, read the whole answer, check it has no errors.
    const ask = (): Promise<{ upstream: number; text: string }> => askGraphql(endpoint, body);
    const sample = await ask();
    // Counted once, outside the timed requests (a regex over 285 KB costs the client about a millisecond).
    const objectsReturned = (sample.text.match(/"id":/g) ?? []).length;
    const hand = await handWritten(driver, schema, code);
    // Same question, same data, same answer: the comparison is void otherwise.
    if (!isDeepStrictEqual(withRecordIds(JSON.parse(sample.text)), JSON.parse(hand.answer!))) throw new Error('the hand-written answer differs from the gateway\'s');
    const rowsOnly = await handWritten(driver, schema, code, true);
    const handEndpoint = await serveHandWritten(driver, schema, code);
    const { gw, sql, sqlRowsOnly, sqlOverHttp } = await interleaved({
      gw: ask,
      sql: () => handWritten(driver, schema, code),
      sqlRowsOnly: () => handWritten(driver, schema, code, true),
      sqlOverHttp: () => fetch(handEndpoint.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((r) => r.text()),
    });
    await handEndpoint.close();
    // What any request to the gateway costs: HTTP, parsing, validation, the response, nothing fetched.
    const trivial = JSON.stringify({ query: '{ __typename }' });
    const floor = await timed(200, () => fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: trivial }).then((r) => r.text()));
    const load =
      SECONDS > 0
        ? await measure(
            { url: endpoint.replace(/\/graphql$/, ''), requests: [{ method: 'POST', path: '/graphql', body }], pids: { gateway: gateway.pid } },
            { connections: 8, durationSeconds: SECONDS, warmupSeconds: 2 },
          )
        : undefined;
    const report = {
      benchmark: 'sql-omop-cohort',
      command: `${cohortConfigEnv()}BENCH_SQL_DB=${DB} node dist/bench/sql.js`,
      machine: machineFacts(),
      database: DB,
      question: `first 50 patients; per patient: conditions with SNOMED CT ${code}, visits, drug exposures (first 50 each)`,
      graphql: {
        sqlStatementsPerRequest: sample.upstream,
        typesTimesLevels: 'Patient (level 1); Condition, Encounter, MedicationRequest, MedicationStatement (level 2): goal <= 5',
        objectsReturned,
        responseBytes: Buffer.byteLength(sample.text),
        latencyMs: gw,
        load: load && { connections: 8, seconds: SECONDS, requestsPerSecond: load.reqPerSec, upstreamPerRequest: load.upstreamRequests, latencyMs: load.latencyMs, errors: load.errors + load.non2xx + load.graphqlErrors, cpu: load.cpu },
      },
      gatewayFloor: { query: '{ __typename }', latencyMs: floor },
      handWrittenSql: {
        statements: 4,
        rowsReturned: hand.rows,
        answerBytes: Buffer.byteLength(hand.answer!),
        sameAnswer: true,
        latencyMs: sql,
        note: 'first 50 per patient ranked in SQL, rows grouped into the same nested JSON and serialized, in process (no HTTP)',
      },
      handWrittenSqlOverHttp: {
        latencyMs: sqlOverHttp,
        note: 'the same hand-written answer served by a bare node:http endpoint, asked like the gateway (fetch over loopback): the like-for-like comparison for a team choosing between the two',
      },
      handWrittenSqlRowsOnly: { statements: 4, rowsReturned: rowsOnly.rows, latencyMs: sqlRowsOnly, note: 'every row of the lists, no answer built (the baseline of earlier runs)' },
      ratioP50: round(gw.p50 / sql.p50),
      ratioP95: round(gw.p95 / sql.p95),
      ratioP50RowsOnly: round(gw.p50 / sqlRowsOnly.p50),
      ratioP50OverHttp: round(gw.p50 / sqlOverHttp.p50),
      // The goal's words: "gateway overhead <= 2x the hand-written SQL's latency" — what the gateway adds, over what the SQL takes.
      overheadMs: round(gw.p50 - sql.p50),
      overheadOverHandWritten: round((gw.p50 - sql.p50) / sql.p50),
      overheadOverHandWrittenOverHttp: round((gw.p50 - sqlOverHttp.p50) / sqlOverHttp.p50),
      goal: 'overhead (gateway p50 - hand-written p50) <= 2x the hand-written p50, i.e. overheadOverHandWritten <= 2; the stricter reading, gateway p50 <= 2x hand-written p50, is ratioP50 (in process) and ratioP50OverHttp (both behind HTTP); <= 1 statement per type per level',
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await gateway.stop(); // a CPU profile (BENCH_PROFILE=1) is written as it exits
    await driver.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench/sql: ${(error as Error).message}\n`);
  process.exit(1);
});
