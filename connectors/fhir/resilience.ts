/**
 * Retry timing and the circuit breaker behind the FHIR HTTP client. Pure helpers plus a thin
 * wrapper over cockatiel's breaker, so http.ts reads as "send, classify, maybe wait, try again".
 */
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  IsolatedCircuitError,
  circuitBreaker,
  handleWhenResult,
  type CircuitBreakerPolicy,
} from 'cockatiel';

export interface RetryOptions {
  /** Attempts per call, including the first (1 = no retries). */
  maxAttempts: number;
  /** First backoff delay; doubles per retry. */
  baseDelayMs: number;
  /** Upper bound for one wait, also the longest `Retry-After` the client will honour. */
  maxDelayMs: number;
}

export interface BreakerOptions {
  /** Consecutive failed upstream requests that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open before one trial request is let through (half-open). */
  resetAfterMs: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

/** Statuses worth another try: the upstream is overloaded or a proxy in front of it is. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** Exponential backoff with "equal jitter": half the step is fixed, half random. `retry` counts from 1. */
export function backoffDelay(retry: number, opts: RetryOptions, random: () => number = Math.random): number {
  const step = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(step / 2 + (random() * step) / 2);
}

/**
 * `Retry-After` as milliseconds from now: delta-seconds or an HTTP date. Undefined when absent or
 * unparseable (the caller then falls back to its own backoff).
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Waits `ms`; resolves `false` early if `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const CONNECTION_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  UND_ERR_SOCKET: 'connection reset',
  UND_ERR_CLOSED: 'connection closed',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
  UND_ERR_BODY_TIMEOUT: 'response body stalled',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
};

/**
 * A client-safe reason for a transport error when it is a connection-level failure (worth a
 * retry), otherwise undefined. Looks at `code` on the error and its `cause` chain.
 */
export function connectionErrorReason(err: unknown): string | undefined {
  // Duck-typed, not `instanceof Error`: errors from Node internals may come from another realm.
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 4; depth++) {
    const { code, cause } = e as { code?: unknown; cause?: unknown };
    if (typeof code === 'string' && code in CONNECTION_REASONS) return CONNECTION_REASONS[code];
    e = cause;
  }
  return undefined;
}

/** A circuit breaker over attempt outcomes: `isFailure` decides which results count against it. */
export interface Breaker<T> {
  /** Runs `fn` unless the circuit is open; returns undefined (without running) when it is. */
  run(fn: () => Promise<T>): Promise<T | undefined>;
  state(): BreakerState;
  readonly policy: CircuitBreakerPolicy;
}

export function createBreaker<T>(
  opts: BreakerOptions,
  isFailure: (outcome: T) => boolean,
  onStateChange?: (state: BreakerState) => void,
): Breaker<T> {
  const policy = circuitBreaker(
    handleWhenResult((r) => isFailure(r as T)),
    { halfOpenAfter: opts.resetAfterMs, breaker: new ConsecutiveBreaker(opts.failureThreshold) },
  );
  if (onStateChange) policy.onStateChange((s) => onStateChange(stateName(s)));
  return {
    policy,
    state: () => stateName(policy.state),
    async run(fn) {
      try {
        return await policy.execute(fn);
      } catch (err) {
        if (err instanceof BrokenCircuitError || err instanceof IsolatedCircuitError) return undefined;
        throw err;
      }
    },
  };
}

function stateName(state: CircuitState): BreakerState {
  switch (state) {
    case CircuitState.Closed:
      return 'closed';
    case CircuitState.Open:
      return 'open';
    case CircuitState.HalfOpen:
      return 'half-open';
    case CircuitState.Isolated:
      return 'isolated';
  }
}
