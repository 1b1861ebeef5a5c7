/**
 * The peer on its own: replays the exact FHIR REST searches the gateway makes for a question
 * (learned through a recording proxy) straight against the peer, under the same load. Its
 * throughput divided by the searches per question bounds what any gateway could get from this peer.
 */
import { startGateway } from './processes';
import type { LoadRequest } from './load';
import { startRecordingProxy } from '../test/peers/recording-proxy';

export interface RecordedSearches {
  /** Every request, for all patients, in the order the gateway sent them (GET searches and POST batch Bundles). */
  requests: LoadRequest[];
  /** HTTP requests per question, averaged over the patients. */
  perQuestion: number;
  /** Searches per question, counting each entry of a batch Bundle. */
  searchesPerQuestion: number;
  /** Searches per question by resource type. */
  byType: Record<string, number>;
}

/** `/fhir/Observation?…` → Observation; `/fhir/Patient/123` → Patient. */
function typeOf(path: string, basePath: string): string {
  return path.slice(basePath.length).replace(/^\/+/, '').split(/[/?]/, 1)[0] ?? '?';
}

/** The resource types a request searches: one for a GET, one per entry of a batch Bundle. */
function searchTypes(r: LoadRequest, base: string): string[] {
  if (r.method === 'GET') return [typeOf(r.path, base)];
  try {
    const bundle = JSON.parse(r.body ?? '{}') as { entry?: { request?: { url?: string } }[] };
    return (bundle.entry ?? []).map((e) => typeOf('/' + (e.request?.url ?? '?'), ''));
  } catch {
    return ['?'];
  }
}

/**
 * Starts a second gateway whose source goes through a recording proxy, asks it the question once per
 * request body, and returns the searches it sent (its start-up requests are left out).
 */
export async function recordSearches(
  root: string,
  env: NodeJS.ProcessEnv,
  fhirUrl: string,
  configFor: (fhirUrl: string) => string,
  bodies: string[],
): Promise<RecordedSearches> {
  const proxy = await startRecordingProxy(fhirUrl);
  const gateway = await startGateway(root, { ...env, BENCH_PROFILE: '' }, configFor(proxy.url));
  try {
    proxy.clear();
    const requests: LoadRequest[] = [];
    for (const body of bodies) {
      const res = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`recording gateway answered HTTP ${res.status}`);
      // Each HTTP request as the gateway sent it: a GET search, or a POST of a batch Bundle.
      for (const r of proxy.http) {
        requests.push(
          r.method === 'POST'
            ? { method: 'POST', path: r.raw!, body: r.body ?? '', headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json' } }
            : { method: 'GET', path: r.raw! },
        );
      }
      proxy.clear();
    }
    const base = new URL(fhirUrl).pathname.replace(/\/+$/, '');
    const byType: Record<string, number> = {};
    let searches = 0;
    for (const r of requests) {
      for (const type of searchTypes(r, base)) {
        byType[type] = (byType[type] ?? 0) + 1 / bodies.length;
        searches += 1;
      }
    }
    const n = Math.max(1, bodies.length);
    return { requests, perQuestion: requests.length / n, searchesPerQuestion: searches / n, byType };
  } finally {
    await gateway.stop();
    await proxy.close();
  }
}
