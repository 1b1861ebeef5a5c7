/**
 * Linking: scoring every candidate pair from blocking (`linkAll`) and clustering the `certain` links
 * into persons (`cluster`).
 *
 * Clustering is connected components over certain links, taken strongest first, with a guard against
 * chaining distinct people through a series of individually plausible links (A~B, B~C, but A≁C): two
 * clusters merge only when every cross pair scores at least `possible`, none is graded certainly-not
 * and none looks like two related people (a twin or parent/child cap below `probable`) — complete
 * linkage at the `possible` level; for clusters with more than `maxGuardPairs`
 * cross pairs, only their anchors — smallest rows — are checked, at `probable`). Manual decisions win:
 * a manual link merges regardless of scores; a manual unlink keeps its two records apart whatever the
 * automatic links say.
 */
import { forEachCandidatePair, type BlockingOptions, type BlockingStats } from './blocking';
import { NOTE, type Comparator } from './match';

/** Notes that mark a pair as two look-alike people (twins, parent/child), whatever their score. */
const LOOK_ALIKE = NOTE.twinCap | NOTE.birthDateCap | NOTE.generationConflict;

/** Grade ranks as stored in edges: 3 certain, 2 probable, 1 possible, 0 certainly-not. */
export const RANK = { certain: 3, probable: 2, possible: 1, certainlyNot: 0 } as const;

/** Scored pairs in typed arrays. */
export class EdgeList {
  a = new Int32Array(1024);
  b = new Int32Array(1024);
  score = new Float32Array(1024);
  rank = new Uint8Array(1024);
  length = 0;

  push(a: number, b: number, score: number, rank: number): void {
    if (this.length === this.a.length) {
      const n = this.a.length * 2;
      const grow = <T extends Int32Array | Float32Array | Uint8Array>(x: T, make: (n: number) => T): T => {
        const y = make(n);
        y.set(x);
        return y;
      };
      this.a = grow(this.a, (k) => new Int32Array(k));
      this.b = grow(this.b, (k) => new Int32Array(k));
      this.score = grow(this.score, (k) => new Float32Array(k));
      this.rank = grow(this.rank, (k) => new Uint8Array(k));
    }
    const k = this.length++;
    this.a[k] = a;
    this.b[k] = b;
    this.score[k] = score;
    this.rank[k] = rank;
  }
}

export interface LinkAllResult {
  edges: EdgeList;
  blocking: BlockingStats;
  /** Candidate pairs graded certain / probable / possible. */
  grades: { certain: number; probable: number; possible: number };
}

/** Scores all candidate pairs among `rows`; keeps pairs graded possible or better. */
export function linkAll(comparator: Comparator, rows: ArrayLike<number>, options: BlockingOptions = {}): LinkAllResult {
  const edges = new EdgeList();
  const grades = { certain: 0, probable: 0, possible: 0 };
  const blocking = forEachCandidatePair(
    comparator.table,
    rows,
    (i, j) => {
      const score = comparator.scoreRank(i, j);
      const rank = comparator.lastRank;
      if (rank === 0) return;
      if (rank === 3) grades.certain++;
      else if (rank === 2) grades.probable++;
      else grades.possible++;
      edges.push(i, j, score, rank);
    },
    options,
  );
  return { edges, blocking, grades };
}

export interface ClusterConstraints {
  /** Pairs of rows manually linked: always merged. */
  links?: readonly (readonly [number, number])[];
  /** Pairs of rows manually unlinked: never in one cluster. */
  unlinks?: readonly (readonly [number, number])[];
  /** Cross pairs above which only cluster anchors are checked (default 400). */
  maxGuardPairs?: number;
}

export interface ClusterStats {
  merges: number;
  /** Certain links refused by the chaining guard. */
  guardRejections: number;
  /** Certain links refused because of a manual unlink. */
  unlinkRejections: number;
}

/**
 * Clusters `table` rows over the certain edges among `edgeIndexes` (indexes into `edges`; all when
 * undefined). `root` maps every row to its cluster's root row and is updated in place (rows never
 * touched are their own root); pass `touched` to re-cluster only those rows (their `root` entries
 * must be reset to themselves by the caller).
 */
export function cluster(
  comparator: Comparator,
  edges: EdgeList,
  edgeIndexes: ArrayLike<number> | undefined,
  constraints: ClusterConstraints = {},
  root: Int32Array = identity(comparator.table.length),
  touched?: ArrayLike<number>,
): { root: Int32Array; stats: ClusterStats } {
  const members = new Map<number, number[]>();
  const find = (x: number): number => {
    let r = x;
    while (root[r] !== r) r = root[r] as number;
    while (root[x] !== r) {
      const next = root[x] as number;
      root[x] = r;
      x = next;
    }
    return r;
  };
  const membersOf = (r: number): number[] => members.get(r) ?? [r];
  const apart = new Map<number, number[]>();
  for (const [a, b] of constraints.unlinks ?? []) {
    (apart.get(a) ?? apart.set(a, []).get(a))?.push(b);
    (apart.get(b) ?? apart.set(b, []).get(b))?.push(a);
  }
  const separated = (ma: number[], mb: number[]): boolean => {
    if (apart.size === 0) return false;
    const rb = find(mb[0] as number);
    return ma.some((x) => (apart.get(x) ?? []).some((y) => find(y) === rb));
  };
  const union = (ra: number, rb: number): void => {
    const [big, small] = ra < rb ? [ra, rb] : [rb, ra];
    members.set(big, [...membersOf(big), ...membersOf(small)]);
    members.delete(small);
    root[small] = big;
  };
  const stats: ClusterStats = { merges: 0, guardRejections: 0, unlinkRejections: 0 };
  for (const [a, b] of constraints.links ?? []) {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) {
      union(ra, rb);
      stats.merges++;
    }
  }
  const order: number[] = [];
  const count = edgeIndexes ? edgeIndexes.length : edges.length;
  for (let k = 0; k < count; k++) {
    const e = edgeIndexes ? (edgeIndexes[k] as number) : k;
    if (edges.rank[e] === RANK.certain) order.push(e);
  }
  order.sort((x, y) => (edges.score[y] as number) - (edges.score[x] as number) || x - y);
  const maxGuard = constraints.maxGuardPairs ?? 400;
  const th = comparator.thresholds;
  for (const e of order) {
    const ra = find(edges.a[e] as number);
    const rb = find(edges.b[e] as number);
    if (ra === rb) continue;
    const ma = membersOf(ra);
    const mb = membersOf(rb);
    if (separated(ma, mb)) {
      stats.unlinkRejections++;
      continue;
    }
    let ok = true;
    if (ma.length * mb.length === 1) ok = true;
    else if (ma.length * mb.length <= maxGuard) {
      for (const x of ma) {
        for (const y of mb) {
          const score = comparator.scoreRank(x, y);
          const lookAlike = (comparator.notes & LOOK_ALIKE) !== 0;
          if (comparator.lastRank === 0 || score < th.possible || (lookAlike && comparator.lastRank < RANK.probable)) {
            ok = false;
            break;
          }
        }
        if (!ok) break;
      }
    } else {
      comparator.scoreRank(ra, rb);
      ok = comparator.lastRank >= RANK.probable;
    }
    if (!ok) {
      stats.guardRejections++;
      continue;
    }
    union(ra, rb);
    stats.merges++;
  }
  if (touched) for (let k = 0; k < touched.length; k++) find(touched[k] as number);
  else for (let x = 0; x < root.length; x++) find(x);
  return { root, stats };
}

export function identity(n: number): Int32Array {
  const root = new Int32Array(n);
  for (let x = 0; x < n; x++) root[x] = x;
  return root;
}
