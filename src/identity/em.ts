/**
 * Estimating Fellegi–Sunter m- and u-probabilities by expectation–maximization over the comparison
 * patterns of candidate pairs (Winkler 1988; as in Splink). Pairs are summarized as pattern counts
 * (one 3-bit level per field packed in an integer), so EM runs over a few thousand distinct patterns
 * whatever the number of pairs. `estimateU` measures u directly on random pairs, which are almost all
 * non-matches; fixing u that way and learning only m and λ is the more stable choice.
 */
import type { Comparator } from './match';
import { CHANGED, FIELD_COUNT, FIELDS, LEVEL_NAMES, LEVELS_PER_FIELD, MISSING, type WeightConfig } from './weights';

/** Packs a comparison vector into an integer (3 bits per field). */
export function patternOf(levels: Uint8Array): number {
  let p = 0;
  for (let f = FIELD_COUNT - 1; f >= 0; f--) p = p * LEVELS_PER_FIELD + (levels[f] as number);
  return p;
}

export function levelOfPattern(pattern: number, field: number): number {
  return Math.floor(pattern / LEVELS_PER_FIELD ** field) % LEVELS_PER_FIELD;
}

/** Counts of comparison patterns. */
export class PatternCounts {
  readonly counts = new Map<number, number>();
  total = 0;

  add(levels: Uint8Array, count = 1): void {
    const p = patternOf(levels);
    this.counts.set(p, (this.counts.get(p) ?? 0) + count);
    this.total += count;
  }
}

export interface EmOptions {
  /** Prior proportion of matches among the pairs (default 0.1). */
  lambda?: number;
  maxIterations?: number;
  /** Stop when no probability moves more than this (default 1e-5). */
  tolerance?: number;
  /** Keep the u-probabilities of `initial` (e.g. from `estimateU`) and learn m and λ only. */
  fixU?: boolean;
}

export interface EmResult {
  weights: WeightConfig;
  lambda: number;
  iterations: number;
  converged: boolean;
  patterns: number;
  pairs: number;
}

function levelsOf(field: number): number[] {
  const names = LEVEL_NAMES[FIELDS[field] as (typeof FIELDS)[number]];
  const out: number[] = [];
  names.forEach((name, level) => {
    if (name && level !== MISSING && level !== CHANGED) out.push(level);
  });
  return out;
}

/** EM over pattern counts, starting from `initial`. */
export function estimateWeights(patterns: PatternCounts, initial: WeightConfig, options: EmOptions = {}): EmResult {
  const K = LEVELS_PER_FIELD;
  const m = new Float64Array(FIELD_COUNT * K);
  const u = new Float64Array(FIELD_COUNT * K);
  for (let f = 0; f < FIELD_COUNT; f++) {
    const field = FIELDS[f] as (typeof FIELDS)[number];
    for (const level of levelsOf(f)) {
      const p = initial[field][LEVEL_NAMES[field][level] as string];
      m[f * K + level] = p?.m ?? 1e-3;
      u[f * K + level] = p?.u ?? 1e-3;
    }
  }
  const entries = [...patterns.counts.entries()];
  const levelTable = entries.map(([p]) => Array.from({ length: FIELD_COUNT }, (_, f) => levelOfPattern(p, f)));
  let lambda = options.lambda ?? 0.1;
  const maxIterations = options.maxIterations ?? 200;
  const tolerance = options.tolerance ?? 1e-5;
  let iterations = 0;
  let converged = false;
  const mAcc = new Float64Array(FIELD_COUNT * K);
  const uAcc = new Float64Array(FIELD_COUNT * K);
  while (iterations < maxIterations && !converged) {
    iterations++;
    mAcc.fill(0);
    uAcc.fill(0);
    let matches = 0;
    let total = 0;
    entries.forEach(([, count], e) => {
      const levels = levelTable[e] as number[];
      let logit = Math.log(lambda) - Math.log(1 - lambda);
      for (let f = 0; f < FIELD_COUNT; f++) {
        const l = levels[f] as number;
        if (l === MISSING || l === CHANGED) continue;
        logit += Math.log(Math.max(m[f * K + l] as number, 1e-12)) - Math.log(Math.max(u[f * K + l] as number, 1e-12));
      }
      const post = 1 / (1 + Math.exp(-Math.max(-700, Math.min(700, logit))));
      matches += count * post;
      total += count;
      for (let f = 0; f < FIELD_COUNT; f++) {
        const l = levels[f] as number;
        if (l === MISSING || l === CHANGED) continue;
        mAcc[f * K + l] = (mAcc[f * K + l] as number) + count * post;
        uAcc[f * K + l] = (uAcc[f * K + l] as number) + count * (1 - post);
      }
    });
    let delta = 0;
    for (let f = 0; f < FIELD_COUNT; f++) {
      const levels = levelsOf(f);
      const mSum = levels.reduce((s, l) => s + (mAcc[f * K + l] as number) + 1e-3, 0);
      const uSum = levels.reduce((s, l) => s + (uAcc[f * K + l] as number) + 1e-3, 0);
      for (const l of levels) {
        const nm = ((mAcc[f * K + l] as number) + 1e-3) / mSum;
        delta = Math.max(delta, Math.abs(nm - (m[f * K + l] as number)));
        m[f * K + l] = nm;
        if (!options.fixU) {
          const nu = ((uAcc[f * K + l] as number) + 1e-3) / uSum;
          delta = Math.max(delta, Math.abs(nu - (u[f * K + l] as number)));
          u[f * K + l] = nu;
        }
      }
    }
    const nextLambda = Math.min(0.999, Math.max(1e-6, matches / Math.max(total, 1)));
    delta = Math.max(delta, Math.abs(nextLambda - lambda));
    lambda = nextLambda;
    converged = delta < tolerance;
  }
  const weights = {} as WeightConfig;
  FIELDS.forEach((field, f) => {
    weights[field] = {};
    for (const level of levelsOf(f)) {
      weights[field][LEVEL_NAMES[field][level] as string] = { m: m[f * K + level] as number, u: u[f * K + level] as number };
    }
  });
  return { weights, lambda, iterations, converged, patterns: entries.length, pairs: patterns.total };
}

/**
 * u-probabilities measured on `samples` random pairs of live rows (almost all non-matches), merged
 * into `base` (m kept). Deterministic for a given seed.
 */
export function estimateU(comparator: Comparator, rows: ArrayLike<number>, samples: number, base: WeightConfig, seed = 1): WeightConfig {
  const counts = new Float64Array(FIELD_COUNT * LEVELS_PER_FIELD);
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  const n = rows.length;
  for (let s = 0; s < samples && n > 1; s++) {
    const i = rows[Math.floor(next() * n)] as number;
    const j = rows[Math.floor(next() * n)] as number;
    if (i === j) continue;
    comparator.compare(i, j);
    for (let f = 0; f < FIELD_COUNT; f++) {
      const k = f * LEVELS_PER_FIELD + (comparator.levels[f] as number);
      counts[k] = (counts[k] as number) + 1;
    }
  }
  const out = {} as WeightConfig;
  FIELDS.forEach((field, f) => {
    out[field] = {};
    const levels = levelsOf(f);
    const total = levels.reduce((s, l) => s + (counts[f * LEVELS_PER_FIELD + l] as number) + 0.5, 0);
    for (const l of levels) {
      const name = LEVEL_NAMES[field][l] as string;
      const prior = base[field][name] ?? { m: 1e-3, u: 1e-3 };
      out[field][name] = { m: prior.m, u: ((counts[f * LEVELS_PER_FIELD + l] as number) + 0.5) / total };
    }
  });
  return out;
}
