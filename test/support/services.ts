/**
 * Helpers for tests that run against the real test services (`make services`): where the peers
 * are, an in-process gateway over them, and direct FHIR reads from the peer so expectations are
 * computed independently of the gateway.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ResourceType } from '../../connectors/types';
import { parseConfig } from '../../src/config/load';
import type { GatewayConfig } from '../../src/config/schema';
import { encodeId } from '../../src/ids';
import { createLogger } from '../../src/logger';
import { createGateway, type Gateway } from '../../src/server/gateway';

/** The FHIR peer's base URL, e.g. `http://127.0.0.1:8081/fhir`. */
/**
 * Whether the test FHIR peer holds the Synthea bundles of ../shared/data (scripts/services.sh loads
 * them when present, and healthgraph's generated population otherwise). Tests that look for
 * records only Synthea has skip without it.
 */
export const peerHasSynthea: boolean = existsSync(join(__dirname, '..', '..', '..', 'shared', 'data', 'synthea-r4-bundles.tar.xz'));

export function fhirUrl(): string {
  return (process.env.HG_TEST_FHIR_URL ?? 'http://127.0.0.1:8081/fhir').replace(/\/+$/, '');
}

/** The faulty peer's root URL, e.g. `http://127.0.0.1:8082`. */
export function faultyRoot(): string {
  return (process.env.HG_TEST_FAULTY_URL ?? 'http://127.0.0.1:8082').replace(/\/+$/, '');
}

/** A FHIR base URL on the faulty peer for a behaviour: `faultyUrl('slow/3000')` → `…/slow/3000/fhir`. */
export function faultyUrl(mode: string): string {
  return `${faultyRoot()}/${mode.replace(/^\/+|\/+$/g, '')}/fhir`;
}

/** Requests the faulty peer has seen under a `count` or `flaky` key. */
export async function faultyRequests(key: string): Promise<number> {
  const res = await fetch(`${faultyRoot()}/__stats?key=${encodeURIComponent(key)}`);
  return ((await res.json()) as { requests: number }).requests;
}

/** A key no other test run uses, for `count/{key}` and `flaky/{key}/…` modes. */
export function uniqueKey(label: string): string {
  return `${label}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export interface FhirResourceJson {
  resourceType: string;
  id: string;
  meta?: { lastUpdated?: string };
  [element: string]: unknown;
}

interface SearchBundle {
  total?: number;
  entry?: { resource?: FhirResourceJson; search?: { mode?: string } }[];
  link?: { relation?: string; url?: string }[];
}

/** GET a FHIR path (relative to `base`) or absolute URL from the peer, as JSON. Throws on non-2xx. */
export async function fetchFhir<T = unknown>(pathOrUrl: string, base = fhirUrl()): Promise<T> {
  const url = /^https?:/.test(pathOrUrl) ? pathOrUrl : `${base}/${pathOrUrl.replace(/^\/+/, '')}`;
  const res = await fetch(url, { headers: { accept: 'application/fhir+json' } });
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  return (await res.json()) as T;
}

/** One search page's resources (search-mode `match` only) and the server's `total`. */
export async function searchFhir(
  type: string,
  params: Record<string, string> | string,
  base = fhirUrl(),
): Promise<{ resources: FhirResourceJson[]; total?: number }> {
  const query = typeof params === 'string' ? params : new URLSearchParams(params).toString();
  const bundle = await fetchFhir<SearchBundle>(`${type}?${query}`, base);
  const resources = (bundle.entry ?? []).filter((e) => e.search?.mode !== 'include' && e.resource).map((e) => e.resource!);
  return { resources, total: bundle.total };
}

/** Every match of a search, following `next` links. */
export async function searchAll(type: string, params: Record<string, string> | string = {}, base = fhirUrl()): Promise<FhirResourceJson[]> {
  const query = typeof params === 'string' ? params : new URLSearchParams(params).toString();
  const out: FhirResourceJson[] = [];
  let next: string | undefined = `${type}?${query}${query ? '&' : ''}_count=1000`;
  while (next) {
    const bundle: SearchBundle = await fetchFhir<SearchBundle>(next, base);
    for (const e of bundle.entry ?? []) if (e.resource && e.search?.mode !== 'include') out.push(e.resource);
    next = bundle.link?.find((l) => l.relation === 'next')?.url;
  }
  return out;
}

/** One resource read directly from the peer. */
export function readFhir(type: string, id: string, base = fhirUrl()): Promise<FhirResourceJson> {
  return fetchFhir<FhirResourceJson>(`${type}/${id}`, base);
}

/** The gateway id the gateway gives a record. */
export function gatewayId(source: string, type: ResourceType, id: string): string {
  return encodeId(source, type, id);
}

export interface GraphqlBody {
  data?: Record<string, unknown> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  [key: string]: unknown;
}

export interface QueryResult<T = GraphqlBody> {
  status: number;
  body: T;
  /** The `x-upstream-requests` header: upstream requests this GraphQL request caused. */
  upstream: number;
  headers: Headers;
}

export interface TestGateway {
  /** Base URL, e.g. `http://127.0.0.1:39123`. */
  url: string;
  /** `url + '/graphql'`. */
  endpoint: string;
  gateway: Gateway;
  config: GatewayConfig;
  /** POST a GraphQL operation as JSON. */
  query<T = GraphqlBody>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<QueryResult<T>>;
  /** Any HTTP request to the gateway (path relative to the base URL). */
  request(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export type GatewayInput = string | Record<string, unknown> | Record<string, unknown>[];

/**
 * Starts a gateway in this process on a free port. The argument is config YAML, a config object,
 * or just the list of sources; it goes through the same validation as a config file.
 */
export async function startGateway(input: GatewayInput, env: NodeJS.ProcessEnv = process.env): Promise<TestGateway> {
  const raw: unknown = typeof input === 'string' ? parseYaml(input) : input;
  const config = parseConfig(Array.isArray(raw) ? { sources: raw } : raw, env, 'test config');
  const gateway = await createGateway(config, { log: createLogger(process.env.HG_TEST_LOG_LEVEL ?? 'silent') });
  const url = await gateway.listen(0, '127.0.0.1');
  const endpoint = `${url}/graphql`;
  const request = (path: string, init?: RequestInit): Promise<Response> => fetch(`${url}${path}`, init);
  return {
    url,
    endpoint,
    gateway,
    config,
    request,
    async query<T>(query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}) {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      const text = await res.text();
      let body: T;
      try {
        body = JSON.parse(text) as T;
      } catch {
        throw new Error(`gateway answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
      }
      return { status: res.status, body, upstream: Number(res.headers.get('x-upstream-requests') ?? NaN), headers: res.headers };
    },
    close: () => gateway.close(),
  };
}

/** A single FHIR source config pointing at `url`. */
export function fhirSource(id: string, url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, kind: 'fhir', url, ...extra };
}

/** The error codes of a GraphQL response, in order. */
export function errorCodes(body: GraphqlBody): unknown[] {
  return (body.errors ?? []).map((e) => e.extensions?.code);
}

/** Throws with the errors when a GraphQL response has any; returns `data` otherwise. */
export function dataOf<T = Record<string, unknown>>(result: QueryResult): T {
  if (result.body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.body.errors)}`);
  if (result.status !== 200) throw new Error(`HTTP ${result.status}`);
  return result.body.data as T;
}

/** Polls `check` until it returns a value that is not undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
