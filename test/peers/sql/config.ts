/**
 * Where the test databases are and who logs in: shared by the loader, `scripts/services.sh` (which
 * uses the same ports, users and names) and the tests (through test/support/sql.ts).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type SqlDb = 'postgres' | 'mariadb' | 'sqlite';
export type Dataset = 'omop' | 'claims';

export const SQL_DBS: readonly SqlDb[] = ['postgres', 'mariadb', 'sqlite'];
export const DATASETS: readonly Dataset[] = ['omop', 'claims'];

/** The read-write owner of the test data, and a user that may only read it. */
export const SQL_USER = 'healthgraph';
export const SQL_PASSWORD = 'healthgraph';
export const SQL_RO_USER = 'healthgraph_ro';
export const SQL_RO_PASSWORD = 'healthgraph_ro';

/** The PostgreSQL database; each dataset is a schema in it. */
export const PG_DATABASE = 'healthgraph_test';

/** PostgreSQL schema and MariaDB database of each dataset. */
export const NAMESPACE: Record<Dataset, string> = { omop: 'cdm', claims: 'claims' };

export function sqlHost(): string {
  return process.env.SERVICES_HOST ?? '127.0.0.1';
}

export function pgPort(): number {
  return Number(process.env.PG_PORT ?? 5433);
}

export function mariadbPort(): number {
  return Number(process.env.MARIADB_PORT ?? 3307);
}

/** The SQLite file of a dataset: `.services/sqlite/omop.db`, `.services/sqlite/claims.db`. */
export function sqliteFile(repoRoot: string, dataset: Dataset): string {
  return join(repoRoot, '.services', 'sqlite', `${dataset}.db`);
}

export interface UrlOptions {
  /** Log in as the read-only user. */
  readOnly?: boolean;
}

/**
 * The URL a `kind: sql` source would be configured with: `postgres://…/healthgraph_test` (the
 * dataset's schema is separate, see NAMESPACE), `mysql://…/cdm`, `sqlite:///abs/path/omop.db`.
 */
export function connectionUrl(db: SqlDb, dataset: Dataset, repoRoot: string, options: UrlOptions = {}): string {
  const user = options.readOnly ? SQL_RO_USER : SQL_USER;
  const password = options.readOnly ? SQL_RO_PASSWORD : SQL_PASSWORD;
  switch (db) {
    case 'postgres':
      return `postgres://${user}:${password}@${sqlHost()}:${pgPort()}/${PG_DATABASE}`;
    case 'mariadb':
      return `mysql://${user}:${password}@${sqlHost()}:${mariadbPort()}/${NAMESPACE[dataset]}`;
    case 'sqlite':
      return `sqlite://${sqliteFile(repoRoot, dataset)}`;
  }
}

/** The nearest directory at or above `start` holding a package.json (works from src and from dist). */
export function findRepoRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

/** The shared data directory, `../shared/data` beside the checkout. */
export function sharedDataDir(repoRoot: string): string {
  return join(repoRoot, '..', 'shared', 'data');
}

/** How many Synthea patients the claims warehouse holds: the FHIR peer's first N. */
export function claimsPatientCount(): number {
  return Number(process.env.CLAIMS_SYNTHEA_PATIENTS ?? process.env.FHIR_SYNTHEA_PATIENTS ?? 60);
}
