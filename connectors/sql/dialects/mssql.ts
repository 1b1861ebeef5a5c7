/**
 * SQL Server through `mssql` (tedious). NOT TESTED: no SQL Server runs on the test machines
 * (docs/sources/sql.md). The dialect differences live here: `@pN` placeholders, `[quoted]`
 * identifiers, `OFFSET … ROWS FETCH NEXT … ROWS ONLY`, and the request timeout as statement limit.
 * SQL Server has no read-only session switch: connect with a login that only has `db_datareader`.
 */
import sql from 'mssql';
import { checkedInt, plainInList, SqlDriverError, type Dialect, type DriverOptions, type Row, type SqlDriver } from './types';

export const mssqlDialect: Dialect = {
  name: 'mssql',
  placeholder: (n) => `@p${n}`,
  quote: (id) => `[${id.replace(/]/g, ']]')}]`,
  inList: plainInList,
  page: (limit, offset) => `OFFSET ${checkedInt(offset, 'offset')} ROWS FETCH NEXT ${checkedInt(limit, 'limit')} ROWS ONLY`,
  startsWith: (expr, p) => `LOWER(${expr}) LIKE ${p} ESCAPE '!'`,
  isNullFlag: (expr) => `(CASE WHEN ${expr} IS NULL THEN 1 ELSE 0 END)`,
  explain: (text) => text, // SHOWPLAN needs its own batch; not supported here
};

export function createMssqlDriver(options: DriverOptions): SqlDriver {
  const url = new URL(options.url.replace(/^sqlserver:/, 'mssql:'));
  const pool = new sql.ConnectionPool({
    server: url.hostname,
    port: url.port ? Number(url.port) : 1433,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: url.pathname.replace(/^\//, '') || undefined,
    pool: { max: options.poolSize },
    requestTimeout: options.statementTimeoutMs,
    connectionTimeout: Math.min(options.statementTimeoutMs, 15_000),
    options: { encrypt: url.searchParams.get('encrypt') !== 'false', trustServerCertificate: url.searchParams.get('trustServerCertificate') === 'true', readOnlyIntent: true },
  });
  let connecting: Promise<sql.ConnectionPool> | undefined;
  return {
    dialect: mssqlDialect,
    async query(text, params) {
      try {
        connecting ??= pool.connect();
        const ready = await connecting;
        const request = ready.request();
        params.forEach((value, i) => request.input(`p${i + 1}`, value));
        const result = await request.query(text);
        return result.recordset as Row[];
      } catch (error) {
        connecting = pool.connected ? connecting : undefined;
        const code = (error as { code?: string }).code ?? '';
        if (code === 'ETIMEOUT') throw new SqlDriverError('timeout', 'statement timed out', error);
        if (code === 'ELOGIN') throw new SqlDriverError('denied', 'login failed', error);
        if (code === 'ESOCKET' || code === 'ECONNCLOSED' || code === 'ENOTOPEN') throw new SqlDriverError('unavailable', 'database unreachable', error);
        // 241/245/8114: a conversion of a parameter to the column's type failed (untested here, see docs/sources/sql.md).
        if ([241, 245, 8114].includes((error as { number?: number }).number ?? 0)) throw new SqlDriverError('value', 'a value does not fit its column', error);
        throw new SqlDriverError('invalid', 'query failed', error);
      }
    },
    close: () => pool.close(),
  };
}
