/**
 * One upstream request per source per level: the reads and searches a request sends to one FHIR
 * server in the same turn of the event loop travel together as one FHIR `batch` Bundle
 * (`POST [base]` with a GET entry each), and each caller gets its own entry back. Queues are per
 * request (keyed by its CallContext), so nothing is ever shared between requests.
 */
import type { CallContext } from '../types';
import { FhirHttpError } from './http';

export interface BatchTransport {
  getJson(pathOrUrl: string, ctx: CallContext): Promise<unknown>;
  postJson(path: string, body: unknown, ctx: CallContext): Promise<unknown>;
}

/** What a caller gets: the entry's body, and whether it came inside a batch (batch entries may lack `next` links). */
export interface BatchedAnswer {
  body: unknown;
  batched: boolean;
}

interface Pending {
  path: string;
  resolve: (answer: BatchedAnswer) => void;
  reject: (error: unknown) => void;
}

interface BatchResponse {
  entry?: { resource?: unknown; response?: { status?: string } }[];
}

/** Most entries in one batch Bundle; more are sent as several batches. */
const MAX_ENTRIES = 50;

export class RequestBatcher {
  private readonly queues = new WeakMap<CallContext, Pending[]>();

  constructor(
    private readonly sourceId: string,
    private readonly transport: BatchTransport,
  ) {}

  get(path: string, ctx: CallContext): Promise<BatchedAnswer> {
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(ctx);
      if (!queue) {
        queue = [];
        this.queues.set(ctx, queue);
        setImmediate(() => this.flush(ctx));
      }
      queue.push({ path, resolve, reject });
    });
  }

  private flush(ctx: CallContext): void {
    const queue = this.queues.get(ctx) ?? [];
    this.queues.delete(ctx);
    for (let i = 0; i < queue.length; i += MAX_ENTRIES) void this.send(queue.slice(i, i + MAX_ENTRIES), ctx);
  }

  private async send(items: Pending[], ctx: CallContext): Promise<void> {
    if (items.length === 1) {
      const only = items[0]!;
      this.transport.getJson(only.path, ctx).then((body) => only.resolve({ body, batched: false }), only.reject);
      return;
    }
    const bundle = { resourceType: 'Bundle', type: 'batch', entry: items.map((i) => ({ request: { method: 'GET', url: i.path } })) };
    let response: BatchResponse | null;
    try {
      response = (await this.transport.postJson('', bundle, ctx)) as BatchResponse | null;
    } catch (error) {
      for (const item of items) item.reject(error);
      return;
    }
    items.forEach((item, index) => {
      const entry = response?.entry?.[index];
      const status = Number.parseInt(entry?.response?.status ?? '', 10);
      if (status >= 200 && status < 300) item.resolve({ body: entry?.resource ?? null, batched: true });
      else item.reject(new FhirHttpError(this.sourceId, Number.isFinite(status) ? status : 502));
    });
  }
}

/** A batch-capable server says so in its CapabilityStatement (`rest.interaction` `batch`). */
export function advertisesBatch(statement: unknown): boolean {
  const rest = (statement as { rest?: { interaction?: { code?: unknown }[] }[] } | null)?.rest;
  return Array.isArray(rest) && rest.some((mode) => Array.isArray(mode.interaction) && mode.interaction.some((i) => i.code === 'batch'));
}

/** The same search one page further on, by `_offset` (for batch entries that carry no `next` link). */
export function nextByOffset(path: string, matchesSoFar: number): string {
  const url = new URL(path, 'http://base/');
  url.searchParams.set('_offset', String(Number(url.searchParams.get('_offset') ?? 0) + matchesSoFar));
  return `${url.pathname.slice(1)}${url.search}`;
}

/** The `_count` a search path asks for, if any. */
export function countOf(path: string): number | undefined {
  const value = new URL(path, 'http://base/').searchParams.get('_count');
  return value === null ? undefined : Number(value);
}
