/**
 * The FHIR R4 connector: any FHIR server (Medplum, HAPI, HealthLake, EHR sandboxes). It learns
 * what the server can search from its CapabilityStatement, spells gateway searches as FHIR search
 * parameters, batches look-ups by id (`_id=a,b,c`), and follows `next` links for large pages.
 */
import type { Logger } from '../../src/logger';
import {
  isResourceType,
  type CallContext,
  type Connector,
  type FhirResource,
  type ResourceType,
  type SearchRequest,
  type SearchResult,
  type SourceCapabilities,
  type SourceRecord,
  type SourceStatus,
} from '../types';
import { createAuthProvider } from './auth';
import { capabilitiesFrom, defaultCapabilities, readCapabilityStatement, readSearchIncludes } from './capabilities';
import type { FhirSourceConfig } from './config';
import { FhirHttpClient, FhirHttpError } from './http';
import { buildSearch, sortParam } from './query';
import { advertisesBatch, countOf, nextByOffset, RequestBatcher, type BatchedAnswer } from './batch';

/** The transport the connector needs; FhirHttpClient in production. */
export interface FhirTransport {
  getJson(pathOrUrl: string, ctx: CallContext): Promise<unknown>;
  postJson(path: string, body: unknown, ctx: CallContext): Promise<unknown>;
  close(): Promise<void>;
}

interface BundleLike {
  total?: number;
  link?: { relation?: string; url?: string }[];
  entry?: { resource?: FhirResource; search?: { mode?: string } }[];
}

const ID_CHUNK = 100;
const STATUS_TTL_MS = 2000;

export class FhirConnector implements Connector {
  readonly kind = 'fhir';
  readonly id: string;
  private readonly transport: FhirTransport;
  private caps: SourceCapabilities = { types: {} };
  private lastStatus?: { at: number; status: Promise<SourceStatus> };
  /** Set when the server takes `batch` Bundles: a request's searches to this source then travel together. */
  private batcher?: RequestBatcher;
  /** Per type, the `_include` parameters the server lists, by the element they follow. */
  private includeParams = new Map<ResourceType, Map<string, string>>();

  constructor(
    private readonly config: FhirSourceConfig,
    private readonly log: Logger,
    transport?: FhirTransport,
  ) {
    this.id = config.id;
    this.transport =
      transport ??
      new FhirHttpClient(
        {
          sourceId: config.id,
          baseUrl: config.url,
          timeoutMs: config.timeoutMs,
          auth: createAuthProvider(config.auth, { sourceId: config.id, logger: log }),
          retry: config.retry,
          breaker: config.breaker,
          maxConnections: config.maxConnections,
        },
        log,
      );
  }

  async start(): Promise<void> {
    try {
      const statement = await this.transport.getJson('metadata', { requestId: 'startup' });
      const listed = readCapabilityStatement(statement);
      const batch = this.config.batch === 'on' || (this.config.batch === 'auto' && advertisesBatch(statement));
      this.batcher = batch && this.config.paging === 'offset' ? new RequestBatcher(this.id, this.transport) : undefined;
      this.caps = listed.size > 0 ? capabilitiesFrom(listed) : defaultCapabilities();
      this.includeParams = this.config.include === 'auto' ? readSearchIncludes(statement) : new Map();
      for (const [type, params] of this.includeParams) {
        const caps = this.caps.types[type];
        if (caps) caps.includes = new Set(params.keys());
      }
    } catch (error) {
      this.log.warn({ source: this.id, err: (error as Error).message }, 'CapabilityStatement unavailable; assuming standard search parameters');
      this.caps = defaultCapabilities();
    }
  }

  capabilities(): SourceCapabilities {
    return this.caps;
  }

  async getByIds(type: ResourceType, ids: readonly string[], ctx: CallContext): Promise<SourceRecord[]> {
    if (ids.length === 1) return this.read(type, ids[0]!, ctx);
    const wanted = new Set(ids);
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += ID_CHUNK) chunks.push(ids.slice(i, i + ID_CHUNK));
    const pages = await Promise.all(
      chunks.map((chunk) =>
        this.fetchAll(buildSearch(type, [{ param: '_id', ids: chunk }], [['_count', String(chunk.length)]]), chunk.length, ctx),
      ),
    );
    return pages.flatMap((page) => page.resources.filter((r) => r.resourceType === type && r.id !== undefined && wanted.has(r.id))).map((r) => this.toRecord(type, r));
  }

  /** A single record by a plain read (`GET Type/id`): cheaper than a search on most servers. */
  private async read(type: ResourceType, id: string, ctx: CallContext): Promise<SourceRecord[]> {
    if (!/^[A-Za-z0-9\-.]{1,64}$/.test(id)) return [];
    try {
      const resource = (await this.get(`${type}/${id}`, ctx)).body as FhirResource | null;
      return resource?.resourceType === type && resource.id === id ? [this.toRecord(type, resource)] : [];
    } catch (error) {
      if (error instanceof FhirHttpError && (error.status === 404 || error.status === 410)) return [];
      throw error;
    }
  }

  async search(request: SearchRequest, ctx: CallContext): Promise<SearchResult> {
    const { type, limit } = request;
    const byOffset = this.config.paging === 'offset';
    const count = Math.max(1, Math.min(limit, this.config.pageSize));
    const extra: [string, string][] = [['_count', String(count)]];
    if (byOffset && request.offset > 0) extra.push(['_offset', String(request.offset)]);
    const sort = sortParam(type, request.sort);
    if (sort) extra.push(['_sort', sort]);
    if (request.wantTotal) extra.push(['_total', 'accurate']);
    const includes = this.includeParams.get(type);
    for (const element of request.include ?? []) {
      const param = includes?.get(element);
      if (param) extra.push(['_include', `${type}:${param}`]);
    }
    const skip = byOffset ? 0 : request.offset;
    const page = await this.fetchAll(buildSearch(type, request.criteria, extra), skip + limit, ctx);
    const matches = page.resources.filter((r) => r.resourceType === type && r.id !== undefined).slice(skip);
    const included = page.included.flatMap((r) => (isResourceType(r.resourceType) && typeof r.id === 'string' ? [this.toRecord(r.resourceType, r)] : []));
    return {
      records: matches.slice(0, limit).map((r) => this.toRecord(type, r)),
      ...(included.length > 0 ? { included } : {}),
      total: page.total,
      hasMore: matches.length > limit || page.hasNext,
    };
  }

  async status(): Promise<SourceStatus> {
    const now = Date.now();
    if (!this.lastStatus || now - this.lastStatus.at > STATUS_TTL_MS) {
      this.lastStatus = { at: now, status: this.probe() };
    }
    return this.lastStatus.status;
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  private async probe(): Promise<SourceStatus> {
    const started = performance.now();
    const types = Object.keys(this.caps.types) as ResourceType[];
    try {
      await this.transport.getJson('metadata', { requestId: 'health' });
      return { id: this.id, kind: this.kind, state: 'up', latencyMs: Math.round(performance.now() - started), types };
    } catch (error) {
      const message = error instanceof Error && 'code' in error ? error.message : 'unreachable';
      return { id: this.id, kind: this.kind, state: 'down', latencyMs: Math.round(performance.now() - started), message, types };
    }
  }

  /** Search matches from `path`, following `next` links until `want` matches are in hand. */
  private async fetchAll(
    path: string,
    want: number,
    ctx: CallContext,
  ): Promise<{ resources: FhirResource[]; included: FhirResource[]; total?: number; hasNext: boolean }> {
    const resources: FhirResource[] = [];
    const included: FhirResource[] = [];
    let next: string | undefined = path;
    let total: number | undefined;
    let pages = 0;
    while (next !== undefined) {
      const current: string = next;
      const answer = pages === 0 ? await this.get(current, ctx) : { body: await this.transport.getJson(current, ctx), batched: false };
      const bundle = answer.body as BundleLike | null;
      pages++;
      if (pages === 1 && typeof bundle?.total === 'number') total = bundle.total;
      let matches = 0;
      for (const entry of bundle?.entry ?? []) {
        if (!entry.resource || entry.search?.mode === 'outcome') continue;
        if (entry.search?.mode === 'include') {
          included.push(entry.resource);
        } else {
          resources.push(entry.resource);
          matches++;
        }
      }
      next = bundle?.link?.find((l) => l.relation === 'next')?.url;
      // Entries of a batch may carry no links: a full page then means "ask for the next one".
      if (next === undefined && answer.batched && matches > 0 && matches >= (countOf(current) ?? Infinity)) next = nextByOffset(current, matches);
      if (resources.length >= want || pages >= 1000) break;
    }
    return { resources, included, total, hasNext: next !== undefined };
  }

  /** A read or a search's first page: batched with this request's other calls when the server takes batches. */
  private async get(path: string, ctx: CallContext): Promise<BatchedAnswer> {
    if (this.batcher) return this.batcher.get(path, ctx);
    return { body: await this.transport.getJson(path, ctx), batched: false };
  }

  private toRecord(type: ResourceType, resource: FhirResource): SourceRecord {
    return { source: this.id, type, id: resource.id as string, lastUpdated: resource.meta?.lastUpdated, resource };
  }
}
