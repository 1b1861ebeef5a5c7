/** Picking the dialect and driver from a source URL. */
import { createMssqlDriver } from './mssql';
import { createMysqlDriver } from './mysql';
import { createPostgresDriver } from './postgres';
import { createSqliteDriver } from './sqlite';
import type { DialectName, DriverOptions, SqlDriver } from './types';

export function dialectOf(url: string): DialectName {
  const scheme = /^([a-z]+):/i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'postgres':
    case 'postgresql':
      return 'postgres';
    case 'mysql':
    case 'mariadb':
      return 'mysql';
    case 'sqlite':
      return 'sqlite';
    case 'mssql':
    case 'sqlserver':
      return 'mssql';
    default:
      throw new Error(`unsupported database URL scheme "${scheme ?? ''}"`);
  }
}

export function createDriver(options: DriverOptions): SqlDriver {
  switch (dialectOf(options.url)) {
    case 'postgres':
      return createPostgresDriver(options);
    case 'mysql':
      return createMysqlDriver(options);
    case 'sqlite':
      return createSqliteDriver(options);
    case 'mssql':
      return createMssqlDriver(options);
  }
}
