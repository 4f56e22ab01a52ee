import { describe, expect, it } from "vitest";
import { bootstrapInterval, pick } from "../../scripts/evaluate/bootstrap";
import { auc, aucOf, LOG_LOSS_EPSILON, logLoss, rankMetrics } from "../../scripts/evaluate/metrics";
import { createRandom } from "../../scripts/train/random";

/** AUC by definition: over all (positive, negative) pairs, 1 if the positive is above, 1/2 for a tie. */
function pairwiseAuc(scores: number[], labels: number[]): number {
  let sum = 0;
  let pairs = 0;
  scores.forEach((p, i) => {
    if (labels[i] !== 1) return;
    scores.forEach((n, j) => {
      if (labels[j] !== 0) return;
      pairs++;
      sum += p > n ? 1 : p === n ? 0.5 : 0;
    });
  });
  return sum / pairs;
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

describe("auc", () => {
  it("is 1 for a perfect ranking, 0 for a reversed one and 0.5 when everything ties", () => {
    const labels = [0, 0, 1, 0, 1];
    const perfect = labels.map((y, i) => y + i / 100);
    expect(auc(perfect, labels)).toBe(1);
    expect(
      auc(
        perfect.map((s) => -s),
        labels,
      ),
    ).toBe(0);
    expect(auc([0.3, 0.3, 0.3, 0.3, 0.3], labels)).toBe(0.5);
  });

  it("counts ties as one half, as the pairwise definition does", () => {
    const random = createRandom(7);
    // Scores on a coarse grid, so that many positives and negatives tie.
    const scores = Array.from({ length: 200 }, () => random.int(5));
    const labels = scores.map((s) => (random.next() < 0.1 + s * 0.1 ? 1 : 0));
    expect(auc(scores, labels)).toBeCloseTo(pairwiseAuc(scores, labels), 12);
  });

  it("weights examples as if they were repeated (bootstrap multiplicities)", () => {
    const scores = [0.1, 0.4, 0.4, 0.8, 0.3, 0.9];
    const labels = [0, 1, 0, 1, 0, 0];
    const weights = [2, 0, 1, 3, 1, 1];
    const repeated = scores.flatMap((s, i) => new Array(weights[i]).fill(s));
    const repeatedLabels = labels.flatMap((y, i) => new Array(weights[i]).fill(y));
    expect(aucOf(scores, labels)(weights)).toBeCloseTo(pairwiseAuc(repeated, repeatedLabels), 12);
    expect(aucOf(scores, labels)()).toBe(auc(scores, labels));
  });

  it("is undefined without both classes", () => {
    expect(auc([0.1, 0.2], [1, 1])).toBeNull();
    expect(auc([], [])).toBeNull();
  });
});

describe("logLoss", () => {
  it("is the mean negative log-likelihood of the labels", () => {
    expect(logLoss([0.8, 0.25], [1, 0])).toBeCloseTo(-(Math.log(0.8) + Math.log(0.75)) / 2, 12);
  });

  it("clips certain mistakes to a finite cost", () => {
    expect(logLoss([0, 1], [1, 0])).toBeCloseTo(-Math.log(LOG_LOSS_EPSILON), 6);
    expect(logLoss([1, 0], [1, 0])).toBeCloseTo(-Math.log(1 - LOG_LOSS_EPSILON), 12);
  });
});

describe("rankMetrics", () => {
  const negatives = Array.from({ length: 99 }, (_, i) => i / 100);

  it("gives HR@10 = NDCG@10 = 1 to an oracle that scores the held-out item highest", () => {
    expect(rankMetrics(2, negatives, 10)).toEqual({ hit: 1, ndcg: 1 });
  });

  it("discounts by position and misses beyond k", () => {
    // 0.97 and 0.98 are above: position 3.
    expect(rankMetrics(0.965, negatives, 10)).toEqual({ hit: 1, ndcg: 1 / Math.log2(4) });
    expect(rankMetrics(-1, negatives, 10)).toEqual({ hit: 0, ndcg: 0 });
  });

  it("spreads a tie over the positions it spans: all scores equal gives k / (n + 1)", () => {
    const tied = rankMetrics(0, new Array(99).fill(0), 10);
    expect(tied.hit).toBeCloseTo(10 / 100, 12);
    const gains = Array.from({ length: 10 }, (_, i) => 1 / Math.log2(i + 2));
    expect(tied.ndcg).toBeCloseTo(mean(gains) * (10 / 100), 12);
  });
});

describe("bootstrapInterval", () => {
  const random = createRandom(1);
  const values = Array.from({ length: 300 }, () => random.next());
  const meanOf = (indices: Uint32Array) => mean(pick(values, indices));

  it("covers the point estimate and is the same for the same seed", () => {
    const interval = bootstrapInterval(values.length, meanOf, { resamples: 200, seed: 3 });
    expect(interval).not.toBeNull();
    expect(interval?.low).toBeLessThan(mean(values));
    expect(interval?.high).toBeGreaterThan(mean(values));
    expect(bootstrapInterval(values.length, meanOf, { resamples: 200, seed: 3 })).toEqual(interval);
  });

  it("narrows with more data", () => {
    const few = bootstrapInterval(30, meanOf, { resamples: 200, seed: 3 });
    const many = bootstrapInterval(values.length, meanOf, { resamples: 200, seed: 3 });
    if (!few || !many) throw new Error("no interval");
    expect(many.high - many.low).toBeLessThan(few.high - few.low);
  });

  it("is null when the statistic is never defined", () => {
    expect(bootstrapInterval(10, () => null, { resamples: 20, seed: 1 })).toBeNull();
  });
});
