/**
 * The claims warehouse holds what the Synthea bundles say, in PostgreSQL, MariaDB and SQLite: per
 * patient, the number of claims, what was billed and what the payer paid; lines that add up to their
 * claim; diagnoses, prescriptions and eligibility spans that fit. Expectations are computed here,
 * straight from the bundles' JSON, never through the warehouse builder.
 */
import { readFileSync } from 'node:fs';
import { syntheaBundleFiles } from '../peers/fhir/loader';
import { claimsPatientCount } from '../peers/sql/config';
import { cents } from '../peers/sql/claims/build';
import { searchAll } from '../support/services';
import { REPO_ROOT, SQL_DBS, describeSql, openSql, withSql, type SqlConnection } from '../support/sql';

const SYNTHEA = 'https://github.com/synthetichealth/synthea';

interface PatientTotals {
  claims: number;
  institutional: number;
  pharmacy: number;
  billedCents: number;
  eobs: number;
  paidCents: number;
  items: number;
  diagnoses: number;
}

interface Json {
  [key: string]: unknown;
}

let cachedTotals: Map<string, PatientTotals> | undefined;

/** Per Synthea patient id, straight from the first N bundles (the ones the warehouse and the FHIR peer load). */
function sourceTotals(): Map<string, PatientTotals> {
  if (cachedTotals) return cachedTotals;
  const totals = new Map<string, PatientTotals>();
  cachedTotals = totals;
  for (const file of syntheaBundleFiles(REPO_ROOT, claimsPatientCount()) ?? []) {
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as { entry: { resource: Json }[] };
    const resources = bundle.entry.map((e) => e.resource);
    const patient = resources.find((r) => r.resourceType === 'Patient') as { identifier: { system: string; value: string }[] };
    const id = patient.identifier.find((i) => i.system === SYNTHEA)?.value ?? '';
    const t: PatientTotals = { claims: 0, institutional: 0, pharmacy: 0, billedCents: 0, eobs: 0, paidCents: 0, items: 0, diagnoses: 0 };
    for (const r of resources) {
      if (r.resourceType === 'Claim') {
        const claim = r as { type: { coding: { code: string }[] }; total: { value: number }; item: unknown[]; diagnosis?: unknown[] };
        const type = claim.type.coding[0]?.code;
        t.claims += 1;
        if (type === 'pharmacy') t.pharmacy += 1;
        else {
          t.institutional += 1;
          t.items += claim.item.length;
        }
        t.billedCents += cents(claim.total.value);
        t.diagnoses += claim.diagnosis?.length ?? 0;
      } else if (r.resourceType === 'ExplanationOfBenefit') {
        t.eobs += 1;
        t.paidCents += cents((r as { payment: { amount: { value: number } } }).payment.amount.value);
      }
    }
    totals.set(id, t);
  }
  return totals;
}

const num = (value: unknown): number => Number(value ?? 0);

describe.each(SQL_DBS)('the claims warehouse in %s', (db) => {
  describeSql(db, 'claims', `claims in ${db}`, () => {
    let sql: SqlConnection;
    let source: Map<string, PatientTotals>;
    beforeAll(async () => {
      source = sourceTotals();
      sql = await openSql(db, 'claims');
    });
    afterAll(async () => {
      await sql?.close();
    });

    it('has one member per Synthea patient the FHIR peer loads, numbered A-1, A-2, …', async () => {
      expect(source.size).toBe(claimsPatientCount());
      const members = await sql.query<{ member_id: string; source_id: string }>(
        'SELECT m.member_id, x.source_id FROM member m JOIN member_xref x ON x.member_id = m.member_id AND x.source_system = ? ORDER BY m.member_id',
        [SYNTHEA],
      );
      expect(members.map((m) => m.source_id).sort()).toEqual([...source.keys()].sort());
      expect(new Set(members.map((m) => m.member_id))).toEqual(new Set([...source.keys()].map((_, i) => `A-${i + 1}`)));
    });

    it('holds, per patient, as many claims as the bundles, billed to the cent', async () => {
      const rows = await sql.query(
        `SELECT x.source_id, COUNT(*) AS claims, SUM(CASE WHEN h.claim_type = 'pharmacy' THEN 1 ELSE 0 END) AS pharmacy,
                SUM(h.total_billed) AS billed
           FROM claim_header h JOIN member_xref x ON x.member_id = h.member_id AND x.source_system = ?
          GROUP BY x.source_id`,
        [SYNTHEA],
      );
      const actual = Object.fromEntries(
        rows.map((r) => [r.source_id, { claims: num(r.claims), pharmacy: num(r.pharmacy), billedCents: Math.round(num(r.billed) * 100) }]),
      );
      const expected = Object.fromEntries(
        [...source]
          .filter(([, t]) => t.claims > 0)
          .map(([id, t]) => [id, { claims: t.claims, pharmacy: t.pharmacy, billedCents: t.billedCents }]),
      );
      expect(actual).toEqual(expected);
    });

    it('holds the totals of the whole source: claims, billed, EOBs, paid', async () => {
      const all = [...source.values()];
      const sum = (pick: (t: PatientTotals) => number) => all.reduce((s, t) => s + pick(t), 0);
      const header = (await sql.query('SELECT COUNT(*) AS claims, SUM(total_billed) AS billed FROM claim_header'))[0] ?? {};
      const eob = (await sql.query('SELECT COUNT(*) AS eobs, SUM(total_paid) AS paid FROM eob'))[0] ?? {};
      expect({
        claims: num(header.claims),
        billedCents: Math.round(num(header.billed) * 100),
        eobs: num(eob.eobs),
        paidCents: Math.round(num(eob.paid) * 100),
      }).toEqual({
        claims: sum((t) => t.claims),
        billedCents: sum((t) => t.billedCents),
        eobs: sum((t) => t.eobs),
        paidCents: sum((t) => t.paidCents),
      });
    });

    it('pays, per patient, what the explanations of benefit paid', async () => {
      const rows = await sql.query(
        `SELECT x.source_id, COUNT(*) AS eobs, SUM(e.total_paid) AS paid
           FROM eob e JOIN claim_header h ON h.claim_id = e.claim_id
           JOIN member_xref x ON x.member_id = h.member_id AND x.source_system = ?
          GROUP BY x.source_id`,
        [SYNTHEA],
      );
      const actual = Object.fromEntries(rows.map((r) => [r.source_id, { eobs: num(r.eobs), paidCents: Math.round(num(r.paid) * 100) }]));
      const expected = Object.fromEntries(
        [...source].filter(([, t]) => t.eobs > 0).map(([id, t]) => [id, { eobs: t.eobs, paidCents: t.paidCents }]),
      );
      expect(actual).toEqual(expected);
    });

    it('has a line per claim item, and the lines of a claim add up to its total billed and paid', async () => {
      const all = [...source.values()];
      expect(num(await sql.scalar('SELECT COUNT(*) FROM claim_line'))).toBe(all.reduce((s, t) => s + t.items, 0));
      const mismatched = await sql.query(
        `SELECT h.claim_id, h.total_billed, SUM(l.billed_amount) AS lines_billed
           FROM claim_header h JOIN claim_line l ON l.claim_id = h.claim_id
          GROUP BY h.claim_id, h.total_billed
         HAVING ABS(h.total_billed - SUM(l.billed_amount)) > 0.001`,
      );
      expect(mismatched).toEqual([]);
      // The EOB's payment and each line's payment are rounded to the cent separately: up to a cent apart per line.
      const unpaid = await sql.query(
        `SELECT e.claim_id FROM eob e
          WHERE ABS(e.total_paid - (SELECT COALESCE(SUM(l.paid_amount), 0) FROM claim_line l WHERE l.claim_id = e.claim_id))
                > 0.001 + 0.01 * (SELECT COUNT(*) FROM claim_line l WHERE l.claim_id = e.claim_id AND l.paid_amount IS NOT NULL)`,
      );
      expect(unpaid).toEqual([]);
    });

    it('gives every institutional claim its lines and every pharmacy claim a prescription, never both', async () => {
      const counts =
        (
          await sql.query(
            `SELECT SUM(CASE WHEN claim_type = 'pharmacy' THEN 1 ELSE 0 END) AS pharmacy,
                SUM(CASE WHEN claim_type = 'institutional' THEN 1 ELSE 0 END) AS institutional,
                (SELECT COUNT(*) FROM rx_claim) AS rx,
                (SELECT COUNT(*) FROM rx_claim r JOIN claim_line l ON l.claim_id = r.claim_id) AS both_kinds,
                (SELECT COUNT(*) FROM rx_claim WHERE rxnorm_code IS NULL) AS uncoded
           FROM claim_header`,
          )
        )[0] ?? {};
      const all = [...source.values()];
      expect({
        pharmacy: num(counts.pharmacy),
        institutional: num(counts.institutional),
        rx: num(counts.rx),
        both: num(counts.both_kinds),
        uncoded: num(counts.uncoded),
      }).toEqual({
        pharmacy: all.reduce((s, t) => s + t.pharmacy, 0),
        institutional: all.reduce((s, t) => s + t.institutional, 0),
        rx: all.reduce((s, t) => s + t.pharmacy, 0),
        both: 0,
        uncoded: 0,
      });
    });

    it('keeps the diagnoses of each claim, and line pointers name an existing diagnosis', async () => {
      expect(num(await sql.scalar('SELECT COUNT(*) FROM claim_diagnosis'))).toBe([...source.values()].reduce((s, t) => s + t.diagnoses, 0));
      const dangling = await sql.query(
        `SELECT l.claim_id, l.line_number FROM claim_line l
          WHERE l.dx_pointer_1 IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM claim_diagnosis d WHERE d.claim_id = l.claim_id AND d.dx_sequence = l.dx_pointer_1)`,
      );
      expect(dangling).toEqual([]);
    });

    it('covers every insured claim by an eligibility span of its payer that contains its date, and no self-pay claim', async () => {
      const outside = await sql.query(
        `SELECT h.claim_id FROM claim_header h JOIN eligibility e ON e.eligibility_id = h.eligibility_id
          WHERE e.payer_id <> h.payer_id OR e.member_id <> h.member_id
             OR h.from_date < e.start_date OR (e.end_date IS NOT NULL AND h.from_date > e.end_date)`,
      );
      expect(outside).toEqual([]);
      const wrong = await sql.query(
        `SELECT claim_id FROM claim_header
          WHERE (payer_id = 'SELFPAY' AND eligibility_id IS NOT NULL) OR (payer_id <> 'SELFPAY' AND eligibility_id IS NULL)`,
      );
      expect(wrong).toEqual([]);
    });
  });
});

describeSql('sqlite', 'claims', 'the claims warehouse and the FHIR peer', () => {
  it('know the same people: every member is a FHIR Patient under the same Synthea identifier, born the same day', async () => {
    const members = await withSql('sqlite', 'claims', (sql) =>
      sql.query<{ source_id: string; last_name: string; birth_date: string }>(
        'SELECT x.source_id, m.last_name, m.birth_date FROM member m JOIN member_xref x ON x.member_id = m.member_id AND x.source_system = ?',
        [SYNTHEA],
      ),
    );
    const patients = await searchAll('Patient');
    const fhir = new Map(
      patients.map((p) => {
        const identifiers = (p.identifier ?? []) as { system?: string; value?: string }[];
        const names = (p.name ?? []) as { family?: string }[];
        return [identifiers.find((i) => i.system === SYNTHEA)?.value, { last_name: names[0]?.family, birth_date: p.birthDate }];
      }),
    );
    const missing = members.filter((m) => {
      const patient = fhir.get(m.source_id);
      return patient?.last_name !== m.last_name || patient.birth_date !== m.birth_date;
    });
    expect(members.length).toBe(claimsPatientCount());
    expect(missing).toEqual([]);
  });
});
