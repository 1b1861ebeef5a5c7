/**
 * Partial results when sources misbehave. Every failing source is a real server that misbehaves
 * (the faulty peer in front of the FHIR peer): answering 503, answering too slowly, dropping the
 * connection, sending broken JSON, throttling with Retry-After.
 */
import {
  dataOf,
  errorCodes,
  faultyRequests,
  faultyUrl,
  fhirSource,
  fhirUrl,
  gatewayId,
  searchFhir,
  startGateway,
  uniqueKey,
  type GraphqlBody,
  type TestGateway,
} from '../support/services';

type Json = Record<string, unknown>;
const gateways: TestGateway[] = [];
let patientId: string;

async function gateway(sources: Json[]): Promise<TestGateway> {
  const gw = await startGateway(sources);
  gateways.push(gw);
  return gw;
}

beforeAll(async () => {
  patientId = (await searchFhir('Patient', { _count: '1' })).resources[0]!.id;
});

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
});

/** Nothing in a response that came from the upstream or from a stack. */
function expectNoLeaks(body: GraphqlBody): void {
  const text = JSON.stringify(body);
  for (const leak of [
    'Injected',
    'OperationOutcome',
    'issue',
    'resourceType":"Bundle',
    'Unexpected',
    'JSON at position',
    'ECONN',
    'stacktrace',
    '    at ',
    '127.0.0.1:8082',
    'undici',
  ]) {
    expect(text).not.toContain(leak);
  }
}

const fast = { retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 50 } };

describe('one source failing in different ways while another is healthy', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await gateway([
      fhirSource('ehr', fhirUrl()),
      fhirSource('down', faultyUrl('fail/503'), fast),
      fhirSource('slow', faultyUrl('slow/3000'), { timeoutMs: 500, retry: { maxAttempts: 1 } }),
      fhirSource('reset', faultyUrl('reset'), fast),
      fhirSource('garbage', faultyUrl('garbage'), fast),
    ]);
  }, 20_000);

  it('the healthy source’s data arrives; each failed field is null with the failing source’s code and id', async () => {
    const ids = Object.fromEntries(['ehr', 'down', 'slow', 'reset', 'garbage'].map((s) => [s, gatewayId(s, 'Patient', patientId)]));
    const started = Date.now();
    const result = await gw.query(
      `query($ehr: ID!, $down: ID!, $slow: ID!, $reset: ID!, $garbage: ID!) {
        ehr: patient(id: $ehr) { id birthDate } down: patient(id: $down) { id } slow: patient(id: $slow) { id }
        reset: patient(id: $reset) { id } garbage: patient(id: $garbage) { id } }`,
      ids,
    );
    expect(Date.now() - started).toBeLessThan(2500);
    expect(result.status).toBe(200);
    const { birthDate } = (await searchFhir('Patient', { _id: patientId })).resources[0]!;
    expect(result.body.data).toEqual({ ehr: { id: ids.ehr, birthDate }, down: null, slow: null, reset: null, garbage: null });
    const byPath = Object.fromEntries((result.body.errors ?? []).map((e) => [e.path?.[0], e.extensions]));
    expect(byPath).toEqual({
      down: { code: 'SOURCE_UNAVAILABLE', source: 'down' },
      slow: { code: 'SOURCE_TIMEOUT', source: 'slow' },
      reset: { code: 'SOURCE_UNAVAILABLE', source: 'reset' },
      garbage: { code: 'SOURCE_UNAVAILABLE', source: 'garbage' },
    });
    for (const error of result.body.errors ?? [])
      expect(error.message).toMatch(/^Source "(down|slow|reset|garbage)" (is unavailable|did not answer within 500 ms)/);
    expectNoLeaks(result.body);
  });

  it('a list over every source still answers with the healthy source, and names each failed source in an error at the list', async () => {
    const result = await gw.query(`query($ehr: ID!) { patient(id: $ehr) { id } patients(first: 2) { totalCount edges { node { id source { id } } } } sources { id status } }`, {
      ehr: gatewayId('ehr', 'Patient', patientId),
    });
    expect(result.body.data?.patient).toEqual({ id: gatewayId('ehr', 'Patient', patientId) });
    const patients = (result.body.data as { patients: { totalCount: number; edges: { node: { source: { id: string } } }[] } }).patients;
    expect(patients.edges).toHaveLength(2);
    expect(patients.edges.every((e) => e.node.source.id === 'ehr')).toBe(true);
    expect(patients.totalCount).toBe((await searchFhir('Patient', { _count: '0', _total: 'accurate' })).total);
    const listErrors = (result.body.errors ?? []).filter((e) => JSON.stringify(e.path) === JSON.stringify(['patients']));
    expect(listErrors.map((e) => e.extensions!.source).sort()).toEqual(['down', 'garbage', 'reset', 'slow']);
    expect(errorCodes(result.body).every((c) => c === 'SOURCE_UNAVAILABLE' || c === 'SOURCE_TIMEOUT')).toBe(true);
    expectNoLeaks(result.body);
  });

  it('sources and /readyz report the bad sources as down while the gateway stays ready as "degraded"', async () => {
    const data = dataOf<{ sources: { id: string; status: string; message: string | null }[] }>(
      await gw.query('{ sources { id status message } }'),
    );
    expect(data.sources.map((s) => [s.id, s.status])).toEqual([
      ['ehr', 'UP'],
      ['down', 'DOWN'],
      ['slow', 'DOWN'],
      ['reset', 'DOWN'],
      ['garbage', 'DOWN'],
    ]);
    const res = await gw.request('/readyz');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; sources: { id: string; state: string; message?: string }[] };
    expect(body.status).toBe('degraded');
    expect(body.sources.map((s) => [s.id, s.state])).toEqual([
      ['ehr', 'up'],
      ['down', 'down'],
      ['slow', 'down'],
      ['reset', 'down'],
      ['garbage', 'down'],
    ]);
    expectNoLeaks(body as unknown as GraphqlBody);
  });
});

describe('readiness', () => {
  it('/readyz answers 503 "unavailable" when every source is down', async () => {
    const gw = await gateway([fhirSource('down', faultyUrl('fail/503'), fast), fhirSource('gone', faultyUrl('reset'), fast)]);
    const res = await gw.request('/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      status: 'unavailable',
      sources: [
        { id: 'down', state: 'down' },
        { id: 'gone', state: 'down' },
      ],
    });
  });

  it('/readyz answers 200 "ready" when every source is up', async () => {
    const gw = await gateway([fhirSource('ehr', fhirUrl())]);
    const res = await gw.request('/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ready', sources: [{ id: 'ehr', kind: 'fhir', state: 'up' }] });
  });
});

describe('retries and the circuit breaker', () => {
  it('a 429 with Retry-After is retried after the time asked and the query succeeds', async () => {
    const key = uniqueKey('flaky');
    // The first 3 requests are throttled: two go to the start-up CapabilityStatement read (which then gives up), one to the query.
    const gw = await gateway([
      fhirSource('throttled', faultyUrl(`flaky/${key}/3`), { retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 2000 } }),
    ]);
    expect(await faultyRequests(key)).toBe(2);
    const started = Date.now();
    const result = await gw.query('query($id: ID!) { patient(id: $id) { id } }', { id: gatewayId('throttled', 'Patient', patientId) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(result.body).toEqual({ data: { patient: { id: gatewayId('throttled', 'Patient', patientId) } } });
    expect(result.upstream).toBe(2);
    expect(await faultyRequests(key)).toBe(4);
  });

  it('a Retry-After longer than the source’s maximum delay is not waited for', async () => {
    const key = uniqueKey('flaky-long');
    const gw = await gateway([
      fhirSource('throttled', faultyUrl(`flaky/${key}/100/30`), { retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 1000 } }),
    ]);
    const started = Date.now();
    const result = await gw.query('query($id: ID!) { patient(id: $id) { id } }', { id: gatewayId('throttled', 'Patient', patientId) });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(result.body.data).toEqual({ patient: null });
    expect(result.body.errors?.[0]?.extensions).toEqual({ code: 'SOURCE_UNAVAILABLE', source: 'throttled' });
  });

  it('the circuit opens after repeated failures: later queries fail at once without calling the source', async () => {
    const gw = await gateway([
      fhirSource('ehr', fhirUrl()),
      fhirSource('down', faultyUrl('fail/500'), { retry: { maxAttempts: 1 }, breaker: { failureThreshold: 3, resetAfterMs: 60_000 } }),
    ]);
    const q = 'query($id: ID!) { patient(id: $id) { id } }';
    const id = gatewayId('down', 'Patient', patientId);
    const calls: number[] = [];
    for (let i = 0; i < 4; i++) {
      const result = await gw.query(q, { id });
      expect(result.body.errors?.[0]?.extensions).toEqual({ code: 'SOURCE_UNAVAILABLE', source: 'down' });
      calls.push(result.upstream);
    }
    // start-up metadata read (1 failure) + 2 failing queries open the circuit; after that nothing is sent
    expect(calls).toEqual([1, 1, 0, 0]);
    const open = await gw.query(q, { id });
    expect(open.body.errors?.[0]?.message).toBe('Source "down" is unavailable: circuit open');
    // the healthy source is unaffected
    expect(dataOf<{ patient: { id: string } }>(await gw.query(q, { id: gatewayId('ehr', 'Patient', patientId) })).patient.id).toBe(
      gatewayId('ehr', 'Patient', patientId),
    );
  });
});
