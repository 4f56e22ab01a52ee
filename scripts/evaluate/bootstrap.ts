import { percentile } from "../bench/stats";
import { createRandom } from "../train/random";
import { aucOf } from "./metrics";

export type Interval = { low: number; high: number };
export type BootstrapOptions = { resamples: number; seed: number; level?: number };

/**
 * Percentile bootstrap interval of a statistic over `n` independent units (examples, logged rounds,
 * users): each resample draws n indices with replacement. Resamples where the statistic is
 * undefined (null, e.g. an AUC without positives) are left out; null when none is defined.
 */
export function bootstrapInterval(
  n: number,
  statistic: (indices: Uint32Array) => number | null,
  options: BootstrapOptions,
): Interval | null {
  const random = createRandom(options.seed);
  const level = options.level ?? 0.95;
  const values: number[] = [];
  const indices = new Uint32Array(n);
  for (let r = 0; r < options.resamples; r++) {
    for (let i = 0; i < n; i++) indices[i] = random.int(n);
    const value = statistic(indices);
    if (value !== null && Number.isFinite(value)) values.push(value);
  }
  if (values.length === 0) return null;
  const tail = ((1 - level) / 2) * 100;
  return { low: percentile(values, tail), high: percentile(values, 100 - tail) };
}

/** How often each of `n` units was drawn: the weights of a resample, for statistics that take them. */
export function multiplicities(n: number, indices: Uint32Array): Uint32Array {
  const counts = new Uint32Array(n);
  for (const i of indices) counts[i] = (counts[i] ?? 0) + 1;
  return counts;
}

/** The elements of `values` at `indices`, for statistics that take arrays. */
export function pick<T>(values: readonly T[], indices: Uint32Array): T[] {
  return Array.from(indices, (i) => values[i] as T);
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

/**
 * AUC over bootstrap resamples of clusters (rounds: a positive and its sampled negatives, or one
 * logged decision) rather than of rows: each row weighs as often as its cluster was drawn, and the
 * weighted AUC (./metrics.ts `aucOf`) sorts once for all resamples.
 */
export function resampledAuc(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  clusterOf: ArrayLike<number>,
): (clusters: Uint32Array) => number | null {
  const weighted = aucOf(scores, labels);
  const weights = new Float64Array(scores.length);
  return (clusters) => {
    const drawn = multiplicities(clusters.length, clusters);
    for (let i = 0; i < weights.length; i++) weights[i] = drawn[clusterOf[i] as number] as number;
    return weighted(weights);
  };
}
