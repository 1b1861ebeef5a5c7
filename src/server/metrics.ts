/**
 * Prometheus metrics for one gateway instance.
 *
 * Each call to `createMetrics()` owns a fresh prom-client `Registry` (never the global default), so several servers
 * can run in one process — as they do in tests. Label children are cached in plain Maps, so an observation on the
 * hot path is one Map lookup plus an increment.
 *
 * Label values must have bounded cardinality: pass a route *template* (`/graphql`, `/metrics`), never a raw URL.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type GraphqlOperationType = 'query' | 'mutation' | 'subscription' | 'unknown';
/** `partial`: data came back together with errors (e.g. one source was down). */
export type GraphqlOutcome = 'ok' | 'partial' | 'error';

export interface HttpObservation {
  /** A route template with bounded cardinality, e.g. `/graphql`; not the raw path. */
  route: string;
  method: string;
  status: number;
  durationMs: number;
}

export interface UpstreamObservation {
  source: string;
  durationMs: number;
  outcome: 'ok' | 'error';
}

export interface GraphqlObservation {
  operationType: GraphqlOperationType;
  outcome: GraphqlOutcome;
}

export interface MetricsOptions {
  /** Collect Node process metrics (CPU, memory, event loop lag, GC). Default true. */
  defaultMetrics?: boolean;
  /** Histogram buckets in seconds; defaults suit a gateway (5 ms … 10 s). */
  buckets?: number[];
}

export interface Metrics {
  readonly registry: Registry;
  observeHttp(event: HttpObservation): void;
  observeGraphql(event: GraphqlObservation): void;
  observeUpstream(event: UpstreamObservation): void;
  setSourceUp(source: string, up: boolean): void;
  /** The exposition for `GET /metrics`. */
  render(): Promise<{ contentType: string; body: string }>;
}

export const DEFAULT_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const buckets = opts.buckets ?? DEFAULT_BUCKETS_SECONDS;
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });

  const httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests handled, by route template, method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route template and method.',
    labelNames: ['route', 'method'] as const,
    buckets,
    registers: [registry],
  });
  const graphqlOperations = new Counter({
    name: 'graphql_operations_total',
    help: 'GraphQL operations executed, by operation type and outcome (ok, partial, error).',
    labelNames: ['operation_type', 'outcome'] as const,
    registers: [registry],
  });
  const upstreamRequests = new Counter({
    name: 'upstream_requests_total',
    help: 'Requests sent to a data source, by source id and outcome (ok, error).',
    labelNames: ['source', 'outcome'] as const,
    registers: [registry],
  });
  const upstreamDuration = new Histogram({
    name: 'upstream_request_duration_seconds',
    help: 'Time a data source took to answer, by source id.',
    labelNames: ['source'] as const,
    buckets,
    registers: [registry],
  });
  const sourceUp = new Gauge({
    name: 'source_up',
    help: 'Whether a data source is answering (1) or not (0).',
    labelNames: ['source'] as const,
    registers: [registry],
  });

  const httpCounterChildren = new Map<string, ReturnType<typeof httpRequests.labels>>();
  const httpDurationChildren = new Map<string, ReturnType<typeof httpDuration.labels>>();
  const graphqlChildren = new Map<string, ReturnType<typeof graphqlOperations.labels>>();
  const upstreamCounterChildren = new Map<string, ReturnType<typeof upstreamRequests.labels>>();
  const upstreamDurationChildren = new Map<string, ReturnType<typeof upstreamDuration.labels>>();

  return {
    registry,
    observeHttp({ route, method, status, durationMs }) {
      const routeMethod = `${route}\u0000${method}`;
      cached(httpCounterChildren, `${routeMethod}\u0000${status}`, () =>
        httpRequests.labels(route, method, String(status)),
      ).inc();
      cached(httpDurationChildren, routeMethod, () => httpDuration.labels(route, method)).observe(durationMs / 1000);
    },
    observeGraphql({ operationType, outcome }) {
      cached(graphqlChildren, `${operationType}\u0000${outcome}`, () =>
        graphqlOperations.labels(operationType, outcome),
      ).inc();
    },
    observeUpstream({ source, durationMs, outcome }) {
      cached(upstreamCounterChildren, `${source}\u0000${outcome}`, () =>
        upstreamRequests.labels(source, outcome),
      ).inc();
      cached(upstreamDurationChildren, source, () => upstreamDuration.labels(source)).observe(durationMs / 1000);
    },
    setSourceUp(source, up) {
      sourceUp.set({ source }, up ? 1 : 0);
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

function cached<T>(children: Map<string, T>, key: string, create: () => T): T {
  let child = children.get(key);
  if (child === undefined) {
    child = create();
    children.set(key, child);
  }
  return child;
}
