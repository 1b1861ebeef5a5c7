/** PostgreSQL through `pg`: a Pool whose sessions are read-only with a statement timeout; repeated statements are prepared. */
import { createHash } from 'node:crypto';
import { Pool, types, type PoolConfig } from 'pg';
import { checkedInt, SqlDriverError, type Dialect, type DriverOptions, type Row, type SqlDriver } from './types';

export const postgresDialect: Dialect = {
  name: 'postgres',
  placeholder: (n) => `$${n}`,
  quote: (id) => `"${id.replace(/"/g, '""')}"`,
  inList: (expr, values, add) => (values.length === 0 ? '1 = 0' : values.length === 1 ? `${expr} = ${add(values[0])}` : `${expr} = ANY(${add([...values])})`),
  page: (limit, offset) => `LIMIT ${checkedInt(limit, 'limit')}${offset > 0 ? ` OFFSET ${checkedInt(offset, 'offset')}` : ''}`,
  startsWith: (expr, p) => `LOWER(${expr}) LIKE ${p} ESCAPE '!'`,
  isNullFlag: (expr) => `(CASE WHEN ${expr} IS NULL THEN 1 ELSE 0 END)`,
  explain: (sql) => `EXPLAIN ${sql}`,
};

/** Dates and timestamps stay the strings PostgreSQL sends (no local-time Date objects). */
const RAW_TEXT_TYPES = new Set([1082, 1114, 1184]);
const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    RAW_TEXT_TYPES.has(oid) ? (value: string) => value : types.getTypeParser(oid, format as 'text')) as typeof types.getTypeParser,
};

function failureOf(error: unknown): SqlDriverError {
  const e = error as { code?: string; message?: string };
  const code = e.code ?? '';
  if (code === '57014') return new SqlDriverError('timeout', 'statement timed out', error);
  if (code === '42501' || code === '28000' || code === '28P01') return new SqlDriverError('denied', 'permission denied', error);
  if (/^(ECONN|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH)/.test(code) || code.startsWith('08') || code.startsWith('57P') || code === '3D000') {
    return new SqlDriverError('unavailable', 'database unreachable', error);
  }
  if (/timeout exceeded when trying to connect|Connection terminated/i.test(e.message ?? '')) return new SqlDriverError('unavailable', 'database unreachable', error);
  if (code === '42P01' || code === '42703' || code === '3F000') return new SqlDriverError('invalid', 'the mapping names a table or column the database does not have', error);
  // Class 22, data exception: e.g. invalid input syntax for type date.
  if (code.startsWith('22')) return new SqlDriverError('value', 'a value does not fit its column', error);
  return new SqlDriverError('invalid', 'query failed', error);
}

/** Distinct statement texts a driver prepares; texts beyond these run unnamed (planned every time). */
const MAX_PREPARED = 256;
/** Statement texts remembered as seen once (the memory starts over when it is full). */
const MAX_SEEN = 2000;

/**
 * Which statements run as named prepared statements: a text seen a second time gets a name (its
 * hash), so each connection parses and plans it once and PostgreSQL may reuse a generic plan; the
 * gateway's statements repeat, their values are parameters. Bounded: at most MAX_PREPARED names.
 * A text whose prepared form the server refuses (its tables changed under it) runs unnamed from then on.
 */
class PreparedNames {
  private readonly seen = new Set<string>();
  private readonly names = new Map<string, string>();
  private readonly refused = new Set<string>();

  nameOf(sql: string): string | undefined {
    const known = this.names.get(sql);
    if (known !== undefined || this.refused.has(sql)) return known;
    if (!this.seen.has(sql)) {
      if (this.seen.size >= MAX_SEEN) this.seen.clear();
      this.seen.add(sql);
      return undefined;
    }
    if (this.names.size >= MAX_PREPARED) return undefined;
    const name = `hg_${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`;
    this.names.set(sql, name);
    return name;
  }

  refuse(sql: string): void {
    this.names.delete(sql);
    if (this.refused.size >= MAX_SEEN) this.refused.clear();
    this.refused.add(sql);
  }
}

/** The server refused a prepared statement it holds: its plan no longer fits the tables (0A000), or it is gone (26000). */
const staleStatement = (error: unknown): boolean => {
  const code = (error as { code?: string }).code;
  return code === '0A000' || code === '26000';
};

export function createPostgresDriver(options: DriverOptions): SqlDriver {
  const config: PoolConfig = {
    connectionString: options.url.replace(/^postgresql:/, 'postgres:'),
    max: options.poolSize,
    connectionTimeoutMillis: Math.min(options.statementTimeoutMs, 10_000),
    idleTimeoutMillis: 30_000,
    statement_timeout: options.statementTimeoutMs,
    options: '-c default_transaction_read_only=on',
    application_name: 'healthgraph',
    types: typeParsers,
  };
  const pool = new Pool(config);
  pool.on('error', () => undefined); // idle client errors surface on the next query
  const prepared = options.preparedStatements === false ? undefined : new PreparedNames();
  return {
    dialect: postgresDialect,
    async query(sql, params) {
      const values = params as unknown[];
      const name = prepared?.nameOf(sql);
      try {
        const result = await pool.query(name ? { name, text: sql, values } : { text: sql, values });
        return result.rows as Row[];
      } catch (error) {
        if (name && staleStatement(error)) {
          prepared!.refuse(sql);
          try {
            return (await pool.query({ text: sql, values })).rows as Row[];
          } catch (retried) {
            throw failureOf(retried);
          }
        }
        throw failureOf(error);
      }
    },
    close: () => pool.end(),
  };
}
