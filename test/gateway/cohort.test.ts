/**
 * `patients(filter: { hasCondition })`: patients with a Condition of one of the codes, in the same
 * source. A FHIR server that lists `_has` gets it as `_has:Condition:patient:code`; one that does
 * not (the test peer) has its Conditions searched first and its Patients by `_id`; an OMOP database
 * gets one statement with a subquery. Answers equal what the sources hold.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SqlConnector } from '../../connectors/sql/connector';
import { useRecordedGateway, type RecordingProxy } from '../support/recording-proxy';
import { dataOf, errorCodes, fhirSource, fhirUrl, searchAll, startGateway, type TestGateway } from '../support/services';
import { describeSql, openSql, sqlSource } from '../support/sql';

const SINUSITIS = 'http://snomed.info/sct|444814009';
const APPENDICITIS = 'http://snomed.info/sct|74400008';

interface Patients {
  patients: { totalCount: number; edges: { node: { source: { id: string; recordId: string } } }[]; pageInfo: { hasNextPage: boolean } };
}

const QUERY = `query ($codes: [String!], $first: Int) {
  patients(filter: { hasCondition: $codes }, first: $first) { totalCount edges { node { source { id recordId } } } pageInfo { hasNextPage } }
}`;

const recordIds = (data: Patients): string[] => data.patients.edges.map((e) => e.node.source.recordId).sort();

/** The patients the peer's Conditions with these codes refer to. */
async function subjectsOf(codes: string[]): Promise<string[]> {
  const conditions = await searchAll('Condition', { code: codes.join(','), _elements: 'subject' });
  return [...new Set(conditions.map((c) => (c.subject as { reference: string }).reference.replace(/^Patient\//, '')))].sort();
}

describe('a FHIR server whose CapabilityStatement does not list _has (the test peer)', () => {
  let proxy: RecordingProxy;
  let gw: TestGateway;
  useRecordedGateway((p, g) => {
    proxy = p;
    gw = g;
  });

  it('answers with the patients its Conditions with those codes refer to: one Condition search, then Patients by _id', async () => {
    const data = dataOf<Patients>(await gw.query(QUERY, { codes: [SINUSITIS, APPENDICITIS], first: 1000 }));
    const expected = await subjectsOf([SINUSITIS, APPENDICITIS]);
    expect(expected.length).toBeGreaterThan(5);
    expect(recordIds(data)).toEqual(expected);
    expect(data.patients.totalCount).toBe(expected.length);

    const searches = proxy.searches();
    expect(searches.map((s) => s.type)).toEqual(['Condition', 'Patient']);
    expect(searches[0]!.params).toContainEqual(['code', `${SINUSITIS},${APPENDICITIS}`]);
    const ids = searches[1]!.params
      .find(([k]) => k === '_id')![1]
      .split(',')
      .sort();
    expect(ids).toEqual(expected);
    expect(searches.flatMap((s) => s.params).some(([k]) => k.startsWith('_has'))).toBe(false);
  });

  it('pages the cohort like any patient list', async () => {
    const expected = await subjectsOf([SINUSITIS]);
    const page = dataOf<Patients>(await gw.query(QUERY, { codes: [SINUSITIS], first: 5 }));
    expect(page.patients.edges).toHaveLength(5);
    expect(page.patients.pageInfo.hasNextPage).toBe(true);
    expect(page.patients.totalCount).toBe(expected.length);
  });

  it('is empty, without searching Patients, when no Condition has the code', async () => {
    const data = dataOf<Patients>(await gw.query(QUERY, { codes: ['http://snomed.info/sct|0000000'] }));
    expect(data.patients).toMatchObject({ totalCount: 0, edges: [] });
    expect(proxy.searches().map((s) => s.type)).toEqual(['Condition']);
  });

  it('rejects a malformed code and more than 100 codes as BAD_USER_INPUT, before any upstream request', async () => {
    const bad = await gw.query(QUERY, { codes: ['|'] });
    expect(errorCodes(bad.body)).toEqual(['BAD_USER_INPUT']);
    const many = await gw.query(QUERY, { codes: Array.from({ length: 101 }, (_, i) => `http://snomed.info/sct|${i}`) });
    expect(errorCodes(many.body)).toEqual(['BAD_USER_INPUT']);
    expect(proxy.searches()).toEqual([]);
  });

  it('fails with QUERY_TOO_COMPLEX naming the source when more Conditions match than it may fetch', async () => {
    const small = await startGateway({ sources: [fhirSource('ehr', proxy.url)], limits: { maxBatchRecords: 100 } });
    try {
      // Any SNOMED CT code: far more than 100 Conditions.
      const result = await small.query(QUERY, { codes: ['http://snomed.info/sct|'] });
      expect(errorCodes(result.body)).toEqual(['QUERY_TOO_COMPLEX']);
      expect(result.body.errors![0]!.message).toContain('"ehr"');
    } finally {
      await small.close();
    }
  });
});

/**
 * A FHIR server that lists `_has`: the peer behind a small front that adds `_has` to the
 * CapabilityStatement and answers `Patient?_has:Condition:patient:code=…` from the peer's
 * Conditions and Patients (the peer itself rejects `_has`), recording what it was asked.
 */
async function startHasServer(): Promise<{ url: string; asked: URL[]; close: () => Promise<void> }> {
  const peer = fhirUrl();
  const asked: URL[] = [];
  const send = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/fhir+json' });
    res.end(JSON.stringify(body));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://front');
    const rest = url.pathname.replace(/^\/fhir\/?/, '');
    asked.push(url);
    if (rest === 'metadata') {
      const statement = (await (await fetch(`${peer}/metadata`)).json()) as { rest: { searchParam?: unknown[] }[] };
      statement.rest[0]!.searchParam = [...(statement.rest[0]!.searchParam ?? []), { name: '_has', type: 'special' }];
      return send(res, 200, statement);
    }
    const has = url.searchParams.get('_has:Condition:patient:code');
    if (rest === 'Patient' && has !== null) {
      const ids = await subjectsOf(has.split(','));
      if (ids.length === 0) return send(res, 200, { resourceType: 'Bundle', type: 'searchset', total: 0, entry: [] });
      const params = new URLSearchParams(url.searchParams);
      params.delete('_has:Condition:patient:code');
      params.set('_id', ids.join(','));
      return send(res, 200, await (await fetch(`${peer}/Patient?${params.toString()}`)).json());
    }
    const upstream = await fetch(`${peer}/${rest}${url.search}`, { headers: { accept: 'application/fhir+json' } });
    return send(res, upstream.status, await upstream.json());
  };
  const server: Server = createServer(
    (req, res) => void handle(req, res).catch(() => send(res, 500, { resourceType: 'OperationOutcome' })),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/fhir`, asked, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('a FHIR server whose CapabilityStatement lists _has', () => {
  let front: Awaited<ReturnType<typeof startHasServer>>;
  let gw: TestGateway;
  beforeAll(async () => {
    front = await startHasServer();
    gw = await startGateway([fhirSource('ehr', front.url)]);
  });
  afterAll(async () => {
    await gw?.close();
    await front?.close();
  });

  it('gets one Patient search with _has:Condition:patient:code and no Condition search', async () => {
    front.asked.length = 0;
    const data = dataOf<Patients>(await gw.query(QUERY, { codes: [SINUSITIS, APPENDICITIS], first: 1000 }));
    expect(recordIds(data)).toEqual(await subjectsOf([SINUSITIS, APPENDICITIS]));
    const searches = front.asked.filter((u) => !u.pathname.endsWith('/metadata'));
    expect(searches.map((u) => u.pathname.split('/').pop())).toEqual(['Patient']);
    expect(searches[0]!.searchParams.get('_has:Condition:patient:code')).toBe(`${SINUSITIS},${APPENDICITIS}`);
  });
});

describeSql('postgres', 'omop', 'hasCondition on the OMOP preset in PostgreSQL', () => {
  let gw: TestGateway;
  const statements: { operation: string; sql: string; params: readonly unknown[] }[] = [];
  beforeAll(async () => {
    gw = await startGateway([{ id: 'research', kind: 'sql', mapping: 'omop', ...sqlSource('postgres', 'omop') }]);
    (gw.gateway.registry.get('research') as SqlConnector).onStatement = (e) =>
      statements.push({ operation: e.operation, sql: e.sql, params: e.params });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('equals a hand-written SQL query, in one parameterized statement per level', async () => {
    const raw = await openSql('postgres', 'omop');
    let codes: string[];
    let expected: string[];
    try {
      // The two SNOMED CT conditions with the most patients.
      const top = await raw.query<{ code: string }>(
        `SELECT c.concept_code AS code FROM condition_occurrence co JOIN concept c ON c.concept_id = co.condition_concept_id
         WHERE c.vocabulary_id = 'SNOMED' GROUP BY c.concept_code ORDER BY COUNT(DISTINCT co.person_id) DESC, c.concept_code LIMIT 2`,
      );
      codes = top.map((r) => r.code);
      const rows = await raw.query<{ id: number }>(
        `SELECT p.person_id AS id FROM person p WHERE p.person_id IN (
           SELECT co.person_id FROM condition_occurrence co JOIN concept c ON c.concept_id = co.condition_concept_id
           WHERE c.vocabulary_id = 'SNOMED' AND c.concept_code IN (?, ?)) ORDER BY p.person_id`,
        codes,
      );
      expected = rows.map((r) => String(r.id)).sort();
    } finally {
      await raw.close();
    }
    expect(expected.length).toBeGreaterThan(0);
    statements.length = 0;
    const tokens = codes.map((c) => `http://snomed.info/sct|${c}`);
    const data = dataOf<Patients>(await gw.query(QUERY, { codes: tokens, first: 1000 }));
    expect(recordIds(data)).toEqual(expected);
    expect(data.patients.totalCount).toBe(expected.length);

    const patientStatements = statements.filter((s) => s.operation.startsWith('SELECT Patient'));
    expect(statements.filter((s) => s.operation.startsWith('SELECT Condition'))).toEqual([]);
    // The page and its count, each one statement with the subquery; the codes are parameters.
    expect(patientStatements.length).toBeLessThanOrEqual(2);
    for (const s of patientStatements) {
      expect(s.sql).toContain('EXISTS (SELECT 1 FROM');
      expect(s.sql).not.toContain(codes[0]!);
      expect(s.params).toEqual(expect.arrayContaining(codes));
    }
  });
});
