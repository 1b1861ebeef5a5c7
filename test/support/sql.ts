/**
 * Helpers for tests against the SQL test databases that `make services` starts and fills
 * (scripts/services.sh, test/peers/sql/load.ts): where each dataset is, whether it is there, and raw
 * SQL to compute expectations independently of the connector.
 *
 *   omop    PostgreSQL postgres://…@127.0.0.1:5433/healthgraph_test, schema cdm
 *           MariaDB    mysql://…@127.0.0.1:3307/cdm
 *           SQLite     sqlite:///<checkout>/.services/sqlite/omop.db
 *   claims  the same, with schema / database `claims` and `claims.db` (docs/sources/claims-layout.md)
 *
 * Users: `healthgraph`/`healthgraph` (owner) and `healthgraph_ro`/`healthgraph_ro` (may only read).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { sqlSourceSchema } from '../../connectors/sql/config';
import { SqlConnector, type StatementEvent } from '../../connectors/sql/connector';
import { createLogger } from '../../src/logger';
import {
  DATASETS,
  NAMESPACE,
  PG_DATABASE,
  SQL_DBS,
  SQL_PASSWORD,
  SQL_RO_PASSWORD,
  SQL_RO_USER,
  SQL_USER,
  connectionUrl,
  findRepoRoot,
  mariadbPort,
  pgPort,
  sqlHost,
  sqliteFile,
  type Dataset,
  type SqlDb,
} from '../peers/sql/config';

export { DATASETS, SQL_DBS, SQL_PASSWORD, SQL_RO_PASSWORD, SQL_RO_USER, SQL_USER, type Dataset, type SqlDb };

export const REPO_ROOT = findRepoRoot(__dirname);

export interface SqlUrlOptions {
  /** Log in as the read-only user. */
  readOnly?: boolean;
}

/** The URL a `kind: sql` source takes: `postgres://…/healthgraph_test`, `mysql://…/cdm`, `sqlite:///abs/omop.db`. */
export function sqlUrl(db: SqlDb, dataset: Dataset, options: SqlUrlOptions = {}): string {
  return connectionUrl(db, dataset, REPO_ROOT, options);
}

/** The database schema a source needs besides its URL: `cdm`/`claims` in PostgreSQL, none elsewhere. */
export function sqlSchema(db: SqlDb, dataset: Dataset): string | undefined {
  return db === 'postgres' ? NAMESPACE[dataset] : undefined;
}

/** URL and schema together, as a source's config wants them. */
export function sqlSource(db: SqlDb, dataset: Dataset, options: SqlUrlOptions = {}): { url: string; schema?: string } {
  const schema = sqlSchema(db, dataset);
  return schema ? { url: sqlUrl(db, dataset, options), schema } : { url: sqlUrl(db, dataset, options) };
}

/**
 * A SQL connector over a test dataset with its built-in preset (`omop`, `claims`; the source's id is
 * the dataset's name), as the read-only user, reporting each statement to `onStatement`.
 */
export function presetConnector(db: SqlDb, dataset: Dataset, onStatement?: (event: StatementEvent) => void): SqlConnector {
  const config = sqlSourceSchema.parse({ id: dataset, kind: 'sql', mapping: dataset, ...sqlSource(db, dataset, { readOnly: true }) });
  return new SqlConnector(config, createLogger('silent'), onStatement ? { onStatement } : {});
}

// --- raw SQL -----------------------------------------------------------------------------------

export type SqlRow = Record<string, unknown>;

/**
 * A connection for computing expectations. The same SQL runs on all three: `?` placeholders, table
 * names unqualified (PostgreSQL's search_path is the dataset's schema). Counts, sums and decimals come
 * back as numbers, dates and timestamps as the strings the database holds ('2013-05-17').
 */
export interface SqlConnection {
  readonly db: SqlDb;
  query<T extends SqlRow = SqlRow>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** The first column of the first row. */
  scalar<T = unknown>(sql: string, params?: readonly unknown[]): Promise<T>;
  close(): Promise<void>;
}

/** `?` → `$1, $2, …` outside quoted strings and identifiers. */
export function toPgPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|\?/g, (match) => (match === '?' ? `$${++n}` : match));
}

const PG_INT8 = 20;
const PG_NUMERIC = 1700;
const PG_DATE = 1082;
const PG_TIMESTAMP = 1114;
const PG_TIMESTAMPTZ = 1184;

export async function openSql(db: SqlDb, dataset: Dataset, options: SqlUrlOptions = {}): Promise<SqlConnection> {
  const user = options.readOnly ? SQL_RO_USER : SQL_USER;
  const password = options.readOnly ? SQL_RO_PASSWORD : SQL_PASSWORD;
  switch (db) {
    case 'postgres': {
      const pg = await import('pg');
      const client = new pg.Client({
        host: sqlHost(),
        port: pgPort(),
        user,
        password,
        database: PG_DATABASE,
        connectionTimeoutMillis: 3000,
        types: {
          getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
            if (oid === PG_INT8 || oid === PG_NUMERIC) return (value: string) => Number(value);
            if (oid === PG_DATE || oid === PG_TIMESTAMP || oid === PG_TIMESTAMPTZ) return (value: string) => value;
            return pg.types.getTypeParser(oid, format ?? 'text');
          }) as typeof pg.types.getTypeParser,
        },
      });
      await client.connect();
      await client.query(`SET search_path TO "${NAMESPACE[dataset]}"`);
      const query = async <T extends SqlRow>(sql: string, params: readonly unknown[] = []) =>
        (await client.query(toPgPlaceholders(sql), [...params])).rows as T[];
      return { db, query, scalar: async (sql, params) => first(await query(sql, params)), close: () => client.end() };
    }
    case 'mariadb': {
      const mysql = await import('mysql2/promise');
      const connection = await mysql.createConnection({
        host: sqlHost(),
        port: mariadbPort(),
        user,
        password,
        database: NAMESPACE[dataset],
        connectTimeout: 3000,
        dateStrings: true,
        decimalNumbers: true,
        supportBigNumbers: true,
        bigNumberStrings: false,
      });
      const query = async <T extends SqlRow>(sql: string, params: readonly unknown[] = []) =>
        normalizeBigints((await connection.query(sql, [...params]))[0] as SqlRow[]) as T[];
      return { db, query, scalar: async (sql, params) => first(await query(sql, params)), close: () => connection.end() };
    }
    case 'sqlite': {
      const { default: Database } = await import('better-sqlite3');
      const file = sqliteFile(REPO_ROOT, dataset);
      const handle = new Database(file, { readonly: options.readOnly === true, fileMustExist: true });
      const query = async <T extends SqlRow>(sql: string, params: readonly unknown[] = []) => {
        try {
          const statement = handle.prepare(sql);
          if (!statement.reader) {
            statement.run(...params);
            return [] as T[];
          }
          return statement.all(...params) as T[];
        } catch (error) {
          throw thisRealm(error);
        }
      };
      return {
        db,
        query,
        scalar: async (sql, params) => first(await query(sql, params)),
        close: async () => {
          handle.close();
        },
      };
    }
  }
}

/**
 * better-sqlite3's native part keeps the error class of the first jest sandbox that loaded it in this
 * worker, so in later test files its errors are not `instanceof Error` and `rejects.toThrow` misses them.
 * Rethrow as an Error of this sandbox, keeping message and code.
 */
function thisRealm(error: unknown): Error {
  if (error instanceof Error) return error;
  const { message, code } = error as { message?: string; code?: string };
  return Object.assign(new Error(message ?? String(error)), code ? { code } : {});
}

function first<T>(rows: SqlRow[]): T {
  const row = rows[0];
  return (row === undefined ? undefined : Object.values(row)[0]) as T;
}

/** mysql2 gives a BIGINT (e.g. COUNT(*)) that fits a double as a number already; anything else big stays a string. */
function normalizeBigints(rows: SqlRow[]): SqlRow[] {
  return rows.map((row) =>
    Object.fromEntries(Object.entries(row).map(([key, value]) => [key, typeof value === 'bigint' ? Number(value) : value])),
  );
}

/** Runs `fn` with a connection and closes it. */
export async function withSql<T>(db: SqlDb, dataset: Dataset, fn: (sql: SqlConnection) => Promise<T>): Promise<T> {
  const connection = await openSql(db, dataset);
  try {
    return await fn(connection);
  } finally {
    await connection.close();
  }
}

// --- availability --------------------------------------------------------------------------------

/**
 * Why a dataset cannot be used in a database — its service is not running, or the data is not loaded
 * (`../shared/data` absent) — or undefined when it is there.
 */
export async function sqlAvailable(db: SqlDb, dataset: Dataset): Promise<string | undefined> {
  if (db === 'sqlite' && !existsSync(sqliteFile(REPO_ROOT, dataset))) return notLoaded(db, dataset);
  let connection: SqlConnection;
  try {
    connection = await openSql(db, dataset);
  } catch (error) {
    if (db === 'mariadb' && /Unknown database/i.test((error as Error).message)) return notLoaded(db, dataset);
    return `${db} is not answering at ${where(db, dataset)} (${(error as Error).message.split('\n')[0]}); run \`make services\``;
  }
  try {
    const hash = await connection.scalar<string | undefined>('SELECT content_hash FROM hg_load_marker WHERE dataset = ?', [dataset]);
    return hash ? undefined : notLoaded(db, dataset);
  } catch {
    return notLoaded(db, dataset);
  } finally {
    await connection.close();
  }
}

function where(db: SqlDb, dataset: Dataset): string {
  return sqlUrl(db, dataset).replace(/\/\/[^@/]*@/, '//');
}

function notLoaded(db: SqlDb, dataset: Dataset): string {
  return `the ${dataset} dataset is not loaded in ${db} (needs ../shared/data; run \`make services\`)`;
}

let probed: Record<string, string | undefined> | undefined;

/**
 * The child process behind `sqlAvailabilitySync`: plain JavaScript (the child has no TypeScript), given
 * every target in HG_SQL_PROBE; prints one JSON line `{"postgres/omop": reason-or-null, …}`.
 */
const PROBE_SCRIPT = `
const fs = require('fs');
const probe = JSON.parse(process.env.HG_SQL_PROBE);
const MARKER = 'SELECT content_hash FROM hg_load_marker WHERE dataset = ';
const notLoaded = (t) => 'the ' + t.dataset + ' dataset is not loaded in ' + t.db + ' (needs ../shared/data; run make services)';
const down = (t, e) => t.db + ' is not answering at ' + t.where + ' (' + String(e && e.message || e).split('\\n')[0] + '); run make services';
async function check(t) {
  try {
    if (t.db === 'sqlite') {
      if (!fs.existsSync(t.file)) return notLoaded(t);
      const db = new (require('better-sqlite3'))(t.file, { readonly: true, fileMustExist: true });
      try { return db.prepare(MARKER + '?').get(t.dataset) ? null : notLoaded(t); } catch { return notLoaded(t); } finally { db.close(); }
    }
    if (t.db === 'postgres') {
      const client = new (require('pg').Client)({ ...t.connection, connectionTimeoutMillis: 3000 });
      try { await client.connect(); } catch (e) { return down(t, e); }
      try { return (await client.query(MARKER.replace('hg_load_marker', t.schema + '.hg_load_marker') + '$1', [t.dataset])).rows.length ? null : notLoaded(t); }
      catch { return notLoaded(t); } finally { await client.end(); }
    }
    const mysql = require('mysql2/promise');
    let connection;
    try { connection = await mysql.createConnection({ ...t.connection, connectTimeout: 3000 }); } catch (e) { return down(t, e); }
    try { const [rows] = await connection.query(MARKER.replace('hg_load_marker', t.schema + '.hg_load_marker') + '?', [t.dataset]); return rows.length ? null : notLoaded(t); }
    catch { return notLoaded(t); } finally { await connection.end(); }
  } catch (e) { return t.db + ': ' + String(e && e.message || e).split('\\n')[0]; }
}
Promise.all(probe.map(async (t) => [t.db + '/' + t.dataset, await check(t)])).then((pairs) => {
  console.log(JSON.stringify(Object.fromEntries(pairs)));
  process.exit(0);
});
`;

/**
 * `sqlAvailable` for every database and dataset at once, synchronously (in a child process), so a test
 * file can choose `describe` or `describe.skip` while jest collects its tests. Cached per test file.
 */
export function sqlAvailabilitySync(): Record<`${SqlDb}/${Dataset}`, string | undefined> {
  if (!probed) {
    const targets = SQL_DBS.flatMap((db) =>
      DATASETS.map((dataset) => ({
        db,
        dataset,
        where: where(db, dataset),
        schema: NAMESPACE[dataset],
        file: sqliteFile(REPO_ROOT, dataset),
        connection:
          db === 'postgres'
            ? { host: sqlHost(), port: pgPort(), user: SQL_USER, password: SQL_PASSWORD, database: PG_DATABASE }
            : { host: sqlHost(), port: mariadbPort(), user: SQL_USER, password: SQL_PASSWORD },
      })),
    );
    const child = spawnSync(process.execPath, ['-e', PROBE_SCRIPT], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, HG_SQL_PROBE: JSON.stringify(targets) },
    });
    try {
      const answers = JSON.parse(child.stdout.trim().split('\n').pop() ?? '') as Record<string, string | null>;
      probed = Object.fromEntries(Object.entries(answers).map(([key, reason]) => [key, reason ?? undefined]));
    } catch {
      const reason = `could not probe the SQL test databases (${(child.stderr || String(child.error ?? '')).trim().split('\n')[0]})`;
      probed = Object.fromEntries(SQL_DBS.flatMap((db) => DATASETS.map((d) => [`${db}/${d}`, reason])));
    }
  }
  return probed as Record<`${SqlDb}/${Dataset}`, string | undefined>;
}

export function sqlAvailableSync(db: SqlDb, dataset: Dataset): string | undefined {
  return sqlAvailabilitySync()[`${db}/${dataset}`];
}

/**
 * `describe` when the dataset is loaded in the database; otherwise `describe.skip`, with the reason in
 * the title and printed once, so a missing service or missing shared data reads as a skip, not a failure.
 */
export function describeSql(db: SqlDb, dataset: Dataset, title: string, fn: () => void): void {
  const reason = sqlAvailableSync(db, dataset);
  if (reason === undefined) {
    describe(title, fn);
  } else {
    console.warn(`skipping "${title}": ${reason}`);
    describe.skip(`${title} (skipped: ${reason})`, fn);
  }
}
