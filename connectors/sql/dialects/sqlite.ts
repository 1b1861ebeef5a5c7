/**
 * SQLite through `better-sqlite3`: one handle opened read-only (`readonly: true`) with
 * `PRAGMA query_only`. better-sqlite3 is synchronous and has no interrupt hook, so a statement
 * cannot be cancelled: `statementTimeoutMs` is not enforced for SQLite (docs/sources/sql.md).
 */
import Database from 'better-sqlite3';
import { isAbsolute, resolve } from 'node:path';
import { checkedInt, plainInList, SqlDriverError, type Dialect, type DriverOptions, type Row, type SqlDriver } from './types';

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  placeholder: () => '?',
  quote: (id) => `"${id.replace(/"/g, '""')}"`,
  inList: plainInList,
  page: (limit, offset) => `LIMIT ${checkedInt(limit, 'limit')}${offset > 0 ? ` OFFSET ${checkedInt(offset, 'offset')}` : ''}`,
  startsWith: (expr, p) => `LOWER(${expr}) LIKE ${p} ESCAPE '!'`,
  isNullFlag: (expr) => `(${expr} IS NULL)`,
  explain: (sql) => `EXPLAIN QUERY PLAN ${sql}`,
};

/** `sqlite:///abs/path.db` → `/abs/path.db`; `sqlite:relative.db` → resolved against the working directory. */
export function sqlitePath(url: string): string {
  const rest = url.replace(/^sqlite:/i, '');
  const path = rest.startsWith('//') ? decodeURIComponent(rest.replace(/^\/\//, '')) : decodeURIComponent(rest);
  return isAbsolute(path) ? path : resolve(path);
}

/** SQLite accepts numbers, strings, bigints, buffers and null; booleans become 0/1. */
function bindable(value: unknown): unknown {
  return typeof value === 'boolean' ? (value ? 1 : 0) : value;
}

export function createSqliteDriver(options: DriverOptions): SqlDriver {
  let db: Database.Database | undefined;
  let openError: SqlDriverError | undefined;
  const open = (): Database.Database => {
    if (db) return db;
    try {
      db = new Database(sqlitePath(options.url), { readonly: true, fileMustExist: true });
      db.pragma('query_only = ON');
      return db;
    } catch (error) {
      openError = new SqlDriverError('unavailable', 'database file cannot be opened', error);
      throw openError;
    }
  };
  const statements = new Map<string, Database.Statement>();
  return {
    dialect: sqliteDialect,
    query(sql, params) {
      try {
        const handle = open();
        let statement = statements.get(sql);
        if (!statement) {
          statement = handle.prepare(sql);
          if (statements.size > 500) statements.clear();
          statements.set(sql, statement);
        }
        return Promise.resolve(statement.all(...params.map(bindable)) as Row[]);
      } catch (error) {
        if (error instanceof SqlDriverError) return Promise.reject(error);
        const code = (error as { code?: string }).code ?? '';
        if (/SQLITE_(CANTOPEN|NOTADB|CORRUPT|IOERR)/.test(code)) return Promise.reject(new SqlDriverError('unavailable', 'database file cannot be read', error));
        if (/no such (table|column)/.test((error as Error).message)) {
          return Promise.reject(new SqlDriverError('invalid', 'the mapping names a table or column the database does not have', error));
        }
        return Promise.reject(new SqlDriverError('invalid', 'query failed', error));
      }
    },
    close: () => {
      db?.close();
      db = undefined;
      return Promise.resolve();
    },
  };
}
