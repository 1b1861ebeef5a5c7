import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachCandidatePair } from '../../src/identity/blocking';
import { MemoryLinkStore, PatientIndex, SqliteLinkStore } from '../../src/identity';
import { standardizePatient } from '../../src/identity/standardize';
import { RecordTable } from '../../src/identity/table';
import { ANN, patient, type PersonSpec } from './fixtures';

const BOB: PersonSpec = { given: 'Robert', family: 'Stone', birthDate: '1971-09-30', gender: 'male', line: '4 Pine Lane', zip: '02139', phone: '555-777-1212', ssn: '234-56-7891' };
const letters = (n: number): string => 'Q' + [n % 26, Math.floor(n / 26) % 26, Math.floor(n / 676) % 26].map((c) => String.fromCharCode(97 + c)).join('') + 'son';
const ref = (source: string, id: string, spec: PersonSpec) => ({ source, id, resource: patient(spec) });

describe('blocking', () => {
  it('puts true matches with an error in any single field into a shared block, and compares far fewer than n² pairs', () => {
    const table = new RecordTable();
    const variants: PersonSpec[] = [
      { ...ANN, family: 'Kellner' },
      { ...ANN, given: 'Anne' },
      { ...ANN, birthDate: '1980-12-04' },
      { ...ANN, birthDate: '1989-04-12' },
      { ...ANN, line: '1 Other Road', zip: '99999' },
      { ...ANN, given: 'Keller', family: 'Ann' },
    ];
    const base = table.add(standardizePatient('s', 'base', patient(ANN)));
    const rows = [base, ...variants.map((v, k) => table.add(standardizePatient('s', `v${k}`, patient(v))))];
    for (let k = 0; k < 200; k++) rows.push(table.add(standardizePatient('s', `o${k}`, patient({ ...BOB, given: letters(k * 7 + 3), family: letters(k * 13 + 5), zip: String(10000 + k), birthDate: `19${10 + (k % 80)}-0${1 + (k % 9)}-1${k % 10}`, ssn: undefined, phone: undefined }))));
    const seen = new Set<string>();
    const stats = forEachCandidatePair(table, Int32Array.from(rows), (i, j) => seen.add(`${Math.min(i, j)}-${Math.max(i, j)}`));
    for (let k = 1; k <= variants.length; k++) expect(seen.has(`${base}-${rows[k]}`)).toBe(true);
    expect(stats.pairsCompared).toBe(seen.size);
    expect(stats.pairsCompared).toBeLessThan(stats.allPairs / 10);
  });
});

describe('the patient index', () => {
  it('links one person across sources, keeps others apart, and explains the links', async () => {
    const index = await PatientIndex.open(new MemoryLinkStore());
    index.addRecords([ref('ehr', 'e1', ANN), ref('claims', 'c1', { ...ANN, given: 'Annie', ssn: undefined }), ref('lake', 'l1', { ...ANN, family: 'KELLER' }), ref('ehr', 'e2', BOB)]);
    const report = await index.build();
    expect(report.records).toBe(4);
    expect(report.persons).toBe(2);
    const person = index.personOf('ehr', 'e1') as string;
    expect(index.personOf('claims', 'c1')).toBe(person);
    expect(index.personOf('lake', 'l1')).toBe(person);
    expect(index.personOf('ehr', 'e2')).not.toBe(person);
    expect(index.recordsOf(person).map((r) => `${r.source}/${r.recordId}:${r.grade}`).sort()).toEqual(['claims/c1:certain', 'ehr/e1:certain', 'lake/l1:certain']);
    expect(index.recordsOf(index.personOf('ehr', 'e2') as string)).toEqual([{ source: 'ehr', recordId: 'e2', grade: 'certain', basis: 'self' }]);
    expect(index.explain({ source: 'ehr', recordId: 'e1' }, { source: 'claims', recordId: 'c1' })?.fields.find((f) => f.field === 'given')?.level).toBe('nickname');
  });

  it('does not chain two look-alike people through a record that resembles both', async () => {
    const index = await PatientIndex.open(new MemoryLinkStore());
    // Twins share everything but the given name; a record with only an initial resembles both.
    const twinA = { ...ANN, given: 'Ann', ssn: undefined };
    const twinB = { ...ANN, given: 'Amy', ssn: undefined };
    index.addRecords([ref('ehr', 'a', twinA), ref('claims', 'a', twinA), ref('ehr', 'b', twinB), ref('claims', 'b', twinB), ref('lake', 'x', { ...ANN, given: 'A', ssn: undefined })]);
    await index.build();
    expect(index.personOf('ehr', 'a')).toBe(index.personOf('claims', 'a'));
    expect(index.personOf('ehr', 'b')).toBe(index.personOf('claims', 'b'));
    expect(index.personOf('ehr', 'a')).not.toBe(index.personOf('ehr', 'b'));
  });

  it('lets manual links and unlinks win over automatic decisions, audited, and keeps them across builds', async () => {
    const index = await PatientIndex.open(new MemoryLinkStore());
    index.addRecords([ref('ehr', 'e1', ANN), ref('claims', 'c1', ANN), ref('lake', 'l1', { ...ANN, given: 'Zelda', ssn: undefined, birthDate: '1980' })]);
    await index.build();
    expect(index.personOf('ehr', 'e1')).toBe(index.personOf('claims', 'c1'));
    expect(index.personOf('lake', 'l1')).not.toBe(index.personOf('ehr', 'e1'));
    await index.unlink({ source: 'ehr', recordId: 'e1' }, { source: 'claims', recordId: 'c1' }, 'admin@site', 'two people sharing an SSN');
    await index.link({ source: 'ehr', recordId: 'e1' }, { source: 'lake', recordId: 'l1' }, 'admin@site', 'registration error, confirmed by phone');
    expect(index.personOf('ehr', 'e1')).not.toBe(index.personOf('claims', 'c1'));
    expect(index.personOf('ehr', 'e1')).toBe(index.personOf('lake', 'l1'));
    await index.build();
    expect(index.personOf('ehr', 'e1')).not.toBe(index.personOf('claims', 'c1'));
    expect(index.personOf('ehr', 'e1')).toBe(index.personOf('lake', 'l1'));
    expect(index.recordsOf(index.personOf('lake', 'l1') as string).find((r) => r.source === 'lake')?.basis).toBe('manual');
    expect(index.decisionLog().map((d) => `${d.action} by ${d.by}: ${d.reason}`)).toEqual(['unlink by admin@site: two people sharing an SSN', 'link by admin@site: registration error, confirmed by phone']);
  });

  it('links a new or changed record incrementally, keeping person ids stable', async () => {
    const index = await PatientIndex.open(new MemoryLinkStore());
    index.addRecords([ref('ehr', 'e1', ANN), ref('ehr', 'e2', BOB)]);
    await index.build();
    const ann = index.personOf('ehr', 'e1');
    const bob = index.personOf('ehr', 'e2');
    expect(await index.linkRecord(ref('claims', 'c9', { ...ANN, family: 'Kellar' }))).toBe(ann);
    expect(index.recordsOf(ann as string)).toHaveLength(2);
    // The claims record is corrected to someone else: it leaves Ann and joins Bob.
    expect(await index.linkRecord(ref('claims', 'c9', { ...BOB, given: 'Bob' }))).toBe(bob);
    expect(index.recordsOf(ann as string)).toHaveLength(1);
    expect(index.personOf('ehr', 'e1')).toBe(ann);
  });

  it('answers $match-style queries with graded candidates', async () => {
    const index = await PatientIndex.open(new MemoryLinkStore());
    index.addRecords([ref('ehr', 'e1', ANN), ref('ehr', 'e2', BOB)]);
    await index.build();
    const candidates = index.match(patient({ given: 'Annie', family: 'Keller', birthDate: '1980-04-12', gender: 'female' }));
    expect(candidates[0]).toMatchObject({ source: 'ehr', recordId: 'e1', personId: index.personOf('ehr', 'e1') });
    expect(['certain', 'probable']).toContain(candidates[0]?.grade);
    expect(candidates.some((c) => c.recordId === 'e2')).toBe(false);
    expect(index.table.length).toBe(2);
  });

  it('persists records, person ids, links and decisions in SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hg-identity-'));
    try {
      const file = join(dir, 'links.db');
      const first = await PatientIndex.open(new SqliteLinkStore(file));
      first.addRecords([ref('ehr', 'e1', ANN), ref('claims', 'c1', ANN), ref('ehr', 'e2', BOB)]);
      await first.build();
      await first.unlink({ source: 'ehr', recordId: 'e1' }, { source: 'claims', recordId: 'c1' }, 'admin', 'test');
      const persons = ['e1', 'e2'].map((id) => first.personOf('ehr', id));
      const second = await PatientIndex.open(new SqliteLinkStore(file));
      expect(['e1', 'e2'].map((id) => second.personOf('ehr', id))).toEqual(persons);
      expect(second.personOf('claims', 'c1')).not.toBe(second.personOf('ehr', 'e1'));
      expect(second.decisionLog()).toHaveLength(1);
      expect(second.match(patient(BOB))[0]?.recordId).toBe('e2');
      await second.build();
      expect(second.personOf('claims', 'c1')).not.toBe(second.personOf('ehr', 'e1'));
      expect(second.personOf('ehr', 'e1')).toBe(persons[0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
