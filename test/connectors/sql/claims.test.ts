/**
 * The `claims` preset over the claims warehouse (docs/sources/claims-layout.md) in PostgreSQL,
 * MariaDB and SQLite: members, eligibility, claims with diagnoses and lines, pharmacy claims and
 * EOBs as FHIR, against plain SQL on the raw tables.
 */
import type { SqlConnector, StatementEvent } from '../../../connectors/sql/connector';
import type { Criterion, ResourceType, SearchRequest } from '../../../connectors/types';
import { describeSql, openSql, presetConnector, SQL_DBS, type SqlConnection } from '../../support/sql';

const ctx = { requestId: 'test' };
const request = (type: ResourceType, criteria: Criterion[] = [], extra: Partial<SearchRequest> = {}): SearchRequest => ({
  type,
  criteria,
  sort: [{ field: 'date', direction: 'desc' }],
  limit: 100_000,
  offset: 0,
  wantTotal: false,
  ...extra,
});
type Json = Record<string, unknown>;

for (const db of SQL_DBS) {
  describeSql(db, 'claims', `the claims preset in ${db}`, () => {
    let connector: SqlConnector;
    let raw: SqlConnection;
    const statements: StatementEvent[] = [];
    beforeAll(async () => {
      connector = presetConnector(db, 'claims', (e) => statements.push(e));
      raw = await openSql(db, 'claims');
    });
    afterAll(async () => {
      await connector.close();
      await raw.close();
    });

    test('every mapped type has as many records as its rows', async () => {
      const expected: [ResourceType, string][] = [
        ['Patient', 'SELECT COUNT(*) FROM member'],
        ['Coverage', 'SELECT COUNT(*) FROM eligibility'],
        ['Claim', 'SELECT COUNT(*) FROM claim_header'],
        ['ExplanationOfBenefit', 'SELECT COUNT(*) FROM eob'],
        ['Organization', "SELECT COUNT(*) FROM provider WHERE provider_kind = 'organization'"],
        ['Practitioner', "SELECT COUNT(*) FROM provider WHERE provider_kind = 'individual'"],
      ];
      for (const [type, sql] of expected) {
        const want = Number(await raw.scalar(sql));
        expect({ type, total: (await connector.search(request(type, [], { limit: 1, wantTotal: true }), ctx)).total }).toEqual({ type, total: want });
      }
    });

    test("a member's claims carry their diagnoses, lines and totals; pages fetch child rows in one statement each", async () => {
      const member = String(await raw.scalar('SELECT member_id FROM claim_header GROUP BY member_id ORDER BY COUNT(*) DESC, member_id LIMIT 1'));
      const headers = await raw.query<{ id: string; total: number; type: string }>('SELECT claim_id AS id, total_billed AS total, claim_type AS type FROM claim_header WHERE member_id = ?', [member]);
      const lines = await raw.query<{ id: string; n: number; billed: number }>(
        'SELECT l.claim_id AS id, COUNT(*) AS n, SUM(l.billed_amount) AS billed FROM claim_line l JOIN claim_header h ON h.claim_id = l.claim_id WHERE h.member_id = ? GROUP BY l.claim_id',
        [member],
      );
      const dx = await raw.query<{ id: string; code: string; system: string }>(
        'SELECT d.claim_id AS id, d.dx_code AS code, d.dx_code_system AS system FROM claim_diagnosis d JOIN claim_header h ON h.claim_id = d.claim_id WHERE h.member_id = ? AND d.dx_sequence = 1',
        [member],
      );
      statements.length = 0;
      const { records } = await connector.search(request('Claim', [{ param: 'patient', ids: [member] }]), ctx);
      expect(records.map((r) => r.id).sort()).toEqual(headers.map((h) => h.id).sort());
      expect(statements.map((s) => s.operation).sort()).toEqual(['SELECT Claim by patient', 'SELECT Claim claim_diagnosis rows', 'SELECT Claim claim_line rows']);
      const byId = new Map(records.map((r) => [r.id, r.resource]));
      for (const header of headers) {
        const claim = byId.get(header.id)!;
        expect((claim.total as Json).value).toBeCloseTo(Number(header.total), 2);
        expect((claim.type as { coding: Json[] }).coding[0]).toEqual({ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: header.type });
        const line = lines.find((l) => l.id === header.id);
        const items = (claim.item as { net?: { value: number } }[] | undefined) ?? [];
        if (header.type === 'pharmacy') expect(items).toHaveLength(1);
        else {
          expect(items).toHaveLength(Number(line?.n ?? 0));
          expect(items.reduce((s, i) => s + (i.net?.value ?? 0), 0)).toBeCloseTo(Number(line?.billed ?? 0), 2);
        }
        const principal = dx.find((d) => d.id === header.id);
        const diagnosis = (claim.diagnosis as { sequence: number; diagnosisCodeableConcept: { coding: Json[] } }[] | undefined) ?? [];
        if (principal) expect(diagnosis[0]!.diagnosisCodeableConcept.coding[0]).toMatchObject({ code: principal.code, system: principal.system === 'SNOMED' ? 'http://snomed.info/sct' : 'http://hl7.org/fhir/sid/icd-10-cm' });
      }
    });

    test('EOBs carry their claim, adjudicated line amounts and paid totals', async () => {
      const rows = await raw.query<{ id: string; claim: string; paid: number; allowed: number | null }>(
        'SELECT e.eob_id AS id, e.claim_id AS claim, e.total_paid AS paid, (SELECT SUM(l.paid_amount) FROM claim_line l WHERE l.claim_id = e.claim_id) AS allowed FROM eob e ORDER BY e.eob_id LIMIT 40',
      );
      const records = await connector.getByIds('ExplanationOfBenefit', rows.map((r) => r.id), ctx);
      const byId = new Map(records.map((r) => [r.id, r.resource]));
      for (const row of rows) {
        const eob = byId.get(row.id)!;
        expect(eob.claim).toEqual({ reference: `Claim/${row.claim}` });
        expect(((eob.payment as Json).amount as Json).value).toBeCloseTo(Number(row.paid), 2);
        const benefit = ((eob.item as { adjudication?: { category: { coding: Json[] }; amount: { value: number } }[] }[] | undefined) ?? [])
          .flatMap((i) => i.adjudication ?? [])
          .filter((a) => a.category.coding[0]!.code === 'benefit')
          .reduce((s, a) => s + a.amount.value, 0);
        expect(benefit).toBeCloseTo(Number(row.allowed ?? 0), 2);
      }
    });

    test('members are found by name prefix, identifier and birth date in SQL', async () => {
      const member = (await raw.query<{ id: string; last: string; ssn: string | null; birth: string }>('SELECT member_id AS id, last_name AS last, ssn, birth_date AS birth FROM member WHERE ssn IS NOT NULL ORDER BY member_id LIMIT 1'))[0]!;
      const prefix = member.last.slice(0, 3).toLowerCase();
      const want = (await raw.query<{ id: string }>('SELECT member_id AS id FROM member WHERE LOWER(last_name) LIKE ? OR LOWER(first_name) LIKE ? OR LOWER(middle_name) LIKE ?', [`${prefix}%`, `${prefix}%`, `${prefix}%`])).map((r) => r.id).sort();
      const byName = await connector.search(request('Patient', [{ param: 'name', text: prefix.toUpperCase() }], { sort: [{ field: 'name', direction: 'asc' }] }), ctx);
      expect(byName.records.map((r) => r.id).sort()).toEqual(want);
      const bySsn = await connector.search(request('Patient', [{ param: 'identifier', tokens: [{ system: 'http://hl7.org/fhir/sid/us-ssn', code: member.ssn! }] }]), ctx);
      expect(bySsn.records.map((r) => r.id)).toEqual([member.id]);
      const born = await connector.search(request('Patient', [{ param: 'birthdate', range: { from: String(member.birth).slice(0, 10), to: String(member.birth).slice(0, 10) } }]), ctx);
      expect(born.records.map((r) => r.id)).toContain(member.id);
    });

    test('claims are found by claim type in SQL', async () => {
      const pharmacy = Number(await raw.scalar("SELECT COUNT(*) FROM claim_header WHERE claim_type = 'pharmacy'"));
      const byType = await connector.search(request('Claim', [{ param: 'code', tokens: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'pharmacy' }] }], { limit: 1, wantTotal: true }), ctx);
      expect(byType.total).toBe(pharmacy);
    });
  });
}
