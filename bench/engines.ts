/**
 * A/B of gateway settings on the patient summary: gateway CPU per query for each variant, measured
 * in the same time window (variants alternate in rounds), so load from elsewhere on the machine
 * moves them alike. Not a throughput figure: 8 requests in flight, one gateway process each.
 *
 *   node dist/bench/engines.js
 *
 * Environment: BENCH_VARIANTS (default `jit,graphql-js,jit+semi16`): each is an executor
 * (`jit` | `graphql-js`), optionally `+semi16` for node's default 16 MB young generation instead of
 * bin/healthgraph's 64 MB; BENCH_AB_QUERIES (600) per variant per round; BENCH_AB_ROUNDS (5);
 * BENCH_FHIR_URL as for run.ts.
 */
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { encodeId } from '../src/ids';
import { processCpuSeconds } from './machine';
import { pickPatients } from './patients';
import { binNodeFlags, obtainPeer, startGateway } from './processes';
import { GATEWAY_SUMMARY, requestBody } from './queries';
import { askGraphql } from './stats';

const IN_FLIGHT = 8;

interface Variant {
  name: string;
  executor: 'jit' | 'graphql-js';
  nodeFlags: string[];
}

function variantsFrom(text: string, root: string): Variant[] {
  return text.split(',').map((name) => {
    const [executor, option] = name.split('+');
    if (executor !== 'jit' && executor !== 'graphql-js') throw new Error(`unknown executor in "${name}"`);
    if (option !== undefined && option !== 'semi16') throw new Error(`unknown option in "${name}"`);
    const flags = binNodeFlags(root).filter((f) => !(option === 'semi16' && f.startsWith('--max-semi-space-size')));
    return { name, executor, nodeFlags: flags };
  });
}

/** Sends `count` summary requests, `IN_FLIGHT` at a time; fails on any GraphQL error. */
async function fire(url: string, bodies: string[], count: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const body = bodies[next++ % bodies.length]!;
      await askGraphql(url, body);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

async function main(): Promise<void> {
  const root = join(__dirname, '..', '..');
  const env = process.env;
  const variants = variantsFrom(env.BENCH_VARIANTS ?? 'jit,graphql-js,jit+semi16', root);
  const queries = Number(env.BENCH_AB_QUERIES ?? 600);
  const rounds = Number(env.BENCH_AB_ROUNDS ?? 5);
  const peer = await obtainPeer(root, env);
  const started: { variant: Variant; stop: () => Promise<void>; url: string; pid?: number }[] = [];
  try {
    const patients = await pickPatients(peer.url, 20, 16);
    const bodies = patients.map((p) => requestBody(GATEWAY_SUMMARY, encodeId('ehr', 'Patient', p.id)));
    for (const variant of variants) {
      const config = ['sources:', '  - id: ehr', '    kind: fhir', `    url: ${peer.url}`, 'server:', `  executor: ${variant.executor}`, ''].join('\n');
      const gateway = await startGateway(root, env, config, variant.nodeFlags);
      started.push({ variant, stop: gateway.stop, url: gateway.url, pid: gateway.pid });
    }
    process.stdout.write(`engines A/B: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${queries} summaries per variant per round, ${IN_FLIGHT} in flight\n`);
    // Warm-up: V8 keeps optimizing for the first thousand or so requests.
    for (const s of started) await fire(s.url, bodies, 2 * queries);
    const perQuery = new Map<string, number[]>(variants.map((v) => [v.name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const s of started) {
        const before = s.pid === undefined ? undefined : processCpuSeconds(s.pid);
        const t0 = performance.now();
        await fire(s.url, bodies, queries);
        const after = s.pid === undefined ? undefined : processCpuSeconds(s.pid);
        const ms = before === undefined || after === undefined ? NaN : ((after - before) * 1000) / queries;
        perQuery.get(s.variant.name)!.push(ms);
        process.stdout.write(`  round ${round + 1}  ${s.variant.name.padEnd(18)} ${ms.toFixed(2)} ms gateway CPU per summary  ${((queries * 1000) / (performance.now() - t0)).toFixed(1)} summaries/s\n`);
      }
    }
    process.stdout.write('median gateway CPU per summary:\n');
    for (const [name, values] of perQuery) {
      const sorted = [...values].sort((a, b) => a - b);
      process.stdout.write(`  ${name.padEnd(18)} ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} ms\n`);
    }
  } finally {
    for (const s of started) await s.stop();
    await peer.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`engines bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
