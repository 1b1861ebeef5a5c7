/**
 * References the query follows come with the list that holds them (FHIR `_include`) when the
 * server lists that include in its CapabilityStatement: the claims' providers and the encounters'
 * service providers cost no request of their own, the answer is the same as resolving them one
 * level down, and the included records still pass the access policy.
 */
import { buildSchema, execute, parse } from 'graphql';
import { listLookahead } from '../../src/graphql/lookahead';
import { loadTypeDefs } from '../../src/graphql/schema';
import { startRecordingProxy, type RecordingProxy } from '../support/recording-proxy';
import { dataOf, fhirSource, fhirUrl, gatewayId, searchFhir, startGateway, type TestGateway } from '../support/services';

let proxy: RecordingProxy;
let gw: TestGateway;
let direct: TestGateway;
let patientId: string;

beforeAll(async () => {
  proxy = await startRecordingProxy();
  gw = await startGateway([fhirSource('ehr', proxy.url)]);
  // The same server without the proxy, and without batching, as the reference answer.
  direct = await startGateway([fhirSource('ehr', fhirUrl(), { batch: 'off' })]);
  const { resources } = await searchFhir('Claim', { _count: '1', _sort: '_id' });
  const subject = String((resources[0]!.patient as { reference: string }).reference).split('/')[1]!;
  patientId = gatewayId('ehr', 'Patient', subject);
});

afterAll(async () => {
  await gw?.close();
  await direct?.close();
  await proxy?.close();
});

beforeEach(() => proxy.clear());

const CLAIMS = `query Q($id: ID!) {
  patient(id: $id) {
    claims(first: 10) { edges { node { id status provider { id name } } } }
    encounters(first: 5) { edges { node { id serviceProvider { id name } } } }
  }
}`;

const PLAIN = `query Q($id: ID!) {
  patient(id: $id) {
    claims(first: 10) { edges { node { id status } } }
    encounters(first: 5) { edges { node { id } } }
  }
}`;

describe('_include for the references a list’s nodes follow', () => {
  it('asks for Claim:provider and Encounter:service-provider with the lists, and sends no request for them afterwards', async () => {
    const result = await gw.query(CLAIMS, { id: patientId });
    expect(result.body.errors).toBeUndefined();
    const searches = proxy.searches();
    const claims = searches.find((r) => r.type === 'Claim');
    const encounters = searches.find((r) => r.type === 'Encounter');
    expect(claims?.params).toContainEqual(['_include', 'Claim:provider']);
    expect(encounters?.params).toContainEqual(['_include', 'Encounter:service-provider']);
    expect(searches.filter((r) => r.type === 'Organization')).toEqual([]);
    // The patient, then the two lists (one batch): the providers came with them.
    expect(result.upstream).toBe(2);
    const data = dataOf<{ patient: { claims: { edges: { node: { provider: { name: string } | null } }[] } } }>(result);
    const providers = data.patient.claims.edges.map((e) => e.node.provider);
    expect(providers.length).toBeGreaterThan(0);
    expect(providers.every((p) => p !== null && typeof p.name === 'string')).toBe(true);
  });

  it('answers exactly as resolving the references one level down does', async () => {
    const [withInclude, without] = [await gw.query(CLAIMS, { id: patientId }), await direct.query(CLAIMS, { id: patientId })];
    expect(withInclude.body).toEqual(without.body);
    expect(without.upstream).toBeGreaterThan(withInclude.upstream);
  });

  it('adds nothing when the query follows no reference', async () => {
    await gw.query(PLAIN, { id: patientId });
    expect(proxy.searches().flatMap((r) => r.params).filter(([name]) => name === '_include')).toEqual([]);
  });

  it('a cursor stays valid when the next page asks for different fields', async () => {
    const first = await gw.query<{ data: { patient: { claims: { pageInfo: { endCursor: string } } } } }>(
      'query Q($id: ID!) { patient(id: $id) { claims(first: 2) { pageInfo { endCursor } edges { node { provider { name } } } } } }',
      { id: patientId },
    );
    const cursor = first.body.data.patient.claims.pageInfo.endCursor;
    const next = await gw.query('query Q($id: ID!, $after: String) { patient(id: $id) { claims(first: 2, after: $after) { edges { node { id } } } } }', {
      id: patientId,
      after: cursor,
    });
    expect(next.body.errors).toBeUndefined();
  });
});

describe('listLookahead: references', () => {
  it('reads references through fragments and inline fragments, and ignores scalars and nested elements', async () => {
    const seen: string[][] = [];
    // The gateway's SDL without its resolvers: the look-ahead is called from a probe resolver.
    const schema = buildSchema(loadTypeDefs());
    const document = parse(`query Q($id: ID!) { patient(id: $id) { claims { edges { node { ...C ... on Claim { patient { id } } status } } } } }
      fragment C on Claim { provider { id } total { value } diagnosis { sequence } }`);
    await execute({
      schema,
      document,
      variableValues: { id: 'x' },
      fieldResolver: (source: unknown, _args, _ctx, info) => {
        if (info.fieldName === 'patient') return {};
        if (info.fieldName === 'claims') {
          seen.push(listLookahead(info).references);
          return { edges: [] };
        }
        return (source as Record<string, unknown> | null)?.[info.fieldName];
      },
    });
    expect(seen).toEqual([['patient', 'provider']]);
  });
});
