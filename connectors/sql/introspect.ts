/**
 * `healthgraph sql introspect URL [--schema S]`: drafts a mapping from a live database's catalog —
 * tables, columns, primary and foreign keys — guessing the patient table, dates and code columns.
 * The draft is a starting point to edit, never used as is.
 */
import { stringify } from 'yaml';
import type { ResourceType } from '../types';
import { createDriver, dialectOf } from './dialects';
import type { SqlDriver } from './dialects/types';

interface Column {
  table: string;
  name: string;
  type: string;
}
interface ForeignKey {
  table: string;
  column: string;
  target: string;
}

async function catalog(driver: SqlDriver, schema: string | undefined): Promise<{ columns: Column[]; keys: Map<string, string>; fks: ForeignKey[] }> {
  const name = driver.dialect.name;
  if (name === 'sqlite') {
    const tables = await driver.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name", []);
    const columns: Column[] = [];
    const keys = new Map<string, string>();
    const fks: ForeignKey[] = [];
    for (const t of tables) {
      const table = String(t.name);
      for (const c of await driver.query('SELECT name, type, pk FROM pragma_table_info(?)', [table])) {
        columns.push({ table, name: String(c.name), type: String(c.type).toLowerCase() });
        if (Number(c.pk) === 1) keys.set(table, String(c.name));
      }
      for (const f of await driver.query('SELECT "from" AS col, "table" AS target FROM pragma_foreign_key_list(?)', [table])) fks.push({ table, column: String(f.col), target: String(f.target) });
    }
    return { columns, keys, fks };
  }
  const p = (n: number): string => driver.dialect.placeholder(n);
  const schemaCond = name === 'mysql' ? (schema ? `table_schema = ${p(1)}` : 'table_schema = DATABASE()') : `table_schema = ${p(1)}`;
  const params = name === 'mysql' && !schema ? [] : [schema ?? (name === 'mssql' ? 'dbo' : 'public')];
  const columns = (
    await driver.query(`SELECT table_name AS t, column_name AS c, data_type AS d FROM information_schema.columns WHERE ${schemaCond} ORDER BY table_name, ordinal_position`, params)
  ).map((r) => ({ table: String(r.t ?? r.T ?? r.TABLE_NAME), name: String(r.c ?? r.C ?? r.COLUMN_NAME), type: String(r.d ?? r.D ?? r.DATA_TYPE).toLowerCase() }));
  const constraints = await driver.query(
    `SELECT k.table_name AS t, k.column_name AS c, tc.constraint_type AS kind, ccu.table_name AS target
       FROM information_schema.key_column_usage k
       JOIN information_schema.table_constraints tc ON tc.constraint_name = k.constraint_name AND tc.table_schema = k.table_schema AND tc.table_name = k.table_name
       LEFT JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = k.constraint_name AND ccu.constraint_schema = k.table_schema AND tc.constraint_type = 'FOREIGN KEY'
      WHERE ${schemaCond.replace('table_schema', 'k.table_schema')}`,
    params,
  ).catch(() => []);
  const keys = new Map<string, string>();
  const fks: ForeignKey[] = [];
  for (const r of constraints) {
    const t = String(r.t ?? r.T);
    if (r.kind === 'PRIMARY KEY' || r.KIND === 'PRIMARY KEY') keys.set(t, String(r.c ?? r.C));
    else if (r.target ?? r.TARGET) fks.push({ table: t, column: String(r.c ?? r.C), target: String(r.target ?? r.TARGET) });
  }
  return { columns, keys, fks };
}

const PATIENT_TABLE = /^(person|patient|patients|member|members|subject|subjects)$/i;
const DATE_TYPE = /date|time/;
const INT_TYPE = /int|serial|number|numeric\(\d+,0\)/;

/** A draft mapping (as YAML text) for the database at `url`. */
export async function introspect(url: string, schema?: string): Promise<string> {
  dialectOf(url);
  const driver = createDriver({ url, schema, poolSize: 1, statementTimeoutMs: 30_000 });
  try {
    const { columns, keys, fks } = await catalog(driver, schema);
    const tables = [...new Set(columns.map((c) => c.table))];
    const patientTable = tables.find((t) => PATIENT_TABLE.test(t));
    const patientKey = patientTable ? (keys.get(patientTable) ?? `${patientTable}_id`) : undefined;
    const resources: Record<string, unknown> = {};
    const notes: string[] = [];
    for (const table of tables) {
      const cols = columns.filter((c) => c.table === table);
      const id = keys.get(table) ?? cols.find((c) => c.name === `${table}_id` || c.name === 'id')?.name;
      if (!id) {
        notes.push(`${table}: no primary key found, not drafted`);
        continue;
      }
      const idType = INT_TYPE.test(cols.find((c) => c.name === id)?.type ?? '') ? 'integer' : 'string';
      const elements: Record<string, unknown> = {};
      const patientFk = fks.find((f) => f.table === table && f.target === patientTable)?.column ?? cols.find((c) => patientKey && c.name === patientKey && table !== patientTable)?.name;
      if (patientFk) elements.subject = { reference: 'Patient', column: patientFk };
      const date = cols.find((c) => DATE_TYPE.test(c.type) && /start|date|birth/.test(c.name));
      if (date) elements[table === patientTable ? 'birthDate' : 'effectiveDateTime'] = { column: date.name, as: /time/.test(date.type) ? 'dateTime' : 'date' };
      const code = cols.find((c) => /(_code|_concept_id)$/.test(c.name) && !/type|source|status|unit/.test(c.name));
      if (code) elements.code = { concept: { column: code.name, system: 'TODO: the code system URI (or use a lookup)' } };
      for (const f of fks.filter((k) => k.table === table && k.column !== patientFk)) elements[`TODO_${f.column}`] = { reference: 'TODO', column: f.column };
      const type: ResourceType | string = table === patientTable ? 'Patient' : `TODO_${table}`;
      resources[type] = { table, id, idType, elements };
    }
    const header = [
      `# Draft mapping for ${url.replace(/\/\/[^@/]*@/, '//')}${schema ? ` (schema ${schema})` : ''}, from the database catalog.`,
      '# Rename each TODO_ key to a FHIR resource type, fix systems and references; see docs/sources/sql.md.',
      ...notes.map((n) => `# ${n}`),
    ].join('\n');
    return `${header}\n${stringify({ lookups: {}, resources }, { lineWidth: 0 })}`;
  } finally {
    await driver.close();
  }
}
