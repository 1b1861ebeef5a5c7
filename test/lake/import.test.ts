/**
 * Loading the lake: exact counts per type from real Bulk Data and Synthea bundles (computed here
 * straight from the files), re-imports that change nothing, newer versions winning, a `kill -9`
 * in the middle of an import followed by the same command giving the same lake, and bad input
 * reported with file and line without blocking the good lines.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { MongoClient, type Db, type Document } from 'mongodb';
import { CHECKPOINTS, importLake } from '../../src/lake/import';
import { CLI, describeWithMongo, dropDatabase, sharedData, testDatabaseUrl } from '../support/mongo';

jest.setTimeout(240_000);

type Json = Record<string, unknown>;

async function withDb<T>(url: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const client = new MongoClient(url);
  try {
    return await fn(client.db());
  } finally {
    await client.close();
  }
}

/** Every document of every lake collection, sorted, for comparing two lakes. */
async function snapshot(url: string): Promise<Record<string, Document[]>> {
  return withDb(url, async (db) => {
    const names = (await db.listCollections().toArray()).map((c) => c.name).filter((n) => !n.startsWith('_hg')).sort();
    const out: Record<string, Document[]> = {};
    for (const name of names) out[name] = await db.collection(name).find({}, { sort: { _id: 1 } }).toArray();
    return out;
  });
}

async function countsOf(url: string): Promise<Record<string, number>> {
  return withDb(url, async (db) => {
    const out: Record<string, number> = {};
    for (const c of await db.listCollections().toArray()) if (!c.name.startsWith('_hg')) out[c.name] = await db.collection(c.name).countDocuments({});
    return out;
  });
}

const tmp = mkdtempSync(join(tmpdir(), 'hg-lake-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describeWithMongo('importing FHIR Bulk Data NDJSON', ['bulk-10-patients'], () => {
  const url = testDatabaseUrl('lake_bulk');
  const dir = sharedData('bulk-10-patients')!;
  afterAll(() => dropDatabase(url));

  it('stores every resource of every file, one collection per type, and reports the export log lines as errors', async () => {
    const expected: Record<string, number> = {};
    for (const file of readdirSync(dir).filter((f) => /^[A-Z]\w+\.\d+\.ndjson$/.test(f))) {
      const ids = new Set(readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as Json).id));
      expected[file.split('.')[0]!] = ids.size;
    }
    const report = await importLake({ url, paths: [dir] });
    expect(await countsOf(url)).toEqual(expected);
    expect(report.writes.inserted).toBe(Object.values(expected).reduce((a, b) => a + b, 0));
    // log.ndjson is the export's event log, not resources: each line is reported with file and line.
    expect(report.errors).toBe(4);
    expect(report.firstErrors[0]).toMatchObject({ file: join(dir, 'log.ndjson'), line: 1, message: 'missing or invalid resourceType' });
  });

  it('running the same import again skips the finished files; forcing a re-read changes nothing', async () => {
    const before = await snapshot(url);
    const again = await importLake({ url, paths: [dir] });
    expect(again.inputs.every((i) => i.skipped)).toBe(true);
    const forced = await importLake({ url, paths: [dir], force: true });
    expect(forced.writes).toEqual({ inserted: 0, replaced: 0, kept: forced.resources, failed: 0 });
    expect(await snapshot(url)).toEqual(before);
  });

  it('each document is the FHIR JSON plus the _hg block, with the indexes the gateway filters use', async () => {
    const line = readFileSync(join(dir, 'Condition.000.ndjson'), 'utf8').split('\n')[0]!;
    const source = JSON.parse(line) as Json & { id: string };
    await withDb(url, async (db) => {
      const doc = (await db.collection('Condition').findOne({ _id: source.id as never }))!;
      const { _id, _hg, ...rest } = doc;
      expect(_id).toBe(source.id);
      expect(rest).toEqual(source);
      const subject = (source.subject as { reference: string }).reference.split('/')[1];
      expect(_hg).toMatchObject({ v: 1, patient: [subject], src: { file: join(dir, 'Condition.000.ndjson'), line: 1 } });
      const coding = (source.code as { coding: { system: string; code: string }[] }).coding[0]!;
      expect(_hg.code).toEqual(expect.arrayContaining([`${coding.system}|${coding.code}`, `*|${coding.code}`, `${coding.system}|`]));
      const names = (await db.collection('Condition').listIndexes().toArray()).map((i) => i.name);
      expect(names).toEqual(expect.arrayContaining(['hg_patient', 'hg_encounter', 'hg_code', 'hg_date']));
    });
  });
});

describeWithMongo('versions and bad input', [], () => {
  const url = testDatabaseUrl('lake_versions');
  afterAll(() => dropDatabase(url));
  const patient = (lastUpdated: string | undefined, family: string): string =>
    JSON.stringify({ resourceType: 'Patient', id: 'v1', ...(lastUpdated ? { meta: { lastUpdated } } : {}), name: [{ family }] });

  async function family(): Promise<unknown> {
    return withDb(url, async (db) => ((await db.collection('Patient').findOne({ _id: 'v1' as never }))?.name as Json[])[0]!.family);
  }

  it('a newer meta.lastUpdated replaces the stored version; an older one is ignored', async () => {
    const write = (name: string, text: string): string => {
      const dir = join(tmp, `v-${name}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'Patient.000.ndjson'), `${text}\n`);
      return dir;
    };
    await importLake({ url, paths: [write('a', patient('2020-01-01T00:00:00Z', 'Middle'))] });
    const older = await importLake({ url, paths: [write('b', patient('2019-01-01T00:00:00Z', 'Old'))] });
    expect(older.writes.kept).toBe(1);
    expect(await family()).toBe('Middle');
    const newer = await importLake({ url, paths: [write('c', patient('2021-01-01T00:00:00Z', 'New'))] });
    expect(newer.writes.replaced).toBe(1);
    expect(await family()).toBe('New');
    // Within one file, the newest of several versions wins whatever the order.
    await importLake({ url, paths: [write('d', [patient('2023-01-01T00:00:00Z', 'Newest'), patient('2022-01-01T00:00:00Z', 'Between')].join('\n'))] });
    expect(await family()).toBe('Newest');
  });

  it('an id met again and again in one import (one batch per line) ends as its newest version', async () => {
    const dir = join(tmp, 'v-repeats');
    mkdirSync(dir, { recursive: true });
    const version = (lastUpdated: string, family: string): string => patient(lastUpdated, family).replace('"id":"v1"', '"id":"repeated"');
    const lines = [
      version('2030-01-01T00:00:00Z', 'R1'),
      version('2031-01-01T00:00:00Z', 'R2'),
      version('2029-01-01T00:00:00Z', 'R0'),
      version('2032-01-01T00:00:00Z', 'R3'),
      version('2032-01-01T00:00:00Z', 'R3'),
    ];
    writeFileSync(join(dir, 'Patient.000.ndjson'), `${lines.join('\n')}\n`);
    const report = await importLake({ url, paths: [dir], batchSize: 1, concurrency: 2 });
    expect(report.writes).toEqual({ inserted: 1, replaced: 2, kept: 2, failed: 0 });
    const stored = await withDb(url, (db) => db.collection('Patient').findOne({ _id: 'repeated' as never }));
    expect((stored?.name as Json[])[0]!.family).toBe('R3');
  });

  it('bad JSON, a wrong resourceType, a missing id and a truncated gzip are reported with file and line; good lines load', async () => {
    const dir = join(tmp, 'bad');
    mkdirSync(dir, { recursive: true });
    const good = (id: string): string => JSON.stringify({ resourceType: 'Observation', id, status: 'final', code: { text: 'x' } });
    writeFileSync(
      join(dir, 'Observation.000.ndjson'),
      [good('ok-1'), '{"resourceType": "Observation", "id": "broken"', JSON.stringify({ resourceType: 'Patient', id: 'p-in-obs' }), '', JSON.stringify({ resourceType: 'Observation', status: 'final' }), good('ok-2')].join('\n'),
    );
    const lines = Array.from({ length: 400 }, (_, i) => JSON.stringify({ resourceType: 'Condition', id: `c-${i}`, code: { text: `condition number ${i} `.repeat(5) } }));
    const gz = gzipSync(lines.join('\n'));
    writeFileSync(join(dir, 'Condition.000.ndjson.gz'), gz.subarray(0, Math.floor(gz.length * 0.6)));
    const report = await importLake({ url, paths: [dir] });
    const obsFile = join(dir, 'Observation.000.ndjson');
    expect(report.firstErrors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ file: obsFile, line: 2, message: expect.stringMatching(/^invalid JSON/) }),
        expect.objectContaining({ file: obsFile, line: 3, message: 'wrong resourceType Patient (the file holds Observation)' }),
        expect.objectContaining({ file: obsFile, line: 5, message: 'Observation without a valid id' }),
        expect.objectContaining({ file: join(dir, 'Condition.000.ndjson.gz'), message: expect.stringMatching(/unreadable.*truncated or corrupt/) }),
      ]),
    );
    expect(report.errors).toBe(4);
    await withDb(url, async (db) => {
      expect((await db.collection('Observation').find().toArray()).map((d) => d._id).sort()).toEqual(['ok-1', 'ok-2']);
      const conditions = await db.collection('Condition').countDocuments({});
      expect(conditions).toBeGreaterThan(50);
      expect(conditions).toBeLessThan(400);
    });
  });
});

describeWithMongo('importing Synthea transaction bundles', ['synthea-r4-bundles.tar.xz'], () => {
  const archive = sharedData('synthea-r4-bundles.tar.xz')!;
  const extracted = join(tmp, 'synthea');
  const twenty = join(tmp, 'synthea-20');
  const subsetTar = join(tmp, 'synthea-30.tar');
  const urls = { twenty: testDatabaseUrl('lake_synthea20'), clean: testDatabaseUrl('lake_clean'), crash: testDatabaseUrl('lake_crash') };

  beforeAll(() => {
    mkdirSync(extracted, { recursive: true });
    mkdirSync(twenty, { recursive: true });
    const names = execFileSync('tar', ['--quoting-style=literal', '-tJf', archive], { encoding: 'utf8', maxBuffer: 1 << 24 })
      .split('\n')
      .filter((n) => /^[\w/-]+\.json$/.test(n))
      .slice(0, 30);
    writeFileSync(join(tmp, 'names.txt'), `${names.join('\n')}\n`);
    execFileSync('tar', ['-xJf', archive, '-C', extracted, '-T', join(tmp, 'names.txt')]);
    const files = names.map((n) => join(extracted, n));
    files.slice(0, 20).forEach((f, i) => copyFileSync(f, join(twenty, `${String(i).padStart(2, '0')}.json`)));
    execFileSync('tar', ['-cf', subsetTar, '-C', extracted, ...names]);
  });
  afterAll(() => Promise.all(Object.values(urls).map(dropDatabase)));

  it('20 bundles: exact counts per type, and no urn:uuid reference is left', async () => {
    const ids: Record<string, Set<string>> = {};
    for (const file of readdirSync(twenty)) {
      const bundle = JSON.parse(readFileSync(join(twenty, file), 'utf8')) as { entry: { resource: Json }[] };
      for (const { resource } of bundle.entry) (ids[resource.resourceType as string] ??= new Set()).add(resource.id as string);
    }
    const expected = Object.fromEntries(Object.entries(ids).map(([type, set]) => [type, set.size]));
    const report = await importLake({ url: urls.twenty, paths: [twenty] });
    expect(report.errors).toBe(0);
    expect(await countsOf(urls.twenty)).toEqual(expected);
    await withDb(urls.twenty, async (db) => {
      expect(await db.collection('Encounter').countDocuments({ 'subject.reference': { $regex: '^urn:uuid:' } })).toBe(0);
      const encounter = (await db.collection('Encounter').findOne({}))!;
      const subject = (encounter.subject as { reference: string }).reference;
      expect(subject).toMatch(/^Patient\/[\w-]+$/);
      expect(await db.collection('Patient').countDocuments({ _id: subject.split('/')[1] as never })).toBe(1);
    });
  });

  it('kill -9 in the middle of an import, then the same command: the same lake as a clean import', async () => {
    const run = (url: string): ReturnType<typeof spawn> => spawn(process.execPath, [CLI, 'lake', 'import', '--url', url, subsetTar, '--quiet', '--batch-size', '200'], { stdio: 'ignore' });
    await new Promise<void>((resolve, reject) => run(urls.clean).on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`clean import exited ${code}`)))));

    const child = run(urls.crash);
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    let done = -1;
    await withDb(urls.crash, async (db) => {
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        const cp = await db.collection(CHECKPOINTS).findOne({}).catch(() => null);
        if (cp && typeof cp.done === 'number' && cp.done >= 5) {
          done = cp.done;
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    child.kill('SIGKILL');
    await exited;
    expect(done).toBeGreaterThanOrEqual(5);
    const partial = await countsOf(urls.crash);
    const full = await countsOf(urls.clean);
    expect(partial.Patient ?? 0).toBeLessThan(full.Patient!);

    const resumed = execFileSync(process.execPath, [CLI, 'lake', 'import', '--url', urls.crash, subsetTar, '--quiet'], { encoding: 'utf8' });
    expect(resumed).toMatch(/1 input resumed from a checkpoint/);
    expect(await snapshot(urls.crash)).toEqual(await snapshot(urls.clean));
  });
});
