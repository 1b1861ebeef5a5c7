/**
 * The identity index as the gateway uses it: opened once per process from the `identity` config,
 * shared read-only by requests (person look-ups), and changed only through `observe` (incremental
 * linking of Patient records the gateway meets), `link`/`unlink` (manual decisions) and `build`.
 * Changes are serialized on one queue, so requests never see a half-applied re-clustering.
 */
import { createHash } from 'node:crypto';
import { dirname, isAbsolute, join } from 'node:path';
import type { CallContext, SourceRecord } from '../../connectors/types';
import type { SourceRegistry } from '../data/registry';
import type { IdentityConfig } from './config';
import {
  MemoryLinkStore,
  PatientIndex,
  SqliteLinkStore,
  type BuildProgress,
  type BuildReport,
  type Candidate,
  type LinkedRecord,
  type LinkStore,
  type PersonId,
} from './index';
import type { RecordKey } from './types';

/** The link store file: configured, else next to the config file, else none (in memory). */
export function linkStoreLocation(config: IdentityConfig, configPath: string | undefined): string | undefined {
  if (config.store.kind === 'memory') return undefined;
  const file = config.store.file ?? 'healthgraph-links.sqlite';
  if (isAbsolute(file)) return file;
  return configPath ? join(dirname(configPath), file) : undefined;
}

export interface BuildFromSourcesProgress {
  phase: 'read' | BuildProgress['phase'];
  source?: string;
  done: number;
  total: number;
}

export class IdentityService {
  private queue: Promise<unknown> = Promise.resolve();
  /** The content version last linked per record, so a record met again unchanged costs nothing. */
  private readonly seen = new Map<string, string>();
  private readonly rank: Map<string, number>;

  private constructor(
    readonly index: PatientIndex,
    private readonly store: LinkStore,
    readonly config: IdentityConfig,
    sourceOrder: readonly string[],
  ) {
    const order = [...(config.precedence ?? []), ...sourceOrder.filter((s) => !(config.precedence ?? []).includes(s))];
    this.rank = new Map(order.map((s, i) => [s, i]));
  }

  static async open(config: IdentityConfig, options: { configPath?: string; sourceOrder: readonly string[] }): Promise<IdentityService> {
    const file = linkStoreLocation(config, options.configPath);
    const store: LinkStore = file ? new SqliteLinkStore(file) : new MemoryLinkStore();
    const index = await PatientIndex.open(store, {
      weights: config.weights,
      match: { thresholds: config.thresholds },
    });
    return new IdentityService(index, store, config, options.sourceOrder);
  }

  /** Where a source comes in the demographics precedence (lower wins). */
  precedenceOf(source: string): number {
    return this.rank.get(source) ?? Number.MAX_SAFE_INTEGER;
  }

  personOf(source: string, recordId: string): PersonId | undefined {
    return this.index.personOf(source, recordId);
  }

  /** The person's records, each with its link grade; empty for an unknown person. */
  recordsOf(personId: PersonId): LinkedRecord[] {
    return this.index.recordsOf(personId);
  }

  /** FHIR `$match`-style candidates for a Patient resource, best first. */
  match(patient: Record<string, unknown>, options: { limit?: number; onlyCertainMatches?: boolean } = {}): Candidate[] {
    return this.index.match(patient, options);
  }

  /** Every record of the person a record belongs to (itself included; itself alone when unlinked or unknown). */
  membersOf(source: string, recordId: string): RecordKey[] {
    const person = this.index.personOf(source, recordId);
    const members = person ? this.index.recordsOf(person).map((r) => ({ source: r.source, recordId: r.recordId })) : [];
    return members.some((m) => m.source === source && m.recordId === recordId) ? members : [{ source, recordId }, ...members];
  }

  /** Links Patient records the gateway met that are new or changed since they were last linked. */
  observe(records: readonly SourceRecord[]): Promise<void> {
    const fresh = records.filter((r) => r.type === 'Patient' && this.seen.get(`${r.source}\u0000${r.id}`) !== versionOf(r));
    if (fresh.length === 0) return this.queue.then(() => undefined);
    return this.enqueue(async () => {
      for (const record of fresh) {
        const version = versionOf(record);
        const key = `${record.source}\u0000${record.id}`;
        if (this.seen.get(key) === version) continue;
        await this.index.linkRecord({ source: record.source, id: record.id, resource: record.resource });
        this.seen.set(key, version);
      }
    });
  }

  link(a: RecordKey, b: RecordKey, by: string, reason: string): Promise<void> {
    return this.enqueue(() => this.index.link(a, b, by, reason));
  }

  unlink(a: RecordKey, b: RecordKey, by: string, reason: string): Promise<void> {
    return this.enqueue(() => this.index.unlink(a, b, by, reason));
  }

  /** Reads every Patient record of every source (paging), then links everything and persists. */
  build(registry: SourceRegistry, call: CallContext, onProgress: (p: BuildFromSourcesProgress) => void = () => {}): Promise<BuildReport> {
    return this.enqueue(async () => {
      const pageSize = this.config.buildPageSize;
      for (const connector of registry.servingType('Patient')) {
        let offset = 0;
        let total: number | undefined;
        for (;;) {
          const page = await connector.search(
            { type: 'Patient', criteria: [], sort: [], limit: pageSize, offset, wantTotal: offset === 0 },
            call,
          );
          total ??= page.total;
          this.index.addRecords(page.records.map((r) => ({ source: r.source, id: r.id, resource: r.resource })));
          for (const r of page.records) this.seen.set(`${r.source}\u0000${r.id}`, versionOf(r));
          offset += page.records.length;
          onProgress({ phase: 'read', source: connector.id, done: offset, total: total ?? offset });
          if (!page.hasMore || page.records.length === 0) break;
        }
      }
      return this.index.build((p) => onProgress(p));
    });
  }

  /** Whether the store holds no linked record yet (a first start). */
  get empty(): boolean {
    return this.index.persons().length === 0;
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.store.close();
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const next = this.queue.then(task, task);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

function versionOf(record: SourceRecord): string {
  const stamp = record.lastUpdated ?? record.resource.meta?.lastUpdated;
  const version = record.resource.meta?.versionId;
  if (typeof stamp === 'string' || typeof version === 'string') return `${String(stamp)}/${String(version)}`;
  return createHash('sha1').update(JSON.stringify(record.resource)).digest('base64url');
}
