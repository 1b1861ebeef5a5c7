/**
 * The price of security: the patient-summary query through a gateway with JWT authentication,
 * patient-context tokens, consent and label evaluation and the audit trail, against the same
 * gateway in development mode (no auth, no consent, no audit). Goal: ≤ 15% p50 overhead.
 *
 *   node dist/bench/security.js
 *
 * Both gateways run as `bin/healthgraph serve` child processes over the same FHIR peer (the :8081
 * peer of `make services` when it answers, else one started here), measured one after the other
 * with autocannon. The machine is shared, so the two are measured in alternating order
 * (open, secured, secured, open, …: BENCH_ROUNDS rounds, default 2) and each figure is the median
 * over its runs; CPU per request (gateway CPU % ÷ req/s) is printed too, being the figure least
 * moved by other load. Environment: BENCH_FHIR_URL, BENCH_DURATION (10), BENCH_WARMUP (3),
 * BENCH_CONNECTIONS (32), BENCH_PATIENTS (16), BENCH_ROUNDS (2).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { encodeId } from '../src/ids';
import { projectRoot } from '../src/paths';
import { measure, type LoadRequest, type LoadResult, type LoadSettings } from './load';
import { pickPatients } from './patients';
import { obtainPeer, startGateway, type Service } from './processes';
import { GATEWAY_SUMMARY, requestBody } from './queries';
import { cpuMsPerQuery } from './report';

const SOURCE_ID = 'ehr';
const ISSUER = 'https://auth.bench.healthgraph.test';
const AUDIENCE = 'https://healthgraph.bench.test';

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw ? Number(raw) : fallback;
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
  return value;
}

function baseConfig(fhirUrl: string): string[] {
  return ['sources:', `  - id: ${SOURCE_ID}`, '    kind: fhir', `    url: ${fhirUrl}`, 'limits:', '  maxCost: 1000000'];
}

function securedConfig(fhirUrl: string, jwksFile: string): string {
  return [
    ...baseConfig(fhirUrl),
    'auth:',
    '  mode: jwt',
    `  issuer: ${ISSUER}`,
    `  audience: ${AUDIENCE}`,
    `  jwks: ${jwksFile}`,
    '  clients:',
    '    - id: bench-app',
    '      scopes: [patient/*.rs]',
    '      purposes: [TREAT]',
    '      rateLimit: { perMinute: 100000000 }',
    'consent:',
    '  default: opt-out',
    '',
  ].join('\n');
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, signal: AbortSignal.timeout(30_000) });
  return { status: res.status, text: await res.text() };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function line(label: string, r: LoadResult): string {
  return `${label.padEnd(22)} p50 ${String(r.latencyMs.p50).padStart(7)} ms   p95 ${String(r.latencyMs.p95).padStart(7)} ms   ${String(r.reqPerSec).padStart(7)} req/s   errors ${r.errors + r.non2xx + r.graphqlErrors}   upstream/req ${r.upstreamRequests?.mean ?? '?'}   cpu gateway ${r.cpu.gateway ?? '?'}% (${cpuMsPerQuery(r, 'gateway')?.toFixed(2) ?? '?'} ms/req)`;
}

async function main(): Promise<void> {
  const root = projectRoot();
  const settings: LoadSettings = { connections: intEnv('BENCH_CONNECTIONS', 32), durationSeconds: intEnv('BENCH_DURATION', 10), warmupSeconds: intEnv('BENCH_WARMUP', 3) };
  const services: Service[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'healthgraph-bench-security-'));
  try {
    const peer = await obtainPeer(root, process.env);
    services.push(peer);
    const patients = await pickPatients(peer.url, 20, intEnv('BENCH_PATIENTS', 16));
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'bench', alg: 'ES256', use: 'sig' }] }));
    const tokens = await Promise.all(
      patients.map((p) =>
        new SignJWT({ client_id: 'bench-app', scope: 'patient/*.rs', patient: encodeId(SOURCE_ID, 'Patient', p.id), purpose_of_use: 'TREAT' })
          .setProtectedHeader({ alg: 'ES256', kid: 'bench' })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setIssuedAt()
          .setExpirationTime('2h')
          .sign(privateKey),
      ),
    );

    const open = await startGateway(root, process.env, `${baseConfig(peer.url).join('\n')}\n`);
    services.push(open);
    const secured = await startGateway(root, process.env, securedConfig(peer.url, jwksFile));
    services.push(secured);

    const bodies = patients.map((p) => requestBody(GATEWAY_SUMMARY, encodeId(SOURCE_ID, 'Patient', p.id)));
    const plainRequests: LoadRequest[] = bodies.map((body) => ({ method: 'POST', path: '/graphql', body }));
    const securedRequests: LoadRequest[] = bodies.map((body, i) => {
      const request = { method: 'POST' as const, path: '/graphql', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[i]}` } };
      return request;
    });

    // Both answer, and the secured one answers with the patient (consent may withhold some records).
    for (const [i, body] of bodies.entries()) {
      const a = await post(open.url, body, {});
      const b = await post(secured.url, body, { authorization: `Bearer ${tokens[i]}` });
      if (a.status !== 200 || b.status !== 200 || a.text.includes('"errors"') || b.text.includes('"errors"') || !b.text.includes('"patient":{')) {
        throw new Error(`patient ${patients[i]!.id}: unexpected answers (${a.status}, ${b.status}): ${b.text.slice(0, 300)}`);
      }
      if (i === 0) process.stdout.write(`first patient: ${a.text.length} bytes without auth, ${b.text.length} with auth + consent\n`);
    }

    process.stdout.write(`patient summary, ${patients.length} patients rotated, ${settings.connections} connections, ${settings.durationSeconds} s after ${settings.warmupSeconds} s warm-up\n`);
    const runs = { open: [] as LoadResult[], secured: [] as LoadResult[] };
    const rounds = Math.max(1, intEnv('BENCH_ROUNDS', 2));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['open', 'secured'] as const) : (['secured', 'open'] as const);
      for (const which of order) {
        const result =
          which === 'open'
            ? await measure({ url: open.url, requests: plainRequests, pids: { gateway: open.pid, peer: peer.pid } }, settings)
            : await measure({ url: secured.url, requests: securedRequests, pids: { gateway: secured.pid, peer: peer.pid } }, settings);
        runs[which].push(result);
        process.stdout.write(`${line(which === 'open' ? 'without auth/consent' : 'with auth + consent', result)}\n`);
      }
    }
    const summary = (rs: LoadResult[]) => ({
      p50: median(rs.map((r) => r.latencyMs.p50)),
      p95: median(rs.map((r) => r.latencyMs.p95)),
      reqPerSec: median(rs.map((r) => r.reqPerSec)),
      cpu: median(rs.map((r) => cpuMsPerQuery(r, 'gateway') ?? NaN)),
      upstream: rs[0]?.upstreamRequests?.mean ?? NaN,
    });
    const a = summary(runs.open);
    const b = summary(runs.secured);
    const show = (label: string, x: typeof a) =>
      `${label.padEnd(22)} p50 ${x.p50.toFixed(1).padStart(7)} ms   p95 ${x.p95.toFixed(1).padStart(7)} ms   ${x.reqPerSec.toFixed(1).padStart(7)} req/s   upstream/req ${x.upstream}   ${x.cpu.toFixed(2)} ms CPU/req`;
    process.stdout.write(`medians over ${rounds} run(s) each:\n${show('without auth/consent', a)}\n${show('with auth + consent', b)}\n`);
    const ratio = b.p50 / a.p50;
    process.stdout.write(`CPU per request: +${((b.cpu / a.cpu - 1) * 100).toFixed(1)}%\n`);
    process.stdout.write(`p50 ratio (secured / open): ${ratio.toFixed(3)} → overhead ${((ratio - 1) * 100).toFixed(1)}% (goal ≤ 15%): ${ratio <= 1.15 ? 'met' : 'NOT met'}\n`);
  } finally {
    for (const s of services.reverse()) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench/security: ${(error as Error).message}\n`);
  process.exit(1);
});
