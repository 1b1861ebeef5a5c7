/**
 * The execution engines: graphql-jit (the default) answers every request exactly as graphql-js,
 * the reference engine, does — data, errors, error paths and HTTP status — over the FHIR peer and
 * a failing source; introspection runs on graphql-js; compiled operations are reused and bounded.
 */
import { join } from 'node:path';
import { buildSchema, parse } from 'graphql';
import { QueryExecutor } from '../../src/server/executor';
import { loadExamples } from '../../src/server/playground';
import { GATEWAY_SUMMARY } from '../../bench/queries';
import { faultyUrl, fhirSource, fhirUrl, gatewayId, searchFhir, startGateway, type QueryResult, type TestGateway } from '../support/services';

const examples = loadExamples(join(__dirname, '..', '..', 'docs', 'examples'));
let jit: TestGateway;
let reference: TestGateway;
let patientId: string;

beforeAll(async () => {
  const sources = [fhirSource('ehr', fhirUrl()), fhirSource('broken', faultyUrl('fail/500'), { retry: { maxAttempts: 1 } })];
  jit = await startGateway({ sources });
  reference = await startGateway({ sources, server: { executor: 'graphql-js' } });
  const { resources } = await searchFhir('Patient', { _count: '1', _sort: '_id' });
  patientId = gatewayId('ehr', 'Patient', String(resources[0]!.id));
});

afterAll(async () => {
  await jit?.close();
  await reference?.close();
});

/** Status and body, with the one volatile value (a source's measured latency) blanked. */
const shape = (r: QueryResult): unknown => ({ status: r.status, body: JSON.parse(JSON.stringify(r.body).replace(/"latencyMs":\d+/g, '"latencyMs":0')) as unknown });

async function same(query: string, variables?: Record<string, unknown>): Promise<QueryResult> {
  const [a, b] = [await jit.query(query, variables), await reference.query(query, variables)];
  expect(shape(a)).toEqual(shape(b));
  return a;
}

describe('graphql-jit answers exactly as graphql-js', () => {
  it('is the default engine', () => {
    expect(jit.config.server.executor).toBe('jit');
    expect(reference.config.server.executor).toBe('graphql-js');
  });

  it('the benchmark patient summary: same data, twice (the second time from the compiled plan)', async () => {
    const first = await same(GATEWAY_SUMMARY, { id: patientId });
    expect(first.body.errors).toBeUndefined();
    expect(JSON.stringify(first.body.data)).toContain('"encounters"');
    await same(GATEWAY_SUMMARY, { id: patientId });
  });

  it.each(examples.map((e) => [e.name, e] as const))('example "%s"', async (_name, example) => {
    await same(example.query, example.variables);
  });

  it('fragments on interfaces, aliases, __typename and @include/@skip with variables', async () => {
    const query = `query Q($id: ID!, $with: Boolean!, $without: Boolean!) {
      a: node(id: $id) { __typename id ... on Patient { gender name @include(if: $with) { family } birthDate @skip(if: $without) } }
      b: node(id: $id) { ...P }
      __typename
    }
    fragment P on Patient { id encounters(first: 2) { totalCount edges { cursor node { id status } } pageInfo { hasNextPage endCursor } } }`;
    const result = await same(query, { id: patientId, with: true, without: true });
    expect(result.body.errors).toBeUndefined();
    await same(query, { id: patientId, with: false, without: false });
  });

  it('request errors: bad variables, a missing variable, an unknown operation name', async () => {
    const query = 'query Q($id: ID!, $n: Int) { patient(id: $id) { id encounters(first: $n) { totalCount } } }';
    const bad = await same(query, { id: patientId, n: 'many' });
    expect(bad.body.errors?.length).toBeGreaterThan(0);
    await same(query, {});
    const two = 'query A { __typename } query B { __typename }';
    await same(two);
  });

  it('field errors: a cursor from another list, first out of range; a malformed id is null', async () => {
    const malformed = await same('{ patient(id: "not-an-id") { id } }');
    expect(malformed.body.data).toEqual({ patient: null });
    const cursor = await same('query Q($id: ID!) { patient(id: $id) { encounters(first: 2, after: "bm90LWEtY3Vyc29y") { totalCount } } }', { id: patientId });
    expect(cursor.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const range = await same('query Q($id: ID!) { patient(id: $id) { encounters(first: 5000) { totalCount } } }', { id: patientId });
    expect(range.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('a failing source: the same partial answer and the same error paths', async () => {
    const result = await same('{ sources { id status } patients(first: 2) { edges { node { id } } } }');
    expect(result.body.errors?.length).toBeGreaterThan(0);
  });

  it('introspection runs on graphql-js and matches', async () => {
    const result = await same('{ __schema { queryType { name } types { name kind } } __type(name: "Patient") { name fields { name } } }');
    expect(result.body.errors).toBeUndefined();
  });
});

describe('QueryExecutor', () => {
  const schema = buildSchema('type Query { hello(name: String): String }');

  it('compiles each operation once and keeps at most 500', async () => {
    const executor = new QueryExecutor(schema, 'jit');
    const document = parse('{ hello }');
    await executor.run({ document, queryHash: 'h1', context: {} });
    await executor.run({ document, queryHash: 'h1', context: {} });
    expect(executor.size).toBe(1);
    for (let i = 0; i < 600; i++) await executor.run({ document, queryHash: `x${i}`, context: {} });
    expect(executor.size).toBe(500);
  });

  it('runs the operation the request names', async () => {
    const executor = new QueryExecutor(schema, 'jit');
    const document = parse('query A { a: __typename } query B { b: __typename }');
    expect((await executor.run({ document, operationName: 'B', queryHash: 'ab', context: {} })).data).toEqual({ b: 'Query' });
    expect((await executor.run({ document, operationName: 'A', queryHash: 'ab', context: {} })).data).toEqual({ a: 'Query' });
  });
});
