/**
 * `healthgraph identity build` against the real sources, then `serve`-style start from the same
 * config file over HTTP: the link store next to the config file is what the gateway answers from.
 * And without any build: Patient records are linked as the gateway meets them.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { loadConfig } from '../../src/config/load';
import { createLogger } from '../../src/logger';
import { createGateway } from '../../src/server/gateway';
import { dataOf, fhirUrl, startGateway, type QueryResult } from '../support/services';
import { describeSql, sqlSource } from '../support/sql';

const SOURCES = [
  { id: 'ehr', kind: 'fhir', url: fhirUrl() },
  { id: 'claims', kind: 'sql', mapping: 'claims', ...sqlSource('sqlite', 'claims') },
];

async function post(url: string, query: string): Promise<QueryResult> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return {
    status: res.status,
    body: (await res.json()) as QueryResult['body'],
    upstream: Number(res.headers.get('x-upstream-requests') ?? 0),
    headers: res.headers,
  };
}

describeSql('sqlite', 'claims', 'identity build, then the gateway over HTTP', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hg-identity-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('identity build saves the link store next to the config file; a gateway started from that file answers one patient per person', async () => {
    const file = join(dir, 'healthgraph.json');
    writeFileSync(file, JSON.stringify({ sources: SOURCES, identity: {} }));
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let code: number;
    try {
      code = await main(['identity', 'build', '--config', file]);
    } finally {
      stderr.mockRestore();
    }
    expect(code).toBe(0);
    expect(existsSync(join(dir, 'healthgraph-links.sqlite'))).toBe(true);
    const gateway = await createGateway(loadConfig(file), { configPath: file, log: createLogger('silent') });
    try {
      const url = await gateway.listen(0, '127.0.0.1');
      expect(gateway.identity!.index.persons()).toHaveLength(60);
      const result = await post(url, '{ patients(first: 100) { totalCount edges { node { id links { source } } } } }');
      const patients = dataOf<{ patients: { totalCount: number; edges: { node: { links: { source: string }[] } }[] } }>(result).patients;
      expect(patients.totalCount).toBe(60);
      expect(
        patients.edges.every(
          (e) =>
            e.node.links
              .map((l) => l.source)
              .sort()
              .join() === 'claims,ehr',
        ),
      ).toBe(true);
    } finally {
      await gateway.close();
    }
  });

  test('without a build, the gateway links Patient records as it meets them', async () => {
    const gateway = await startGateway({ sources: SOURCES, identity: { store: { kind: 'memory' } } });
    try {
      expect(gateway.gateway.identity!.index.persons()).toHaveLength(0);
      const result = await gateway.query('{ patients(first: 100) { totalCount edges { node { links { source } } } } }');
      const patients = dataOf<{ patients: { totalCount: number; edges: unknown[] } }>(result).patients;
      expect(patients.totalCount).toBe(60);
      expect(patients.edges).toHaveLength(60);
      expect(gateway.gateway.identity!.index.persons()).toHaveLength(60);
    } finally {
      await gateway.close();
    }
  });
});
