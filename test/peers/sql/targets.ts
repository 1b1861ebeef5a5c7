/**
 * The three test databases as load targets, each through its ordinary driver: PostgreSQL (pg),
 * MariaDB (mysql2) and SQLite (better-sqlite3). A dataset lives in its own namespace — a PostgreSQL
 * schema, a MariaDB database, a SQLite file — that a load drops and recreates whole, and records
 * what it loaded in `hg_load_marker`, written last, so an interrupted load is redone next time.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  NAMESPACE,
  PG_DATABASE,
  SQL_PASSWORD,
  SQL_USER,
  mariadbPort,
  pgPort,
  sqlHost,
  sqliteFile,
  type Dataset,
  type SqlDb,
} from './config';
import { createIndexSql, createTableSql, quoteIdent, table, type Dialect, type Table } from './table';

export type Value = string | number | null;

export interface Target {
  readonly db: SqlDb;
  /** The content hash of the dataset as loaded, or undefined when it is not (fully) loaded. */
  loadedHash(dataset: Dataset): Promise<string | undefined>;
  /** Drops the dataset's namespace and creates it again with empty tables. */
  recreate(dataset: Dataset, tables: readonly Table[]): Promise<void>;
  insert(dataset: Dataset, t: Table, columns: readonly string[], rows: readonly Value[][]): Promise<void>;
  /** Creates the indexes and records the hash: the dataset is now loaded. */
  finish(dataset: Dataset, tables: readonly Table[], hash: string): Promise<void>;
  close(): Promise<void>;
}

const MARKER = table('hg_load_marker', {
  columns: 'dataset vc32!, content_hash vc64!, loaded_at vc32!',
  primaryKey: ['dataset'],
});

function ddl(tables: readonly Table[], dialect: Dialect, qualify: (name: string) => string): string[] {
  return [...tables, MARKER].map((t) => createTableSql(t, dialect, qualify));
}

function markerRow(dataset: Dataset, hash: string): Value[] {
  return [dataset, hash, new Date().toISOString()];
}

function* batches<T>(rows: readonly T[], size: number): Generator<readonly T[]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}

// --- PostgreSQL: one schema per dataset in healthgraph_test; rows go in as one JSON parameter per batch.

export async function postgresTarget(): Promise<Target> {
  const { Client } = await import('pg');
  const client = new Client({
    host: sqlHost(),
    port: pgPort(),
    user: SQL_USER,
    password: SQL_PASSWORD,
    database: PG_DATABASE,
    connectionTimeoutMillis: 3000,
  });
  await client.connect();
  await client.query("SET client_min_messages = 'warning'");
  const q = (name: string) => quoteIdent(name, 'postgres');
  const qualifier = (dataset: Dataset) => (name: string) => `${q(NAMESPACE[dataset])}.${q(name)}`;
  return {
    db: 'postgres',
    async loadedHash(dataset) {
      try {
        const res = await client.query<{ content_hash: string }>(
          `SELECT content_hash FROM ${qualifier(dataset)(MARKER.name)} WHERE dataset = $1`,
          [dataset],
        );
        return res.rows[0]?.content_hash;
      } catch (error) {
        if (['42P01', '3F000'].includes((error as { code?: string }).code ?? '')) return undefined;
        throw error;
      }
    },
    async recreate(dataset, tables) {
      const schema = q(NAMESPACE[dataset]);
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.query(`CREATE SCHEMA ${schema}`);
      for (const statement of ddl(tables, 'postgres', qualifier(dataset))) await client.query(statement);
    },
    async insert(dataset, t, columns, rows) {
      // json_populate_recordset types every value by the table's own row type (text → date, numeric, …).
      const name = qualifier(dataset)(t.name);
      const list = columns.map(q).join(', ');
      const sql = `INSERT INTO ${name} (${list}) SELECT ${list} FROM json_populate_recordset(NULL::${name}, $1::json)`;
      for (const batch of batches(rows, 5000)) {
        const objects = batch.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i] ?? null])));
        await client.query(sql, [JSON.stringify(objects)]);
      }
    },
    async finish(dataset, tables, hash) {
      for (const t of tables) for (const statement of createIndexSql(t, 'postgres', qualifier(dataset))) await client.query(statement);
      for (const t of tables) await client.query(`ANALYZE ${qualifier(dataset)(t.name)}`);
      await client.query(`INSERT INTO ${qualifier(dataset)(MARKER.name)} VALUES ($1, $2, $3)`, markerRow(dataset, hash));
    },
    async close() {
      await client.end();
    },
  };
}

// --- MariaDB: one database per dataset; multi-row INSERTs escaped by the driver.

export async function mariadbTarget(): Promise<Target> {
  const mysql = await import('mysql2/promise');
  const connection = await mysql.createConnection({
    host: sqlHost(),
    port: mariadbPort(),
    user: SQL_USER,
    password: SQL_PASSWORD,
    connectTimeout: 3000,
    dateStrings: true,
    charset: 'utf8mb4',
  });
  const q = (name: string) => quoteIdent(name, 'mariadb');
  const qualifier = (dataset: Dataset) => (name: string) => `${q(NAMESPACE[dataset])}.${q(name)}`;
  return {
    db: 'mariadb',
    async loadedHash(dataset) {
      try {
        const [rows] = await connection.query(`SELECT content_hash FROM ${qualifier(dataset)(MARKER.name)} WHERE dataset = ?`, [dataset]);
        return (rows as { content_hash: string }[])[0]?.content_hash;
      } catch (error) {
        if (['ER_NO_SUCH_TABLE', 'ER_BAD_DB_ERROR'].includes((error as { code?: string }).code ?? '')) return undefined;
        throw error;
      }
    },
    async recreate(dataset, tables) {
      const database = q(NAMESPACE[dataset]);
      await connection.query(`DROP DATABASE IF EXISTS ${database}`);
      await connection.query(`CREATE DATABASE ${database} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      for (const statement of ddl(tables, 'mariadb', qualifier(dataset))) await connection.query(`${statement} ENGINE=InnoDB`);
    },
    async insert(dataset, t, columns, rows) {
      const sql = `INSERT INTO ${qualifier(dataset)(t.name)} (${columns.map(q).join(', ')}) VALUES ?`;
      for (const batch of batches(rows, 2000)) await connection.query(sql, [batch]);
    },
    async finish(dataset, tables, hash) {
      for (const t of tables) for (const statement of createIndexSql(t, 'mariadb', qualifier(dataset))) await connection.query(statement);
      for (const t of tables) await connection.query(`ANALYZE TABLE ${qualifier(dataset)(t.name)}`);
      await connection.query(`INSERT INTO ${qualifier(dataset)(MARKER.name)} VALUES (?, ?, ?)`, markerRow(dataset, hash));
    },
    async close() {
      await connection.end();
    },
  };
}

// --- SQLite: one file per dataset, built beside the real one and renamed over it when complete.

/** `file` picks the database file of a dataset; by default the test one, `.services/sqlite/<dataset>.db`. */
export async function sqliteTarget(repoRoot: string, file: (dataset: Dataset) => string = (dataset) => sqliteFile(repoRoot, dataset)): Promise<Target> {
  const { default: Database } = await import('better-sqlite3');
  type Db = InstanceType<typeof Database>;
  const building = new Map<Dataset, { db: Db; path: string }>();
  const q = (name: string) => quoteIdent(name, 'sqlite');
  const open = (dataset: Dataset): Db => {
    const entry = building.get(dataset);
    if (!entry) throw new Error(`sqlite: ${dataset} is not being built`);
    return entry.db;
  };
  return {
    db: 'sqlite',
    async loadedHash(dataset) {
      const path = file(dataset);
      if (!existsSync(path)) return undefined;
      const db = new Database(path, { readonly: true, fileMustExist: true });
      try {
        const row = db.prepare(`SELECT content_hash FROM ${q(MARKER.name)} WHERE dataset = ?`).get(dataset) as
          { content_hash: string } | undefined;
        return row?.content_hash;
      } catch {
        return undefined;
      } finally {
        db.close();
      }
    },
    async recreate(dataset, tables) {
      const path = `${file(dataset)}.partial-${process.pid}`;
      mkdirSync(dirname(path), { recursive: true });
      rmSync(path, { force: true });
      const db = new Database(path);
      db.pragma('journal_mode = DELETE');
      db.pragma('synchronous = OFF');
      db.pragma('foreign_keys = ON');
      for (const statement of ddl(tables, 'sqlite', q)) db.exec(statement);
      building.set(dataset, { db, path });
    },
    async insert(dataset, t, columns, rows) {
      const db = open(dataset);
      const insert = db.prepare(`INSERT INTO ${q(t.name)} (${columns.map(q).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
      db.transaction(() => {
        for (const row of rows) insert.run(row);
      })();
    },
    async finish(dataset, tables, hash) {
      const db = open(dataset);
      for (const t of tables) for (const statement of createIndexSql(t, 'sqlite', q)) db.exec(statement);
      db.exec('ANALYZE');
      db.prepare(`INSERT INTO ${q(MARKER.name)} VALUES (?, ?, ?)`).run(markerRow(dataset, hash));
      db.close();
      const entry = building.get(dataset);
      building.delete(dataset);
      if (entry) renameSync(entry.path, file(dataset));
    },
    async close() {
      for (const { db, path } of building.values()) {
        db.close();
        rmSync(path, { force: true });
      }
      building.clear();
    },
  };
}

export async function openTarget(db: SqlDb, repoRoot: string): Promise<Target> {
  switch (db) {
    case 'postgres':
      return postgresTarget();
    case 'mariadb':
      return mariadbTarget();
    case 'sqlite':
      return sqliteTarget(repoRoot);
  }
}
