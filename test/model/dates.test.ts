import { filterRange, instantRange, isFhirDate, overlaps, precisionOf } from '../../src/model/dates';

const utc = (iso: string): number => Date.parse(iso);

describe('FHIR dates keep their precision', () => {
  it.each([
    ['2015', 'year'],
    ['2015-06', 'month'],
    ['2015-06-30', 'day'],
    ['2015-06-30T10:15', 'minute'],
    ['2015-06-30T10:15:20Z', 'second'],
    ['2015-06-30T10:15:20.123+02:00', 'millisecond'],
  ])('%s is written to the %s', (value, precision) => {
    expect(isFhirDate(value)).toBe(true);
    expect(precisionOf(value)).toBe(precision);
  });

  it.each(['', '15', '2015-6', '2015/06/30', '30-06-2015', '2015-06-30 10:00', 'yesterday', '2015-06-30T10'])(
    '"%s" is not a FHIR date',
    (value) => {
      expect(isFhirDate(value)).toBe(false);
      expect(precisionOf(value)).toBeUndefined();
      expect(instantRange(value)).toBeUndefined();
    },
  );

  it.each([
    '2017-13',
    '2017-00-10',
    '2017-02-32',
    '2017-06-00',
    '2017-02-29',
    '2017-04-31',
    '2017-06-30T24:00Z',
    '2017-06-30T10:60Z',
    '2017-06-30T10:00:00+15:00',
  ])('"%s" names no real day or time and is rejected', (value) => {
    expect(instantRange(value)).toBeUndefined();
    expect(isFhirDate(value)).toBe(false);
    expect(precisionOf(value)).toBeUndefined();
  });

  it('29 February exists in leap years only', () => {
    expect(isFhirDate('2016-02-29')).toBe(true);
    expect(isFhirDate('2000-02-29')).toBe(true);
    expect(isFhirDate('1900-02-29')).toBe(false);
  });
});

describe('the instants a partial date covers', () => {
  it('a year covers all of it', () => {
    expect(instantRange('2015')).toEqual({ start: utc('2015-01-01T00:00:00Z'), end: utc('2016-01-01T00:00:00Z') - 1 });
  });

  it('a month covers every day of it, February in a leap year included', () => {
    expect(instantRange('2016-02')).toEqual({ start: utc('2016-02-01T00:00:00Z'), end: utc('2016-03-01T00:00:00Z') - 1 });
    expect(instantRange('2015-12')!.end).toBe(utc('2016-01-01T00:00:00Z') - 1);
  });

  it('a day covers 24 hours, read as UTC when no zone is given', () => {
    expect(instantRange('2017-06-30')).toEqual({ start: utc('2017-06-30T00:00:00Z'), end: utc('2017-07-01T00:00:00Z') - 1 });
  });

  it('a time with a zone is moved to UTC', () => {
    expect(instantRange('2017-06-30T10:15:00-05:00')!.start).toBe(utc('2017-06-30T15:15:00Z'));
    expect(instantRange('2017-06-30T01:00:00+02:00')!.start).toBe(utc('2017-06-29T23:00:00Z'));
    expect(instantRange('2017-06-30T10:15:00Z')!.start).toBe(utc('2017-06-30T10:15:00Z'));
  });

  it('a minute covers 60 seconds, a second 1000 ms, a millisecond itself', () => {
    const minute = instantRange('2017-06-30T10:15Z')!;
    expect(minute.end - minute.start).toBe(59_999);
    const second = instantRange('2017-06-30T10:15:20Z')!;
    expect(second.end - second.start).toBe(999);
    const milli = instantRange('2017-06-30T10:15:20.250Z')!;
    expect(milli).toEqual({ start: utc('2017-06-30T10:15:20.250Z'), end: utc('2017-06-30T10:15:20.250Z') });
  });
});

describe('date filter ranges', () => {
  it('from "2015" to "2017-06-30" covers the first instant of 2015 to the last of 30 June 2017', () => {
    expect(filterRange('2015', '2017-06-30')).toEqual({ start: utc('2015-01-01T00:00:00Z'), end: utc('2017-07-01T00:00:00Z') - 1 });
  });

  it('an open end reaches to infinity', () => {
    expect(filterRange('2015', undefined)).toEqual({ start: utc('2015-01-01T00:00:00Z'), end: Infinity });
    expect(filterRange(undefined, '2015')).toEqual({ start: -Infinity, end: utc('2016-01-01T00:00:00Z') - 1 });
  });

  it('an invalid bound gives no range', () => {
    expect(filterRange('2015-99', undefined)).toBeUndefined();
    expect(filterRange(undefined, 'soon')).toBeUndefined();
  });

  it('a record dated at a coarser precision matches a range it overlaps', () => {
    const range = filterRange('2017-06-30', '2017-06-30')!;
    expect(overlaps(instantRange('2017')!, range)).toBe(true);
    expect(overlaps(instantRange('2017-06-30T23:59:59Z')!, range)).toBe(true);
    expect(overlaps(instantRange('2017-07-01T00:00:00Z')!, range)).toBe(false);
    // 23:30 on 30 June in New York is 04:30 on 1 July UTC
    expect(overlaps(instantRange('2017-06-30T23:30:00-05:00')!, range)).toBe(false);
  });
});
