/** PostgreSQL through `pg`: a Pool whose sessions are read-only with a statement timeout. */
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
  return {
    dialect: postgresDialect,
    async query(sql, params) {
      try {
        const result = await pool.query({ text: sql, values: params as unknown[] });
        return result.rows as Row[];
      } catch (error) {
        throw failureOf(error);
      }
    },
    close: () => pool.end(),
  };
}
