/**
 * Fellegi–Sunter fields, comparison levels and weights. A field's weight at a level is
 * log2(m / u): m = P(level | same person), u = P(level | different people). "missing" (either side
 * absent) and "changed" (a married surname, see `match.ts`) always weigh 0.
 */

export const FIELDS = ['given', 'family', 'middle', 'birthDate', 'sex', 'address', 'phone', 'email', 'ssn'] as const;
export type Field = (typeof FIELDS)[number];
export const FIELD_COUNT = FIELDS.length;
/** Level codes share one numbering across fields; their meaning per field is in `LEVEL_NAMES`. */
export const LEVELS_PER_FIELD = 8;

export const MISSING = 0;
export const EXACT = 1;
export const CLOSE = 2; // names: Jaro–Winkler ≥ 0.92 or one edit; birth date: precision-compatible; address: same street
export const PHONETIC = 3; // names: same NYSIIS; birth date: day/month swapped; address: same ZIP only
export const NICKNAME = 4; // given: nickname table; birth date and SSN: a one-digit typo or transposition
export const INITIAL = 5; // names: an initial agrees; birth date: same year only; SSN: same last four
export const DISAGREE = 6;
export const CHANGED = 7; // family: a married surname

const NAME_LEVELS = ['missing', 'exact', 'fuzzy', 'phonetic', 'nickname', 'initial', 'disagree', 'changed'];
export const LEVEL_NAMES: Record<Field, readonly string[]> = {
  given: NAME_LEVELS,
  family: NAME_LEVELS,
  middle: NAME_LEVELS,
  birthDate: ['missing', 'exact', 'partial', 'swap', 'typo', 'year', 'disagree', ''],
  sex: ['missing', 'exact', '', '', '', '', 'disagree', ''],
  address: ['missing', 'exact', 'street', 'zip', '', '', 'disagree', ''],
  phone: ['missing', 'exact', '', '', '', '', 'disagree', ''],
  email: ['missing', 'exact', '', '', '', '', 'disagree', ''],
  ssn: ['missing', 'exact', '', '', 'typo', 'last4', 'disagree', ''],
};

/** m- and u-probability of one comparison level. */
export interface Probabilities {
  m: number;
  u: number;
}

/** Per field, per level name: the m/u probabilities. Levels not listed are not produced for that field. */
export type WeightConfig = Record<Field, Record<string, Probabilities>>;

/**
 * Configured defaults: m from published error rates of registration data (typos a few %, nicknames,
 * moves 20–30 %, SSN missing or wrong in many duplicates), u from US name/date frequencies.
 */
export const DEFAULT_WEIGHTS: WeightConfig = {
  given: {
    exact: { m: 0.86, u: 0.006 },
    fuzzy: { m: 0.04, u: 0.003 },
    nickname: { m: 0.04, u: 0.002 },
    phonetic: { m: 0.01, u: 0.004 },
    initial: { m: 0.01, u: 0.04 },
    disagree: { m: 0.04, u: 0.945 },
  },
  family: {
    exact: { m: 0.85, u: 0.002 },
    fuzzy: { m: 0.04, u: 0.002 },
    phonetic: { m: 0.01, u: 0.003 },
    initial: { m: 0.001, u: 0.04 },
    disagree: { m: 0.1, u: 0.953 },
  },
  middle: {
    exact: { m: 0.5, u: 0.02 },
    fuzzy: { m: 0.02, u: 0.005 },
    phonetic: { m: 0.01, u: 0.005 },
    nickname: { m: 0.01, u: 0.003 },
    initial: { m: 0.2, u: 0.06 },
    disagree: { m: 0.26, u: 0.907 },
  },
  birthDate: {
    exact: { m: 0.93, u: 0.00005 },
    partial: { m: 0.01, u: 0.0005 },
    swap: { m: 0.01, u: 0.00005 },
    typo: { m: 0.03, u: 0.0005 },
    year: { m: 0.01, u: 0.012 },
    disagree: { m: 0.01, u: 0.987 },
  },
  sex: { exact: { m: 0.98, u: 0.5 }, disagree: { m: 0.02, u: 0.5 } },
  address: {
    exact: { m: 0.7, u: 0.0001 },
    street: { m: 0.05, u: 0.0002 },
    zip: { m: 0.05, u: 0.01 },
    disagree: { m: 0.2, u: 0.9897 },
  },
  phone: { exact: { m: 0.75, u: 0.0001 }, disagree: { m: 0.25, u: 0.9999 } },
  email: { exact: { m: 0.8, u: 0.0001 }, disagree: { m: 0.2, u: 0.9999 } },
  ssn: {
    exact: { m: 0.93, u: 0.000001 },
    typo: { m: 0.04, u: 0.00001 },
    last4: { m: 0.005, u: 0.0001 },
    disagree: { m: 0.025, u: 0.999889 },
  },
};

/** The weight table `w[field * LEVELS_PER_FIELD + level]` (log2 m/u) of a configuration. */
export function weightTable(config: WeightConfig): Float64Array {
  const table = new Float64Array(FIELD_COUNT * LEVELS_PER_FIELD);
  FIELDS.forEach((field, f) => {
    LEVEL_NAMES[field].forEach((name, level) => {
      const p = config[field][name];
      if (level === MISSING || level === CHANGED || !p) return;
      table[f * LEVELS_PER_FIELD + level] = Math.log2(Math.max(p.m, 1e-9) / Math.max(p.u, 1e-12));
    });
  });
  return table;
}
