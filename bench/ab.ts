/**
 * `node dist/bench/ab.js OTHER_CHECKOUT` — A/B of two builds on the OMOP cohort question of
 * bench/sql.ts: the build in OTHER_CHECKOUT (A) against this one (B), each as its own gateway
 * (`bin/healthgraph serve`), asked one request at a time in alternating rounds so that drift in the
 * machine's load falls on both alike. Prints p50/p95 and the gateway's CPU per request for each.
 * Single runs of bench/sql.ts vary by ±2 ms here; this tells changes of a few percent apart.
 *
 * A is any built checkout, e.g.
 *   git worktree add /tmp/hg-a HEAD~1 && ln -s "$PWD/node_modules" /tmp/hg-a/ && (cd /tmp/hg-a && npx tsc -p tsconfig.build.json)
 * Env: BENCH_SQL_DB=postgres|mariadb|sqlite (default postgres), BENCH_AB_ROUNDS (default 12), BENCH_AB_BATCH (requests per
 * round and build, default 50), BENCH_SQL_CONSENT=1 and BENCH_SQL_MAX_BATCH (the gateway config: see cohortConfig).
 * Needs the SQL test services (`make services`).
 */
import { resolve } from 'node:path';
import { createDriver } from '../connectors/sql/dialects';
import { connectionUrl, findRepoRoot, NAMESPACE, type SqlDb } from '../test/peers/sql/config';
import { cohortConfig, cohortQuery, topConditionCode } from './cohort';
import { processCpuSeconds } from './machine';
import { startGateway, type Service } from './processes';
import { alternatingRuns, askGraphql, percentile } from './stats';

const DB = (process.env.BENCH_SQL_DB ?? 'postgres') as SqlDb;
const ROUNDS = Number(process.env.BENCH_AB_ROUNDS ?? 12);
const BATCH = Number(process.env.BENCH_AB_BATCH ?? 50);

interface Side {
  name: 'A' | 'B';
  root: string;
  gateway: Service;
  times: number[];
  cpuSeconds: number;
}

async function main(): Promise<void> {
  const other = process.argv[2];
  if (!other) throw new Error('usage: node dist/bench/ab.js OTHER_CHECKOUT (a built checkout to compare this one with)');
  const root = findRepoRoot(__dirname);
  const url = connectionUrl(DB, 'omop', root, { readOnly: true });
  const schema = DB === 'postgres' ? NAMESPACE.omop : undefined;
  const driver = createDriver({ url, schema, poolSize: 1, statementTimeoutMs: 10_000 });
  const code = await topConditionCode(driver, schema).finally(() => driver.close());
  const body = JSON.stringify({ query: cohortQuery(code) });
  const config = cohortConfig(url, schema);
  const sides: Side[] = [];
  try {
    for (const [name, dir] of [['A', resolve(other)], ['B', root]] as const) {
      sides.push({ name, root: dir, gateway: await startGateway(dir, process.env, config), times: [], cpuSeconds: 0 });
    }
    const [a, b] = sides as [Side, Side];
    const ask = (side: Side) => () => askGraphql(side.gateway.url, body);
    // Warm-up first: compiled queries, JIT, pools; each side's CPU time is read around its runs.
    const times = await alternatingRuns(
      { A: ask(a), B: ask(b) },
      {
        rounds: ROUNDS,
        perRound: BATCH,
        warmup: 60,
        around: async (name, runs) => {
          const side = name === 'A' ? a : b;
          const before = processCpuSeconds(side.gateway.pid!) ?? 0;
          await runs();
          side.cpuSeconds += (processCpuSeconds(side.gateway.pid!) ?? 0) - before;
        },
      },
    );
    a.times = times.A;
    b.times = times.B;
  } finally {
    await Promise.all(sides.map((s) => s.gateway.stop()));
  }
  process.stdout.write(`cohort query on ${DB}, ${ROUNDS} alternating rounds of ${BATCH} requests per build\n`);
  for (const side of sides) {
    const cpuMs = (side.cpuSeconds * 1000) / side.times.length;
    process.stdout.write(`${side.name} ${side.root}: p50 ${percentile(side.times, 50).toFixed(2)} ms, p95 ${percentile(side.times, 95).toFixed(2)} ms, gateway CPU ${cpuMs.toFixed(2)} ms per request\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench/ab: ${(error as Error).message}\n`);
  process.exit(1);
});
