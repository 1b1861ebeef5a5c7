/**
 * The columnar record table the matcher runs on: every standardized field interned to an integer
 * (names, streets, identifiers) or packed into a number (birth date, ZIP, phone, SSN), held in
 * growable typed arrays. Comparing two rows touches only these arrays and, for names that differ,
 * the interned strings: no per-pair allocation.
 */
import { canonicalNames } from './nicknames';
import { letterMask, nysiis } from './text';
import type { MatchRecord } from './types';

/** String interning: each distinct string gets a small integer id. */
export class Dictionary {
  private readonly ids = new Map<string, number>();
  readonly values: string[] = [];

  intern(value: string): number {
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.ids.set(value, id);
      this.values.push(value);
    }
    return id;
  }

  lookup(value: string): number | undefined {
    return this.ids.get(value);
  }

  get size(): number {
    return this.values.length;
  }
}

/** Names with their derived forms computed once per distinct name: phonetic code id, canonical (nickname) ids. */
export class NameDictionary extends Dictionary {
  readonly phonetic: number[] = [];
  readonly masks: number[] = [];
  readonly canonical: number[][] = [];
  readonly phoneticCodes = new Dictionary();
  private readonly canonicalIds = new Dictionary();

  override intern(value: string): number {
    const before = this.size;
    const id = super.intern(value);
    if (id === before) {
      this.phonetic.push(this.phoneticCodes.intern(nysiis(value)));
      this.masks.push(letterMask(value));
      this.canonical.push(canonicalNames(value).map((c) => this.canonicalIds.intern(c)));
    }
    return id;
  }

  /** The canonical name of a canonical id (from `canonical`). */
  canonicalForm(id: number): string {
    return this.canonicalIds.values[id] as string;
  }

  /** Whether two name ids can be the same given name through the nickname table. */
  nickname(a: number, b: number): boolean {
    const ca = this.canonical[a];
    const cb = this.canonical[b];
    if (!ca || !cb) return false;
    for (const x of ca) for (const y of cb) if (x === y) return true;
    return false;
  }
}

export const SUFFIX_CODES: Record<string, number> = { JR: 1, SR: 2, II: 3, III: 4, IV: 5 };
const SEX_CODES: Record<string, number> = { M: 1, F: 2, O: 3 };

function grow<T extends Int32Array | Float64Array | Uint8Array | Int16Array>(array: T, capacity: number): T {
  const Ctor = array.constructor as new (n: number) => T;
  const next = new Ctor(capacity);
  next.set(array);
  return next;
}

/**
 * One row per source record. Missing values: -1 for ids, 0 for date parts/sex/suffix, NaN for phones.
 * Rows are never removed; a replaced record's old row is marked dead.
 */
export class RecordTable {
  readonly names = new NameDictionary();
  readonly streets = new Dictionary();
  readonly terms = new Dictionary();
  readonly sources = new Dictionary();
  length = 0;
  private capacity = 0;
  given = new Int32Array(0);
  middle = new Int32Array(0);
  family = new Int32Array(0);
  alt1 = new Int32Array(0);
  alt2 = new Int32Array(0);
  suffix = new Uint8Array(0);
  year = new Int16Array(0);
  month = new Uint8Array(0);
  day = new Uint8Array(0);
  sex = new Uint8Array(0);
  house = new Int32Array(0);
  street = new Int32Array(0);
  unit = new Int32Array(0);
  zip = new Int32Array(0);
  phone1 = new Float64Array(0);
  phone2 = new Float64Array(0);
  email = new Int32Array(0);
  ssn = new Int32Array(0);
  /** 1 when the SSN is structurally valid (usable by the deterministic rule). */
  ssnValid = new Uint8Array(0);
  /** First two identifier ids (`system|value` interned in `terms`); more live in `moreIdentifiers`. */
  id1 = new Int32Array(0);
  id2 = new Int32Array(0);
  source = new Int32Array(0);
  alive = new Uint8Array(0);
  readonly recordId: string[] = [];
  readonly moreIdentifiers = new Map<number, number[]>();

  constructor(initialCapacity = 1024) {
    this.reserve(initialCapacity);
  }

  reserve(capacity: number): void {
    if (capacity <= this.capacity) return;
    this.given = grow(this.given, capacity);
    this.middle = grow(this.middle, capacity);
    this.family = grow(this.family, capacity);
    this.alt1 = grow(this.alt1, capacity);
    this.alt2 = grow(this.alt2, capacity);
    this.suffix = grow(this.suffix, capacity);
    this.year = grow(this.year, capacity);
    this.month = grow(this.month, capacity);
    this.day = grow(this.day, capacity);
    this.sex = grow(this.sex, capacity);
    this.house = grow(this.house, capacity);
    this.street = grow(this.street, capacity);
    this.unit = grow(this.unit, capacity);
    this.zip = grow(this.zip, capacity);
    this.phone1 = grow(this.phone1, capacity);
    this.phone2 = grow(this.phone2, capacity);
    this.email = grow(this.email, capacity);
    this.ssn = grow(this.ssn, capacity);
    this.ssnValid = grow(this.ssnValid, capacity);
    this.id1 = grow(this.id1, capacity);
    this.id2 = grow(this.id2, capacity);
    this.source = grow(this.source, capacity);
    this.alive = grow(this.alive, capacity);
    this.capacity = capacity;
  }

  private name(value: string | undefined): number {
    return value ? this.names.intern(value) : -1;
  }

  private term(value: string | undefined): number {
    return value ? this.terms.intern(value) : -1;
  }

  /** Appends a standardized record; returns its row. */
  add(r: MatchRecord): number {
    if (this.length === this.capacity) this.reserve(Math.max(1024, this.capacity * 2));
    const i = this.length++;
    this.given[i] = this.name(r.given);
    this.middle[i] = this.name(r.middle?.split(' ')[0]);
    this.family[i] = this.name(r.family);
    this.alt1[i] = this.name(r.altFamilies[0]);
    this.alt2[i] = this.name(r.altFamilies[1]);
    this.suffix[i] = r.suffix ? (SUFFIX_CODES[r.suffix] ?? 0) : 0;
    this.year[i] = r.birthDate?.year ?? 0;
    this.month[i] = r.birthDate?.month ?? 0;
    this.day[i] = r.birthDate?.day ?? 0;
    this.sex[i] = r.sex ? (SEX_CODES[r.sex] ?? 0) : 0;
    this.house[i] = this.term(r.houseNumber);
    this.street[i] = r.street ? this.streets.intern(r.street) : -1;
    this.unit[i] = this.term(r.unit);
    this.zip[i] = r.zip5 ? Number(r.zip5) : -1;
    this.phone1[i] = r.phones[0] ? Number(r.phones[0]) : NaN;
    this.phone2[i] = r.phones[1] ? Number(r.phones[1]) : NaN;
    this.email[i] = this.term(r.email);
    this.ssn[i] = r.ssn ? Number(r.ssn) : -1;
    this.ssnValid[i] = r.ssn && !r.ssnFlag ? 1 : 0;
    const ids = r.identifiers.map((x) => this.terms.intern(`${x.system}|${x.value}`));
    this.id1[i] = ids[0] ?? -1;
    this.id2[i] = ids[1] ?? -1;
    if (ids.length > 2) this.moreIdentifiers.set(i, ids.slice(2));
    this.source[i] = this.sources.intern(r.source);
    this.alive[i] = 1;
    this.recordId[i] = r.recordId;
    return i;
  }

  /** Drops the last row (a scratch row used by `PatientIndex.match`). Interned strings stay. */
  removeLast(): void {
    if (this.length === 0) return;
    this.length--;
    this.moreIdentifiers.delete(this.length);
    this.recordId.length = this.length;
  }

  /** Identifier ids of a row (allocates; not for the hot path). */
  identifiersOf(i: number): number[] {
    const out: number[] = [];
    const a = this.id1[i] ?? -1;
    const b = this.id2[i] ?? -1;
    if (a >= 0) out.push(a);
    if (b >= 0) out.push(b);
    const more = this.moreIdentifiers.get(i);
    if (more) out.push(...more);
    return out;
  }

  /** Whether rows `i` and `j` share an identifier (same system and value). No allocation in the common case. */
  sharesIdentifier(i: number, j: number): boolean {
    const a1 = this.id1[i] as number;
    const b1 = this.id1[j] as number;
    if (a1 < 0 || b1 < 0) return false;
    const a2 = this.id2[i] as number;
    const b2 = this.id2[j] as number;
    if (a1 === b1 || (a2 >= 0 && (a2 === b1 || a2 === b2)) || (b2 >= 0 && a1 === b2)) return true;
    if (!this.moreIdentifiers.has(i) && !this.moreIdentifiers.has(j)) return false;
    const theirs = this.identifiersOf(j);
    return this.identifiersOf(i).some((x) => theirs.includes(x));
  }
}
