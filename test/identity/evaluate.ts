/** Pairwise precision / recall / F1 of a clustering against ground truth. */

export interface PairwiseScores {
  truePairs: number;
  predictedPairs: number;
  correctPairs: number;
  precision: number;
  recall: number;
  f1: number;
}

function pairsWithin(groups: Iterable<number>): number {
  let pairs = 0;
  for (const size of groups) pairs += (size * (size - 1)) / 2;
  return pairs;
}

function sizes<T>(labels: readonly T[]): Map<T, number> {
  const out = new Map<T, number>();
  for (const l of labels) out.set(l, (out.get(l) ?? 0) + 1);
  return out;
}

/** `truth[k]` and `predicted[k]` label record k. */
export function pairwise<T, U>(truth: readonly T[], predicted: readonly U[]): PairwiseScores {
  const truePairs = pairsWithin(sizes(truth).values());
  const predictedPairs = pairsWithin(sizes(predicted).values());
  const correctPairs = pairsWithin(sizes(truth.map((t, k) => `${String(t)}\u0000${String(predicted[k])}`)).values());
  const precision = predictedPairs === 0 ? 1 : correctPairs / predictedPairs;
  const recall = truePairs === 0 ? 1 : correctPairs / truePairs;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { truePairs, predictedPairs, correctPairs, precision, recall, f1 };
}

/** Merges labels connected by `extra` pairs of record indexes (union–find). */
export function mergeLabels<U>(labels: readonly U[], extra: Iterable<[number, number]>): number[] {
  const parent = labels.map((_, k) => k);
  const first = new Map<U, number>();
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x] as number] as number;
    return x;
  };
  labels.forEach((l, k) => {
    const f = first.get(l);
    if (f === undefined) first.set(l, k);
    else parent[find(k)] = find(f);
  });
  for (const [a, b] of extra) parent[find(a)] = find(b);
  return labels.map((_, k) => find(k));
}
