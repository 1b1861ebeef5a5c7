/**
 * `healthgraph sql introspect`: a draft mapping read from the live catalog of each test database
 * (the OMOP CDM in SQLite, PostgreSQL and MariaDB): the person table becomes Patient with its key,
 * the clinical tables reference it through their person column, code columns and dates are found,
 * credentials never appear, and bad input is a plain message.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { introspect } from '../../../connectors/sql/introspect';
import { describeSql, REPO_ROOT, sqlSchema, sqlUrl, SQL_DBS, type SqlDb } from '../../support/sql';

const run = promisify(execFile);

interface Draft {
  lookups: Record<string, unknown>;
  resources: Record<string, { table: string; id: string; idType: string; elements: Record<string, { reference?: string; column?: string; concept?: { column: string } }> }>;
}

function byTable(draft: Draft, table: string): Draft['resources'][string] | undefined {
  return Object.values(draft.resources).find((r) => r.table === table);
}

for (const db of SQL_DBS as readonly SqlDb[]) {
  describeSql(db, 'omop', `sql introspect on the OMOP CDM in ${db}`, () => {
    let text: string;
    let draft: Draft;

    beforeAll(async () => {
      text = await introspect(sqlUrl(db, 'omop'), sqlSchema(db, 'omop'));
      draft = parseYaml(text) as Draft;
    });

    it('drafts the person table as Patient, with its integer key and birth date', () => {
      const patient = draft.resources.Patient!;
      expect(patient).toMatchObject({ table: 'person', id: 'person_id', idType: 'integer' });
      expect(patient.elements.birthDate?.column).toMatch(/birth/);
    });

    it('links the clinical tables to the patient through their person column, with their code column', () => {
      for (const [table, code] of [
        ['condition_occurrence', 'condition_concept_id'],
        ['drug_exposure', 'drug_concept_id'],
        ['visit_occurrence', 'visit_concept_id'],
      ] as const) {
        const drafted = byTable(draft, table);
        expect(drafted).toBeDefined();
        expect(drafted!.elements.subject).toEqual({ reference: 'Patient', column: 'person_id' });
        expect(drafted!.elements.code?.concept?.column).toBe(code);
      }
    });

    it('marks what it cannot know as TODO, and names the database without its credentials', () => {
      expect(Object.keys(draft.resources).filter((k) => k !== 'Patient').every((k) => k.startsWith('TODO_'))).toBe(true);
      expect(text).toContain('Rename each TODO_ key');
      // The header names the database without its credentials.
      const header = text.split('\n', 1)[0]!;
      expect(header).toMatch(/^# Draft mapping for /);
      expect(header).not.toMatch(/\/\/[^/]*@/);
    });
  });
}

describe('healthgraph sql introspect (CLI)', () => {
  const bin = join(REPO_ROOT, 'bin', 'healthgraph');

  it('a URL of an unknown kind is a plain message and a failing exit code', async () => {
    const failure = await run(bin, ['sql', 'introspect', 'ftp://example.org/db']).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/^healthgraph: unsupported database URL scheme "ftp"/);
    expect(failure?.stderr).not.toMatch(/\n\s+at /);
  });

  it('no URL is a usage message', async () => {
    const failure = await run(bin, ['sql', 'introspect']).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toMatch(/needs one database URL/);
  });
});
