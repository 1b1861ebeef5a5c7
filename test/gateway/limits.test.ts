/**
 * Protection: limits on depth, aliases, cost, request and batch size; argument validation;
 * introspection in production; CSRF prevention; automatic persisted queries. Everything refused
 * here is refused before any upstream request is made.
 */
import { createHash } from 'node:crypto';
import { errorCodes, fhirSource, fhirUrl, startGateway, type GraphqlBody, type TestGateway } from '../support/services';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startGateway({
    sources: [fhirSource('ehr', fhirUrl())],
    limits: { maxDepth: 8, maxAliases: 5, maxCost: 2000, maxRequestBytes: 4096, maxBatchOperations: 3 },
  });
});

afterAll(async () => {
  await gw?.close();
});

function expectRefused(result: { status: number; body: GraphqlBody; upstream: number }, code: string, message?: RegExp): void {
  expect(errorCodes(result.body)).toContain(code);
  if (message) expect(result.body.errors!.map((e) => e.message).join('\n')).toMatch(message);
  expect(result.upstream).toBe(0);
}

describe('query limits', () => {
  it('a query deeper than maxDepth is refused with QUERY_TOO_COMPLEX', async () => {
    const deep =
      '{ patients(first: 1) { edges { node { encounters(first: 1) { edges { node { serviceProvider { partOf { partOf { partOf { name } } } } } } } } } } }';
    const result = await gw.query(deep);
    expect(result.status).toBe(400);
    expectRefused(result, 'QUERY_TOO_COMPLEX', /Query depth 11 exceeds the limit of 8/);
    expect(result.body.errors![0]!.extensions).toMatchObject({ depth: 11, maxDepth: 8 });
    expect(result.body.data).toBeUndefined();
  });

  it('a query at the depth limit runs', async () => {
    const result = await gw.query(
      '{ patients(first: 1) { edges { node { encounters(first: 1) { edges { node { serviceProvider { name } } } } } } } }',
    );
    expect(result.body.errors).toBeUndefined();
  });

  it('fragments count towards depth', async () => {
    const result = await gw.query(
      'query { patients(first: 1) { ...P } } fragment P on PatientConnection { edges { node { encounters(first: 1) { edges { node { serviceProvider { partOf { partOf { partOf { name } } } } } } } } } }',
    );
    expectRefused(result, 'QUERY_TOO_COMPLEX', /Query depth/);
  });

  it('more aliases than maxAliases are refused', async () => {
    const result = await gw.query(`{ ${[1, 2, 3, 4, 5, 6].map((i) => `a${i}: sources { id }`).join(' ')} }`);
    expectRefused(result, 'QUERY_TOO_COMPLEX', /more than 5 aliases/);
  });

  it('cost multiplies through nested lists; a query over maxCost is refused, a cheaper one runs', async () => {
    const nested = await gw.query('{ patients(first: 40) { edges { node { encounters(first: 40) { edges { node { id } } } } } } }');
    expectRefused(nested, 'QUERY_TOO_COMPLEX', /Query cost \d+ exceeds the limit of 2000/);
    const cost = nested.body.errors![0]!.extensions!.cost as number;
    expect(cost).toBeGreaterThanOrEqual(40 * 40);
    const flat = await gw.query('{ patients(first: 40) { edges { node { id } } } }');
    expect(flat.body.errors).toBeUndefined();
  });

  it('cost takes page sizes from variables too', async () => {
    const q = 'query($n: Int) { patients(first: $n) { edges { node { encounters(first: $n) { edges { node { id } } } } } } }';
    expect((await gw.query(q, { n: 5 })).body.errors).toBeUndefined();
    expectRefused(await gw.query(q, { n: 60 }), 'QUERY_TOO_COMPLEX', /Query cost/);
  });

  it('a request body over maxRequestBytes gets 413', async () => {
    const padding = ' '.repeat(5000);
    const res = await gw.request('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ sources { id } ${padding} }` }),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ errors: [{ message: 'The request body exceeds 4096 bytes', extensions: { code: 'BAD_REQUEST' } }] });
  });

  it('a batch of more than maxBatchOperations is refused; a smaller batch runs', async () => {
    const post = (n: number): Promise<Response> =>
      gw.request('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(Array.from({ length: n }, () => ({ query: '{ sources { id } }' }))),
      });
    const big = await post(4);
    expect(big.status).toBe(400);
    expect(errorCodes((await big.json()) as GraphqlBody)).toEqual(['QUERY_TOO_COMPLEX']);
    const ok = await post(3);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual(Array.from({ length: 3 }, () => ({ data: { sources: [{ id: 'ehr' }] } })));
  });
});

describe('bad arguments are BAD_USER_INPUT naming the argument', () => {
  it.each([
    ['first: -1', '{ patients(first: -1) { totalCount } }', /"first" must be between 0 and 1000/],
    ['first: 100000', '{ patients(first: 100000) { totalCount } }', /"first" must be between 0 and 1000/],
    [
      'a birth range with a day that does not exist',
      '{ patients(first: 1, filter: { born: { from: "2017-02-30" } }) { totalCount } }',
      /"filter\.born\.from" must be a date/,
    ],
    [
      'a date in words',
      '{ patients(first: 1, filter: { born: { from: "last tuesday" } }) { totalCount } }',
      /"filter\.born\.from" must be a date/,
    ],
    [
      'a range that ends before it starts',
      '{ patients(first: 1, filter: { born: { from: "2000", to: "1990" } }) { totalCount } }',
      /"filter\.born\.from" is after "filter\.born\.to"/,
    ],
    [
      'a birth date with a time',
      '{ patients(first: 1, filter: { birthDate: "1970-01-01T10:00:00Z" }) { totalCount } }',
      /"filter\.birthDate" must be a date/,
    ],
    [
      'an empty identifier token',
      '{ patients(first: 1, filter: { identifier: "|" }) { totalCount } }',
      /"filter\.identifier" must be "system\|code" or "code"/,
    ],
    ['a blank identifier', '{ patients(first: 1, filter: { identifier: "   " }) { totalCount } }', /"filter\.identifier"/],
    ['a blank name', '{ patients(first: 1, filter: { name: " " }) { totalCount } }', /"filter\.name" must be 1–200 characters/],
  ])('%s', async (_, query, message) => {
    const result = await gw.query(query);
    expectRefused(result, 'BAD_USER_INPUT', message);
    expect(result.body.errors![0]!.extensions!.argument).toEqual(expect.any(String));
  });

  it('a clinical date filter with a month that does not exist is refused before the list is fetched', async () => {
    const result = await gw.query(
      '{ patients(first: 1) { edges { node { encounters(filter: { date: { from: "2017-13-45" } }) { totalCount } } } } }',
    );
    expect(errorCodes(result.body)).toEqual(['BAD_USER_INPUT']);
    expect(result.body.errors![0]!.message).toMatch(/"filter\.date\.from" must be a date/);
    expect(result.body.errors![0]!.path).toEqual(['patients', 'edges', 0, 'node', 'encounters']);
    expect(result.upstream).toBe(1); // the patient page; no Encounter search
  });

  it('more than 100 ids to nodes()', async () => {
    const result = await gw.query('query($ids: [ID!]!) { nodes(ids: $ids) { id } }', {
      ids: Array.from({ length: 101 }, (_, i) => `x${i}`),
    });
    expectRefused(result, 'BAD_USER_INPUT', /"ids" takes at most 100 ids/);
  });

  it('a variable of the wrong type is refused before execution', async () => {
    const result = await gw.query('query($n: Int) { patients(first: $n) { totalCount } }', { n: 'ten' });
    expect(result.status).toBe(400);
    expectRefused(result, 'BAD_USER_INPUT');
  });
});

describe('introspection', () => {
  const introspect = '{ __schema { queryType { name } } }';

  it('is on outside production', async () => {
    expect((await gw.query(introspect)).body).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
  });

  describe('with NODE_ENV=production', () => {
    const saved = process.env.NODE_ENV;
    let prod: TestGateway;
    let allowed: TestGateway;

    beforeAll(async () => {
      process.env.NODE_ENV = 'production';
      try {
        prod = await startGateway([fhirSource('ehr', fhirUrl())]);
        allowed = await startGateway({ sources: [fhirSource('ehr', fhirUrl())], server: { introspection: true } });
      } finally {
        process.env.NODE_ENV = saved;
      }
    });

    afterAll(async () => {
      await prod?.close();
      await allowed?.close();
    });

    it('is off, and the playground is not served', async () => {
      const result = await prod.query(introspect);
      expect(result.status).toBe(400);
      expect(errorCodes(result.body)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(result.body.errors![0]!.message).toMatch(/introspection/i);
      const page = await prod.request('/graphql', { headers: { accept: 'text/html' } });
      expect(page.headers.get('content-type') ?? '').not.toContain('text/html');
      // queries still work
      expect((await prod.query('{ sources { id } }')).body).toEqual({ data: { sources: [{ id: 'ehr' }] } });
    });

    it('is on when the config says so', async () => {
      expect((await allowed.query(introspect)).body).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
    });
  });
});

describe('CSRF prevention', () => {
  it('a GET without a preflight header is refused; with one it runs', async () => {
    const q = encodeURIComponent('{ sources { id } }');
    const bare = await gw.request(`/graphql?query=${q}`);
    expect(bare.status).toBe(400);
    expect(await bare.text()).toMatch(/CSRF/i);
    const preflight = await gw.request(`/graphql?query=${q}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(preflight.status).toBe(200);
    expect(await preflight.json()).toEqual({ data: { sources: [{ id: 'ehr' }] } });
    const json = await gw.request(`/graphql?query=${q}`, { headers: { 'content-type': 'application/json' } });
    expect(json.status).toBe(200);
  });

  it('a text/plain POST (a simple cross-site form post) is refused', async () => {
    const res = await gw.request('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ query: '{ sources { id } }' }),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/CSRF/i);
    expect(res.headers.get('x-upstream-requests')).toBe('0');
  });

  it('a form-encoded POST is refused', async () => {
    const res = await gw.request('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'query=%7B%20sources%20%7B%20id%20%7D%20%7D',
    });
    expect(res.status).toBe(400);
  });
});

describe('automatic persisted queries', () => {
  it('a hash-only request is PERSISTED_QUERY_NOT_FOUND, then registered, then served by hash', async () => {
    const query = `{ sources { id kind } __typename }`;
    const sha256Hash = createHash('sha256').update(query).digest('hex');
    const extensions = { persistedQuery: { version: 1, sha256Hash } };
    const post = (body: object): Promise<Response> =>
      gw.request('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

    const unknown = (await (await post({ extensions })).json()) as GraphqlBody;
    expect(errorCodes(unknown)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);

    const registered = await post({ query, extensions });
    expect(await registered.json()).toEqual({ data: { sources: [{ id: 'ehr', kind: 'fhir' }], __typename: 'Query' } });

    const byHash = await post({ extensions });
    expect(await byHash.json()).toEqual({ data: { sources: [{ id: 'ehr', kind: 'fhir' }], __typename: 'Query' } });

    const get = await gw.request(`/graphql?extensions=${encodeURIComponent(JSON.stringify(extensions))}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(await get.json()).toEqual({ data: { sources: [{ id: 'ehr', kind: 'fhir' }], __typename: 'Query' } });
  });

  it('a query whose hash does not match is refused', async () => {
    const res = await gw.request('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ sources { id } }', extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } }),
    });
    expect(res.status).toBe(400);
    expect(errorCodes((await res.json()) as GraphqlBody)).toEqual(['BAD_REQUEST']);
  });
});
