/**
 * `healthgraph lake import --from-fhir URL` against a real Bulk Data server (test/lake/bulk-server.ts,
 * node http on loopback) serving bulk-10-patients: kick-off with `Prefer: respond-async`, status
 * polls (202 then the manifest), NDJSON downloads; the lake ends with exactly the files' resources.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { CLI, describeWithMongo, dropDatabase, sharedData, testDatabaseUrl } from '../support/mongo';
import { startBulkServer, type BulkServer } from './bulk-server';

jest.setTimeout(180_000);

/** Runs the CLI as a process without blocking this one (the server answers from this process). */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function countsOf(url: string): Promise<Record<string, number>> {
  const client = new MongoClient(url);
  try {
    const db = client.db();
    const out: Record<string, number> = {};
    for (const c of await db.listCollections().toArray()) if (!c.name.startsWith('_hg')) out[c.name] = await db.collection(c.name).countDocuments({});
    return out;
  } finally {
    await client.close();
  }
}

describeWithMongo('lake import --from-fhir (Bulk Data $export)', ['bulk-10-patients'], () => {
  const dir = sharedData('bulk-10-patients')!;
  const urls = { all: testDatabaseUrl('lake_export_all'), some: testDatabaseUrl('lake_export_some') };
  let server: BulkServer;
  const expected: Record<string, number> = {};

  beforeAll(async () => {
    for (const file of readdirSync(dir).filter((f) => /^[A-Z]\w+\.\d+\.ndjson$/.test(f))) {
      const ids = new Set(readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: string }).id));
      expected[file.split('.')[0]!] = ids.size;
    }
    server = await startBulkServer({ dir, pendingPolls: 2 });
    await Promise.all(Object.values(urls).map(dropDatabase));
  });
  afterAll(async () => {
    await server?.close();
    await Promise.all(Object.values(urls).map(dropDatabase));
  });

  it('kicks off, polls until the manifest, downloads every file once and stores exactly its resources', async () => {
    server.requests.length = 0;
    const run = await cli(['lake', 'import', '--url', urls.all, '--from-fhir', server.base]);
    expect(run.code).toBe(0);
    expect(await countsOf(urls.all)).toEqual(expected);
    const total = Object.values(expected).reduce((a, b) => a + b, 0);
    expect(run.stdout).toContain(`lake import: ${total.toLocaleString('en-US')} resources from ${Object.keys(expected).length} inputs`);
    expect(run.stdout).toMatch(new RegExp(`written: ${total.toLocaleString('en-US')} inserted, 0 replaced`));
    expect(run.stderr).toContain('export in progress (poll 1)');

    const kickoffs = server.requests.filter((r) => r.url.startsWith('/fhir/$export?') || r.url === '/fhir/$export');
    expect(kickoffs).toEqual([{ method: 'GET', url: '/fhir/$export', prefer: 'respond-async' }]);
    expect(server.requests.filter((r) => r.url.startsWith('/fhir/$export-status/'))).toHaveLength(3);
    const downloads = server.requests.filter((r) => r.url.startsWith('/files/')).map((r) => r.url.split('/').pop());
    expect(downloads.sort()).toEqual(Object.keys(expected).map((t) => `${t}.000.ndjson`).sort());
  });

  it('a second export of the same data changes nothing', async () => {
    const run = await cli(['lake', 'import', '--url', urls.all, '--from-fhir', server.base, '--quiet']);
    expect(run.code).toBe(0);
    const total = Object.values(expected).reduce((a, b) => a + b, 0);
    expect(run.stdout).toContain(`written: 0 inserted, 0 replaced by a newer version, ${total.toLocaleString('en-US')} unchanged`);
    expect(await countsOf(urls.all)).toEqual(expected);
  });

  it('--type asks for some types only (_type) and imports just those', async () => {
    server.requests.length = 0;
    const run = await cli(['lake', 'import', '--url', urls.some, '--from-fhir', server.base, '--type', 'Patient,Condition', '--quiet']);
    expect(run.code).toBe(0);
    expect(server.requests[0]).toEqual({ method: 'GET', url: '/fhir/$export?_type=Patient%2CCondition', prefer: 'respond-async' });
    expect(await countsOf(urls.some)).toEqual({ Patient: expected.Patient, Condition: expected.Condition });
  });
});
