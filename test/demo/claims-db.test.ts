/**
 * The demo's claims warehouse (`make run`, source `claims`): built from the same generated population
 * as the demo FHIR server, it holds what the generated bundles say — per patient and in total, the
 * number of claims, what was billed and what the payer paid. Expectations are computed here, straight
 * from the generator's bundles, never through the warehouse builder. Needs no services (SQLite).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MRN_SYSTEM, generatePopulation, type FhirBundle } from '../../src/demo/generate';
import { cents } from '../peers/sql/claims/build';
import { buildDemoClaimsDb, parseDemoClaimsArgs } from '../peers/sql/claims/demo';

const POPULATION = { patients: 12, seed: 3 };

interface Totals {
  claims: number;
  billedCents: number;
  eobs: number;
  paidCents: number;
  items: number;
  diagnoses: number;
}

interface Json {
  [key: string]: unknown;
}

/** Per MRN, from the generated bundles. */
function generatedTotals(bundles: FhirBundle[]): Map<string, Totals> {
  const totals = new Map<string, Totals>();
  for (const bundle of bundles) {
    const resources = bundle.entry.map((e) => e.resource as Json);
    const patient = resources.find((r) => r.resourceType === 'Patient') as { identifier: { system: string; value: string }[] };
    const mrn = patient.identifier.find((i) => i.system === MRN_SYSTEM)?.value ?? '';
    const t: Totals = { claims: 0, billedCents: 0, eobs: 0, paidCents: 0, items: 0, diagnoses: 0 };
    for (const r of resources) {
      if (r.resourceType === 'Claim') {
        const claim = r as { total: { value: number }; item: unknown[]; diagnosis?: unknown[] };
        t.claims += 1;
        t.billedCents += cents(claim.total.value);
        t.items += claim.item.length;
        t.diagnoses += claim.diagnosis?.length ?? 0;
      } else if (r.resourceType === 'ExplanationOfBenefit') {
        t.eobs += 1;
        t.paidCents += cents((r as { payment: { amount: { value: number } } }).payment.amount.value);
      }
    }
    totals.set(mrn, t);
  }
  return totals;
}

const num = (value: unknown): number => Number(value ?? 0);

describe('the demo claims warehouse', () => {
  let dir: string;
  let file: string;
  let db: Database.Database;
  let source: Map<string, Totals>;

  beforeAll(async () => {
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    dir = mkdtempSync(join(tmpdir(), 'hg-demo-claims-'));
    file = join(dir, 'claims.db');
    source = generatedTotals(generatePopulation(POPULATION));
    expect(await buildDemoClaimsDb({ ...POPULATION, file })).toBe(true);
    db = new Database(file, { readonly: true, fileMustExist: true });
  });

  afterAll(() => {
    jest.restoreAllMocks();
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const all = <T = Record<string, unknown>>(sql: string, ...params: unknown[]): T[] => db.prepare(sql).all(...params) as T[];

  it('builds once: a second run with the same population leaves the file alone, another seed rebuilds it', async () => {
    const before = statSync(file).mtimeMs;
    expect(await buildDemoClaimsDb({ ...POPULATION, file })).toBe(false);
    expect(statSync(file).mtimeMs).toBe(before);
    const other = join(dir, 'other.db');
    expect(await buildDemoClaimsDb({ ...POPULATION, seed: POPULATION.seed + 1, file: other })).toBe(true);
    expect(await buildDemoClaimsDb({ ...POPULATION, file: other })).toBe(true);
    expect(await buildDemoClaimsDb({ ...POPULATION, file: other, force: true })).toBe(true);
  });

  it('has one member per generated patient, A-1, A-2, … in order, cross-referenced by MRN', () => {
    const members = all<{ member_id: string; source_id: string }>(
      'SELECT m.member_id, x.source_id FROM member m JOIN member_xref x ON x.member_id = m.member_id AND x.source_system = ? ORDER BY x.source_id',
      MRN_SYSTEM,
    );
    expect(members.map((m) => m.source_id)).toEqual([...source.keys()]);
    expect(members.map((m) => m.member_id)).toEqual([...source.keys()].map((_, i) => `A-${i + 1}`));
  });

  it('holds, per patient, as many claims as the bundles, billed and paid to the cent', () => {
    const rows = all(
      `SELECT x.source_id, COUNT(*) AS claims, SUM(h.total_billed) AS billed,
              (SELECT COUNT(*) FROM eob e JOIN claim_header c ON c.claim_id = e.claim_id WHERE c.member_id = h.member_id) AS eobs,
              (SELECT SUM(e.total_paid) FROM eob e JOIN claim_header c ON c.claim_id = e.claim_id WHERE c.member_id = h.member_id) AS paid
         FROM claim_header h JOIN member_xref x ON x.member_id = h.member_id AND x.source_system = ?
        GROUP BY x.source_id, h.member_id`,
      MRN_SYSTEM,
    );
    const actual = Object.fromEntries(
      rows.map((r) => [
        r.source_id,
        { claims: num(r.claims), billedCents: Math.round(num(r.billed) * 100), eobs: num(r.eobs), paidCents: Math.round(num(r.paid) * 100) },
      ]),
    );
    const expected = Object.fromEntries(
      [...source].map(([mrn, t]) => [mrn, { claims: t.claims, billedCents: t.billedCents, eobs: t.eobs, paidCents: t.paidCents }]),
    );
    expect(actual).toEqual(expected);
  });

  it('holds the totals of the whole population: claims, lines, diagnoses, billed, EOBs, paid', () => {
    const sum = (pick: (t: Totals) => number) => [...source.values()].reduce((s, t) => s + pick(t), 0);
    const header = all('SELECT COUNT(*) AS claims, SUM(total_billed) AS billed FROM claim_header')[0] ?? {};
    const eob = all('SELECT COUNT(*) AS eobs, SUM(total_paid) AS paid FROM eob')[0] ?? {};
    const lines = all('SELECT COUNT(*) AS n, SUM(billed_amount) AS billed FROM claim_line')[0] ?? {};
    const diagnoses = all('SELECT COUNT(*) AS n FROM claim_diagnosis')[0] ?? {};
    expect({
      claims: num(header.claims),
      billedCents: Math.round(num(header.billed) * 100),
      lines: num(lines.n),
      linesBilledCents: Math.round(num(lines.billed) * 100),
      diagnoses: num(diagnoses.n),
      eobs: num(eob.eobs),
      paidCents: Math.round(num(eob.paid) * 100),
    }).toEqual({
      claims: sum((t) => t.claims),
      billedCents: sum((t) => t.billedCents),
      lines: sum((t) => t.items),
      linesBilledCents: sum((t) => t.billedCents),
      diagnoses: sum((t) => t.diagnoses),
      eobs: sum((t) => t.eobs),
      paidCents: sum((t) => t.paidCents),
    });
    expect(sum((t) => t.claims)).toBeGreaterThan(POPULATION.patients * 3 - 1);
  });

  it('covers every claim by its member’s Coverage span, with the payer the Coverage names', () => {
    const outside = all(
      `SELECT h.claim_id FROM claim_header h LEFT JOIN eligibility e ON e.eligibility_id = h.eligibility_id
        WHERE e.eligibility_id IS NULL OR e.payer_id <> h.payer_id OR e.member_id <> h.member_id
           OR h.from_date < e.start_date OR (e.end_date IS NOT NULL AND h.from_date > e.end_date)`,
    );
    expect(outside).toEqual([]);
    expect(num(all('SELECT COUNT(*) AS n FROM eligibility')[0]?.n)).toBe(POPULATION.patients);
    const payers = all<{ payer_id: string; payer_type: string }>('SELECT payer_id, payer_type FROM payer ORDER BY payer_id');
    expect(payers.length).toBeGreaterThan(0);
    for (const p of payers) expect(p.payer_id).toMatch(/^PAYER-/);
    // Payer organizations are not billing providers.
    expect(all("SELECT * FROM provider WHERE source_id LIKE 'PAYER-%'")).toEqual([]);
  });

  it('parses its command line: defaults, --patients, --seed, --out relative to the working directory', () => {
    const defaults = parseDemoClaimsArgs([]);
    expect(defaults).toMatchObject({ patients: 40, seed: 1 });
    expect(defaults.file).toMatch(/\.services\/demo\/claims\.db$/);
    expect(parseDemoClaimsArgs(['--patients', '5', '--seed', '9', '--out', 'x/c.db', '--force'], '/tmp/w')).toEqual({
      patients: 5,
      seed: 9,
      file: '/tmp/w/x/c.db',
      force: true,
    });
    expect(() => parseDemoClaimsArgs(['--patients', '-1'])).toThrow(/non-negative integer/);
    expect(() => parseDemoClaimsArgs(['--bogus'])).toThrow(/unknown argument/);
  });
});
