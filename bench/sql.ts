/**
 * `node dist/bench/sql.js` — the OMOP cohort benchmark of the SQL connector (issue 3).
 *
 * Question: the first 50 patients, each with their conditions of one SNOMED CT code, their visits
 * and their drug exposures (50 per list). Asked (a) as one GraphQL request to a gateway (its own
 * process) over an OMOP source, and (b) as hand-written SQL over one pg/mysql2/better-sqlite3
 * connection: the patients, then the three lists for all of them with `IN (…)` — the plan a careful
 * engineer would write. Reports SQL statements per GraphQL request, latency p50/p95 of each (one
 * request at a time), their ratio, and the gateway's req/s under load.
 *
 * Env: BENCH_SQL_DB=postgres|mariadb|sqlite (default postgres), BENCH_SQL_SECONDS (default 10).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDriver } from '../connectors/sql/dialects';
import type { SqlDriver } from '../connectors/sql/dialects/types';
import { connectionUrl, findRepoRoot, NAMESPACE, type SqlDb } from '../test/peers/sql/config';
import { measure } from './load';
import { machineFacts } from './machine';

const DB = (process.env.BENCH_SQL_DB ?? 'postgres') as SqlDb;
const SECONDS = Number(process.env.BENCH_SQL_SECONDS ?? 10);
const ROOT = findRepoRoot(__dirname);
const PORT = 4000 + Math.floor(Math.random() * 1000) + 1000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

async function timed(n: number, fn: () => Promise<unknown>): Promise<{ p50: number; p95: number; mean: number }> {
  for (let i = 0; i < Math.min(20, n); i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: round(percentile(times, 50)), p95: round(percentile(times, 95)), mean: round(times.reduce((s, t) => s + t, 0) / n) };
}

function cohortQuery(code: string): string {
  return `{ patients(first: 50) { edges { node { id birthDate
    conditions(first: 50, filter: { code: ["http://snomed.info/sct|${code}"] }) { edges { node { id onsetDateTime code { coding { system code } } } } }
    encounters(first: 50) { edges { node { id period { start end } } } }
    medications(first: 50) { edges { node { ... on MedicationRequest { id authoredOn medicationCodeableConcept { coding { system code } } } } } } } } } }`;
}

/** The same question in hand-written SQL: 4 statements, the lists for all 50 patients at once. */
async function handWritten(driver: SqlDriver, schema: string | undefined, code: string): Promise<number> {
  const d = driver.dialect;
  const t = (name: string): string => (schema && d.name !== 'sqlite' ? `${d.quote(schema)}.${d.quote(name)}` : d.quote(name));
  const ph = (n: number): string => d.placeholder(n);
  const people = await driver.query(`SELECT person_id, birth_datetime FROM ${t('person')} ORDER BY person_id LIMIT 50`, []);
  const ids = people.map((p) => p.person_id);
  const list = (from: number): string => (d.name === 'postgres' ? `= ANY(${ph(from)})` : `IN (${ids.map((_, i) => ph(from + i)).join(', ')})`);
  const idParams = d.name === 'postgres' ? [ids] : ids;
  const [conditions, visits, drugs] = await Promise.all([
    driver.query(
      `SELECT o.condition_occurrence_id, o.person_id, o.condition_start_date, c.concept_code, c.vocabulary_id FROM ${t('condition_occurrence')} o
        JOIN ${t('concept')} c ON c.concept_id = o.condition_concept_id
        WHERE c.vocabulary_id = ${ph(1)} AND c.concept_code = ${ph(2)} AND o.person_id ${list(3)} ORDER BY o.person_id, o.condition_start_date DESC`,
      ['SNOMED', code, ...idParams],
    ),
    driver.query(`SELECT visit_occurrence_id, person_id, visit_start_date, visit_end_date FROM ${t('visit_occurrence')} WHERE person_id ${list(1)} ORDER BY person_id, visit_start_date DESC`, idParams),
    driver.query(
      `SELECT d.drug_exposure_id, d.person_id, d.drug_exposure_start_date, c.concept_code, c.vocabulary_id FROM ${t('drug_exposure')} d
        LEFT JOIN ${t('concept')} c ON c.concept_id = d.drug_concept_id WHERE d.person_id ${list(1)} ORDER BY d.person_id, d.drug_exposure_start_date DESC`,
      idParams,
    ),
  ]);
  return people.length + conditions.length + visits.length + drugs.length;
}

async function startGateway(configFile: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'healthgraph'), 'serve', '--config', configFile, '--port', String(PORT)], {
    env: { ...process.env, LOG_LEVEL: 'error', NODE_ENV: 'development' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${PORT}/healthz`)).ok) return child;
    } catch {
      // not yet listening
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('the gateway did not start');
}

async function main(): Promise<void> {
  const url = connectionUrl(DB, 'omop', ROOT, { readOnly: true });
  const schema = DB === 'postgres' ? NAMESPACE.omop : undefined;
  const driver = createDriver({ url, schema, poolSize: 4, statementTimeoutMs: 10_000 });
  const top = await driver.query(
    `SELECT c.concept_code AS code FROM ${schema && DB === 'postgres' ? `"${schema}".` : ''}condition_occurrence o JOIN ${schema && DB === 'postgres' ? `"${schema}".` : ''}concept c ON c.concept_id = o.condition_concept_id
      WHERE c.vocabulary_id = 'SNOMED' GROUP BY c.concept_code ORDER BY COUNT(*) DESC LIMIT 1`,
    [],
  );
  const code = String(top[0]?.code);
  const dir = mkdtempSync(join(tmpdir(), 'hg-bench-sql-'));
  const configFile = join(dir, 'config.yaml');
  writeFileSync(
    configFile,
    JSON.stringify({ sources: [{ id: 'omop', kind: 'sql', url, ...(schema ? { schema } : {}), mapping: 'omop', poolSize: 8 }], limits: { maxCost: 10_000_000 } }),
  );
  const gateway = await startGateway(configFile);
  try {
    const body = JSON.stringify({ query: cohortQuery(code) });
    const ask = async (): Promise<{ upstream: number; records: number }> => {
      const res = await fetch(`http://127.0.0.1:${PORT}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const text = await res.text();
      if (!res.ok || text.includes('"errors"')) throw new Error(`GraphQL request failed: ${text.slice(0, 300)}`);
      return { upstream: Number(res.headers.get('x-upstream-requests')), records: (text.match(/"id":/g) ?? []).length };
    };
    const sample = await ask();
    const handRecords = await handWritten(driver, schema, code);
    const n = 200;
    const gw = await timed(n, ask);
    const sql = await timed(n, () => handWritten(driver, schema, code));
    const load = await measure(
      { url: `http://127.0.0.1:${PORT}`, requests: [{ method: 'POST', path: '/graphql', body }], pids: { gateway: gateway.pid } },
      { connections: 8, durationSeconds: SECONDS, warmupSeconds: 2 },
    );
    const report = {
      benchmark: 'sql-omop-cohort',
      command: `BENCH_SQL_DB=${DB} node dist/bench/sql.js`,
      machine: machineFacts(),
      database: DB,
      question: `first 50 patients; per patient: conditions with SNOMED CT ${code}, visits, drug exposures (first 50 each)`,
      graphql: {
        sqlStatementsPerRequest: sample.upstream,
        typesTimesLevels: 'Patient (level 1); Condition, Encounter, MedicationRequest, MedicationStatement (level 2): goal <= 5',
        objectsReturned: sample.records,
        latencyMs: gw,
        load: { connections: 8, seconds: SECONDS, requestsPerSecond: load.reqPerSec, upstreamPerRequest: load.upstreamRequests, latencyMs: load.latencyMs, errors: load.errors + load.non2xx + load.graphqlErrors, cpu: load.cpu },
      },
      handWrittenSql: { statements: 4, rowsReturned: handRecords, latencyMs: sql },
      ratioP50: round(gw.p50 / sql.p50),
      ratioP95: round(gw.p95 / sql.p95),
      goal: 'gateway p50 <= 2x hand-written SQL p50; <= 1 statement per type per level',
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    gateway.kill('SIGTERM');
    await driver.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench/sql: ${(error as Error).message}\n`);
  process.exit(1);
});
