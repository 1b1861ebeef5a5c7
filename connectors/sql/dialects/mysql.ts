/**
 * MySQL and MariaDB through `mysql2`: a pool whose sessions are read-only, with the engine's own
 * statement limit (MariaDB `max_statement_time` in seconds, MySQL `max_execution_time` in ms, which
 * MySQL applies to SELECT only — all we run).
 */
import { createPool, type Pool, type PoolConnection } from 'mysql2/promise';
import { checkedInt, plainInList, SqlDriverError, type Dialect, type DriverOptions, type Row, type SqlDriver } from './types';

export const mysqlDialect: Dialect = {
  name: 'mysql',
  placeholder: () => '?',
  quote: (id) => `\`${id.replace(/`/g, '``')}\``,
  inList: plainInList,
  page: (limit, offset) => `LIMIT ${checkedInt(limit, 'limit')}${offset > 0 ? ` OFFSET ${checkedInt(offset, 'offset')}` : ''}`,
  startsWith: (expr, p) => `LOWER(${expr}) LIKE ${p} ESCAPE '!'`,
  isNullFlag: (expr) => `(CASE WHEN ${expr} IS NULL THEN 1 ELSE 0 END)`,
  explain: (sql) => `EXPLAIN ${sql}`,
};

const TIMEOUT_ERRNOS = new Set([1969, 3024, 1317]);
const DENIED_ERRNOS = new Set([1044, 1045, 1142, 1143, 1227, 1792]);
const VALUE_ERRNOS = new Set([1292, 1366, 1411]);

function failureOf(error: unknown): SqlDriverError {
  const e = error as { code?: string; errno?: number; fatal?: boolean };
  if (e.errno !== undefined && TIMEOUT_ERRNOS.has(e.errno)) return new SqlDriverError('timeout', 'statement timed out', error);
  if (e.errno !== undefined && DENIED_ERRNOS.has(e.errno)) return new SqlDriverError('denied', 'permission denied', error);
  if (e.fatal || /^(ECONN|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|PROTOCOL_)/.test(e.code ?? '') || e.errno === 1049) {
    return new SqlDriverError('unavailable', 'database unreachable', error);
  }
  if (e.errno === 1146 || e.errno === 1054) return new SqlDriverError('invalid', 'the mapping names a table or column the database does not have', error);
  // Incorrect value for its type (strict modes; MariaDB mostly compares such values with a warning instead).
  if (e.errno !== undefined && VALUE_ERRNOS.has(e.errno)) return new SqlDriverError('value', 'a value does not fit its column', error);
  return new SqlDriverError('invalid', 'query failed', error);
}

/** Session set-up once per new connection: read-only, and the statement limit the engine understands. */
async function prepareSession(connection: PoolConnection, timeoutMs: number): Promise<void> {
  const [rows] = await connection.query('SELECT VERSION() AS v');
  const version = String((rows as Row[])[0]?.v ?? '');
  await connection.query('SET SESSION TRANSACTION READ ONLY');
  if (/mariadb/i.test(version)) await connection.query(`SET SESSION max_statement_time = ${(timeoutMs / 1000).toFixed(3)}`);
  else await connection.query(`SET SESSION max_execution_time = ${checkedInt(timeoutMs, 'timeout')}`);
}

export function createMysqlDriver(options: DriverOptions): SqlDriver {
  const url = new URL(options.url.replace(/^mariadb:/, 'mysql:'));
  const pool: Pool = createPool({
    host: url.hostname,
    port: url.port ? Number(url.port) : 3306,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: options.schema ?? (url.pathname.replace(/^\//, '') || undefined),
    connectionLimit: options.poolSize,
    connectTimeout: Math.min(options.statementTimeoutMs, 10_000),
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    multipleStatements: false,
    enableKeepAlive: true,
  });
  const prepared = new WeakSet<object>();
  return {
    dialect: mysqlDialect,
    async query(sql, params) {
      let connection: PoolConnection | undefined;
      try {
        connection = await pool.getConnection();
        const core = (connection as unknown as { connection: object }).connection;
        if (!prepared.has(core)) {
          await prepareSession(connection, options.statementTimeoutMs);
          prepared.add(core);
        }
        const [rows] = await connection.execute(sql, params as (string | number | null)[]);
        return rows as Row[];
      } catch (error) {
        if (error instanceof SqlDriverError) throw error;
        throw failureOf(error);
      } finally {
        connection?.release();
      }
    },
    close: () => pool.end(),
  };
}
