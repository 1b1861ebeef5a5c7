import { standardizeAddress } from '../../src/identity/address';
import { canonicalNames, nicknameEquivalent, nicknamePairCount } from '../../src/identity/nicknames';
import { standardizeBirthDate, standardizePatient, standardizePhone, standardizeSsn } from '../../src/identity/standardize';
import { fold, jaroWinkler, nysiis, withinOneEdit } from '../../src/identity/text';

describe('standardizing a FHIR Patient for matching', () => {
  it('folds case, diacritics and punctuation, strips Synthea digits, prefixes and suffixes, splits given from middle', () => {
    const r = standardizePatient('ehr', '1', {
      name: [
        { use: 'official', family: "O'Brien-Müller", given: ['Abe604 Lincoln', 'James'], prefix: ['Mr.'], suffix: ['Jr.'] },
        { use: 'maiden', family: 'Smith' },
      ],
    });
    expect(r.given).toBe('ABE');
    expect(r.middle).toBe('LINCOLN JAMES');
    expect(r.family).toBe('OBRIENMULLER');
    expect(r.altFamilies).toEqual(['OBRIEN', 'MULLER', 'SMITH']);
    expect(r.suffix).toBe('JR');
    expect(fold('  José   Ñúñez ')).toBe('JOSE NUNEZ');
  });

  it('keeps the precision of the birth date', () => {
    expect(standardizeBirthDate('1956')).toEqual({ year: 1956 });
    expect(standardizeBirthDate('1956-08')).toEqual({ year: 1956, month: 8 });
    expect(standardizeBirthDate('1956-08-03T10:00:00Z')).toEqual({ year: 1956, month: 8, day: 3 });
    expect(standardizeBirthDate('yesterday')).toBeUndefined();
  });

  it('standardizes addresses the USPS way', () => {
    expect(standardizeAddress(['313 North Lockman Street Apartment 4'], 'Peabody', 'Massachusetts', '01940-1234')).toEqual({
      houseNumber: '313',
      street: 'N LOCKMAN ST',
      unit: '4',
      city: 'PEABODY',
      state: 'MA',
      zip5: '01940',
    });
    expect(standardizeAddress(['12 Elm Avenue', '# 7'])).toEqual({ houseNumber: '12', street: 'ELM AVE', unit: '7' });
    expect(standardizeAddress(['586 Jacobs Trailer Suite 12']).street).toBe('JACOBS TRLR');
  });

  it('keeps the last ten digits of phones and lower-cases e-mail', () => {
    expect(standardizePhone('+1 (555) 978-4581')).toBe('5559784581');
    expect(standardizePhone('123')).toBeUndefined();
    expect(standardizePhone('000-000-0000')).toBeUndefined();
    const r = standardizePatient('ehr', '1', { telecom: [{ system: 'email', value: ' Ann@Example.ORG ' }, { system: 'phone', value: '555.978.4581' }] });
    expect(r.email).toBe('ann@example.org');
    expect(r.phones).toEqual(['5559784581']);
  });

  it('normalizes SSNs to nine digits, drops placeholders and flags numbers the SSA never issues', () => {
    expect(standardizeSsn('123-45-6780')).toEqual({ ssn: '123456780' });
    expect(standardizeSsn('111-11-1111')).toBeUndefined();
    expect(standardizeSsn('000-12-3456')?.flag).toBe('area-000');
    expect(standardizeSsn('666-12-3456')?.flag).toBe('area-666');
    expect(standardizeSsn('999-22-1962')?.flag).toBe('area-9xx');
    expect(standardizeSsn('123-00-4567')?.flag).toBe('group-00');
    expect(standardizeSsn('123-45-0000')?.flag).toBe('serial-0000');
  });

  it('keeps identifiers by system, the SSN apart', () => {
    const r = standardizePatient('ehr', '1', {
      identifier: [
        { system: 'http://hl7.org/fhir/sid/us-ssn', value: '123-45-6780' },
        { system: 'urn:mrn', value: ' a-77 ' },
        { value: 'no system' },
      ],
    });
    expect(r.ssn).toBe('123456780');
    expect(r.identifiers).toEqual([{ system: 'urn:mrn', value: 'A77' }]);
  });
});

describe('name comparators', () => {
  it('canonicalizes nicknames through the data table', () => {
    expect(nicknamePairCount()).toBeGreaterThan(300);
    expect(nicknameEquivalent('BILL', 'WILLIAM')).toBe(true);
    expect(nicknameEquivalent('BOB', 'ROBERT')).toBe(true);
    expect(nicknameEquivalent('LIZ', 'BETH')).toBe(true);
    expect(nicknameEquivalent('BILL', 'ROBERT')).toBe(false);
    expect(canonicalNames('AL')).toEqual(expect.arrayContaining(['ALBERT', 'ALFRED', 'ALAN']));
  });

  it('computes NYSIIS codes', () => {
    expect(nysiis('MACINTOSH')).toBe(nysiis('MCINTOSH'));
    expect(nysiis('KNIGHT')).toBe(nysiis('NIGHT'));
    expect(nysiis('SCHMIDT')).toBe(nysiis('SMIDT'));
    expect(nysiis('BROWN')).toBe(nysiis('BRAUN'));
    expect(nysiis('JOHNSON')).not.toBe(nysiis('JACKSON'));
  });

  it('computes Jaro–Winkler and one-edit distance', () => {
    expect(jaroWinkler('MARTHA', 'MARHTA')).toBeCloseTo(0.961, 3);
    expect(jaroWinkler('DWAYNE', 'DUANE')).toBeCloseTo(0.84, 2);
    expect(jaroWinkler('ABC', 'ABC')).toBe(1);
    expect(withinOneEdit('KATHERINE', 'KATHRINE')).toBe(true);
    expect(withinOneEdit('MARTHA', 'MARHTA')).toBe(true);
    expect(withinOneEdit('MARTHA', 'MARTHE')).toBe(true);
    expect(withinOneEdit('MARTHA', 'MORTHE')).toBe(false);
  });
});
