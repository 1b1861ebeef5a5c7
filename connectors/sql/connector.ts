/**
 * The SQL connector: PostgreSQL, MySQL/MariaDB, SQLite (and SQL Server, untested) through a
 * declarative mapping (docs/sources/sql.md). Every criterion, sort and page the mapping can express
 * becomes SQL; look-ups by many ids are one `IN (…)` / `= ANY(…)` statement per type; child rows of
 * a page are one more statement per child table; sessions are read-only with a statement timeout.
 */
import { badInput, SourceTimeoutError, SourceUnavailableError } from '../../src/errors';
import type { Logger } from '../../src/logger';
import type {
  CallContext,
  Connector,
  Criterion,
  FhirResource,
  Position,
  ResourceType,
  SearchRequest,
  SearchResult,
  SourceCapabilities,
  SourceRecord,
  SourceStatus,
} from '../types';
import type { SqlSourceConfig } from './config';
import { createDriver } from './dialects';
import { SqlDriverError, type Row, type SqlDriver } from './dialects/types';
import type { ChildRows } from './mapping/build';
import { compileMapping, projectType, type CompiledMapping, type CompiledPart, type CompiledType } from './mapping/compile';
import { loadMapping } from './mapping/load';
import type { MappingSpec } from './mapping/schema';
import { asText, fhirDate } from './mapping/values';
import { checkPosition, childStatement, countStatement, pageStatement, positionLength, positionOf, sortWidth, type Statement } from './query';

/** One executed statement, for tests, benchmarks and debugging. */
export interface StatementEvent {
  operation: string;
  sql: string;
  params: readonly unknown[];
  rows: number;
  durationMs: number;
  outcome: 'ok' | 'error';
}

export interface SqlConnectorOptions {
  /** Use this mapping instead of loading `config.mapping` (tests). */
  mapping?: MappingSpec;
  /** Called after every statement. */
  onStatement?: (event: StatementEvent) => void;
}

const STATUS_TTL_MS = 2000;
/** Distinct projections compiled per connector before new ones are compiled per call (never in practice: queries repeat). */
const MAX_PROJECTIONS = 500;

function describeCriteria(criteria: readonly Criterion[]): string {
  const names = [...new Set(criteria.map((c) => (c.param === '_id' ? 'id' : c.param)))];
  return names.length === 0 ? '' : ` by ${names.join(', ')}`;
}

export class SqlConnector implements Connector {
  readonly kind = 'sql';
  readonly id: string;
  private readonly driver: SqlDriver;
  private readonly mapping: CompiledMapping;
  private readonly caps: SourceCapabilities;
  private lastStatus?: { at: number; status: Promise<SourceStatus> };
  private readonly projections = new Map<string, CompiledType>();
  onStatement?: (event: StatementEvent) => void;

  constructor(
    private readonly config: SqlSourceConfig,
    private readonly log: Logger,
    options: SqlConnectorOptions = {},
  ) {
    this.id = config.id;
    const spec = options.mapping ?? loadMapping(config.mapping);
    this.driver = createDriver({
      url: config.url,
      schema: config.schema,
      poolSize: config.poolSize,
      statementTimeoutMs: config.statementTimeoutMs,
      preparedStatements: config.preparedStatements,
    });
    this.mapping = compileMapping(spec, this.driver.dialect, config.schema);
    this.caps = { types: Object.fromEntries([...this.mapping.types].map(([type, compiled]) => [type, compiled.caps])) };
    this.onStatement = options.onStatement;
  }

  async start(): Promise<void> {
    const status = await this.status();
    if (status.state !== 'up') this.log.warn({ source: this.id, reason: status.message }, 'SQL source unavailable at start-up');
  }

  capabilities(): SourceCapabilities {
    return this.caps;
  }

  async getByIds(type: ResourceType, ids: readonly string[], ctx: CallContext): Promise<SourceRecord[]> {
    const compiled = this.mapping.types.get(type);
    if (!compiled || ids.length === 0) return [];
    const unique = [...new Set(ids)];
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += this.config.maxIdsPerStatement) chunks.push(unique.slice(i, i + this.config.maxIdsPerStatement));
    const pages = await Promise.all(
      chunks.map((chunk) => this.page(compiled, [{ param: '_id', ids: chunk }], [], chunk.length, 0, `SELECT ${type} by id`, ctx)),
    );
    return pages.flatMap((p) => p.records);
  }

  async search(request: SearchRequest, ctx: CallContext): Promise<SearchResult> {
    const full = this.mapping.types.get(request.type);
    if (!full) return { records: [], hasMore: false, total: request.wantTotal ? 0 : undefined };
    const compiled = request.elements ? this.projected(full, request.elements, request.textless ?? []) : full;
    if (request.after) checkPosition(request.after, positionLength(full, request.sort), full);
    const operation = `SELECT ${request.type}${describeCriteria(request.criteria)}${request.perRef ? `, first ${request.perRef.limit} per ${request.perRef.param}` : ''}${request.after ? ', after a position' : ''}`;
    const [page, total] = await Promise.all([
      this.page(compiled, request.criteria, request.sort, request.limit + 1, request.offset, operation, ctx, request.perRef, { positions: request.positions, after: request.after }),
      request.wantTotal ? this.count(compiled, request.criteria, ctx) : Promise.resolve(undefined),
    ]);
    return { records: page.records.slice(0, request.limit), hasMore: page.records.length > request.limit, total };
  }

  /** The type compiled for selecting only `elements`, without the texts of `textless` ones (cached per element set). */
  private projected(compiled: CompiledType, elements: readonly string[], textless: readonly string[]): CompiledType {
    const key = `${compiled.type}\u0000${[...elements].sort().join(',')}\u0000${[...textless].sort().join(',')}`;
    let found = this.projections.get(key);
    if (!found) {
      found = projectType(this.mapping, compiled, elements, textless);
      if (this.projections.size < MAX_PROJECTIONS) this.projections.set(key, found);
    }
    return found;
  }

  async status(): Promise<SourceStatus> {
    const now = Date.now();
    if (!this.lastStatus || now - this.lastStatus.at > STATUS_TTL_MS) this.lastStatus = { at: now, status: this.probe() };
    return this.lastStatus.status;
  }

  async close(): Promise<void> {
    await this.driver.close();
  }

  private async probe(): Promise<SourceStatus> {
    const started = performance.now();
    const types = [...this.mapping.types.keys()];
    try {
      await this.driver.query('SELECT 1 AS ok', []);
      return { id: this.id, kind: this.kind, state: 'up', latencyMs: Math.round(performance.now() - started), types };
    } catch (error) {
      const message = error instanceof SqlDriverError ? error.reason : 'unreachable';
      return { id: this.id, kind: this.kind, state: 'down', latencyMs: Math.round(performance.now() - started), message, types };
    }
  }

  private async count(compiled: CompiledType, criteria: readonly Criterion[], ctx: CallContext): Promise<number> {
    const statement = countStatement(this.mapping, compiled, criteria);
    if (!statement) return 0;
    const rows = await this.run(`COUNT ${compiled.type}${describeCriteria(criteria)}`, statement, ctx);
    return Number(rows[0]?.n ?? 0);
  }

  private async page(
    compiled: CompiledType,
    criteria: readonly Criterion[],
    sort: SearchRequest['sort'],
    limit: number,
    offset: number,
    operation: string,
    ctx: CallContext,
    perRef?: SearchRequest['perRef'],
    keyset: { positions?: boolean; after?: Position } = {},
  ): Promise<{ records: SourceRecord[] }> {
    const built = pageStatement(this.mapping, { type: compiled, criteria, sort, limit, offset, perRef, ...keyset });
    if (!built) return { records: [] };
    const rows = await this.run(operation, built.statement, ctx, keyset.after !== undefined);
    const children = await this.children(compiled, rows, ctx);
    const only = compiled.parts.length === 1 ? compiled.parts[0]! : undefined;
    const byIndex = new Map(compiled.parts.map((p) => [p.index, p]));
    const width = keyset.positions ? sortWidth(compiled, sort) : 0;
    const records = new Array<SourceRecord>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const record = this.toRecord(compiled.type, only ?? byIndex.get(Number(row._part)) ?? compiled.parts[0]!, row, children);
      if (keyset.positions) record.position = positionOf(row, width, !only);
      records[i] = record;
    }
    return { records };
  }

  /** Child rows for every `rows:` element of the page's parts: one statement per child table. */
  private async children(compiled: CompiledType, rows: Row[], ctx: CallContext): Promise<ChildRows> {
    const out: ChildRows = new Map();
    const tasks: Promise<void>[] = [];
    for (const part of compiled.parts) {
      const mine = compiled.parts.length === 1 ? rows : rows.filter((r) => Number(r._part) === part.index);
      if (mine.length === 0) continue;
      for (const child of part.elements.children) {
        const parentIds = [...new Set(mine.map((r) => r[child.parentKey]).filter((v) => v !== null && v !== undefined))];
        if (parentIds.length === 0) continue;
        tasks.push(
          this.run(`SELECT ${compiled.type} ${child.spec.table} rows`, childStatement(this.mapping, child, parentIds), ctx).then((childRows) => {
            const byParent = new Map<string, Row[]>();
            for (const row of childRows) {
              const key = asText(row[child.keyColumn]) ?? '';
              const list = byParent.get(key);
              if (list) list.push(row);
              else byParent.set(key, [row]);
            }
            out.set(child.spec, byParent);
          }),
        );
      }
    }
    await Promise.all(tasks);
    return out;
  }

  private toRecord(type: ResourceType, part: CompiledPart, row: Row, children: ChildRows): SourceRecord {
    const id = `${part.spec.idPrefix}${asText(row._id) ?? ''}`;
    const lastUpdated = part.lastUpdatedKey ? fhirDate(row[part.lastUpdatedKey], 'dateTime') : undefined;
    const resource = part.elements.build(row, children, { resourceType: type, id }) as FhirResource;
    if (lastUpdated) resource.meta = { lastUpdated };
    return { source: this.id, type, id, lastUpdated, resource };
  }

  /**
   * Runs one statement: logs it (and its plan with `explain`), reports it, maps failures to the error
   * model. `fromCursor`: the statement carries a position the client sent back in a cursor.
   */
  private async run(operation: string, statement: Statement, ctx: CallContext, fromCursor = false): Promise<Row[]> {
    const started = performance.now();
    let rows: Row[] = [];
    let outcome: 'ok' | 'error' = 'ok';
    try {
      rows = await this.driver.query(statement.text, statement.values);
      return rows;
    } catch (error) {
      outcome = 'error';
      throw this.failure(error, operation, fromCursor);
    } finally {
      const durationMs = performance.now() - started;
      this.log.debug({ source: this.id, requestId: ctx.requestId, operation, sql: statement.text, params: statement.values.length, rows: rows.length, durationMs: Math.round(durationMs * 10) / 10, outcome }, 'sql statement');
      ctx.onUpstreamRequest?.({ source: this.id, operation, durationMs, outcome });
      this.onStatement?.({ operation, sql: statement.text, params: statement.values, rows: rows.length, durationMs, outcome });
      if (this.config.explain && outcome === 'ok' && this.log.isLevelEnabled('debug')) await this.explain(operation, statement);
    }
  }

  private async explain(operation: string, statement: Statement): Promise<void> {
    try {
      const plan = await this.driver.query(this.driver.dialect.explain(statement.text), statement.values);
      this.log.debug({ source: this.id, operation, plan }, 'sql plan');
    } catch (error) {
      this.log.debug({ source: this.id, operation, err: (error as Error).message }, 'sql plan unavailable');
    }
  }

  private failure(error: unknown, operation: string, fromCursor: boolean): Error {
    const e = error instanceof SqlDriverError ? error : new SqlDriverError('invalid', 'query failed', error);
    const cause = e.cause as { message?: string; code?: string } | undefined;
    // A statement resuming from a cursor: a value the database refuses is taken as the position's (its sort
    // values can only be checked by the database; the other parameters come from the gateway or were checked).
    if (e.failure === 'value' && fromCursor) return badInput('"after" is not a valid cursor', { argument: 'after' });
    this.log.warn({ source: this.id, operation, failure: e.failure, code: cause?.code, err: cause?.message }, 'sql statement failed');
    if (e.failure === 'timeout') return new SourceTimeoutError(this.id, this.config.statementTimeoutMs);
    return new SourceUnavailableError(this.id, e.reason);
  }
}
