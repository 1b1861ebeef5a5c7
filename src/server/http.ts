/**
 * The HTTP surface: GraphQL at /graphql (POST and GET; a browser gets the playground), /healthz,
 * /readyz (with every source's state), /metrics, and the playground's own static assets.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import { AuthFailure } from '../auth/authenticate';
import type { Principal } from '../auth/principal';
import { AuditRecorder } from '../audit/recorder';
import type { GatewayContext } from '../context';
import type { SourceRegistry } from '../data/registry';
import type { Logger } from '../logger';
import type { Metrics } from './metrics';
import type { Playground } from './playground';
import type { Security } from './security';
import { endRequestSpan, startRequestSpan, type RequestTrace } from './tracing';

export interface HttpDeps {
  apollo: ApolloServer<GatewayContext>;
  registry: SourceRegistry;
  metrics: Metrics;
  log: Logger;
  playground?: Playground;
  maxRequestBytes: number;
  maxBatchOperations: number;
  createContext: (requestId: string, principal: Principal, trace?: RequestTrace) => Promise<GatewayContext>;
  security: Security;
}

class PayloadTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return reject(new PayloadTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new PayloadTooLarge());
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function graphqlError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] }, headers);
}

function outcomeOf(status: number, body: string): 'ok' | 'partial' | 'error' {
  if (status >= 400) return 'error';
  // Apollo writes `errors` before `data`: a single response without it at the start has none (a wide answer is not scanned).
  if (body.startsWith('{') && !body.startsWith('{"errors":')) return 'ok';
  return body.includes('"errors":[') ? (body.includes('"data":{') ? 'partial' : 'error') : 'ok';
}

const REQUEST_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;

function wantsHtml(req: IncomingMessage, search: string): boolean {
  const accept = req.headers.accept ?? '';
  return req.method === 'GET' && accept.includes('text/html') && !new URLSearchParams(search).has('query');
}

/** The HTTP handler, and graceful shutdown: refuse new requests, wait for those in progress. */
export interface RequestHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /**
   * From now on every request — a kept-alive connection can still send some — is answered 503
   * SHUTTING_DOWN with `connection: close` (a GraphQL one is audited as denied); resolves true once
   * no earlier request is in progress, or false after `timeoutMs` with some still running.
   */
  drain(timeoutMs: number): Promise<boolean>;
}

export function createRequestHandler(deps: HttpDeps): RequestHandler {
  const { apollo, registry, metrics, log, playground } = deps;
  // Requests in progress, counted until their handler ends (even when the client has gone away).
  let inFlight = 0;
  let draining = false;
  const idle = new Set<() => void>();

  async function graphql(req: IncomingMessage, res: ServerResponse, search: string, requestId: string): Promise<void> {
    let body: unknown;
    if (req.method === 'POST') {
      const text = await readBody(req, deps.maxRequestBytes);
      const contentType = req.headers['content-type'] ?? '';
      if (contentType.includes('json')) {
        try {
          body = JSON.parse(text);
        } catch {
          return graphqlError(res, 400, 'BAD_REQUEST', 'The request body is not valid JSON');
        }
        if (Array.isArray(body) && body.length > deps.maxBatchOperations) {
          return graphqlError(res, 400, 'QUERY_TOO_COMPLEX', `A batch may hold at most ${deps.maxBatchOperations} operations`);
        }
      } else body = text;
    } else if (search.length > deps.maxRequestBytes) {
      return graphqlError(res, 413, 'BAD_REQUEST', 'The request is too large');
    }
    // Authenticate and admit before any GraphQL runs; every outcome below is audited.
    const { security } = deps;
    let principal: Principal;
    try {
      principal = await security.authenticate(req.headers);
    } catch (error) {
      if (!(error instanceof AuthFailure)) throw error;
      const event = new AuditRecorder(requestId, undefined).event('denied', error.status, error.message, error.claims);
      if (!audited(event, res, requestId)) return;
      const headers: Record<string, string> = { 'x-request-id': requestId };
      if (error.wwwAuthenticate) headers['www-authenticate'] = error.wwwAuthenticate;
      return graphqlError(res, error.status, error.code, error.message, headers);
    }
    const admitted = await security.admit(principal);
    if (!admitted.allowed) {
      const event = new AuditRecorder(requestId, principal).event('denied', 429, 'rate limited');
      if (!audited(event, res, requestId)) return;
      return graphqlError(res, 429, 'RATE_LIMITED', 'Too many requests: slow down', { 'retry-after': String(admitted.retryAfter), 'x-request-id': requestId });
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const traced = startRequestSpan(req.headers, req.method ?? 'GET', requestId);
    let status = 500;
    let outcome: 'ok' | 'partial' | 'error' = 'error';
    let context: GatewayContext | undefined;
    try {
      context = await deps.createContext(requestId, principal, traced);
      const ctx = context;
      const result = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search, body },
        context: async () => ctx,
      });
      let text: string;
      if (result.body.kind === 'complete') text = result.body.string;
      else {
        let chunks = '';
        for await (const chunk of result.body.asyncIterator) chunks += chunk;
        text = chunks;
      }
      status = result.status ?? 200;
      outcome = outcomeOf(status, text);
      // Fail closed: a request whose audit event cannot be written returns no data.
      if (!audited(context.audit.event(outcome, status), res, requestId)) {
        status = 500;
        outcome = 'error';
        return;
      }
      const out: Record<string, string> = { 'x-request-id': requestId, 'x-upstream-requests': String(context.upstream.total) };
      for (const [key, value] of result.headers) out[key] = value;
      // Written as the string it is: no copy of a wide answer into a Buffer of its own first.
      out['content-length'] = String(Buffer.byteLength(text, 'utf8'));
      res.writeHead(status, out);
      res.end(text, 'utf8');
    } finally {
      endRequestSpan(traced, { status, outcome, upstreamRequests: context?.upstream.total ?? 0, operation: context?.audit.operation });
    }
  }

  /** Writes the audit event; on failure answers 500 without data and returns false. */
  function audited(event: ReturnType<AuditRecorder['event']>, res: ServerResponse, requestId: string): boolean {
    try {
      deps.security.writeAudit(event);
      return true;
    } catch (error) {
      log.error({ err: error, requestId }, 'audit write failed: request refused');
      graphqlError(res, 500, 'INTERNAL_SERVER_ERROR', 'The request could not be audited', { 'x-request-id': requestId });
      return false;
    }
  }

  async function ready(res: ServerResponse): Promise<void> {
    const sources = await registry.statuses();
    for (const s of sources) metrics.setSourceUp(s.id, s.state === 'up');
    const up = sources.filter((s) => s.state === 'up').length;
    const status = up === sources.length ? 'ready' : up > 0 ? 'degraded' : 'unavailable';
    sendJson(res, up > 0 ? 200 : 503, {
      status,
      sources: sources.map((s) => ({ id: s.id, kind: s.kind, state: s.state, latencyMs: s.latencyMs, message: s.message })),
    });
  }

  async function route(req: IncomingMessage, res: ServerResponse, path: string, search: string, requestId: string): Promise<string> {
    if (path === '/graphql') {
      if (playground && wantsHtml(req, search)) {
        const html = playground.html();
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html), 'cache-control': 'no-cache' });
        res.end(html);
      } else if (req.method === 'GET' || req.method === 'POST') await graphql(req, res, search, requestId);
      else graphqlError(res, 405, 'BAD_REQUEST', 'Use GET or POST');
      return '/graphql';
    }
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' }), '/healthz';
    if (path === '/readyz') return await ready(res), '/readyz';
    if (path === '/metrics') {
      const { contentType, body } = await metrics.render();
      res.writeHead(200, { 'content-type': contentType });
      res.end(body);
      return '/metrics';
    }
    if (playground && path.startsWith(playground.assetPrefix)) {
      const asset = playground.asset(path);
      if (asset) {
        if (req.headers['if-none-match'] === asset.etag) res.writeHead(304, { etag: asset.etag }).end();
        else res.writeHead(200, { 'content-type': asset.contentType, etag: asset.etag, 'cache-control': 'public, max-age=31536000, immutable' }).end(asset.body);
        return '/playground';
      }
    }
    if (path === '/') {
      res.writeHead(302, { location: '/graphql' }).end();
      return '/';
    }
    sendJson(res, 404, { error: 'not found' });
    return 'other';
  }

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    const header = req.headers['x-request-id'];
    const requestId = typeof header === 'string' && REQUEST_ID_RE.test(header) ? header : randomUUID();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const search = q < 0 ? '' : url.slice(q + 1);
    if (draining) {
      req.resume();
      const headers = { connection: 'close', 'retry-after': '1', 'x-request-id': requestId };
      const message = 'The gateway is shutting down: retry on another instance';
      if (path === '/graphql' && !audited(new AuditRecorder(requestId, undefined).event('denied', 503, message), res, requestId)) return;
      return graphqlError(res, 503, 'SHUTTING_DOWN', message, headers);
    }
    inFlight++;
    route(req, res, path, search, requestId)
      .catch((error: unknown) => {
        if (error instanceof PayloadTooLarge) graphqlError(res, 413, 'BAD_REQUEST', `The request body exceeds ${deps.maxRequestBytes} bytes`);
        else {
          log.error({ err: error, requestId }, 'request failed');
          if (!res.headersSent) graphqlError(res, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
          else res.end();
        }
        return 'error';
      })
      .then((routeName) => {
        metrics.observeHttp({ route: routeName, method: req.method ?? 'GET', status: res.statusCode, durationMs: performance.now() - started });
      })
      .finally(() => {
        if (--inFlight === 0) for (const wake of idle) wake();
      });
  };

  const drain = (timeoutMs: number): Promise<boolean> => {
    draining = true;
    return inFlight === 0
      ? Promise.resolve(true)
      : new Promise((resolve) => {
          const done = (drained: boolean): void => {
            clearTimeout(timer);
            idle.delete(wake);
            resolve(drained);
          };
          const wake = (): void => done(true);
          const timer = setTimeout(() => done(false), timeoutMs);
          idle.add(wake);
        });
  };

  return Object.assign(handle, { drain });
}
