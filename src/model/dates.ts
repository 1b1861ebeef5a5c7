/**
 * FHIR dates keep their precision (`2015`, `2015-06`, `2015-06-30`, `2015-06-30T10:00:00+02:00`).
 * To compare them we turn each into the instant range it covers, in UTC milliseconds.
 * Values without a time zone are read as UTC.
 */

const DATE_RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

export interface InstantRange {
  /** First millisecond covered. */
  start: number;
  /** Last millisecond covered. */
  end: number;
}

export type Precision = 'year' | 'month' | 'day' | 'minute' | 'second' | 'millisecond';

/** Whether a string is a FHIR date/dateTime/instant naming a real calendar day and time. */
export function isFhirDate(value: string): boolean {
  return instantRange(value) !== undefined;
}

/** The precision a FHIR date string was written with, or undefined for an invalid one. */
export function precisionOf(value: string): Precision | undefined {
  const m = DATE_RE.exec(value);
  if (!m || instantRange(value) === undefined) return undefined;
  if (m[7]) return 'millisecond';
  if (m[6]) return 'second';
  if (m[4]) return 'minute';
  if (m[3]) return 'day';
  if (m[2]) return 'month';
  return 'year';
}

/** The instant range covered by a FHIR date/dateTime/instant, or undefined when it is not one. */
export function instantRange(value: string): InstantRange | undefined {
  const m = DATE_RE.exec(value);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = m[2] ? Number(m[2]) - 1 : undefined;
  const day = m[3] ? Number(m[3]) : undefined;
  if (month === undefined) return { start: Date.UTC(year, 0, 1), end: Date.UTC(year + 1, 0, 1) - 1 };
  if (month < 0 || month > 11) return undefined;
  if (day === undefined) return { start: Date.UTC(year, month, 1), end: Date.UTC(year, month + 1, 1) - 1 };
  const daysInMonth = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) return undefined;
  if (!m[4]) return { start: Date.UTC(year, month, day), end: Date.UTC(year, month, day + 1) - 1 };
  const zone = m[8];
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || (m[6] !== undefined && Number(m[6]) > 59)) return undefined;
  if (zone && zone !== 'Z' && (Number(zone.slice(1, 3)) > 14 || Number(zone.slice(4, 6)) > 59)) return undefined;
  const offsetMs = zoneOffsetMs(zone);
  const seconds = m[6] ? Number(m[6]) : 0;
  const millis = m[7] ? Math.floor(Number(m[7]) * 1000) : 0;
  const start = Date.UTC(year, month, day, Number(m[4]), Number(m[5]), seconds, millis) - offsetMs;
  const width = m[7] ? 0 : m[6] ? 999 : 59_999;
  return { start, end: start + width };
}

function zoneOffsetMs(zone: string | undefined): number {
  if (!zone || zone === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const [h, min] = zone.slice(1).split(':').map(Number);
  return sign * ((h ?? 0) * 60 + (min ?? 0)) * 60_000;
}

/** Whether two instant ranges share at least one millisecond. */
export function overlaps(a: InstantRange, b: InstantRange): boolean {
  return a.start <= b.end && b.start <= a.end;
}

/** The range a `{ from, to }` filter covers; open ends extend to ±infinity. */
export function filterRange(from: string | undefined, to: string | undefined): InstantRange | undefined {
  const lo = from ? instantRange(from) : undefined;
  const hi = to ? instantRange(to) : undefined;
  if ((from && !lo) || (to && !hi)) return undefined;
  return { start: lo ? lo.start : -Infinity, end: hi ? hi.end : Infinity };
}
