/**
 * Tables described once, rendered as DDL for each test database. A column is written as
 * `name type[!]` — `!` for NOT NULL — so a table definition reads like the DDL it stands for.
 *
 * Types: `int`, `bigint`, `smallint`, `num` (unbounded decimal), `money` (12,2), `qty` (10,3), `date`,
 * `ts` (date and time, no zone), `text`, `vcN` (VARCHAR(N)), `chN` (CHAR(N)).
 */
export type Dialect = 'postgres' | 'mariadb' | 'sqlite';

export interface Column {
  name: string;
  type: string;
  notNull: boolean;
}

export interface ForeignKey {
  columns: string[];
  table: string;
  references: string[];
}

export interface Table {
  name: string;
  columns: Column[];
  primaryKey?: string[];
  unique?: string[][];
  foreignKeys?: ForeignKey[];
  indexes?: string[][];
}

export interface TableSpec {
  columns: string;
  primaryKey?: string[];
  unique?: string[][];
  foreignKeys?: ForeignKey[];
  indexes?: string[][];
}

/** Parses `'person_id int!, year_of_birth int, …'` into columns. */
export function table(name: string, spec: TableSpec): Table {
  const columns = spec.columns
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const match = /^([a-z_0-9]+)\s+([a-z]+\d*)(!?)$/.exec(part);
      if (!match) throw new Error(`table ${name}: cannot read column "${part}"`);
      const [, columnName = '', type = '', bang] = match;
      sqlType(type, 'postgres'); // fails early on an unknown type
      return { name: columnName, type, notNull: bang === '!' };
    });
  const known = new Set(columns.map((c) => c.name));
  for (const list of [
    spec.primaryKey ?? [],
    ...(spec.unique ?? []),
    ...(spec.indexes ?? []),
    ...(spec.foreignKeys ?? []).map((fk) => fk.columns),
  ]) {
    for (const column of list) {
      if (!known.has(column)) throw new Error(`table ${name}: no column ${column}`);
    }
  }
  return { name, columns, primaryKey: spec.primaryKey, unique: spec.unique, foreignKeys: spec.foreignKeys, indexes: spec.indexes };
}

const FIXED: Record<string, Record<Dialect, string>> = {
  int: { postgres: 'INTEGER', mariadb: 'INT', sqlite: 'INTEGER' },
  bigint: { postgres: 'BIGINT', mariadb: 'BIGINT', sqlite: 'INTEGER' },
  smallint: { postgres: 'SMALLINT', mariadb: 'SMALLINT', sqlite: 'INTEGER' },
  // MariaDB's bare DECIMAL is DECIMAL(10,0); OMOP's unbounded NUMERIC values are measurements, so DOUBLE.
  num: { postgres: 'NUMERIC', mariadb: 'DOUBLE', sqlite: 'REAL' },
  money: { postgres: 'NUMERIC(12,2)', mariadb: 'DECIMAL(12,2)', sqlite: 'NUMERIC(12,2)' },
  qty: { postgres: 'NUMERIC(10,3)', mariadb: 'DECIMAL(10,3)', sqlite: 'NUMERIC(10,3)' },
  // SQLite has no date type: ISO-8601 text ('2013-05-17', '2013-05-17 00:00:00') under a telling name.
  date: { postgres: 'DATE', mariadb: 'DATE', sqlite: 'DATE' },
  ts: { postgres: 'TIMESTAMP', mariadb: 'DATETIME', sqlite: 'TIMESTAMP' },
  text: { postgres: 'TEXT', mariadb: 'MEDIUMTEXT', sqlite: 'TEXT' },
};

export function sqlType(type: string, dialect: Dialect): string {
  const fixed = FIXED[type];
  if (fixed) return fixed[dialect];
  const sized = /^(vc|ch)(\d+)$/.exec(type);
  if (sized) return `${sized[1] === 'vc' ? 'VARCHAR' : 'CHAR'}(${sized[2]})`;
  throw new Error(`unknown column type ${type}`);
}

export function quoteIdent(name: string, dialect: Dialect): string {
  return dialect === 'mariadb' ? `\`${name}\`` : `"${name}"`;
}

/** CREATE TABLE with its primary key, unique and foreign keys; `qualify` adds a schema where needed. */
export function createTableSql(t: Table, dialect: Dialect, qualify: (name: string) => string): string {
  const q = (name: string) => quoteIdent(name, dialect);
  const lines = t.columns.map((c) => `  ${q(c.name)} ${sqlType(c.type, dialect)}${c.notNull ? ' NOT NULL' : ''}`);
  if (t.primaryKey) lines.push(`  PRIMARY KEY (${t.primaryKey.map(q).join(', ')})`);
  for (const columns of t.unique ?? []) lines.push(`  UNIQUE (${columns.map(q).join(', ')})`);
  for (const fk of t.foreignKeys ?? []) {
    lines.push(`  FOREIGN KEY (${fk.columns.map(q).join(', ')}) REFERENCES ${qualify(fk.table)} (${fk.references.map(q).join(', ')})`);
  }
  return `CREATE TABLE ${qualify(t.name)} (\n${lines.join(',\n')}\n)`;
}

/** CREATE INDEX statements, named `idx_<table>_<columns>`. */
export function createIndexSql(t: Table, dialect: Dialect, qualify: (name: string) => string): string[] {
  return (t.indexes ?? []).map((columns) => {
    const name = `idx_${t.name}_${columns.join('_')}`.slice(0, 63);
    return `CREATE INDEX ${quoteIdent(name, dialect)} ON ${qualify(t.name)} (${columns.map((c) => quoteIdent(c, dialect)).join(', ')})`;
  });
}
