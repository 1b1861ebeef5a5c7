/**
 * The HTTP face of the FHIR peer: maps node `http` requests under a base path onto Medplum's
 * FhirRouter, serves `metadata`, and gives search Bundles absolute `self`/`next` links and
 * `fullUrl`s for the URL the client used. No per-request logging: benchmarks run against it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest, getStatus, normalizeOperationOutcome, notFound } from '@medplum/core';
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { FhirRequest, FhirRouter, HttpMethod } from '@medplum/fhir-router';
import { buildCapabilityStatement } from './capability';
import { knownResourceTypes } from './definitions';
import { DEFAULT_SEARCH_COUNT, MAX_SEARCH_COUNT } from './repository';
import type { IndexedMemoryRepository } from './repository';

const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface FhirHttpOptions {
  router: FhirRouter;
  repo: IndexedMemoryRepository;
  /** Path prefix of the FHIR API, e.g. `/fhir`. */
  basePath: string;
  /** Used for links when a request has no Host header. */
  defaultHost: string;
  softwareVersion: string;
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

export function createFhirRequestListener(options: FhirHttpOptions): RequestListener {
  const capabilityCache = new Map<string, string>();
  return (req, res) => {
    handle(req, res, options, capabilityCache).catch((err: unknown) => {
      send(res, 500, normalizeOperationOutcome(err));
    });
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  options: FhirHttpOptions,
  capabilityCache: Map<string, string>,
): Promise<void> {
  const rawUrl = req.url ?? '/';
  const { basePath } = options;
  if (rawUrl !== basePath && !rawUrl.startsWith(`${basePath}/`) && !rawUrl.startsWith(`${basePath}?`)) {
    send(res, 404, notFound);
    return;
  }
  const baseUrl = `http://${req.headers.host ?? options.defaultHost}${basePath}`;
  const relative = rawUrl.slice(basePath.length) || '/';
  const method = (req.method ?? 'GET').toUpperCase() as HttpMethod;
  if (!METHODS.includes(method)) {
    send(res, 405, badRequest(`Method ${method} is not supported`));
    return;
  }
  if (method === 'GET' && pathOf(relative) === '/metadata') {
    let body = capabilityCache.get(baseUrl);
    if (!body) {
      body = JSON.stringify(buildCapabilityStatement(baseUrl, options.softwareVersion));
      capabilityCache.set(baseUrl, body);
    }
    sendRaw(res, 200, body, FHIR_JSON);
    return;
  }
  const firstSegment = pathOf(relative).split('/')[1] ?? '';
  if (firstSegment !== '' && !firstSegment.startsWith('$') && !resourceTypes().has(firstSegment)) {
    send(res, 404, notFoundOutcome(`Unknown resource type: ${firstSegment}`));
    return;
  }
  let body: unknown;
  if (method !== 'GET' && method !== 'DELETE') {
    const parsed = await readJsonBody(req);
    if (parsed.error) {
      send(res, 400, badRequest(parsed.error));
      return;
    }
    body = parsed.value;
  }
  const fhirRequest: FhirRequest = {
    method,
    url: relative,
    pathname: '',
    params: {},
    query: {},
    body,
    headers: req.headers,
  };
  const [outcome, resource, responseOptions] = await options.router.handleRequest(fhirRequest, options.repo);
  const status = getStatus(outcome);
  if (resource?.resourceType === 'Bundle' && resource.type === 'searchset') {
    addSearchLinks(resource, baseUrl, relative);
  }
  const contentType = responseOptions?.contentType ?? FHIR_JSON;
  send(res, status, resource ?? outcome, contentType);
}

let knownTypes: Set<string> | undefined;
function resourceTypes(): Set<string> {
  knownTypes ??= new Set(knownResourceTypes());
  return knownTypes;
}

function notFoundOutcome(text: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found', details: { text } }] };
}

function pathOf(relative: string): string {
  const queryStart = relative.indexOf('?');
  return queryStart < 0 ? relative : relative.slice(0, queryStart);
}

/** Adds `self` and `next` links (offset paging) and entry `fullUrl`s to a search result. */
export function addSearchLinks(bundle: Bundle, baseUrl: string, relative: string): void {
  const url = new URL(relative, 'http://placeholder');
  const query = url.searchParams;
  const offset = Math.max(0, lastInt(query, '_offset') ?? 0);
  const summaryCount = query.get('_summary') === 'count';
  const count = summaryCount ? 0 : Math.min(Math.max(0, lastInt(query, '_count') ?? DEFAULT_SEARCH_COUNT), MAX_SEARCH_COUNT);
  const matches = (bundle.entry ?? []).filter((entry) => entry.search?.mode !== 'include').length;
  const hasMore = bundle.total !== undefined ? offset + count < bundle.total : matches === count && count > 0;
  const links = [{ relation: 'self', url: `${baseUrl}${url.pathname}${url.search}` }];
  if (hasMore && count > 0) {
    const next = new URLSearchParams(query);
    next.set('_offset', String(offset + count));
    next.set('_count', String(count));
    links.push({ relation: 'next', url: `${baseUrl}${url.pathname}?${next.toString()}` });
  }
  bundle.link = links;
  for (const entry of bundle.entry ?? []) {
    const resource = entry.resource as Resource | undefined;
    if (resource?.id) {
      entry.fullUrl = `${baseUrl}/${resource.resourceType}/${resource.id}`;
    }
  }
}

function lastInt(query: URLSearchParams, key: string): number | undefined {
  const values = query.getAll(key);
  const last = values[values.length - 1];
  const parsed = last === undefined ? NaN : parseInt(last, 10);
  return Number.isNaN(parsed) ? undefined : parsed;
}

async function readJsonBody(req: IncomingMessage): Promise<{ value?: unknown; error?: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) {
      return { error: 'Request body too large' };
    }
    chunks.push(buffer);
  }
  if (size === 0) {
    return { value: undefined };
  }
  try {
    return { value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
  } catch {
    return { error: 'Request body is not valid JSON' };
  }
}

function send(res: ServerResponse, status: number, body: Resource | OperationOutcome | object, contentType = FHIR_JSON): void {
  sendRaw(res, status, JSON.stringify(body), contentType);
}

function sendRaw(res: ServerResponse, status: number, body: string, contentType: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
