/**
 * Offline metrics over plain arrays: no model, no data set. Ties are handled explicitly because
 * baselines (popularity counts, kNN sums of zero) tie often, and breaking ties by input order would
 * flatter or punish a scorer by accident.
 */

/**
 * Area under the ROC curve: the probability that a random positive scores above a random negative,
 * a tie counting one half. Null when either class is absent: it is undefined then.
 */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  return aucOf(scores, labels)();
}

/**
 * AUC of fixed scores and labels under example weights (bootstrap multiplicities; 1 each without):
 * the examples are sorted once, and each weighting is then one pass over tie groups, so that a
 * thousand resamples of a large test set cost a thousand linear passes rather than sorts.
 */
export function aucOf(scores: ArrayLike<number>, labels: ArrayLike<number>): (weights?: ArrayLike<number>) => number | null {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  const groupEnds: number[] = [];
  for (let i = 1; i <= n; i++) {
    if (i === n || scores[order[i] as number] !== scores[order[i - 1] as number]) groupEnds.push(i);
  }
  return (weights) => {
    let negativesBelow = 0;
    let positives = 0;
    let pairs = 0;
    let start = 0;
    for (const end of groupEnds) {
      let groupPositives = 0;
      let groupNegatives = 0;
      for (let i = start; i < end; i++) {
        const example = order[i] as number;
        const w = weights ? (weights[example] as number) : 1;
        if (labels[example] === 1) groupPositives += w;
        else groupNegatives += w;
      }
      // Each positive wins against the negatives below its group and ties with half of its own.
      pairs += groupPositives * (negativesBelow + groupNegatives / 2);
      negativesBelow += groupNegatives;
      positives += groupPositives;
      start = end;
    }
    const negatives = negativesBelow;
    if (positives === 0 || negatives === 0) return null;
    return pairs / (positives * negatives);
  };
}

/** Probabilities are clipped to [ε, 1-ε] so that one confident mistake costs a lot but not infinity. */
export const LOG_LOSS_EPSILON = 1e-7;

/** Mean binary cross-entropy of probabilities against 0/1 labels; null for no examples. */
export function logLoss(probabilities: ArrayLike<number>, labels: ArrayLike<number>, epsilon = LOG_LOSS_EPSILON): number | null {
  const n = probabilities.length;
  if (n === 0) return null;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.min(1 - epsilon, Math.max(epsilon, probabilities[i] as number));
    sum -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return sum / n;
}

/**
 * Hit rate and NDCG at `k` of one relevant item ranked among `negatives`. Ties are broken at random
 * in expectation: the relevant item is equally likely at each position its tie group spans, and the
 * figures are averaged over those positions (so a scorer that gives everything 0 gets k/(n+1)).
 */
export function rankMetrics(positive: number, negatives: readonly number[], k: number): { hit: number; ndcg: number } {
  let above = 0;
  let tied = 0;
  for (const score of negatives) {
    if (score > positive) above++;
    else if (score === positive) tied++;
  }
  let hit = 0;
  let ndcg = 0;
  for (let position = above + 1; position <= above + tied + 1 && position <= k; position++) {
    hit += 1;
    // One relevant item: the ideal DCG is 1, so NDCG is its discounted gain.
    ndcg += 1 / Math.log2(position + 1);
  }
  return { hit: hit / (tied + 1), ndcg: ndcg / (tied + 1) };
}
