/** Turning database values into FHIR JSON values: types, date formats, value maps, scaling. */
import type { ColumnSpec } from './schema';

const DATE_RE = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

function zone(z: string | undefined): string {
  if (!z || z === 'Z') return 'Z';
  const m = /^([+-]\d{2}):?(\d{2})?$/.exec(z);
  if (!m) return 'Z';
  const out = `${m[1]}:${m[2] ?? '00'}`;
  return out === '+00:00' || out === '-00:00' ? 'Z' : out;
}

/** `YYYY-MM-DD` exactly (what PostgreSQL, MariaDB and SQLite send for a DATE column): kept as is. */
function isDay(text: string): boolean {
  if (text.length !== 10 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return false;
  for (const i of DAY_DIGITS) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
const DAY_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9];

/** A database date or timestamp as a FHIR date (`YYYY-MM-DD`) or dateTime (`YYYY-MM-DDThh:mm:ssZ`). */
export function fhirDate(value: unknown, kind: 'date' | 'dateTime', format: 'iso' | 'yyyymmdd' = 'iso'): string | undefined {
  if (format === 'iso' && typeof value === 'string' && isDay(value)) return value;
  let text: string;
  if (value instanceof Date) text = value.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') text = String(value).trim();
  else return undefined;
  if (format === 'yyyymmdd') {
    const m = /^(\d{4})(\d{2})(\d{2})$/.exec(text);
    return m ? `${m[1]}-${m[2]}-${m[3]}` : undefined;
  }
  const m = DATE_RE.exec(text);
  if (!m) return undefined;
  if (kind === 'date' || !m[2]) return m[1];
  const time = m[2].length === 5 ? `${m[2]}:00` : m[2];
  return `${m[1]}T${time}${zone(m[3])}`;
}

function toBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return Number(value) !== 0;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (['t', 'true', 'y', 'yes', '1'].includes(v)) return true;
    if (['f', 'false', 'n', 'no', '0'].includes(v)) return false;
  }
  return undefined;
}

const printable = (c: number): boolean => c > 32 && c < 127;

/** The raw value as text (for codes, ids and map keys). */
export function asText(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') {
    // Most values start and end with a printable ASCII character: nothing to trim, no copy.
    const n = value.length;
    if (n > 0 && printable(value.charCodeAt(0)) && printable(value.charCodeAt(n - 1))) return value;
    const t = value.trim();
    return t === '' ? undefined : t;
  }
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
}

export function asNumber(value: unknown): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** One column's value as the FHIR element wants it, or undefined when absent. */
export function convert(value: unknown, spec: Pick<ColumnSpec, 'as' | 'format' | 'map' | 'scale'>): unknown {
  if (value === null || value === undefined) return undefined;
  if (spec.map) {
    const key = asText(value);
    if (key === undefined) return undefined;
    const mapped = Object.prototype.hasOwnProperty.call(spec.map, key) ? spec.map[key] : spec.map['*'];
    return mapped === null ? undefined : mapped;
  }
  switch (spec.as) {
    case 'integer': {
      const n = asNumber(value);
      return n === undefined ? undefined : Math.trunc(n * (spec.scale ?? 1));
    }
    case 'decimal': {
      const n = asNumber(value);
      return n === undefined ? undefined : spec.scale === undefined ? n : Number((n * spec.scale).toPrecision(15));
    }
    case 'boolean':
      return toBoolean(value);
    case 'date':
    case 'dateTime':
      return fhirDate(value, spec.as, spec.format);
    case 'string':
    case 'code':
      return asText(value);
    default:
      if (typeof value === 'bigint') return value.toString();
      if (typeof value === 'string') return asText(value);
      return value;
  }
}
