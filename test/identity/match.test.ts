import { estimateWeights, PatternCounts } from '../../src/identity/em';
import { Comparator } from '../../src/identity/match';
import { standardizePatient } from '../../src/identity/standardize';
import { RecordTable } from '../../src/identity/table';
import { DEFAULT_WEIGHTS } from '../../src/identity/weights';
import { ANN, patient, type PersonSpec } from './fixtures';

function compare(a: PersonSpec, b: PersonSpec) {
  const table = new RecordTable();
  const i = table.add(standardizePatient('x', 'a', patient(a)));
  const j = table.add(standardizePatient('y', 'b', patient(b)));
  const e = new Comparator(table).explain(i, j);
  const level = (field: string): string | undefined => e.fields.find((f) => f.field === field)?.level;
  return { ...e, level };
}

describe('comparing two patient records', () => {
  it('grades identical demographics certain and explains every field with its weight', () => {
    const e = compare(ANN, ANN);
    expect(e.grade).toBe('certain');
    expect(e.fields.map((f) => f.field)).toEqual(['given', 'family', 'middle', 'birthDate', 'sex', 'address', 'phone', 'email', 'ssn']);
    expect(e.fields.find((f) => f.field === 'birthDate')).toMatchObject({ level: 'exact' });
    expect(e.fields.find((f) => f.field === 'email')).toEqual({ field: 'email', level: 'missing', weight: 0 });
  });

  it('recognizes typos, nicknames, phonetic spellings and initials in names', () => {
    expect(compare(ANN, { ...ANN, family: 'Kellar' }).level('family')).toBe('fuzzy');
    expect(compare({ ...ANN, given: 'William' }, { ...ANN, given: 'Bill' }).level('given')).toBe('nickname');
    expect(compare({ ...ANN, given: 'Kate' }, { ...ANN, given: 'Katherin' }).level('given')).toBe('nickname');
    expect(compare({ ...ANN, family: 'Schmidt' }, { ...ANN, family: 'Smidt' }).level('family')).toBe('phonetic');
    expect(compare({ ...ANN, given: 'A' }, ANN).level('given')).toBe('initial');
    expect(compare({ ...ANN, middle: 'J' }, { ...ANN, middle: 'Jane' }).level('middle')).toBe('initial');
  });

  it('tolerates birth-date precision, day/month swaps and single-digit typos, but not a different decade', () => {
    expect(compare(ANN, { ...ANN, birthDate: '1980' }).level('birthDate')).toBe('partial');
    expect(compare(ANN, { ...ANN, birthDate: '1980-12-04' }).level('birthDate')).toBe('swap');
    expect(compare(ANN, { ...ANN, birthDate: '1980-04-13' }).level('birthDate')).toBe('typo');
    expect(compare(ANN, { ...ANN, birthDate: '1981-04-12' }).level('birthDate')).toBe('typo');
    expect(compare(ANN, { ...ANN, birthDate: '1950-04-12' }).level('birthDate')).toBe('disagree');
  });

  it('matches swapped given and family names', () => {
    const e = compare(ANN, { ...ANN, given: 'Keller', family: 'Ann' });
    expect(e.notes).toContain('swap');
    expect(e.grade).toBe('certain');
  });

  it('treats a married surname as changed, not as disagreement, when given, birth date and contact agree', () => {
    const e = compare(ANN, { ...ANN, family: 'Brandt', ssn: undefined });
    expect(e.level('family')).toBe('changed');
    expect(e.notes).toContain('married');
    expect(compare({ ...ANN, maiden: 'Keller', family: 'Brandt' }, { ...ANN, line: '9 Oak Road', phone: undefined }).notes).toContain('familyAlias');
  });

  it('never grades a twin (same family, birth date, address; other given name) above possible', () => {
    const e = compare(ANN, { ...ANN, given: 'Beth', ssn: '123-45-9999' });
    expect(e.grade).toBe('possible');
    expect(e.notes).toContain('twinCap');
  });

  it('keeps parent and child apart: decades between birth dates, or Jr against Sr', () => {
    expect(compare({ ...ANN, gender: 'male', given: 'Tom', birthDate: '1980-04-12' }, { ...ANN, gender: 'male', given: 'Tom', birthDate: '1950-04-12', ssn: undefined }).grade).toBe('possible');
    expect(compare({ ...ANN, suffix: 'Jr.' }, { ...ANN, suffix: 'Sr.' }).grade).toBe('certainly-not');
  });

  it('makes a shared identifier certain unless the demographics conflict (a reused or shared identifier)', () => {
    const mrn: [string, string] = ['urn:mrn', 'A77'];
    const sparse = { given: 'Ann', family: 'Keller', birthDate: '1980-04-12', mrn };
    expect(compare(sparse, { ...sparse, family: 'Kelly' }).notes).toContain('identifier');
    const other = compare(sparse, { given: 'Rob', family: 'Stone', birthDate: '1931-01-02', mrn });
    expect(other.notes).toContain('identifierConflict');
    expect(other.grade).not.toBe('certain');
  });
});

describe('estimating weights by EM', () => {
  it('recovers high m for agreement and high u for disagreement from candidate pairs', () => {
    const table = new RecordTable();
    const rows: number[] = [];
    const names = ['Ann', 'Bob', 'Carl', 'Dora', 'Eve', 'Finn', 'Gus', 'Hana', 'Ivo', 'Jan'];
    names.forEach((given, k) => {
      const spec = { ...ANN, given, family: `Fam${'abcdefghij'[k]}`, birthDate: `19${60 + k}-0${1 + (k % 9)}-1${k}`, ssn: `123-45-${6700 + k}`, phone: `555-201-33${10 + k}` };
      rows.push(table.add(standardizePatient('x', `${k}a`, patient(spec))));
      rows.push(table.add(standardizePatient('y', `${k}b`, patient({ ...spec, line: '9 Oak Road' }))));
    });
    const comparator = new Comparator(table);
    const patterns = new PatternCounts();
    for (let a = 0; a < rows.length; a++) for (let b = a + 1; b < rows.length; b++) {
      comparator.compare(rows[a] as number, rows[b] as number);
      patterns.add(comparator.levels);
    }
    const result = estimateWeights(patterns, DEFAULT_WEIGHTS);
    expect(result.pairs).toBe(190);
    expect(result.lambda).toBeGreaterThan(0.02);
    expect(result.lambda).toBeLessThan(0.15);
    const given = result.weights.given;
    expect(given.exact?.m ?? 0).toBeGreaterThan(0.8);
    expect(given.disagree?.u ?? 0).toBeGreaterThan(0.8);
  });
});
