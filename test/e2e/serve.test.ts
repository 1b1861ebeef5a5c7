/**
 * End to end over HTTP on the real executable: `bin/healthgraph serve` against the FHIR peer, as a
 * user runs it. Needs the compiled CLI (`make install` builds it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fhirUrl, searchFhir, waitFor } from '../support/services';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'healthgraph');
const dir = mkdtempSync(join(tmpdir(), 'hg-e2e-'));

function configFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const GOOD = configFile(
  'good.yaml',
  `sources:\n  - id: ehr\n    kind: fhir\n    url: \${HG_E2E_FHIR_URL}\n    auth: { type: none }\n    timeoutMs: 5000\n`,
);
const BAD = configFile('bad.yaml', `sources:\n  - id: ehr\n    kind: fhir\n    url: ${fhirUrl()}\n    timeout: 5000\n`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, HG_E2E_FHIR_URL: fhirUrl() },
    timeout: 20_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let child: ChildProcess;
let base: string;
let stderr = '';
let exit: Promise<number | null>;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js')))
    throw new Error('the CLI is not built: run `make install` (or npx tsc -p tsconfig.build.json)');
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, [BIN, 'serve', '--config', GOOD, '--port', String(port)], {
    env: { ...process.env, HG_E2E_FHIR_URL: fhirUrl(), LOG_LEVEL: 'warn', NODE_ENV: 'development' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  exit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  await waitFor(async () => ((await fetch(`${base}/healthz`)).ok ? true : undefined), 20_000, 100);
}, 30_000);

afterAll(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
});

const gql = (query: string): Promise<Response> =>
  fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });

describe('healthgraph serve', () => {
  it('says where it listens', () => {
    expect(stderr).toContain(`healthgraph: GraphQL and playground at ${base}/graphql`);
  });

  it('/healthz is ok', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers a POSTed query with the peer’s data', async () => {
    const { total } = await searchFhir('Patient', { _total: 'accurate', _count: '1' });
    const res = await gql('{ patients(first: 2) { totalCount edges { node { id source { id } } } } }');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-upstream-requests')).toBe('1');
    expect(res.headers.get('x-request-id')).toMatch(/.+/);
    const body = (await res.json()) as { data: { patients: { totalCount: number; edges: { node: { source: { id: string } } }[] } } };
    expect(body.data.patients.totalCount).toBe(total);
    expect(body.data.patients.edges.map((e) => e.node.source.id)).toEqual(['ehr', 'ehr']);
  });

  it('answers a GET query (with a CSRF preflight header)', async () => {
    const res = await fetch(`${base}/graphql?query=${encodeURIComponent('{ sources { id status } }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { sources: [{ id: 'ehr', status: 'UP' }] } });
  });

  it('gives a browser opening /graphql the playground', async () => {
    const res = await fetch(`${base}/graphql`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('<title>healthgraph</title>');
    const script = /src="(\/playground\/[^"?]+\.js[^"]*)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect((await fetch(`${base}${script}`)).status).toBe(200);
  });

  it('/readyz lists the source as up', async () => {
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ready', sources: [{ id: 'ehr', kind: 'fhir', state: 'up' }] });
  });

  it('/metrics is Prometheus text with upstream request counts', async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/^upstream_requests_total\{source="ehr",outcome="ok"\} [1-9]\d*$/m);
    expect(text).toMatch(/^http_requests_total\{route="\/graphql",method="POST",status="200"\} [1-9]/m);
  });

  it('exits cleanly on SIGTERM', async () => {
    child.kill('SIGTERM');
    await expect(exit).resolves.toBe(0);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});

describe('healthgraph with a bad config', () => {
  it('serve exits with code 2 and a plain message naming the key', () => {
    const result = run(['serve', '--config', BAD, '--port', '0']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('sources[0]: unknown key "timeout"');
    expect(result.stderr).toContain(BAD);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toBe('');
  });

  it('a missing environment variable names the key and the variable', () => {
    const env = { ...process.env };
    delete env.HG_E2E_FHIR_URL;
    const result = spawnSync(process.execPath, [BIN, 'config', 'check', '--config', GOOD], { encoding: 'utf8', env });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('healthgraph: sources[0].url: environment variable HG_E2E_FHIR_URL is not set\n');
  });

  it('a missing config file exits 2', () => {
    const result = run(['serve', '--config', join(dir, 'nope.yaml')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('Cannot read config file');
  });
});

describe('healthgraph config check', () => {
  it('accepts a good file', () => {
    const result = run(['config', 'check', '--config', GOOD]);
    expect(result).toEqual({ status: 0, stdout: `${GOOD}: valid (1 source)\n`, stderr: '' });
  });

  it('rejects a bad file with code 2', () => {
    const result = run(['config', 'check', '--config', BAD]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^healthgraph: Invalid .*bad\.yaml:\n {2}- sources\[0\]: unknown key "timeout"\n$/);
  });

  it('an unknown command prints the usage and exits 2', () => {
    const result = run(['frobnicate']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown command "frobnicate"');
    expect(result.stderr).toContain('healthgraph serve --config FILE');
  });
});
