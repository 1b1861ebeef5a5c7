/**
 * `node dist/bench/pipeline.js [OTHER_CHECKOUT]` — the gateway's own work per request, without the
 * database: the OMOP cohort question of bench/sql.ts asked of a gateway whose SQL source answers
 * every statement from memory (each distinct statement goes to the database once; its rows are kept
 * and handed out again). What is timed is then the gateway alone — HTTP, GraphQL execution, the data
 * layer, the row builders, the policy, the audit trail, serialization — with neither the database's
 * time nor the driver's parsing of rows, and with much less noise than the end-to-end figures of
 * bench/sql.ts (no database sharing the two cores).
 *
 * Each run is a fresh process (the gateway and a keep-alive `node:http` client in it), started with
 * the node flags of the build's `bin/healthgraph`. With OTHER_CHECKOUT (any built checkout), runs of
 * that build (A) and this one (B) alternate, the order reversed every other round, so a machine that
 * speeds up or slows down falls on both alike; medians of the runs are printed.
 *
 * Env: BENCH_SQL_DB=postgres|mariadb|sqlite (default postgres; the rows are fetched from it once),
 * BENCH_PIPELINE_ROUNDS (default 6), BENCH_PIPELINE_REQUESTS (timed requests per run, default 250),
 * BENCH_PIPELINE_WARMUP (default 150). Needs the SQL test services (`make services`).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createDriver } from '../connectors/sql/dialects';
import type { Row } from '../connectors/sql/dialects/types';
import { connectionUrl, findRepoRoot, NAMESPACE, type SqlDb } from '../test/peers/sql/config';
import { cohortConfig, cohortConfigEnv, cohortQuery, topConditionCode } from './cohort';
import { binNodeFlags } from './processes';
import { percentile } from './stats';

const DB = (process.env.BENCH_SQL_DB ?? 'postgres') as SqlDb;
const ROUNDS = Number(process.env.BENCH_PIPELINE_ROUNDS ?? 6);
const REQUESTS = Number(process.env.BENCH_PIPELINE_REQUESTS ?? 250);
const WARMUP = Number(process.env.BENCH_PIPELINE_WARMUP ?? 150);

/** One run's figures: per request, wall time (p50, mean) and this process's CPU (the gateway and the small client in it). */
interface RunResult {
  p50: number;
  mean: number;
  cpuMs: number;
  rssMB: number;
  bytes: number;
  statements: number;
}

/** What a run needs of a build's gateway, loaded from that build's dist (the two builds may differ in everything else). */
interface BuildModules {
  parseConfig: (raw: unknown) => unknown;
  createGateway: (
    config: unknown,
    options: { log: unknown; configPath: string },
  ) => Promise<{ registry: { connectors: unknown[] }; listen: (port: number, host: string) => Promise<string>; close: () => Promise<void> }>;
  createLogger: (level: string) => unknown;
}

function loadBuild(root: string): BuildModules {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { parseConfig } = require(join(root, 'dist', 'src', 'config', 'load')) as Pick<BuildModules, 'parseConfig'>;
  const { createGateway } = require(join(root, 'dist', 'src', 'server', 'gateway')) as Pick<BuildModules, 'createGateway'>;
  const { createLogger } = require(join(root, 'dist', 'src', 'logger')) as Pick<BuildModules, 'createLogger'>;
  /* eslint-enable @typescript-eslint/no-require-imports */
  return { parseConfig, createGateway, createLogger };
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

/** The child: one build's gateway in this process, its SQL answers replayed from memory, timed. */
async function child(root: string, code: string): Promise<RunResult> {
  const { parseConfig, createGateway, createLogger } = loadBuild(root);
  const url = connectionUrl(DB, 'omop', findRepoRoot(__dirname), { readOnly: true });
  const dir = mkdtempSync(join(tmpdir(), 'healthgraph-pipeline-'));
  const gateway = await createGateway(parseConfig(JSON.parse(cohortConfig(url, DB === 'postgres' ? NAMESPACE.omop : undefined))), {
    log: createLogger('silent'),
    configPath: join(dir, 'gateway.yaml'), // the audit trail is written next to it, as a served gateway's is
  });
  try {
    // The SQL connector's driver (a private member: this is a measuring harness, not an API).
    const driver = (gateway.registry.connectors[0] as { driver?: { query: (sql: string, params: readonly unknown[]) => Promise<Row[]> } }).driver;
    if (!driver) throw new Error(`${root}: the SQL connector has no driver to replay`);
    const fetchRows = driver.query.bind(driver);
    const kept = new Map<string, Row[]>();
    driver.query = async (sql, params) => {
      const key = `${sql}\u0000${JSON.stringify(params)}`;
      let rows = kept.get(key);
      if (!rows) kept.set(key, (rows = await fetchRows(sql, params)));
      return rows;
    };
    const port = Number(new URL(await gateway.listen(0, '127.0.0.1')).port);
    const body = JSON.stringify({ query: cohortQuery(code) });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const ask = (): Promise<string> =>
      new Promise((done, fail) => {
        const req = request(
          { host: '127.0.0.1', port, path: '/graphql', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => (res.statusCode === 200 ? done(Buffer.concat(chunks).toString('utf8')) : fail(new Error(`HTTP ${res.statusCode}`))));
          },
        );
        req.on('error', fail);
        req.end(body);
      });
    const answer = await ask();
    if (answer.includes('"errors"')) throw new Error(`the cohort question failed: ${answer.slice(0, 300)}`);
    for (let i = 0; i < WARMUP; i++) await ask();
    const times: number[] = [];
    const cpu = process.cpuUsage();
    for (let i = 0; i < REQUESTS; i++) {
      const started = performance.now();
      await ask();
      times.push(performance.now() - started);
    }
    const used = process.cpuUsage(cpu);
    agent.destroy();
    const sorted = [...times].sort((a, b) => a - b);
    return {
      p50: round(percentile(sorted, 50)),
      mean: round(times.reduce((s, t) => s + t, 0) / times.length),
      cpuMs: round((used.user + used.system) / 1000 / REQUESTS),
      rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
      bytes: Buffer.byteLength(answer),
      statements: kept.size,
    };
  } finally {
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (values: number[]): number => round(percentile([...values].sort((a, b) => a - b), 50));

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const result = await child(process.argv[3]!, process.argv[4]!);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const root = findRepoRoot(__dirname);
  const other = process.argv[2] ? resolve(process.argv[2]) : undefined;
  const url = connectionUrl(DB, 'omop', root, { readOnly: true });
  const schema = DB === 'postgres' ? NAMESPACE.omop : undefined;
  const driver = createDriver({ url, schema, poolSize: 1, statementTimeoutMs: 10_000 });
  const code = await topConditionCode(driver, schema).finally(() => driver.close());
  const builds = other ? [{ name: 'A', root: other }, { name: 'B', root }] : [{ name: 'B', root }];
  const runs = new Map<string, RunResult[]>(builds.map((b) => [b.name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const build of r % 2 === 0 ? builds : [...builds].reverse()) {
      const args = [...binNodeFlags(build.root), join(root, 'dist', 'bench', 'pipeline.js'), '--child', build.root, code];
      const { stdout } = await promisify(execFile)(process.execPath, args, { cwd: root, maxBuffer: 1 << 20 });
      runs.get(build.name)!.push(JSON.parse(stdout.trim().split('\n').pop()!) as RunResult);
    }
  }
  const report = {
    benchmark: 'gateway-pipeline',
    command: `${cohortConfigEnv()}BENCH_SQL_DB=${DB} node dist/bench/pipeline.js${other ? ' OTHER_CHECKOUT' : ''}`,
    question: 'bench/sql.ts cohort question; every SQL statement answered from memory after its first run',
    settings: { rounds: ROUNDS, requestsPerRun: REQUESTS, warmupPerRun: WARMUP },
    note: 'medians over runs; p50/mean: one request at a time, wall time; cpuMsPerRequest: the run process (gateway, its garbage collector threads, and the keep-alive client) per request',
    builds: builds.map((b) => {
      const results = runs.get(b.name)!;
      return {
        name: b.name,
        root: b.root,
        nodeFlags: binNodeFlags(b.root).join(' '),
        medians: { p50Ms: median(results.map((x) => x.p50)), meanMs: median(results.map((x) => x.mean)), cpuMsPerRequest: median(results.map((x) => x.cpuMs)), rssMB: median(results.map((x) => x.rssMB)) },
        p50PerRun: results.map((x) => x.p50),
        answerBytes: results[0]!.bytes,
        distinctStatements: results[0]!.statements,
      };
    }),
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench/pipeline: ${(error as Error).message}\n`);
  process.exit(1);
});
