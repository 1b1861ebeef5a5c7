/**
 * The MongoDB lake benchmark:
 *   1. import throughput of the Synthea bundles (../shared/data/synthea-r4-bundles.tar.xz, 617
 *      bundles) into a fresh database: resources/s, peak RSS, and where the time goes (read +
 *      decompress, JSON parse, normalize, driver, server);
 *   2. the patient-summary query (bench/queries.ts) through the gateway against the lake:
 *      latency sequentially, req/s with concurrent clients, and MongoDB commands per collection.
 *
 *   node dist/bench/lake.js
 *
 * Environment: BENCH_MONGODB_URL (default mongodb://127.0.0.1:27018/, the FerretDB of `make services`),
 * BENCH_LAKE_INPUT (default the Synthea archive), BENCH_LAKE_SKIP_IMPORT=1 (reuse the database),
 * BENCH_DURATION (seconds per query measurement, 10), BENCH_CONNECTIONS (8), BENCH_PATIENTS (16);
 * for import experiments BENCH_LAKE_BATCH_SIZE, BENCH_LAKE_CONCURRENCY, BENCH_LAKE_INDEXES (first|after|none)
 * (the importer's options) and BENCH_LAKE_SKIP_QUERIES=1.
 * Prints the figures and writes bench/results/lake.json.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type CommandStartedEvent } from 'mongodb';
import { MongoConnector } from '../connectors/mongo/connector';
import { mongoSourceSchema } from '../connectors/mongo/config';
import { parseConfig } from '../src/config/load';
import { encodeId } from '../src/ids';
import { importLake, formatReport, type ImportReport } from '../src/lake/import';
import { createLogger } from '../src/logger';
import { projectRoot } from '../src/paths';
import { createGateway } from '../src/server/gateway';
import { GATEWAY_SUMMARY } from './queries';
import { percentile } from './stats';

const env = process.env;
const num = (name: string, fallback: number): number => (env[name] ? Number(env[name]) : fallback);
const base = (env.BENCH_MONGODB_URL ?? 'mongodb://127.0.0.1:27018/').replace(/\/[^/]*$/, '/');
const url = `${base}hg_bench_lake`;
const input = env.BENCH_LAKE_INPUT ?? join(projectRoot(), '..', 'shared', 'data', 'synthea-r4-bundles.tar.xz');

interface ServerTime {
  commands: number;
  ms: number;
  byCommand: Record<string, { n: number; ms: number }>;
}

async function runImport(): Promise<{ report: ImportReport; server: ServerTime }> {
  const client = new MongoClient(url, { monitorCommands: true, appName: 'healthgraph-bench' });
  const server: ServerTime = { commands: 0, ms: 0, byCommand: {} };
  client.on('commandSucceeded', (e) => {
    server.commands++;
    server.ms += e.duration;
    const c = (server.byCommand[e.commandName] ??= { n: 0, ms: 0 });
    c.n++;
    c.ms += e.duration;
  });
  await client.connect();
  try {
    await client.db().dropDatabase();
    const report = await importLake({
      url,
      paths: [input],
      client,
      progress: process.stderr,
      progressIntervalMs: 10_000,
      batchSize: env.BENCH_LAKE_BATCH_SIZE ? num('BENCH_LAKE_BATCH_SIZE', 1000) : undefined,
      concurrency: env.BENCH_LAKE_CONCURRENCY ? num('BENCH_LAKE_CONCURRENCY', 2) : undefined,
      indexes: env.BENCH_LAKE_INDEXES as 'first' | 'after' | 'none' | undefined,
    });
    return { report, server };
  } finally {
    await client.close();
  }
}

async function runQueries(): Promise<Record<string, unknown>> {
  const commands: CommandStartedEvent[] = [];
  const source = mongoSourceSchema.parse({ id: 'lake', kind: 'mongo', url, maxTimeMs: 60_000 });
  const connector = new MongoConnector(source, createLogger('silent'), { onCommand: (e) => commands.push(e) });
  const config = parseConfig({ sources: [{ id: 'lake', kind: 'mongo', url }], limits: { maxCost: 10_000_000 } }, {}, 'bench');
  const gateway = await createGateway(config, { log: createLogger('silent'), connectors: [connector] });
  const endpoint = `${await gateway.listen(0, '127.0.0.1')}/graphql`;
  try {
    const client = new MongoClient(url);
    const ids = (await client.db().collection('Patient').find({}, { projection: { _id: 1 }, sort: { _id: 1 }, limit: num('BENCH_PATIENTS', 16) }).toArray()).map((d) => String(d._id));
    await client.close();
    const ask = async (id: string): Promise<number> => {
      const started = performance.now();
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: GATEWAY_SUMMARY, variables: { id: encodeId('lake', 'Patient', id) } }),
      });
      const body = (await res.json()) as { errors?: unknown[] };
      if (body.errors) throw new Error(`summary query failed: ${JSON.stringify(body.errors).slice(0, 300)}`);
      return performance.now() - started;
    };
    // Commands per collection for one summary.
    await ask(ids[0]!);
    commands.length = 0;
    await ask(ids[0]!);
    const perCollection: Record<string, number> = {};
    for (const c of commands) {
      if (c.commandName !== 'find' && c.commandName !== 'aggregate') continue;
      const name = String(c.command.find ?? c.command.aggregate);
      perCollection[name] = (perCollection[name] ?? 0) + 1;
    }
    const duration = num('BENCH_DURATION', 10) * 1000;
    const sequential: number[] = [];
    for (let i = 0, end = performance.now() + duration; performance.now() < end; i++) sequential.push(await ask(ids[i % ids.length]!));
    sequential.sort((a, b) => a - b);
    const connections = num('BENCH_CONNECTIONS', 8);
    let done = 0;
    const concurrentStart = performance.now();
    const end = concurrentStart + duration;
    await Promise.all(
      Array.from({ length: connections }, async (_, w) => {
        for (let i = w; performance.now() < end; i += connections) {
          await ask(ids[i % ids.length]!);
          done++;
        }
      }),
    );
    const seconds = (performance.now() - concurrentStart) / 1000;
    return {
      patients: ids.length,
      commandsPerCollection: perCollection,
      maxCommandsPerCollection: Math.max(...Object.values(perCollection)),
      sequential: { requests: sequential.length, p50Ms: +percentile(sequential, 50).toFixed(1), p95Ms: +percentile(sequential, 95).toFixed(1) },
      concurrent: { connections, requests: done, reqPerSec: +(done / seconds).toFixed(1) },
    };
  } finally {
    await gateway.close();
  }
}

async function main(): Promise<void> {
  if (!existsSync(input)) {
    process.stdout.write(`lake bench: ${input} is missing; nothing to measure\n`);
    return;
  }
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, mongodb: base };
  process.stdout.write(`lake bench on ${machine.cpus} cores (${machine.cpuModel}), ${base}\n`);
  let imported: Record<string, unknown> | undefined;
  if (env.BENCH_LAKE_SKIP_IMPORT !== '1') {
    const { report, server } = await runImport();
    const driverMs = Math.max(0, report.stages.write - server.ms);
    imported = {
      input,
      resources: report.resources,
      seconds: +(report.elapsedMs / 1000).toFixed(1),
      resourcesPerSecond: Math.round(report.resourcesPerSecond),
      peakRssMb: report.peakRssMb,
      errors: report.errors,
      stagesMs: { ...report.stages, server: Math.round(server.ms), driver: Math.round(driverMs) },
      serverByCommand: Object.fromEntries(Object.entries(server.byCommand).map(([k, v]) => [k, { n: v.n, ms: Math.round(v.ms) }])),
    };
    process.stdout.write(`${formatReport(report)}\n`);
    process.stdout.write(
      `  server (sum of command round trips, overlapping) ${Math.round(server.ms)} ms over ${server.commands} commands; driver (write wall time minus server) ${Math.round(driverMs)} ms\n`,
    );
    process.stdout.write(`  server by command: ${JSON.stringify(imported.serverByCommand)}\n`);
  }
  if (env.BENCH_LAKE_SKIP_QUERIES === '1') return;
  const queries = await runQueries();
  process.stdout.write(`patient summary against the lake: ${JSON.stringify(queries)}\n`);
  const dir = join(projectRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'lake.json'), `${JSON.stringify({ at: new Date().toISOString(), machine, import: imported, queries }, null, 2)}\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`lake bench failed: ${error.message}\n`);
  process.exit(1);
});
