import pino from 'pino';
import { createAuthProvider, type AuthProvider } from '../../../connectors/fhir/auth';
import {
  FhirHttpClient,
  FhirHttpError,
  describeOperation,
  type FhirHttpClientOptions,
} from '../../../connectors/fhir/http';
import { backoffDelay, parseRetryAfter } from '../../../connectors/fhir/resilience';
import type { CallContext, UpstreamRequestEvent } from '../../../connectors/types';
import { SourceTimeoutError, SourceUnavailableError } from '../../../src/errors';
import { delay, refusedOrigin, sendJson, sendText, sequence, startPeer, type HttpPeer } from '../../support/http-peers';

const logger = pino({ level: 'silent' });
const patient = { resourceType: 'Patient', id: 'p1' };
const ok = (_req: unknown, res: Parameters<typeof sendJson>[0]): void => sendJson(res, 200, patient);

const peers: HttpPeer[] = [];
const clients: FhirHttpClient[] = [];

async function peer(...handlers: Parameters<typeof sequence>): Promise<HttpPeer> {
  const p = await startPeer(handlers.length > 0 ? sequence(...handlers) : undefined);
  peers.push(p);
  return p;
}

function client(baseUrl: string, overrides: Partial<FhirHttpClientOptions> = {}): FhirHttpClient {
  const c = new FhirHttpClient(
    {
      sourceId: 'ehr',
      baseUrl,
      timeoutMs: 1000,
      auth: createAuthProvider({ type: 'bearer', token: 'top-secret-token' }, { sourceId: 'ehr', logger }),
      retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 2000 },
      breaker: { failureThreshold: 5, resetAfterMs: 200 },
      maxConnections: 4,
      ...overrides,
    },
    logger,
  );
  clients.push(c);
  return c;
}

function recordingContext(): CallContext & { events: UpstreamRequestEvent[] } {
  const events: UpstreamRequestEvent[] = [];
  return { requestId: 'r1', events, onUpstreamRequest: (e) => events.push(e) };
}

const ctx: CallContext = { requestId: 'r1' };

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

describe('FhirHttpClient: requests', () => {
  it('sends Accept: application/fhir+json with the credentials and returns the parsed body', async () => {
    const upstream = await peer(ok);
    await expect(client(`${upstream.origin}/fhir/r4`).getJson('Patient/p1', ctx)).resolves.toEqual(patient);
    expect(upstream.requests[0]).toMatchObject({
      method: 'GET',
      url: '/fhir/r4/Patient/p1',
      headers: { accept: 'application/fhir+json', authorization: 'Bearer top-secret-token' },
    });
  });

  it('resolves a leading slash against the base path, not the host root', async () => {
    const upstream = await peer(ok);
    await client(`${upstream.origin}/fhir/`).getJson('/Patient?name=smith', ctx);
    expect(upstream.requests[0]?.url).toBe('/fhir/Patient?name=smith');
  });

  it('posts a JSON body as application/fhir+json', async () => {
    const upstream = await peer((_req, res) => sendJson(res, 200, { resourceType: 'Bundle' }));
    await client(`${upstream.origin}/fhir`).postJson('Patient/_search', { resourceType: 'Parameters' }, ctx);
    expect(upstream.requests[0]).toMatchObject({
      method: 'POST',
      url: '/fhir/Patient/_search',
      body: '{"resourceType":"Parameters"}',
      headers: { 'content-type': 'application/fhir+json' },
    });
  });

  it('follows a Bundle next link on the same origin and base path', async () => {
    const upstream = await peer(ok);
    await client(`${upstream.origin}/fhir`).getJson(`${upstream.origin}/fhir/Patient?_page=2`, ctx);
    expect(upstream.requests[0]?.url).toBe('/fhir/Patient?_page=2');
  });

  it('refuses a next link to a foreign host and sends that host nothing', async () => {
    const upstream = await peer(ok);
    const foreign = await peer(ok);
    const call = client(`${upstream.origin}/fhir`).getJson(`${foreign.origin}/fhir/Patient?_page=2`, ctx);
    await expect(call).rejects.toThrow(SourceUnavailableError);
    expect(foreign.requests).toHaveLength(0);
    expect(upstream.requests).toHaveLength(0);
  });

  it('refuses links and paths that leave the base path on the same host', async () => {
    const upstream = await peer(ok);
    const c = client(`${upstream.origin}/fhir`);
    await expect(c.getJson(`${upstream.origin}/admin/users`, ctx)).rejects.toThrow(/outside the source base URL/);
    await expect(c.getJson(`${upstream.origin}/fhirx/Patient`, ctx)).rejects.toThrow(/outside the source base URL/);
    await expect(c.getJson('../admin/users', ctx)).rejects.toThrow(/outside the source base URL/);
    await expect(c.getJson('Patient/%2e%2e/%2e%2e/admin', ctx)).rejects.toThrow(/outside the source base URL/);
    expect(upstream.requests).toHaveLength(0);
  });

  it('reuses keep-alive connections for sequential requests', async () => {
    const upstream = await peer(ok);
    const c = client(upstream.origin);
    for (let i = 0; i < 20; i++) await c.getJson('Patient/p1', ctx);
    // undici may hand the next request to a second idle connection before the first is released.
    expect(new Set(upstream.requests.map((r) => r.remotePort)).size).toBeLessThanOrEqual(2);
  });

  it('never opens more than maxConnections connections under concurrent load', async () => {
    const upstream = await peer(async (_req, res) => {
      await delay(5);
      sendJson(res, 200, patient);
    });
    const c = client(upstream.origin, { maxConnections: 3 });
    await Promise.all(Array.from({ length: 60 }, () => c.getJson('Patient/p1', ctx)));
    expect(upstream.requests).toHaveLength(60);
    expect(new Set(upstream.requests.map((r) => r.remotePort)).size).toBeLessThanOrEqual(3);
  });

  it('reports each attempt to onUpstreamRequest with query values elided', async () => {
    const upstream = await peer((_req, res) => sendText(res, 503, 'busy'), ok);
    const recording = recordingContext();
    await client(`${upstream.origin}/fhir`).getJson('Condition?patient=p1&code=http://loinc.org|1234', recording);
    expect(recording.events).toEqual([
      expect.objectContaining({ source: 'ehr', operation: 'GET Condition?patient=…&code=…', outcome: 'error' }),
      expect.objectContaining({ source: 'ehr', operation: 'GET Condition?patient=…&code=…', outcome: 'ok' }),
    ]);
    expect(recording.events[0]?.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('truncates long operation descriptions to about 200 characters', () => {
    expect(describeOperation('GET', `Patient/${'x'.repeat(500)}`).length).toBeLessThanOrEqual(200);
  });
});

describe('FhirHttpClient: failures and retries', () => {
  it('retries a 429 after the Retry-After delay and then succeeds', async () => {
    const upstream = await peer((_req, res) => sendText(res, 429, 'slow down', { 'retry-after': '1' }), ok);
    const started = Date.now();
    await expect(client(upstream.origin).getJson('Patient/p1', ctx)).resolves.toEqual(patient);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(upstream.requests).toHaveLength(2);
  });

  it('fails at once when Retry-After asks for longer than the longest allowed wait', async () => {
    const upstream = await peer((_req, res) => sendText(res, 429, 'slow down', { 'retry-after': '120' }));
    const started = Date.now();
    await expect(client(upstream.origin).getJson('Patient/p1', ctx)).rejects.toThrow('upstream answered HTTP 429');
    expect(Date.now() - started).toBeLessThan(500);
    expect(upstream.requests).toHaveLength(1);
  });

  it('retries a 503 and then succeeds, counting the retry', async () => {
    const upstream = await peer((_req, res) => sendText(res, 503, 'maintenance'), ok);
    const c = client(upstream.origin);
    await expect(c.getJson('Patient/p1', ctx)).resolves.toEqual(patient);
    expect(c.stats()).toMatchObject({ requests: 2, failures: 1, retries: 1, breakerState: 'closed' });
  });

  it('gives up after maxAttempts with a client-safe message that carries no upstream text', async () => {
    const upstream = await peer((_req, res) => sendText(res, 502, 'java.lang.NullPointerException at secret.Internal'));
    const error: unknown = await client(upstream.origin)
      .getJson('Patient/p1', ctx)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect(error).toMatchObject({ status: 502, message: 'Source "ehr" is unavailable: upstream answered HTTP 502' });
    expect(upstream.requests).toHaveLength(3);
  });

  it('does not retry a 404 and throws FhirHttpError with the status', async () => {
    const upstream = await peer((_req, res) => sendJson(res, 404, { resourceType: 'OperationOutcome' }));
    const error: unknown = await client(upstream.origin)
      .getJson('Patient/nope', ctx)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FhirHttpError);
    expect((error as FhirHttpError).status).toBe(404);
    expect(upstream.requests).toHaveLength(1);
  });

  it('does not retry a 400 and never mentions the bearer token', async () => {
    const upstream = await peer((_req, res) => sendJson(res, 400, { issue: 'bad' }));
    const error: unknown = await client(upstream.origin)
      .getJson('Patient?x=1', ctx)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400 });
    expect(String((error as Error).message)).not.toContain('top-secret-token');
    expect(upstream.requests).toHaveLength(1);
  });

  it('retries after the upstream resets the connection and then succeeds', async () => {
    const upstream = await peer((_req, res) => {
      res.socket?.destroy();
    }, ok);
    await expect(client(upstream.origin).getJson('Patient/p1', ctx)).resolves.toEqual(patient);
    expect(upstream.requests).toHaveLength(2);
  });

  it('reports a refused connection as SourceUnavailableError after retrying', async () => {
    const recording = recordingContext();
    const call = client(`${await refusedOrigin()}/fhir`).getJson('Patient/p1', recording);
    await expect(call).rejects.toThrow('Source "ehr" is unavailable: connection refused');
    expect(recording.events).toHaveLength(3);
  });

  it('times out a slow upstream with SourceTimeoutError and does not retry it', async () => {
    const upstream = await peer(async (_req, res) => {
      await delay(1000);
      sendJson(res, 200, patient);
    });
    const c = client(upstream.origin, { timeoutMs: 100 });
    const started = Date.now();
    await expect(c.getJson('Patient/p1', ctx)).rejects.toThrow(SourceTimeoutError);
    expect(Date.now() - started).toBeLessThan(600);
    expect(upstream.requests).toHaveLength(1);
    expect(c.stats().timeouts).toBe(1);
  });

  it('stops when the caller aborts, also while waiting to retry', async () => {
    const upstream = await peer((_req, res) => sendText(res, 503, 'busy', { 'retry-after': '1' }));
    const controller = new AbortController();
    const call = client(upstream.origin).getJson('Patient/p1', { requestId: 'r1', signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    await expect(call).rejects.toThrow(SourceTimeoutError);
    expect(Date.now() - started).toBeLessThan(600);
    expect(upstream.requests).toHaveLength(1);
  });

  it('rejects at once when the caller has already aborted', async () => {
    const upstream = await peer(ok);
    const call = client(upstream.origin).getJson('Patient/p1', { requestId: 'r1', signal: AbortSignal.abort() });
    await expect(call).rejects.toThrow(SourceTimeoutError);
    expect(upstream.requests).toHaveLength(0);
  });

  it('maps garbage JSON to SourceUnavailableError "invalid JSON"', async () => {
    const upstream = await peer((_req, res) => sendText(res, 200, '{"resourceType": "Patient", <html>oops'));
    const call = client(upstream.origin).getJson('Patient/p1', ctx);
    await expect(call).rejects.toThrow('Source "ehr" is unavailable: invalid JSON');
  });
});

describe('FhirHttpClient: circuit breaker', () => {
  it('opens after consecutive failures, fails fast, then closes again after a successful trial', async () => {
    const upstream = await peer((_req, res) => sendText(res, 500, 'down'));
    const c = client(upstream.origin, {
      retry: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 100 },
      breaker: { failureThreshold: 3, resetAfterMs: 200 },
    });
    for (let i = 0; i < 3; i++) await expect(c.getJson('Patient/p1', ctx)).rejects.toThrow('HTTP 500');
    expect(c.stats()).toMatchObject({ breakerState: 'open', breakerOpenings: 1 });

    await expect(c.getJson('Patient/p1', ctx)).rejects.toThrow('Source "ehr" is unavailable: circuit open');
    expect(upstream.requests).toHaveLength(3);

    upstream.handle(ok);
    await delay(250);
    await expect(c.getJson('Patient/p1', ctx)).resolves.toEqual(patient);
    expect(c.stats().breakerState).toBe('closed');
  });

  it('does not count 4xx answers as upstream failures', async () => {
    const upstream = await peer((_req, res) => sendJson(res, 404, {}));
    const c = client(upstream.origin, { breaker: { failureThreshold: 2, resetAfterMs: 1000 } });
    for (let i = 0; i < 4; i++) await expect(c.getJson('Patient/x', ctx)).rejects.toThrow(FhirHttpError);
    expect(c.stats().breakerState).toBe('closed');
  });
});

describe('FhirHttpClient: auth refresh', () => {
  it('retries a 401 once with fresh credentials when the provider can refresh', async () => {
    let token = 'old';
    const invalidated: Array<Record<string, string>> = [];
    const auth: AuthProvider = {
      headers: () => Promise.resolve({ authorization: `Bearer ${token}` }),
      invalidate: (rejected) => {
        invalidated.push(rejected);
        token = 'new';
      },
    };
    const upstream = await peer((req, res) =>
      req.headers.authorization === 'Bearer new' ? sendJson(res, 200, patient) : sendJson(res, 401, {}),
    );
    await expect(client(upstream.origin, { auth }).getJson('Patient/p1', ctx)).resolves.toEqual(patient);
    expect(invalidated).toEqual([{ authorization: 'Bearer old' }]);
  });

  it('answers FhirHttpError 401 without retrying when the provider cannot refresh', async () => {
    const upstream = await peer((_req, res) => sendJson(res, 401, {}));
    await expect(client(upstream.origin).getJson('Patient/p1', ctx)).rejects.toMatchObject({ status: 401 });
    expect(upstream.requests).toHaveLength(1);
  });
});

describe('FhirHttpClient: auth failures', () => {
  it('reduces an unexpected auth provider error to a fixed reason without its text', async () => {
    const upstream = await peer(ok);
    const auth: AuthProvider = { headers: () => Promise.reject(new Error('key=super-secret-material')) };
    const call = client(upstream.origin, { auth }).getJson('Patient/p1', ctx);
    await expect(call).rejects.toThrow('Source "ehr" is unavailable: authentication failed');
    expect(upstream.requests).toHaveLength(0);
  });
});

describe('retry timing', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('backs off exponentially with jitter and never beyond maxDelayMs', () => {
    const opts = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(1, opts, () => 0)).toBe(50);
    expect(backoffDelay(1, opts, () => 1)).toBe(100);
    expect(backoffDelay(3, opts, () => 1)).toBe(400);
    expect(backoffDelay(8, opts, () => 1)).toBe(1000);
  });
});
