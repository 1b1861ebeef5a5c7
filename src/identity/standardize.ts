/**
 * Standardization: a FHIR R4 Patient (JSON) → a `MatchRecord`. Names are folded (case, diacritics,
 * punctuation, digits), prefixes and suffixes stripped, the first given name split from middle names;
 * birth dates keep their precision; addresses follow USPS conventions; phones keep their last ten
 * digits; SSNs become nine digits with structurally invalid ones flagged; other identifiers are kept
 * by system.
 */
import { isObject } from '../model/fhir-json';
import { standardizeAddress } from './address';
import { fold, foldName } from './text';
import type { BirthDate, MatchIdentifier, MatchRecord } from './types';

export const SSN_SYSTEM = 'http://hl7.org/fhir/sid/us-ssn';

const PREFIXES = new Set(['MR', 'MRS', 'MS', 'MISS', 'DR', 'PROF', 'REV', 'SIR', 'FR', 'MX', 'HON']);
const GENERATIONS: Record<string, string> = { JR: 'JR', JUNIOR: 'JR', SR: 'SR', SENIOR: 'SR', II: 'II', '2ND': 'II', III: 'III', '3RD': 'III', IV: 'IV', '4TH': 'IV' };
const DEGREES = new Set(['MD', 'DO', 'PHD', 'RN', 'DDS', 'ESQ', 'JD', 'MBA', 'NP', 'PA', 'DVM', 'CPA']);

interface NameParts {
  given?: string;
  middle?: string;
  family?: string;
  familyParts: string[];
  suffix?: string;
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Splits one FHIR HumanName into folded parts. */
export function standardizeName(name: unknown): NameParts {
  const parts: NameParts = { familyParts: [] };
  if (!isObject(name)) return parts;
  let suffix: string | undefined;
  for (const s of strings(name.suffix)) {
    for (const token of foldName(s).split(' ')) if (GENERATIONS[token]) suffix = GENERATIONS[token];
  }
  const clean = (tokens: string[], stripPrefixes: boolean): string[] =>
    tokens.filter((token) => {
      if (token.length === 0 || DEGREES.has(token)) return false;
      if (GENERATIONS[token] && tokens.length > 1) {
        suffix = GENERATIONS[token];
        return false;
      }
      return !(stripPrefixes && PREFIXES.has(token) && tokens.length > 1);
    });
  let givenTokens = clean(strings(name.given).flatMap((g) => foldName(g).split(' ')), true);
  let familyTokens = clean(strings(name.family).flatMap((f) => foldName(f).split(' ')), false);
  if (givenTokens.length === 0 && familyTokens.length === 0 && typeof name.text === 'string') {
    // Only a text name: "Given Middle Family" or "Family, Given Middle".
    const text = name.text;
    const comma = text.indexOf(',');
    if (comma > 0) {
      familyTokens = clean(foldName(text.slice(0, comma)).split(' '), false);
      givenTokens = clean(foldName(text.slice(comma + 1)).split(' '), true);
    } else {
      const tokens = clean(foldName(text).split(' '), true);
      familyTokens = tokens.slice(-1);
      givenTokens = tokens.slice(0, -1);
    }
  }
  if (givenTokens[0]) parts.given = givenTokens[0];
  if (givenTokens.length > 1) parts.middle = givenTokens.slice(1).join(' ');
  if (familyTokens.length > 0) parts.family = familyTokens.join('');
  if (familyTokens.length > 1) parts.familyParts = familyTokens.filter((t) => t.length > 1);
  if (suffix) parts.suffix = suffix;
  return parts;
}

/** A FHIR date (`1956`, `1956-08`, `1956-08-03`, or a dateTime) as a precision-aware birth date. */
export function standardizeBirthDate(value: unknown): BirthDate | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(value.trim());
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = m[2] ? Number(m[2]) : undefined;
  const day = m[3] ? Number(m[3]) : undefined;
  if (year < 1800 || year > 2200) return undefined;
  if (month === undefined || month < 1 || month > 12) return { year };
  if (day === undefined || day < 1 || day > 31) return { year, month };
  return { year, month, day };
}

/** Last ten digits of a phone number; undefined for fewer than seven digits or a placeholder (all one digit). */
export function standardizePhone(value: string): string | undefined {
  const digits = value.replace(/[^0-9]/g, '');
  if (digits.length < 7) return undefined;
  const ten = digits.slice(-10);
  return /^(\d)\1+$/.test(ten) ? undefined : ten;
}

export interface StandardSsn {
  ssn: string;
  /** Set when the number cannot have been issued by the SSA (it may still be a site's consistent test number). */
  flag?: string;
}

/**
 * Nine-digit SSN. Placeholders (all one digit, 123456789) give undefined; numbers the SSA never
 * issues (area 000, 666, 900–999; group 00; serial 0000) are kept but flagged: they are not used by
 * the deterministic rule, only as a probabilistic field.
 */
export function standardizeSsn(value: string): StandardSsn | undefined {
  const digits = value.replace(/[^0-9]/g, '');
  if (digits.length !== 9) return undefined;
  if (/^(\d)\1{8}$/.test(digits) || digits === '123456789') return undefined;
  const area = digits.slice(0, 3);
  let flag: string | undefined;
  if (area === '000') flag = 'area-000';
  else if (area === '666') flag = 'area-666';
  else if (area.startsWith('9')) flag = 'area-9xx';
  else if (digits.slice(3, 5) === '00') flag = 'group-00';
  else if (digits.slice(5) === '0000') flag = 'serial-0000';
  return flag ? { ssn: digits, flag } : { ssn: digits };
}

function isSsnIdentifier(identifier: Record<string, unknown>): boolean {
  if (identifier.system === SSN_SYSTEM) return true;
  const type = identifier.type;
  if (!isObject(type) || !Array.isArray(type.coding)) return false;
  return type.coding.some((c) => isObject(c) && c.code === 'SS');
}

function nameRank(name: unknown): number {
  const use = isObject(name) ? name.use : undefined;
  if (use === 'official') return 0;
  if (use === 'usual' || use === undefined) return 1;
  if (use === 'temp' || use === 'anonymous') return 3;
  return use === 'nickname' ? 4 : 5; // maiden, old
}

/** Standardizes a FHIR Patient resource held by `source` under `recordId`. */
export function standardizePatient(source: string, recordId: string, patient: Record<string, unknown>): MatchRecord {
  const record: MatchRecord = { source, recordId, altFamilies: [], phones: [], identifiers: [] };
  const names = Array.isArray(patient.name) ? [...patient.name].sort((a, b) => nameRank(a) - nameRank(b)) : [];
  const primary = names[0] !== undefined ? standardizeName(names[0]) : undefined;
  if (primary) {
    if (primary.given) record.given = primary.given;
    if (primary.middle) record.middle = primary.middle;
    if (primary.family) record.family = primary.family;
    if (primary.suffix) record.suffix = primary.suffix;
    record.altFamilies.push(...primary.familyParts);
  }
  for (const other of names.slice(1)) {
    const parts = standardizeName(other);
    for (const f of [parts.family, ...parts.familyParts]) {
      if (f && f !== record.family && !record.altFamilies.includes(f)) record.altFamilies.push(f);
    }
    if (!record.given && parts.given) record.given = parts.given;
  }
  const birthDate = standardizeBirthDate(patient.birthDate);
  if (birthDate) record.birthDate = birthDate;
  const gender = patient.gender;
  if (gender === 'male') record.sex = 'M';
  else if (gender === 'female') record.sex = 'F';
  else if (gender === 'other') record.sex = 'O';
  const addresses = Array.isArray(patient.address) ? patient.address.filter(isObject) : [];
  const home = addresses.find((a) => a.use === 'home' && !(isObject(a.period) && a.period.end)) ?? addresses.find((a) => !(isObject(a.period) && a.period.end)) ?? addresses[0];
  if (home) {
    const a = standardizeAddress(strings(home.line), str(home.city), str(home.state), str(home.postalCode));
    Object.assign(record, a);
  }
  for (const telecom of Array.isArray(patient.telecom) ? patient.telecom.filter(isObject) : []) {
    if (typeof telecom.value !== 'string') continue;
    if (telecom.system === 'email' && !record.email) record.email = telecom.value.trim().toLowerCase();
    else if (telecom.system === 'phone' || telecom.system === 'sms' || telecom.system === undefined) {
      const phone = standardizePhone(telecom.value);
      if (phone && !record.phones.includes(phone)) record.phones.push(phone);
    }
  }
  for (const identifier of Array.isArray(patient.identifier) ? patient.identifier.filter(isObject) : []) {
    if (typeof identifier.value !== 'string') continue;
    if (isSsnIdentifier(identifier)) {
      const ssn = standardizeSsn(identifier.value);
      if (ssn && !record.ssn) {
        record.ssn = ssn.ssn;
        if (ssn.flag) record.ssnFlag = ssn.flag;
      }
      continue;
    }
    if (typeof identifier.system !== 'string' || identifier.system.length === 0) continue;
    const value = fold(identifier.value).replace(/ /g, '');
    if (value.length === 0) continue;
    const entry: MatchIdentifier = { system: identifier.system, value };
    if (!record.identifiers.some((i) => i.system === entry.system && i.value === entry.value)) record.identifiers.push(entry);
  }
  return record;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
