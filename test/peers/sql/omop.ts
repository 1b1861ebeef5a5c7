/**
 * The shared OMOP CDM v5.4 database (`../shared/data/omop-synthea27nj-5.4.zip`: one CSV per table,
 * upper-case file names, lower-case headers) as a dataset. Columns are matched by header name, not
 * position (VISIT_DETAIL's header swaps two columns against the DDL). Empty fields are NULL: the
 * export writes NULL text as `""` (e.g. CONCEPT.standard_concept). Dates are ISO (`2013-05-17`,
 * `2013-05-17 00:00:00`), which all three databases take as they are.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { sharedDataDir } from './config';
import { parseCsv } from './csv';
import { sha256, type DatasetSource, type TableRows } from './dataset';
import { OMOP_TABLES } from './omop-tables';
import { zipEntries } from './zip';

/** Bump when the way rows are read changes (the table definitions are hashed as they are). */
const FORMAT = 'omop-csv-1';

export function omopArchivePath(repoRoot: string): string {
  return join(sharedDataDir(repoRoot), 'omop-synthea27nj-5.4.zip');
}

/** The archive's CSV entries (without `__MACOSX/`), by lower-case table name. */
export function omopCsvEntries(archive: string): Map<string, () => Buffer> {
  const entries = new Map<string, () => Buffer>();
  for (const entry of zipEntries(archive)) {
    if (entry.name.startsWith('__MACOSX/') || !entry.name.toLowerCase().endsWith('.csv')) continue;
    entries.set(basename(entry.name, '.csv').toLowerCase(), () => entry.read());
  }
  return entries;
}

/** Undefined when the shared archive is absent. */
export function omopDataset(repoRoot: string): DatasetSource | undefined {
  const archive = omopArchivePath(repoRoot);
  if (!existsSync(archive)) return undefined;
  return {
    name: 'omop',
    tables: OMOP_TABLES,
    hash: () => sha256(FORMAT, JSON.stringify(OMOP_TABLES), readFileSync(archive)),
    read() {
      const data = new Map<string, TableRows>();
      for (const [name, read] of omopCsvEntries(archive)) {
        const t = OMOP_TABLES.find((candidate) => candidate.name === name);
        if (!t) throw new Error(`${archive}: no OMOP table definition for ${name}.csv`);
        const csv = parseCsv(read().toString('utf8'));
        const known = new Set(t.columns.map((c) => c.name));
        const unknown = csv.header.filter((h) => !known.has(h));
        if (unknown.length) throw new Error(`${name}.csv: columns not in the OMOP ${name} table: ${unknown.join(', ')}`);
        data.set(name, {
          columns: csv.header,
          rows: csv.rows.map((row) => row.map((value) => (value === '' ? null : value))),
        });
      }
      return data;
    },
  };
}
