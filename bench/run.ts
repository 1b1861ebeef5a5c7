/**
 * `make bench`: healthgraph against the upstream's own FHIR GraphQL, on this machine.
 *
 *   node dist/bench/run.js
 *
 * Environment: BENCH_FHIR_URL (default: the :8081 peer of `make services`, else one started here),
 * BENCH_DURATION (seconds measured, 10), BENCH_WARMUP (seconds, 3), BENCH_CONNECTIONS (32),
 * BENCH_PATIENTS (most patients rotated, 16), BENCH_QUESTIONS (e.g. `summary`: only these questions),
 * BENCH_PROFILE=1 (V8 CPU profiles of the children this benchmark starts, in bench/results/profiles).
 *
 * Prints a table and writes bench/results/latest.json. See docs/benchmarks.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeId } from '../src/ids';
import { projectRoot } from '../src/paths';
import { measure, type LoadSettings } from './load';
import { machineFacts } from './machine';
import { difference, normalize, recordCount, type Normalized } from './normalize';
import { pickPatients, type BenchPatient } from './patients';
import { obtainPeer, startGateway, type Service } from './processes';
import { QUESTIONS, requestBody, type Question, type QuestionSpec, type Target } from './queries';
import { recordSearches } from './peer-alone';
import { judge, ratios, renderTable, type Measurement, type PeerAlone, type RunRecord } from './report';

const SOURCE_ID = 'ehr';
const MIN_ENCOUNTERS = 20;

function intEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number (got "${raw}")`);
  return value;
}

/** The gateway's config: one FHIR source, defaults everywhere else (limits included). */
function gatewayConfig(fhirUrl: string): string {
  return ['sources:', `  - id: ${SOURCE_ID}`, '    kind: fhir', `    url: ${fhirUrl}`, ''].join('\n');
}

interface Endpoint {
  url: string;
  idOf: (patient: BenchPatient) => string;
}

async function post(url: string, body: string): Promise<{ status: number; json: unknown; bytes: number }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text) as unknown, bytes: Buffer.byteLength(text) };
}

/** Asks both sides each question for every patient; describes the first difference, if any. */
async function compareAnswers(
  endpoints: Record<Target, Endpoint>,
  spec: QuestionSpec,
  patients: BenchPatient[],
): Promise<{ verdict: string; records: Record<Target, number> }> {
  const records: Record<Target, number> = { gateway: 0, upstream: 0 };
  const bytes: Record<Target, number> = { gateway: 0, upstream: 0 };
  const problems: string[] = [];
  for (const patient of patients) {
    const answers = {} as Record<Target, Normalized>;
    for (const target of ['gateway', 'upstream'] as const) {
      const { url, idOf } = endpoints[target];
      const { status, json, bytes: size } = await post(url, requestBody(spec.text[target], idOf(patient)));
      const errors = (json as { errors?: unknown[] }).errors;
      if (status !== 200 || errors)
        throw new Error(`${target} answered ${spec.title} for ${patient.id} with HTTP ${status}: ${JSON.stringify(json).slice(0, 500)}`);
      answers[target] = normalize(target, spec.question, json);
      records[target] += recordCount(answers[target]);
      bytes[target] += size;
    }
    const diff = difference(answers.gateway, answers.upstream);
    if (diff) problems.push(`${patient.id}: ${diff}`);
  }
  const per = (n: number): number => Math.round(n / patients.length);
  const size = `${per(records.gateway)} records per answer; ${(per(bytes.gateway) / 1024).toFixed(1)} KB from healthgraph, ${(per(bytes.upstream) / 1024).toFixed(1)} KB from $graphql`;
  const verdict =
    problems.length === 0
      ? `yes, for all ${patients.length} patients (${size})`
      : `NO for ${problems.length} of ${patients.length} patients — first: ${problems[0]}`;
  return { verdict, records: { gateway: per(records.gateway), upstream: per(records.upstream) } };
}

async function main(): Promise<void> {
  const started = performance.now();
  const env = process.env;
  const root = projectRoot();
  const settings: LoadSettings = {
    connections: intEnv(env, 'BENCH_CONNECTIONS', 32),
    durationSeconds: intEnv(env, 'BENCH_DURATION', 10),
    warmupSeconds: intEnv(env, 'BENCH_WARMUP', 3),
  };
  const machine = machineFacts();
  const questions = selectQuestions(env.BENCH_QUESTIONS);
  const services: Service[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(services.splice(0).map((s) => s.stop()));
  };
  process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));
  try {
    const peer = await obtainPeer(root, env);
    services.push(peer);
    log(`peer: ${peer.url} (${peer.origin})`);
    const patients = await pickPatients(peer.url, MIN_ENCOUNTERS, intEnv(env, 'BENCH_PATIENTS', 16));
    log(`patients: ${patients.length} with ${MIN_ENCOUNTERS}+ encounters and claims`);
    const config = gatewayConfig(peer.url);
    const gateway = await startGateway(root, env, config);
    services.push(gateway);
    log(`gateway: ${gateway.url} (pid ${gateway.pid})`);

    const endpoints: Record<Target, Endpoint> = {
      gateway: { url: gateway.url, idOf: (p) => encodeId(SOURCE_ID, 'Patient', p.id) },
      upstream: { url: `${peer.url}/$graphql`, idOf: (p) => p.id },
    };
    const pids = { gateway: gateway.pid, peer: peer.pid, bench: process.pid };
    const sameData = {} as Record<Question, string>;
    const measurements: Measurement[] = [];
    for (const spec of questions) {
      const { verdict, records } = await compareAnswers(endpoints, spec, patients);
      sameData[spec.question] = verdict;
      log(`same data, ${spec.title}: ${verdict}`);
      for (const target of ['gateway', 'upstream'] as const) {
        const { url, idOf } = endpoints[target];
        log(`measuring ${spec.title} on ${target}…`);
        const path = new URL(url).pathname;
        const requests = patients.map((p) => ({ method: 'POST' as const, path, body: requestBody(spec.text[target], idOf(p)) }));
        const result = await measure({ url, requests, pids: target === 'gateway' ? pids : { ...pids, gateway: undefined } }, settings);
        measurements.push({ question: spec.question, target, recordsPerAnswer: records[target], result });
      }
    }

    // The peer alone, on the searches the gateway makes for the heaviest question.
    const heaviest = questions[questions.length - 1]!;
    const bodies = patients.map((p) => requestBody(heaviest.text.gateway, endpoints.gateway.idOf(p)));
    const searches = await recordSearches(root, env, peer.url, gatewayConfig, bodies);
    log(`measuring the peer alone on the ${searches.requests.length} requests the gateway made for ${heaviest.title}…`);
    const alone = await measure({ url: peer.url, requests: searches.requests, pids: { ...pids, gateway: undefined } }, settings);
    const peerAlone: PeerAlone = {
      question: heaviest.question,
      requestsPerQuestion: searches.perQuestion,
      searchesPerQuestion: searches.searchesPerQuestion,
      searchesByType: searches.byType,
      result: alone,
      questionsPerSecondBound: Math.round((alone.reqPerSec / searches.perQuestion) * 10) / 10,
    };

    const record: RunRecord = {
      date: new Date().toISOString(),
      command: `make bench  (node dist/bench/run.js${envShown(env)})`,
      machine,
      settings: { ...settings, patients: patients.map((p) => p.id) },
      peer: { url: peer.url, origin: peer.origin, command: peer.command },
      gateway: { command: gateway.command, config },
      sameData,
      measurements,
      ratios: ratios(measurements, questions),
      goals: judge(measurements, questions),
      peerAlone,
    };
    await stopAll();
    record.runtimeSeconds = Math.round((performance.now() - started) / 1000);
    const dir = join(root, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(record, null, 2)}\n`);
    process.stdout.write(`\n${renderTable(record, questions)}\n\nwritten: bench/results/latest.json (${record.runtimeSeconds} s in all)\n`);
  } finally {
    await stopAll();
  }
}

function selectQuestions(list: string | undefined): QuestionSpec[] {
  if (!list) return [...QUESTIONS];
  const wanted = list.split(',').map((q) => q.trim());
  const chosen = QUESTIONS.filter((q) => wanted.includes(q.question));
  if (chosen.length === 0) throw new Error(`BENCH_QUESTIONS: use ${QUESTIONS.map((q) => q.question).join(', ')}`);
  return chosen;
}

function envShown(env: NodeJS.ProcessEnv): string {
  const set = Object.entries(env).filter(([k, v]) => k.startsWith('BENCH_') && v);
  return set.length === 0 ? '' : `; ${set.map(([k, v]) => `${k}=${v}`).join(' ')}`;
}

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
