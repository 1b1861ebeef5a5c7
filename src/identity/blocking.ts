/**
 * Blocking: only records that share a blocking key are compared. Several keys, each missing a
 * different kind of error, so a true match with a typo in any single field still shares a block:
 *
 * | rule | key | survives errors in |
 * |---|---|---|
 * | `identifier` | any identifier (system + value) | every demographic field |
 * | `birthDate` | full birth date + sex | names (typos, swaps, married surname), address, phone, SSN |
 * | `familyYear` | NYSIIS(family) + birth year | day/month of birth, given name, address, phone |
 * | `ssnYear` | SSN last four + birth year | names, day/month, address |
 * | `zipInitials` | ZIP + given initial + family initial | birth date, phone, SSN |
 * | `phone` | phone number | names, birth date, address |
 * | `names` | NYSIIS(given) + NYSIIS(family) | birth date, address, phone |
 *
 * Keys are 30-bit hashes. A pair sharing keys of several rules is compared once: under rule r it is
 * skipped when it shares a key of an earlier rule. A block larger than `maxBlockSize` is not compared
 * exhaustively: its records are ordered by name and each is compared with the next `window` ones
 * (sorted neighbourhood), so a common name or a popular birth date cannot make the work quadratic.
 */
import type { RecordTable } from './table';

export interface BlockingRule {
  readonly name: string;
  /** Number of keys a record can have under this rule. */
  readonly slots: number;
  /** The key of row `i` in `slot`, a 30-bit non-negative integer, or -1 when the record has none. */
  key(t: RecordTable, i: number, slot: number): number;
}

function mix(h: number, v: number): number {
  h = Math.imul(h ^ (v | 0), 0x9e3779b1);
  h ^= h >>> 15;
  return Math.imul(h, 0x85ebca6b);
}

function finish(h: number): number {
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 2;
}

function phoneticOf(t: RecordTable, nameId: number): number {
  return nameId < 0 ? -1 : (t.names.phonetic[nameId] as number);
}

export const DEFAULT_RULES: readonly BlockingRule[] = [
  {
    name: 'identifier',
    slots: 3,
    key(t, i, slot) {
      const id = slot === 0 ? (t.id1[i] as number) : slot === 1 ? (t.id2[i] as number) : (t.moreIdentifiers.get(i)?.[0] ?? -1);
      return id < 0 ? -1 : finish(mix(1, id));
    },
  },
  {
    name: 'birthDate',
    slots: 1,
    key(t, i) {
      const d = t.day[i] as number;
      return d === 0 ? -1 : finish(mix(mix(mix(mix(2, t.year[i] as number), t.month[i] as number), d), t.sex[i] as number));
    },
  },
  {
    name: 'familyYear',
    slots: 2,
    key(t, i, slot) {
      const p = phoneticOf(t, slot === 0 ? (t.family[i] as number) : (t.alt1[i] as number));
      const y = t.year[i] as number;
      return p < 0 || y === 0 ? -1 : finish(mix(mix(3, p), y));
    },
  },
  {
    name: 'ssnYear',
    slots: 1,
    key(t, i) {
      const s = t.ssn[i] as number;
      const y = t.year[i] as number;
      return s < 0 || y === 0 ? -1 : finish(mix(mix(4, s % 10000), y));
    },
  },
  {
    name: 'zipInitials',
    slots: 1,
    key(t, i) {
      const z = t.zip[i] as number;
      const g = t.given[i] as number;
      const f = t.family[i] as number;
      if (z < 0 || g < 0 || f < 0) return -1;
      return finish(mix(mix(mix(5, z), t.names.values[g]?.charCodeAt(0) ?? 0), t.names.values[f]?.charCodeAt(0) ?? 0));
    },
  },
  {
    name: 'phone',
    slots: 2,
    key(t, i, slot) {
      const p = slot === 0 ? (t.phone1[i] as number) : (t.phone2[i] as number);
      return Number.isNaN(p) ? -1 : finish(mix(mix(6, p % 100000), Math.floor(p / 100000)));
    },
  },
  {
    name: 'names',
    slots: 1,
    key(t, i) {
      const g = phoneticOf(t, t.given[i] as number);
      const f = phoneticOf(t, t.family[i] as number);
      return g < 0 || f < 0 ? -1 : finish(mix(mix(7, g), f));
    },
  },
];

export interface BlockingOptions {
  rules?: readonly BlockingRule[];
  /** Blocks with more records than this are compared by sorted neighbourhood (default 400). */
  maxBlockSize?: number;
  /** Neighbourhood width in oversized blocks (default 20). */
  window?: number;
}

export interface BlockingStats {
  records: number;
  pairsCompared: number;
  /** n(n-1)/2: what comparing everything with everything would cost. */
  allPairs: number;
  reductionRatio: number;
  blocks: number;
  oversizedBlocks: number;
  largestBlock: number;
  perRule: { rule: string; blocks: number; pairs: number; oversized: number }[];
}

const ROW_BITS = 2 ** 23;

/** Precomputed keys: keys[r][slot * n + k] for the k-th row of `rows`. */
class KeyColumns {
  readonly keys: Int32Array[];
  constructor(
    t: RecordTable,
    readonly rows: ArrayLike<number>,
    readonly rules: readonly BlockingRule[],
  ) {
    const n = rows.length;
    this.keys = rules.map((rule) => {
      const column = new Int32Array(n * rule.slots);
      for (let s = 0; s < rule.slots; s++) for (let k = 0; k < n; k++) column[s * n + k] = rule.key(t, rows[k] as number, s);
      return column;
    });
  }

  /** Whether positions a and b share a key under rule r. */
  shares(r: number, a: number, b: number): boolean {
    const column = this.keys[r] as Int32Array;
    const slots = (this.rules[r] as BlockingRule).slots;
    const n = this.rows.length;
    for (let s = 0; s < slots; s++) {
      const ka = column[s * n + a] as number;
      if (ka < 0) continue;
      for (let q = 0; q < slots; q++) if (column[q * n + b] === ka) return true;
    }
    return false;
  }
}

/**
 * Calls `visit(i, j)` once for every candidate pair among `rows` (table rows). Memory: a few typed
 * arrays of `rows.length`; no pair list is built.
 */
export function forEachCandidatePair(
  t: RecordTable,
  rows: ArrayLike<number>,
  visit: (i: number, j: number) => void,
  options: BlockingOptions = {},
): BlockingStats {
  const rules = options.rules ?? DEFAULT_RULES;
  const maxBlock = options.maxBlockSize ?? 400;
  const window = options.window ?? 20;
  const n = rows.length;
  if (n >= ROW_BITS) throw new Error(`blocking handles up to ${ROW_BITS - 1} records in one pass`);
  const columns = new KeyColumns(t, rows, rules);
  const stats: BlockingStats = {
    records: n,
    pairsCompared: 0,
    allPairs: (n * (n - 1)) / 2,
    reductionRatio: 0,
    blocks: 0,
    oversizedBlocks: 0,
    largestBlock: 0,
    perRule: [],
  };
  let members = new Int32Array(64);
  rules.forEach((rule, r) => {
    const column = columns.keys[r] as Int32Array;
    let count = 0;
    for (let x = 0; x < column.length; x++) if ((column[x] as number) >= 0) count++;
    const packed = new Float64Array(count);
    let p = 0;
    for (let x = 0; x < column.length; x++) {
      const key = column[x] as number;
      if (key >= 0) packed[p++] = key * ROW_BITS + (x % n);
    }
    packed.sort();
    const ruleStats = { rule: rule.name, blocks: 0, pairs: 0, oversized: 0 };
    let start = 0;
    while (start < count) {
      const key = Math.floor((packed[start] as number) / ROW_BITS);
      let end = start + 1;
      while (end < count && Math.floor((packed[end] as number) / ROW_BITS) === key) end++;
      const size = end - start;
      if (size > 1) {
        ruleStats.blocks++;
        if (size > stats.largestBlock) stats.largestBlock = size;
        if (members.length < size) members = new Int32Array(size * 2);
        let m = 0;
        for (let x = start; x < end; x++) {
          const pos = (packed[x] as number) % ROW_BITS;
          if (m === 0 || members[m - 1] !== pos) members[m++] = pos; // a row can carry the same key in two slots
        }
        const oversized = m > maxBlock;
        if (oversized) {
          ruleStats.oversized++;
          const block = Array.from(members.subarray(0, m)).sort((a, b) => nameOrder(t, rows, a, b));
          for (let a = 0; a < m; a++) members[a] = block[a] as number;
        }
        for (let a = 0; a < m; a++) {
          const pa = members[a] as number;
          const last = oversized ? Math.min(m, a + 1 + window) : m;
          for (let b = a + 1; b < last; b++) {
            const pb = members[b] as number;
            let seen = false;
            for (let q = 0; q < r && !seen; q++) seen = columns.shares(q, pa, pb);
            if (seen) continue;
            ruleStats.pairs++;
            visit(rows[pa] as number, rows[pb] as number);
          }
        }
      }
      start = end;
    }
    stats.blocks += ruleStats.blocks;
    stats.oversizedBlocks += ruleStats.oversized;
    stats.pairsCompared += ruleStats.pairs;
    stats.perRule.push(ruleStats);
  });
  stats.reductionRatio = stats.allPairs > 0 ? 1 - stats.pairsCompared / stats.allPairs : 0;
  return stats;
}

function nameOrder(t: RecordTable, rows: ArrayLike<number>, a: number, b: number): number {
  const ra = rows[a] as number;
  const rb = rows[b] as number;
  return (t.family[ra] as number) - (t.family[rb] as number) || (t.given[ra] as number) - (t.given[rb] as number) || ra - rb;
}

/**
 * An index of blocking keys for look-ups of one record at a time (`PatientIndex.linkRecord`,
 * `match`): sorted packed keys from the last full build plus a map of rows added since.
 */
export class BlockIndex {
  private sorted: Float64Array[] = [];
  private readonly added = new Map<number, number[]>();

  constructor(
    private readonly table: RecordTable,
    readonly rules: readonly BlockingRule[] = DEFAULT_RULES,
    private readonly maxBlockSize = 400,
  ) {}

  /** Rebuilds the sorted keys from `rows`. */
  rebuild(rows: ArrayLike<number>): void {
    this.added.clear();
    this.sorted = this.rules.map((rule) => {
      const values: number[] = [];
      for (let k = 0; k < rows.length; k++) {
        const row = rows[k] as number;
        for (let s = 0; s < rule.slots; s++) {
          const key = rule.key(this.table, row, s);
          if (key >= 0) values.push(key * ROW_BITS + row);
        }
      }
      return Float64Array.from(values).sort();
    });
  }

  /** Adds one row's keys. */
  add(row: number): void {
    for (const rule of this.rules) {
      for (let s = 0; s < rule.slots; s++) {
        const key = rule.key(this.table, row, s);
        if (key < 0) continue;
        // Keys of different rules differ by their rule tag in the hash, so one map serves all rules.
        const list = this.added.get(key);
        if (list) list.push(row);
        else this.added.set(key, [row]);
      }
    }
  }

  /** Rows sharing a blocking key with `row` (at most `maxBlockSize` per block), `row` itself excluded. */
  candidates(row: number): Set<number> {
    const out = new Set<number>();
    this.rules.forEach((rule, r) => {
      const sorted = this.sorted[r];
      for (let s = 0; s < rule.slots; s++) {
        const key = rule.key(this.table, row, s);
        if (key < 0) continue;
        let taken = 0;
        if (sorted) {
          let lo = 0;
          let hi = sorted.length;
          const target = key * ROW_BITS;
          while (lo < hi) {
            const mid = (lo + hi) >>> 1;
            if ((sorted[mid] as number) < target) lo = mid + 1;
            else hi = mid;
          }
          for (let x = lo; x < sorted.length && taken < this.maxBlockSize; x++) {
            const v = sorted[x] as number;
            if (Math.floor(v / ROW_BITS) !== key) break;
            out.add(v % ROW_BITS);
            taken++;
          }
        }
        for (const other of this.added.get(key) ?? []) if (taken++ < this.maxBlockSize) out.add(other);
      }
    });
    out.delete(row);
    return out;
  }
}
