/**
 * The FHIR connector's transport: one keep-alive connection pool per source, auth headers, a
 * timeout per attempt, retries with backoff for transient failures, and a circuit breaker.
 * Errors leaving this module are client-safe (style.md §6): upstream bodies go to debug logs only.
 */
import { Pool, type Dispatcher } from 'undici';
import { HealthgraphError, SourceTimeoutError, SourceUnavailableError } from '../../src/errors';
import type { Logger } from '../../src/logger';
import type { CallContext } from '../types';
import type { AuthProvider } from './auth';
import {
  RETRYABLE_STATUSES,
  backoffDelay,
  connectionErrorReason,
  createBreaker,
  parseRetryAfter,
  sleep,
  type Breaker,
  type BreakerOptions,
  type BreakerState,
  type RetryOptions,
} from './resilience';

export interface FhirHttpClientOptions {
  sourceId: string;
  /** FHIR base URL, e.g. `https://fhir.example.org/r4`. Requests never leave this origin + path. */
  baseUrl: string;
  /** Limit for one attempt, from sending to the last body byte. */
  timeoutMs: number;
  auth: AuthProvider;
  retry: RetryOptions;
  breaker: BreakerOptions;
  /** Keep-alive connections to the upstream. */
  maxConnections: number;
}

export interface FhirHttpStats {
  /** Upstream requests sent (attempts, not calls). */
  requests: number;
  /** Attempts that failed (HTTP status outside 2xx, transport error, timeout, bad JSON). */
  failures: number;
  retries: number;
  timeouts: number;
  inFlight: number;
  breakerState: BreakerState;
  /** Times the circuit has opened since start. */
  breakerOpenings: number;
}

/**
 * The upstream answered with a status the client does not retry (or still failed after retries).
 * A SourceUnavailableError, so an unhandled one still reaches clients as SOURCE_UNAVAILABLE, but
 * typed so a connector can decide, e.g. a 404 on a read means "no such record".
 */
export class FhirHttpError extends SourceUnavailableError {
  constructor(
    sourceId: string,
    readonly status: number,
  ) {
    super(sourceId, `upstream answered HTTP ${status}`);
    this.name = 'FhirHttpError';
  }
}

/** What one attempt came to. Never thrown: the retry loop and the breaker classify it. */
type Attempt =
  | { kind: 'ok'; body: unknown }
  | { kind: 'status'; status: number; retryAfterMs: number | undefined }
  | { kind: 'connection'; reason: string }
  | { kind: 'error'; reason: string }
  | { kind: 'timeout' }
  | { kind: 'cancelled' }
  | { kind: 'invalid-json' };

interface Target {
  /** Request path sent on the wire (base path included). */
  path: string;
  /** The same, relative to the base path: what events and logs show. */
  relative: string;
}

const ABSOLUTE_URL = /^[a-z][a-z0-9+.-]*:/i;
const MAX_OPERATION_LENGTH = 200;
const MAX_LOGGED_BODY = 1000;
const TIMEOUT: Attempt = { kind: 'timeout' };
const CANCELLED: Attempt = { kind: 'cancelled' };
const INVALID_JSON: Attempt = { kind: 'invalid-json' };

export class FhirHttpClient {
  private readonly sourceId: string;
  private readonly origin: string;
  /** Base path with a trailing slash, e.g. `/r4/`. */
  private readonly basePath: string;
  private readonly pool: Pool;
  private readonly auth: AuthProvider;
  private readonly breaker: Breaker<Attempt>;
  private readonly log: Logger;
  private readonly counters = { requests: 0, failures: 0, retries: 0, timeouts: 0, inFlight: 0, breakerOpenings: 0 };

  constructor(
    private readonly options: FhirHttpClientOptions,
    logger: Logger,
  ) {
    const base = new URL(options.baseUrl);
    this.sourceId = options.sourceId;
    this.origin = base.origin;
    this.basePath = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
    this.auth = options.auth;
    this.log = logger.child({ source: options.sourceId, component: 'fhir-http' });
    this.pool = new Pool(this.origin, {
      connections: options.maxConnections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connect: { timeout: Math.min(options.timeoutMs, 10_000) },
    });
    this.breaker = createBreaker<Attempt>(options.breaker, isBreakerFailure, (state) => {
      if (state === 'open') this.counters.breakerOpenings++;
      this.log.warn({ breaker: state }, `circuit ${state}`);
    });
  }

  /** GET a path relative to the base URL (a leading `/` is ignored) or an absolute URL under it. */
  async getJson(pathOrUrl: string, ctx: CallContext): Promise<unknown> {
    return this.call('GET', this.resolve(pathOrUrl), undefined, ctx);
  }

  /** POST a JSON body. Retried like GET, so use it for idempotent operations such as `_search`. */
  async postJson(path: string, body: unknown, ctx: CallContext): Promise<unknown> {
    return this.call('POST', this.resolve(path), JSON.stringify(body), ctx);
  }

  stats(): FhirHttpStats {
    return { ...this.counters, breakerState: this.breaker.state() };
  }

  async close(): Promise<void> {
    this.auth.close?.();
    await this.pool.close();
  }

  private async call(method: string, target: Target, body: string | undefined, ctx: CallContext): Promise<unknown> {
    if (ctx.signal?.aborted) throw this.timeoutError();
    const url = this.origin + target.path;
    let refreshedAuth = false;
    for (let attempt = 1; ; attempt++) {
      const authHeaders = await this.authHeaders(method, url, body);
      const outcome = await this.breaker.run(() => this.attempt(method, target, body, authHeaders, ctx));
      if (outcome === undefined) throw new SourceUnavailableError(this.sourceId, 'circuit open');
      if (outcome.kind === 'ok') return outcome.body;
      if (isUnauthorized(outcome) && !refreshedAuth && this.auth.invalidate) {
        // One fresh-credentials retry; it does not use up a backoff attempt.
        refreshedAuth = true;
        this.auth.invalidate(authHeaders);
        this.counters.retries++;
        attempt--;
        continue;
      }
      const delay = this.retryDelay(outcome, attempt);
      if (delay === undefined) throw this.toError(outcome);
      this.counters.retries++;
      if (!(await sleep(delay, ctx.signal))) throw this.timeoutError();
    }
  }

  /** Auth failures that are already client-safe pass through; anything else is reduced to a fixed reason. */
  private async authHeaders(method: string, url: string, body: string | undefined): Promise<Record<string, string>> {
    try {
      return await this.auth.headers({ method, url, body });
    } catch (err) {
      if (err instanceof HealthgraphError) throw err;
      this.log.warn({ errName: (err as { name?: unknown } | null)?.name }, 'auth provider failed');
      throw new SourceUnavailableError(this.sourceId, 'authentication failed');
    }
  }

  /** Milliseconds to wait before the next attempt, or undefined to give up. */
  private retryDelay(outcome: Attempt, attempt: number): number | undefined {
    const { maxAttempts, maxDelayMs } = this.options.retry;
    if (attempt >= maxAttempts) return undefined;
    if (outcome.kind === 'connection') return backoffDelay(attempt, this.options.retry);
    if (outcome.kind !== 'status' || !RETRYABLE_STATUSES.has(outcome.status)) return undefined;
    if (outcome.retryAfterMs === undefined) return backoffDelay(attempt, this.options.retry);
    // Waiting less than the server asked only earns another 429; waiting longer than our cap stalls the caller.
    return outcome.retryAfterMs <= maxDelayMs ? outcome.retryAfterMs : undefined;
  }

  private async attempt(
    method: string,
    target: Target,
    body: string | undefined,
    authHeaders: Record<string, string>,
    ctx: CallContext,
  ): Promise<Attempt> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.options.timeoutMs);
    const onCancel = (): void => controller.abort();
    ctx.signal?.addEventListener('abort', onCancel, { once: true });
    const started = performance.now();
    this.counters.requests++;
    this.counters.inFlight++;
    let outcome: Attempt;
    try {
      const res = await this.pool.request({
        method: method as Dispatcher.HttpMethod,
        path: target.path,
        headers: requestHeaders(authHeaders, body !== undefined),
        body,
        signal: controller.signal,
      });
      outcome = await this.readResponse(res);
    } catch (err) {
      outcome = timedOut ? TIMEOUT : ctx.signal?.aborted ? CANCELLED : this.transportFailure(err);
    } finally {
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', onCancel);
      this.counters.inFlight--;
    }
    this.record(method, target, started, outcome, ctx);
    return outcome;
  }

  private async readResponse(res: Dispatcher.ResponseData): Promise<Attempt> {
    const status = res.statusCode;
    if (status >= 200 && status < 300) {
      const text = await res.body.text();
      if (status === 204) return { kind: 'ok', body: null };
      try {
        return { kind: 'ok', body: JSON.parse(text) as unknown };
      } catch {
        this.debugBody('invalid JSON from upstream', status, text);
        return INVALID_JSON;
      }
    }
    const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(res.headers['retry-after']) : undefined;
    if (this.log.isLevelEnabled('debug')) this.debugBody('upstream error status', status, await res.body.text());
    else await res.body.dump();
    return { kind: 'status', status, retryAfterMs };
  }

  private transportFailure(err: unknown): Attempt {
    const reason = connectionErrorReason(err);
    if (reason !== undefined) return { kind: 'connection', reason };
    // Not a connection problem (e.g. an invalid request): a bug worth seeing, but not retrying.
    this.log.warn({ errName: (err as { name?: unknown } | null)?.name }, 'upstream request failed');
    return { kind: 'error', reason: 'request failed' };
  }

  private record(method: string, target: Target, started: number, outcome: Attempt, ctx: CallContext): void {
    const ok = outcome.kind === 'ok';
    if (!ok) this.counters.failures++;
    if (outcome.kind === 'timeout') this.counters.timeouts++;
    const durationMs = performance.now() - started;
    if (ctx.onUpstreamRequest) {
      ctx.onUpstreamRequest({
        source: this.sourceId,
        operation: describeOperation(method, target.relative),
        durationMs,
        outcome: ok ? 'ok' : 'error',
      });
    }
    if (this.log.isLevelEnabled('debug')) {
      const status = outcome.kind === 'status' ? outcome.status : undefined;
      this.log.debug({
        requestId: ctx.requestId,
        method,
        path: target.relative,
        durationMs,
        outcome: outcome.kind,
        status,
      });
    }
  }

  private debugBody(msg: string, status: number, text: string): void {
    this.log.debug({ status, body: text.slice(0, MAX_LOGGED_BODY) }, msg);
  }

  private toError(outcome: Exclude<Attempt, { kind: 'ok' }>): Error {
    switch (outcome.kind) {
      case 'status':
        return new FhirHttpError(this.sourceId, outcome.status);
      case 'connection':
      case 'error':
        return new SourceUnavailableError(this.sourceId, outcome.reason);
      case 'invalid-json':
        return new SourceUnavailableError(this.sourceId, 'invalid JSON');
      case 'timeout':
      case 'cancelled':
        return this.timeoutError();
    }
  }

  private timeoutError(): SourceTimeoutError {
    return new SourceTimeoutError(this.sourceId, this.options.timeoutMs);
  }

  /**
   * Where a path or URL points, refusing anything outside the base URL: credentials must never
   * reach another host, and `..` must not climb out of the FHIR base path.
   */
  private resolve(pathOrUrl: string): Target {
    if (ABSOLUTE_URL.test(pathOrUrl)) return this.resolveUrl(pathOrUrl);
    const relative = pathOrUrl.startsWith('/') ? pathOrUrl.slice(1) : pathOrUrl;
    if (/\.\.|%2e|\\/i.test(relative)) return this.resolveUrl(this.origin + this.basePath + relative);
    return { path: this.basePath + relative, relative };
  }

  private resolveUrl(href: string): Target {
    let url: URL;
    try {
      url = new URL(href);
    } catch {
      throw new SourceUnavailableError(this.sourceId, 'invalid upstream URL');
    }
    const underBase = url.pathname.startsWith(this.basePath) || `${url.pathname}/` === this.basePath;
    if (url.origin !== this.origin || !underBase || url.username !== '' || url.password !== '') {
      throw new SourceUnavailableError(this.sourceId, 'refusing to follow a link outside the source base URL');
    }
    const path = url.pathname + url.search;
    return { path, relative: path.slice(this.basePath.length) };
  }
}

function requestHeaders(auth: Record<string, string>, hasBody: boolean): Record<string, string> {
  return hasBody
    ? { accept: 'application/fhir+json', 'content-type': 'application/fhir+json', ...auth }
    : { accept: 'application/fhir+json', ...auth };
}

function isUnauthorized(outcome: Attempt): boolean {
  return outcome.kind === 'status' && outcome.status === 401;
}

/** Failures that say the upstream is unhealthy; 4xx answers and caller cancellations do not. */
function isBreakerFailure(outcome: Attempt): boolean {
  switch (outcome.kind) {
    case 'status':
      return outcome.status >= 500 || outcome.status === 429;
    case 'connection':
    case 'timeout':
    case 'invalid-json':
      return true;
    default:
      return false;
  }
}

/**
 * `GET Condition?patient=…&_count=…`: method and path with query values elided, so events carry no
 * patient data and stay low-cardinality for metrics.
 */
export function describeOperation(method: string, relative: string): string {
  const q = relative.indexOf('?');
  const text =
    q < 0 ? `${method} ${relative}` : `${method} ${relative.slice(0, q)}?${elideValues(relative.slice(q + 1))}`;
  return text.length <= MAX_OPERATION_LENGTH ? text : `${text.slice(0, MAX_OPERATION_LENGTH - 1)}…`;
}

function elideValues(query: string): string {
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? pair : `${pair.slice(0, eq)}=…`;
    })
    .join('&');
}
