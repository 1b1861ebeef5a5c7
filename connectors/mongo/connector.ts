/**
 * The MongoDB connector over the lake layout (`mapping: fhir`). Every gateway criterion and sort
 * has a normalized field in `_hg`, so everything is pushed down: filters and sorts become one
 * `find` with skip/limit, totals one `countDocuments`, batched look-ups one `$in` per collection.
 * Driver and server errors stay inside the source: callers see SourceUnavailableError or
 * SourceTimeoutError with a short message; the raw error goes to the log.
 */
import { MongoClient, MongoServerError, type CommandStartedEvent, type Db, type Document } from 'mongodb';
import type { Logger } from '../../src/logger';
import { HealthgraphError, SourceTimeoutError, SourceUnavailableError } from '../../src/errors';
import {
  RESOURCE_TYPES,
  SEARCH_PARAMS,
  type CallContext,
  type Connector,
  type ResourceType,
  type SearchRequest,
  type SearchResult,
  type SortField,
  type SourceCapabilities,
  type SourceRecord,
  type SourceStatus,
  type TypeCapabilities,
} from '../types';
import type { MongoSourceConfig } from './config';
import { collectionOf, fromLakeDocument } from './layout';
import { buildFilter, buildSort, type MongoFilter } from './query';

export interface MongoConnectorOptions {
  /** Called for every command the driver sends (tests assert on pushdown with it). */
  onCommand?: (event: CommandStartedEvent) => void;
}

const SORTS: readonly SortField[] = ['date', 'name', 'birthdate', 'lastUpdated', 'id'];
const ID_CHUNK = 1000;
const STATUS_TTL_MS = 2000;
/** Largest reply batch asked for: keeps a batched look-up to one round trip in the usual case. */
const MAX_BATCH = 10_000;

/** The database a connection string names, or `lake`. */
export function databaseOf(url: string, override?: string): string {
  if (override) return override;
  const match = /^mongodb(?:\+srv)?:\/\/[^/]+\/([^?]+)/.exec(url);
  return match?.[1] ? decodeURIComponent(match[1]) : 'lake';
}

/** A short description of a filter for logs and upstream-request events: its field names. */
function describe(filter: MongoFilter): string {
  const fields = (f: MongoFilter): string[] =>
    Object.entries(f).flatMap(([k, v]) => (k === '$and' && Array.isArray(v) ? v.flatMap((x: MongoFilter) => fields(x)) : [k]));
  return fields(filter).join(',');
}

export class MongoConnector implements Connector {
  readonly kind = 'mongo';
  readonly id: string;
  private readonly client: MongoClient;
  private readonly db: Db;
  private readonly caps: SourceCapabilities;
  private lastStatus?: { at: number; status: Promise<SourceStatus> };

  constructor(
    private readonly config: MongoSourceConfig,
    private readonly log: Logger,
    options: MongoConnectorOptions = {},
  ) {
    this.id = config.id;
    this.client = new MongoClient(config.url, {
      appName: `healthgraph:${config.id}`,
      readPreference: config.readPreference,
      maxPoolSize: config.maxPoolSize,
      serverSelectionTimeoutMS: config.connectTimeoutMs,
      connectTimeoutMS: config.connectTimeoutMs,
      monitorCommands: options.onCommand !== undefined,
    });
    if (options.onCommand) this.client.on('commandStarted', options.onCommand);
    this.client.on('error', () => undefined);
    this.db = this.client.db(databaseOf(config.url, config.database));
    const typeCaps: TypeCapabilities = { params: new Set(SEARCH_PARAMS.filter((p) => p !== 'hasCondition')), sorts: new Set(SORTS), multiValueRefs: true };
    this.caps = { types: Object.fromEntries(RESOURCE_TYPES.map((t) => [t, typeCaps])) };
  }

  async start(): Promise<void> {
    try {
      await this.client.connect();
    } catch (error) {
      this.log.warn({ source: this.id, err: (error as Error).message }, 'MongoDB unreachable at start-up; will retry on each request');
    }
  }

  capabilities(): SourceCapabilities {
    return this.caps;
  }

  async getByIds(type: ResourceType, ids: readonly string[], ctx: CallContext): Promise<SourceRecord[]> {
    const unique = [...new Set(ids)];
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += ID_CHUNK) chunks.push(unique.slice(i, i + ID_CHUNK));
    const pages = await Promise.all(
      chunks.map((chunk) => {
        const filter: MongoFilter = chunk.length === 1 ? { _id: chunk[0] } : { _id: { $in: chunk } };
        return this.find(type, filter, [['_id', 1]], 0, chunk.length, ctx);
      }),
    );
    return pages.flat().map((doc) => this.toRecord(type, doc));
  }

  async search(request: SearchRequest, ctx: CallContext): Promise<SearchResult> {
    const filter = buildFilter(request.criteria);
    const sort = buildSort(request.sort);
    const [docs, total] = await Promise.all([
      request.limit > 0 ? this.find(request.type, filter, sort, request.offset, request.limit + 1, ctx) : Promise.resolve([]),
      request.wantTotal ? this.count(request.type, filter, ctx) : Promise.resolve(undefined),
    ]);
    return {
      records: docs.slice(0, request.limit).map((doc) => this.toRecord(request.type, doc)),
      total,
      hasMore: request.limit > 0 ? docs.length > request.limit : total !== undefined && total > request.offset,
    };
  }

  async status(): Promise<SourceStatus> {
    const now = Date.now();
    if (!this.lastStatus || now - this.lastStatus.at > STATUS_TTL_MS) this.lastStatus = { at: now, status: this.probe() };
    return this.lastStatus.status;
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private async probe(): Promise<SourceStatus> {
    const started = performance.now();
    const base = { id: this.id, kind: this.kind, types: [...RESOURCE_TYPES] };
    try {
      await this.withLimit(this.db.command({ ping: 1 }, { timeoutMS: this.config.maxTimeMs }));
      return { ...base, state: 'up', latencyMs: Math.round(performance.now() - started) };
    } catch {
      return { ...base, state: 'down', latencyMs: Math.round(performance.now() - started), message: 'unreachable' };
    }
  }

  private find(type: ResourceType, filter: MongoFilter, sort: [string, 1 | -1][], skip: number, limit: number, ctx: CallContext): Promise<Document[]> {
    const collection = this.db.collection(collectionOf(type));
    const batchSize = Math.min(limit, MAX_BATCH);
    return this.run(`find ${type} {${describe(filter)}}`, ctx, () =>
      collection.find(filter, { sort, skip, limit, batchSize, projection: { _hg: 0 }, maxTimeMS: this.config.maxTimeMs }).toArray(),
    );
  }

  private count(type: ResourceType, filter: MongoFilter, ctx: CallContext): Promise<number> {
    const collection = this.db.collection(collectionOf(type));
    return this.run(`count ${type} {${describe(filter)}}`, ctx, () => collection.countDocuments(filter, { maxTimeMS: this.config.maxTimeMs }));
  }

  /** Runs one upstream operation: client-side time limit, error isolation, accounting. */
  private async run<T>(operation: string, ctx: CallContext, op: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let outcome: 'ok' | 'error' = 'ok';
    try {
      return await this.withLimit(op());
    } catch (error) {
      outcome = 'error';
      throw this.translate(error, operation, ctx);
    } finally {
      ctx.onUpstreamRequest?.({ source: this.id, operation, durationMs: performance.now() - started, outcome });
    }
  }

  /** The server stops a query at maxTimeMS; this bounds the wait when the server does not answer at all. */
  private withLimit<T>(promise: Promise<T>): Promise<T> {
    const limit = this.config.maxTimeMs + 1000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SourceTimeoutError(this.id, this.config.maxTimeMs)), limit);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  private translate(error: unknown, operation: string, ctx: CallContext): HealthgraphError {
    if (error instanceof HealthgraphError) return error;
    const err = error as Error & { code?: unknown; codeName?: string };
    this.log.warn({ source: this.id, requestId: ctx.requestId, operation, err: err.message, code: err.code }, 'MongoDB operation failed');
    if (error instanceof MongoServerError && (err.code === 50 || err.codeName === 'MaxTimeMSExpired')) return new SourceTimeoutError(this.id, this.config.maxTimeMs);
    const name = err.name ?? '';
    if (/ServerSelection|Network|Topology/.test(name)) return new SourceUnavailableError(this.id, 'unreachable');
    return new SourceUnavailableError(this.id, 'query failed');
  }

  private toRecord(type: ResourceType, doc: Document): SourceRecord {
    const resource = fromLakeDocument(doc);
    const lastUpdated = resource.meta?.lastUpdated;
    return { source: this.id, type, id: String(doc._id), lastUpdated: typeof lastUpdated === 'string' ? lastUpdated : undefined, resource };
  }
}
