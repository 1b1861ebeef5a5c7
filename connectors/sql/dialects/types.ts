/**
 * What differs between database engines, in one place: SQL spelling (placeholders, quoting, lists,
 * paging, prefix matching) and the driver (pool, read-only session, statement timeout, errors).
 */

export type DialectName = 'postgres' | 'mysql' | 'sqlite' | 'mssql';

export type Row = Record<string, unknown>;

/** SQL spelling for one engine. Every method returns SQL text built only from its arguments' placeholders and validated identifiers. */
export interface Dialect {
  readonly name: DialectName;
  /** The placeholder for the n-th parameter (1-based). */
  placeholder(n: number): string;
  /** A quoted identifier; callers pass only identifiers validated by the mapping schema. */
  quote(identifier: string): string;
  /** `expr IN (…)` over a list of values, as the engine prefers; `add` registers one parameter and returns its placeholder. */
  inList(expr: string, values: readonly unknown[], add: (value: unknown) => string): string;
  /** The paging clause after ORDER BY. `limit` and `offset` are checked integers. */
  page(limit: number, offset: number): string;
  /** `expr` starts with the pattern parameter, case-insensitively; the pattern is already lower-cased and LIKE-escaped with `!`. */
  startsWith(expr: string, patternPlaceholder: string): string;
  /** A boolean expression as a sortable 0/1 value. */
  isNullFlag(expr: string): string;
  /** Prefix that asks for a statement's plan. */
  explain(sql: string): string;
}

/**
 * Why a statement failed, as far as a client may know. `value`: the database refused a parameter
 * for the column it was compared with (text where a date is stored); the connector decides whose
 * mistake that was (a cursor's position is the client's).
 */
export type SqlFailure = 'timeout' | 'unavailable' | 'denied' | 'invalid' | 'value';

export class SqlDriverError extends Error {
  constructor(
    readonly failure: SqlFailure,
    /** Short, client-safe reason (never SQL text or database messages). */
    readonly reason: string,
    cause?: unknown,
  ) {
    super(reason, { cause });
    this.name = 'SqlDriverError';
  }
}

/** A connection pool (or handle) to one database, opened read-only. */
export interface SqlDriver {
  readonly dialect: Dialect;
  /** Runs one read-only statement with its parameters. Throws SqlDriverError. */
  query(sql: string, params: readonly unknown[]): Promise<Row[]>;
  /** Tables, columns, keys, for `healthgraph sql introspect`. */
  close(): Promise<void>;
}

export interface DriverOptions {
  url: string;
  schema?: string;
  poolSize: number;
  statementTimeoutMs: number;
  /** PostgreSQL: run statements seen again as named prepared statements (default true); see createPostgresDriver. */
  preparedStatements?: boolean;
}

/** LIKE-escapes text with `!` as the escape character and lower-cases it, then appends `%`. */
export function prefixPattern(text: string): string {
  return `${text.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

export function checkedInt(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${what} must be a non-negative integer`);
  return n;
}

/** `IN (p1, p2, …)`, or a false condition for an empty list. */
export function plainInList(expr: string, values: readonly unknown[], add: (value: unknown) => string): string {
  if (values.length === 0) return '1 = 0';
  if (values.length === 1) return `${expr} = ${add(values[0])}`;
  return `${expr} IN (${values.map((v) => add(v)).join(', ')})`;
}
