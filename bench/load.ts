/** One measured load run: autocannon at a fixed concurrency for a fixed time, after a warm-up. */
import autocannon from 'autocannon';
import { CpuMeter, type CpuSplit } from './machine';

export interface LoadSettings {
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
}

export interface LoadRequest {
  method: 'GET' | 'POST';
  /** Path and query on the target's origin. */
  path: string;
  /** JSON body of a POST. */
  body?: string;
  /** Headers of this request on top of the defaults (JSON in, JSON out). */
  headers?: Record<string, string>;
}

export interface LoadTarget {
  /** The server: its origin is used; each request carries its own path. */
  url: string;
  /** Every connection cycles through these, each connection starting at a different one. */
  requests: LoadRequest[];
  /** Processes whose CPU use to report. */
  pids: Record<string, number | undefined>;
}

export interface LoadResult {
  requests: number;
  durationSeconds: number;
  reqPerSec: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number; mean: number };
  /** Average response size (body and headers). */
  bytesPerResponse: number;
  /** Socket errors and timeouts. */
  errors: number;
  non2xx: number;
  /** 2xx responses whose body carries GraphQL `errors`. */
  graphqlErrors: number;
  /** From the `x-upstream-requests` header of each response (gateway only). */
  upstreamRequests?: { mean: number; min: number; max: number };
  /** % of one core per process during the measured window. */
  cpu: CpuSplit;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

async function fire(target: LoadTarget, settings: LoadSettings, seconds: number, measure: boolean): Promise<LoadResult> {
  const latencies: number[] = [];
  const upstream: number[] = [];
  let clientIndex = 0;
  const requests = target.requests.map((r) => (r.body === undefined ? { method: r.method, path: r.path } : { ...r }));
  const meter = new CpuMeter(target.pids);
  const instance = autocannon({
    url: target.url,
    connections: settings.connections,
    duration: seconds,
    timeout: 30,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    requests,
    setupClient(client) {
      const shift = clientIndex++ % requests.length;
      client.setRequests([...requests.slice(shift), ...requests.slice(0, shift)]);
      if (!measure) return;
      client.on('headers', (info) => {
        const raw = info.headers;
        for (let i = 0; i < raw.length; i += 2) {
          if (String(raw[i]).toLowerCase() === 'x-upstream-requests') upstream.push(Number(String(raw[i + 1])));
        }
      });
    },
    // GraphQL errors (FHIR searches never contain this key).
    verifyBody: (body) => !body.startsWith('{"errors"') && !body.includes('"errors":['),
  });
  if (measure) instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  meter.start();
  const result = await instance;
  const cpu = meter.stop();
  const sorted = Float64Array.from(latencies).sort();
  const mean = latencies.reduce((s, n) => s + n, 0) / Math.max(1, latencies.length);
  return {
    requests: result.requests.total,
    durationSeconds: round(result.duration, 2),
    reqPerSec: round(result.requests.total / result.duration),
    latencyMs: {
      p50: round(percentile(sorted, 50)),
      p95: round(percentile(sorted, 95)),
      p99: round(percentile(sorted, 99)),
      max: round(sorted[sorted.length - 1] ?? NaN),
      mean: round(mean),
    },
    bytesPerResponse: Math.round(result.throughput.total / Math.max(1, result.requests.total)),
    errors: result.errors,
    non2xx: result.non2xx,
    graphqlErrors: result.mismatches,
    upstreamRequests:
      upstream.length > 0
        ? {
            mean: round(upstream.reduce((s, n) => s + n, 0) / upstream.length, 2),
            min: upstream.reduce((a, b) => Math.min(a, b)),
            max: upstream.reduce((a, b) => Math.max(a, b)),
          }
        : undefined,
    cpu,
  };
}

/** Warms up (results discarded), then measures. */
export async function measure(target: LoadTarget, settings: LoadSettings): Promise<LoadResult> {
  if (settings.warmupSeconds > 0) await fire(target, settings, settings.warmupSeconds, false);
  return fire(target, settings, settings.durationSeconds, true);
}
