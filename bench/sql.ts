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
import { isDeepStrictEqual } from 'node:util';
import { connectionUrl, findRepoRoot, NAMESPACE, type SqlDb } from '../test/peers/sql/config';
import { cohortConfig, cohortConfigEnv, cohortQuery, topConditionCode } from './cohort';
import { handWritten, serveAnswer, withRecordIds } from './hand-written';
import { measure } from './load';
import { startGateway } from './processes';
import { machineFacts } from './machine';
import { alternatingRuns, askGraphql, latencySummary, timeRuns, type Timing } from './stats';

const DB = (process.env.BENCH_SQL_DB ?? 'postgres') as SqlDb;
const SECONDS = Number(process.env.BENCH_SQL_SECONDS ?? 10);
/** Unmeasured requests before each timed series: the gateway's hot paths are optimized by V8 after some 100 requests, and a server runs warm. */
const WARMUP = Number(process.env.BENCH_SQL_WARMUP ?? 100);
const ROOT = findRepoRoot(__dirname);

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Requests per series and round: the series are timed in alternating rounds (see `interleaved`). */
const ROUNDS = Number(process.env.BENCH_SQL_ROUNDS ?? 8);
const PER_ROUND = 25;

async function timed(n: number, fn: () => Promise<unknown>): Promise<Timing> {
  return latencySummary(await timeRuns(n, WARMUP, fn));
}

/** Several series timed in alternating rounds (ROUNDS × PER_ROUND requests each, after WARMUP unmeasured ones; see alternatingRuns). */
async function interleaved<K extends string>(series: Record<K, () => Promise<unknown>>): Promise<Record<K, Timing>> {
  const times = await alternatingRuns(series, { rounds: ROUNDS, perRound: PER_ROUND, warmup: WARMUP });
  return Object.fromEntries(Object.entries<number[]>(times).map(([name, t]) => [name, latencySummary(t)])) as Record<K, Timing>;
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
    const handEndpoint = await serveAnswer(async () => (await handWritten(driver, schema, code)).answer!);
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
