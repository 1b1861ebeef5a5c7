/**
 * Pairwise matching: deterministic rules on shared identifiers plus Fellegi–Sunter scoring of the
 * demographic fields, graded as FHIR `$match` grades (certain / probable / possible / certainly-not).
 *
 * `Comparator.compare(i, j)` fills `levels` (one comparison level per field, see `weights.ts`) and
 * `notes` (a bit set of the special rules that fired) and returns the score in bits; it allocates
 * nothing, so the blocking loop can call it millions of times. `explain(i, j)` is the allocating,
 * readable form kept with every link.
 *
 * Rules beyond plain Fellegi–Sunter, each visible in the explanation:
 * - name order swap (given↔family) compares the swapped names;
 * - the given name may match the other record's middle name (people who go by their middle name);
 * - a family name may match the other record's maiden/old name or a part of a compound name;
 * - married surname: family disagrees but given, full birth date and sex agree and so does an address,
 *   phone, e-mail or SSN → the family field weighs 0 (`changed`);
 * - caps: a disagreeing given name with the same family name and birth date looks like a twin (at most
 *   `possible`); any other disagreeing given name is at most `probable`; a birth date ten or more years
 *   off (parent/child) at most `possible`, otherwise a disagreeing birth date at most `probable`;
 *   different generational suffixes (JR/SR, II/III) are `certainly-not`;
 * - a shared identifier (same system and value, or the same valid SSN) makes the pair `certain` unless
 *   the demographics conflict (a twin-like pair, given and birth date both disagreeing, …): reused or
 *   shared identifiers (a family's member id) then grade by the demographics, at most `probable`.
 */
import type { RecordTable } from './table';
import { jaroWinkler, jaroWinklerBound, withinOneEdit } from './text';
import type { Grade } from './types';
import {
  CHANGED,
  CLOSE,
  DEFAULT_WEIGHTS,
  DISAGREE,
  EXACT,
  FIELD_COUNT,
  FIELDS,
  type Field,
  INITIAL,
  LEVEL_NAMES,
  LEVELS_PER_FIELD,
  MISSING,
  NICKNAME,
  PHONETIC,
  type WeightConfig,
  weightTable,
} from './weights';

export const GIVEN = 0;
export const FAMILY = 1;
export const MIDDLE = 2;
export const BIRTH_DATE = 3;
export const SEX = 4;
export const ADDRESS = 5;
export const PHONE = 6;
export const EMAIL = 7;
export const SSN = 8;

/** Bits of `Comparator.notes`. */
export const NOTE = {
  swap: 1,
  middleAsGiven: 2,
  familyAlias: 4,
  married: 8,
  identifier: 16,
  identifierConflict: 32,
  twinCap: 64,
  givenCap: 128,
  birthDateCap: 256,
  generationConflict: 512,
} as const;
export type NoteName = keyof typeof NOTE;

/** Score thresholds (bits) of the grades. */
export interface Thresholds {
  certain: number;
  probable: number;
  possible: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { certain: 24, probable: 14, possible: 6 };

export interface MatchOptions {
  weights?: WeightConfig;
  thresholds?: Partial<Thresholds>;
  /** Jaro–Winkler similarity at or above which two names are `fuzzy` (default 0.92). */
  jaroWinkler?: number;
}

export interface FieldComparison {
  field: Field;
  level: string;
  weight: number;
}

/** Why a pair got its grade: every field's level and weight, and the rules that fired. */
export interface MatchExplanation {
  score: number;
  grade: Grade;
  fields: FieldComparison[];
  notes: NoteName[];
}

const GRADE_RANK: Record<Grade, number> = { certain: 3, probable: 2, possible: 1, 'certainly-not': 0 };

/** The weaker of two grades. */
export function weaker(a: Grade, b: Grade): Grade {
  return GRADE_RANK[a] <= GRADE_RANK[b] ? a : b;
}

export function gradeRank(grade: Grade): number {
  return GRADE_RANK[grade];
}

function digitTypo(a: number, b: number, digits: number): boolean {
  // One digit differs, or two adjacent digits are transposed.
  let diff = 0;
  let first = -1;
  let x = a;
  let y = b;
  const da: number[] = DIGITS_A;
  const db: number[] = DIGITS_B;
  for (let k = 0; k < digits; k++) {
    da[k] = x % 10;
    db[k] = y % 10;
    if (da[k] !== db[k]) {
      diff++;
      if (first < 0) first = k;
    }
    x = Math.floor(x / 10);
    y = Math.floor(y / 10);
  }
  if (diff === 1) return true;
  return diff === 2 && da[first] === db[first + 1] && da[first + 1] === db[first];
}
const DIGITS_A: number[] = new Array<number>(12).fill(0);
const DIGITS_B: number[] = new Array<number>(12).fill(0);

export class Comparator {
  /** The comparison level of each field for the last `compare` call. */
  readonly levels = new Uint8Array(FIELD_COUNT);
  /** NOTE bits of the last `compare` call. */
  notes = 0;
  /** Grade rank (3 certain … 0 certainly-not) of the last `scoreRank` call. */
  lastRank = 0;
  private lastI = 0;
  private lastJ = 0;
  /** Whether the last pair shares an identifier or valid SSN. */
  sharedIdentifier = false;
  readonly thresholds: Thresholds;
  private weights: Float64Array;
  private config: WeightConfig;
  private readonly jw: number;

  constructor(
    readonly table: RecordTable,
    options: MatchOptions = {},
  ) {
    this.config = options.weights ?? DEFAULT_WEIGHTS;
    this.weights = weightTable(this.config);
    this.thresholds = { ...DEFAULT_THRESHOLDS, ...options.thresholds };
    this.jw = options.jaroWinkler ?? 0.92;
  }

  get weightConfig(): WeightConfig {
    return this.config;
  }

  setWeights(config: WeightConfig): void {
    this.config = config;
    this.weights = weightTable(config);
  }

  weight(field: number, level: number): number {
    return this.weights[field * LEVELS_PER_FIELD + level] ?? 0;
  }

  private compareName(a: number, b: number, nicknames: boolean): number {
    if (a < 0 || b < 0) return MISSING;
    if (a === b) return EXACT;
    const names = this.table.names;
    const sa = names.values[a] as string;
    const sb = names.values[b] as string;
    if (sa.length === 1 || sb.length === 1) return sa.charCodeAt(0) === sb.charCodeAt(0) ? INITIAL : DISAGREE;
    if (nicknames && names.nickname(a, b)) return NICKNAME;
    const maskA = names.masks[a] as number;
    const maskB = names.masks[b] as number;
    if (jaroWinklerBound(sa.length, sb.length, maskA, maskB) >= this.jw && jaroWinkler(sa, sb) >= this.jw) return CLOSE;
    if (sa.length >= 4 && sb.length >= 4 && withinOneEdit(sa, sb)) return CLOSE;
    if (names.phonetic[a] === names.phonetic[b]) return PHONETIC;
    if (nicknames && (this.nicknameOfMisspelt(a, sb) || this.nicknameOfMisspelt(b, sa))) return NICKNAME;
    return DISAGREE;
  }

  /** EXACT, CLOSE or NICKNAME when two names are strongly alike, else DISAGREE (cheaper than `compareName`). */
  private strongName(a: number, b: number): number {
    if (a < 0 || b < 0) return DISAGREE;
    if (a === b) return EXACT;
    const names = this.table.names;
    if (names.nickname(a, b)) return NICKNAME;
    const sa = names.values[a] as string;
    const sb = names.values[b] as string;
    if (jaroWinklerBound(sa.length, sb.length, names.masks[a] as number, names.masks[b] as number) >= this.jw && jaroWinkler(sa, sb) >= this.jw) return CLOSE;
    return sa.length >= 4 && sb.length >= 4 && withinOneEdit(sa, sb) ? CLOSE : DISAGREE;
  }

  /** Whether a canonical form of name `a` is within typo distance of `b` (`KATE` vs `KATHERIN`). */
  private nicknameOfMisspelt(a: number, b: string): boolean {
    const names = this.table.names;
    const canonical = names.canonical[a];
    if (!canonical || canonical.length === 0) return false;
    for (const c of canonical) {
      const form = names.canonicalForm(c);
      if (form !== names.values[a] && (jaroWinkler(form, b) >= this.jw || withinOneEdit(form, b))) return true;
    }
    return false;
  }

  /** The family level of `nameId` (a given name used as family) against row `j`'s family and alternates. */
  private swappedFamily(nameId: number, j: number): number {
    const t = this.table;
    if (nameId >= 0 && (nameId === t.alt1[j] || nameId === t.alt2[j])) return EXACT;
    const level = this.compareName(nameId, t.family[j] as number, false);
    return level === EXACT || level === CLOSE ? level : DISAGREE;
  }

  private compareBirthDate(i: number, j: number): number {
    const t = this.table;
    const ya = t.year[i] as number;
    const yb = t.year[j] as number;
    if (ya === 0 || yb === 0) return MISSING;
    const ma = t.month[i] as number;
    const mb = t.month[j] as number;
    const da = t.day[i] as number;
    const db = t.day[j] as number;
    if (ya === yb) {
      if (ma === 0 || mb === 0) return CLOSE;
      if (ma === mb) {
        if (da === 0 || db === 0) return CLOSE;
        if (da === db) return EXACT;
        return digitTypo(da, db, 2) ? NICKNAME : INITIAL;
      }
      if (da !== 0 && da === mb && db === ma) return PHONETIC;
      if (da === db && digitTypo(ma, mb, 2)) return NICKNAME;
      return INITIAL;
    }
    // A year typo is a last-digit slip or the last two digits transposed (1956/1965), never a whole
    // decade or more: a father and son share day and month more often than a clerk types 1935 for 1965.
    if (ma === mb && da === db && Math.floor(ya / 100) === Math.floor(yb / 100) && (Math.abs(ya - yb) < 10 || (ya % 10 === Math.floor(yb / 10) % 10 && yb % 10 === Math.floor(ya / 10) % 10))) return NICKNAME;
    return DISAGREE;
  }

  private compareAddress(i: number, j: number): number {
    const t = this.table;
    const sa = t.street[i] as number;
    const sb = t.street[j] as number;
    const za = t.zip[i] as number;
    const zb = t.zip[j] as number;
    if ((sa < 0 && za < 0) || (sb < 0 && zb < 0)) return MISSING;
    const sameHouse = t.house[i] === t.house[j];
    if (sa >= 0 && sb >= 0 && sameHouse) {
      let sameStreet = sa === sb;
      if (!sameStreet) {
        const a = t.streets.values[sa] as string;
        const b = t.streets.values[sb] as string;
        sameStreet = jaroWinkler(a, b) >= this.jw;
        if (sameStreet) return CLOSE;
      }
      if (sameStreet) {
        const ua = t.unit[i] as number;
        const ub = t.unit[j] as number;
        const unitConflict = ua >= 0 && ub >= 0 && ua !== ub;
        return !unitConflict && (za === zb || za < 0 || zb < 0) ? EXACT : CLOSE;
      }
    }
    if (za >= 0 && za === zb) return PHONETIC;
    return DISAGREE;
  }

  private comparePhone(i: number, j: number): number {
    const t = this.table;
    const a1 = t.phone1[i] as number;
    const b1 = t.phone1[j] as number;
    if (Number.isNaN(a1) || Number.isNaN(b1)) return MISSING;
    const a2 = t.phone2[i] as number;
    const b2 = t.phone2[j] as number;
    return a1 === b1 || a1 === b2 || a2 === b1 || (a2 === b2 && !Number.isNaN(a2)) ? EXACT : DISAGREE;
  }

  private compareSsn(i: number, j: number): number {
    const a = this.table.ssn[i] as number;
    const b = this.table.ssn[j] as number;
    if (a < 0 || b < 0) return MISSING;
    if (a === b) return EXACT;
    if (digitTypo(a, b, 9)) return NICKNAME;
    return a % 10000 === b % 10000 ? INITIAL : DISAGREE;
  }

  /** Compares rows `i` and `j`; fills `levels`, `notes`, `sharedIdentifier`; returns the score in bits. */
  compare(i: number, j: number): number {
    const t = this.table;
    const L = this.levels;
    this.lastI = i;
    this.lastJ = j;
    let notes = 0;
    let given = this.compareName(t.given[i] as number, t.given[j] as number, true);
    let family = this.compareName(t.family[i] as number, t.family[j] as number, false);
    if (family !== EXACT && family !== MISSING) {
      const fa = t.family[i] as number;
      const fb = t.family[j] as number;
      const a1 = t.alt1[i] as number;
      const a2 = t.alt2[i] as number;
      const b1 = t.alt1[j] as number;
      const b2 = t.alt2[j] as number;
      if (
        (b1 >= 0 && (b1 === fa || b1 === a1 || b1 === a2)) ||
        (b2 >= 0 && (b2 === fa || b2 === a1 || b2 === a2)) ||
        (a1 >= 0 && a1 === fb) ||
        (a2 >= 0 && a2 === fb)
      ) {
        family = EXACT;
        notes |= NOTE.familyAlias;
      }
    }
    if (given === DISAGREE && family !== EXACT && family !== MISSING) {
      // Name order swap: one record's family name is the other's given name (perhaps a nickname of it).
      const g1 = this.strongName(t.family[i] as number, t.given[j] as number);
      const g2 = this.strongName(t.given[i] as number, t.family[j] as number);
      if (g1 !== DISAGREE || g2 !== DISAGREE) {
        const other = g1 !== DISAGREE ? this.swappedFamily(t.given[i] as number, j) : this.swappedFamily(t.given[j] as number, i);
        if (other !== DISAGREE || (g1 !== DISAGREE && g2 !== DISAGREE)) {
          given = g1 !== DISAGREE ? g1 : g2;
          family = other;
          notes |= NOTE.swap;
        }
      }
    }
    if (given === DISAGREE) {
      const m1 = this.compareName(t.given[i] as number, t.middle[j] as number, true);
      const m2 = this.compareName(t.middle[i] as number, t.given[j] as number, true);
      if (m1 === EXACT || m1 === NICKNAME || m2 === EXACT || m2 === NICKNAME) {
        given = NICKNAME;
        notes |= NOTE.middleAsGiven;
      }
    }
    L[GIVEN] = given;
    L[MIDDLE] = this.compareName(t.middle[i] as number, t.middle[j] as number, true);
    L[BIRTH_DATE] = this.compareBirthDate(i, j);
    const sa = t.sex[i] as number;
    const sb = t.sex[j] as number;
    L[SEX] = sa === 0 || sb === 0 ? MISSING : sa === sb ? EXACT : DISAGREE;
    L[ADDRESS] = this.compareAddress(i, j);
    L[PHONE] = this.comparePhone(i, j);
    const ea = t.email[i] as number;
    const eb = t.email[j] as number;
    L[EMAIL] = ea < 0 || eb < 0 ? MISSING : ea === eb ? EXACT : DISAGREE;
    L[SSN] = this.compareSsn(i, j);
    if (
      family === DISAGREE &&
      (given === EXACT || given === CLOSE || given === NICKNAME) &&
      L[BIRTH_DATE] === EXACT &&
      L[SEX] !== DISAGREE &&
      (L[ADDRESS] === EXACT || L[ADDRESS] === CLOSE || L[PHONE] === EXACT || L[EMAIL] === EXACT || L[SSN] === EXACT)
    ) {
      family = CHANGED;
      notes |= NOTE.married;
    }
    L[FAMILY] = family;
    this.sharedIdentifier = t.sharesIdentifier(i, j) || (L[SSN] === EXACT && t.ssnValid[i] === 1 && t.ssnValid[j] === 1);
    const ga = t.suffix[i] as number;
    const gb = t.suffix[j] as number;
    if (ga !== 0 && gb !== 0 && ga !== gb) notes |= NOTE.generationConflict;
    this.notes = notes;
    const w = this.weights;
    let score = 0;
    for (let f = 0; f < FIELD_COUNT; f++) score += w[f * LEVELS_PER_FIELD + (L[f] as number)] as number;
    return score;
  }

  /** The grade of the last `compare` call with its `score`; adds cap and identifier notes. */
  grade(score: number): Grade {
    const L = this.levels;
    const th = this.thresholds;
    let grade: Grade = score >= th.certain ? 'certain' : score >= th.probable ? 'probable' : score >= th.possible ? 'possible' : 'certainly-not';
    if (this.notes & NOTE.generationConflict) return 'certainly-not';
    const given = L[GIVEN] as number;
    const family = L[FAMILY] as number;
    const dob = L[BIRTH_DATE] as number;
    let conflict = false;
    if (given === DISAGREE && !(L[SSN] === EXACT && dob === EXACT)) {
      const twin = (family === EXACT || family === CLOSE) && dob === EXACT;
      this.notes |= twin ? NOTE.twinCap : NOTE.givenCap;
      grade = weaker(grade, twin ? 'possible' : 'probable');
      conflict = twin || family === DISAGREE || (dob !== EXACT && dob !== CLOSE && dob !== PHONETIC && dob !== NICKNAME);
    }
    if (dob === DISAGREE) {
      const gap = Math.abs((this.table.year[this.lastI] as number) - (this.table.year[this.lastJ] as number));
      this.notes |= NOTE.birthDateCap;
      grade = weaker(grade, gap >= 10 ? 'possible' : 'probable');
      if (L[SEX] === DISAGREE || gap >= 10) conflict = true;
    }
    if (this.sharedIdentifier) {
      if (!conflict && score >= th.possible) {
        this.notes |= NOTE.identifier;
        return 'certain';
      }
      this.notes |= NOTE.identifierConflict;
      grade = weaker(grade, 'probable');
    }
    return grade;
  }

  /** compare + grade in one call. */
  score(i: number, j: number): { score: number; grade: Grade } {
    const score = this.compare(i, j);
    return { score, grade: this.grade(score) };
  }

  /** Fast path for the blocking loop: the score, with the grade's rank (3 certain … 0 certainly-not) in `lastRank`. */
  scoreRank(i: number, j: number): number {
    const score = this.compare(i, j);
    this.lastRank = GRADE_RANK[this.grade(score)];
    return score;
  }

  /** The readable explanation of a pair (allocates). */
  explain(i: number, j: number): MatchExplanation {
    const { score, grade } = this.score(i, j);
    const fields = FIELDS.map((field, f) => {
      const level = this.levels[f] as number;
      return { field, level: LEVEL_NAMES[field][level] ?? String(level), weight: round(this.weight(f, level)) };
    });
    const notes = (Object.keys(NOTE) as NoteName[]).filter((name) => this.notes & NOTE[name]);
    return { score: round(score), grade, fields, notes };
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
