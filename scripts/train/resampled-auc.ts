/**
 * AUC over bootstrap resamples of clusters (rounds: a positive and its sampled negatives, or one
 * logged decision), without sorting again: the rows are sorted by score once, and each resample
 * weighs every row by how many times its cluster was drawn. O(rows) per resample instead of a copy
 * and a sort, which is what makes a thousand resamples of 100k test examples take seconds.
 * With one cluster per row, `resampledAuc(scores, labels, rowIndices)(indices)` equals
 * `auc(pick(scores, indices), pick(labels, indices))`.
 */
export function resampledAuc(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  clusterOf: ArrayLike<number>,
): (clusters: Uint32Array) => number | null {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  let drawn = new Float64Array(0);
  return (clusters) => {
    if (drawn.length !== clusters.length) drawn = new Float64Array(clusters.length);
    drawn.fill(0);
    for (const c of clusters) drawn[c] = (drawn[c] ?? 0) + 1;
    let negativesBelow = 0;
    let positives = 0;
    let sum = 0;
    for (let start = 0; start < order.length; ) {
      const score = scores[order[start] as number];
      let tiePositives = 0;
      let tieNegatives = 0;
      let end = start;
      for (; end < order.length && scores[order[end] as number] === score; end++) {
        const i = order[end] as number;
        const weight = drawn[clusterOf[i] as number] as number;
        if (labels[i] === 1) tiePositives += weight;
        else tieNegatives += weight;
      }
      // A positive beats the negatives below it and ties with those of equal score (one half).
      sum += tiePositives * (negativesBelow + tieNegatives / 2);
      negativesBelow += tieNegatives;
      positives += tiePositives;
      start = end;
    }
    return positives > 0 && negativesBelow > 0 ? sum / (positives * negativesBelow) : null;
  };
}

/** Each example's cluster index (0..clusters-1, by first appearance of its round). */
export function clustersOf(rounds: readonly string[]): { clusterOf: Int32Array; clusters: number } {
  const ids = new Map<string, number>();
  const clusterOf = Int32Array.from(rounds, (round) => {
    let id = ids.get(round);
    if (id === undefined) {
      id = ids.size;
      ids.set(round, id);
    }
    return id;
  });
  return { clusterOf, clusters: ids.size };
}
