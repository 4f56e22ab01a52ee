import { aggregateMetrics } from "../store/schema";

/**
 * The daily aggregates D1 keeps (table `daily_aggregates`): one row per site, UTC day, metric and
 * key, where the metric names what the row is grouped by and the key holds the group's values as a
 * JSON array, in the order listed here. Each metric uses some of the counters:
 *
 * | metric            | key                                   | counters                                                            |
 * | ----------------- | ------------------------------------- | ------------------------------------------------------------------- |
 * | `content`         | slot, content, policy, model version  | impressions, clicks, conversions, dismissals, value                 |
 * | `decisions`       | (none)                                | count: logged decisions                                             |
 * | `slot`            | slot, policy                          | count: decisions that filled the slot with that policy              |
 * | `holdout`         | "1" in the holdout, "0" treated        | visitors, converters, impressions, clicks, conversions (+ squares), value (+ squares) |
 * | `experiment`      | experiment, arm                       | as `holdout`                                                        |
 * | `segment`         | segment, value                        | count: decisions; impressions, clicks                               |
 * | `explore`         | (none)                                | count: items shown in model slots; hits: those drawn by exploration |
 * | `model`           | model version, arm                    | count: decisions served                                             |
 * | `score`           | model version                         | count: scores of shown items; sum: their total; bins: per scoreBin  |
 * | `shadow`          | shadow version                        | count: slots compared; hits: same first item; sum: overlap share    |
 * | `drift`           | model version                         | count: decisions; bins: decisions per feature and its bin           |
 * | `variant`         | content, variant                      | impressions, clicks, conversions; hits: cold-start impressions      |
 * | `variant_segment` | content, variant, segment, value      | impressions, clicks, conversions                                    |
 * | `channel`         | channel (web, edge, server, app, email) | count: decisions; impressions, clicks, conversions, dismissals, value |
 *
 * `score` and `drift` are histograms (`histograms` below): one row per key whose `bins` column maps
 * each bin (its values as a key, `binLabel`) to its count.
 *
 * `holdout` and `experiment` count identified visitors per day: a visitor active on two days of a
 * range counts twice (visitor-days). Their squares are sums over visitors of each visitor's daily
 * total squared, for the per-visitor intervals (worker/experiments/stats.ts `meanDifference`).
 */
export const metrics = aggregateMetrics;
export type Metric = (typeof metrics)[number];

export const counterNames = [
  "count",
  "hits",
  "sum",
  "impressions",
  "clicks",
  "conversions",
  "dismissals",
  "value",
  "visitors",
  "converters",
  "conversionsSq",
  "valueSq",
] as const;
export type CounterName = (typeof counterNames)[number];
export type Counters = Record<CounterName, number>;

export const zeroCounters = (): Counters => ({
  count: 0,
  hits: 0,
  sum: 0,
  impressions: 0,
  clicks: 0,
  conversions: 0,
  dismissals: 0,
  value: 0,
  visitors: 0,
  converters: 0,
  conversionsSq: 0,
  valueSq: 0,
});

export function addCounters(into: Counters, more: Partial<Counters>): Counters {
  for (const name of counterNames) into[name] += more[name] ?? 0;
  return into;
}

/** A histogram's counts per bin, keyed by `binLabel` of the bin's values. */
export type Bins = Record<string, number>;

/**
 * The metrics kept as one histogram per key, with the length of that key: their bins (up to 97
 * score bins and every feature's bins of a model version) would otherwise be a row each, and each
 * row a D1 row written by every consumer batch that saw it, where a histogram is one.
 */
export const histograms: Partial<Record<Metric, number>> = { score: 1, drift: 1 };

export const binLabel = (values: readonly (string | number)[]) => encodeKey(values);

export function addBins(into: Bins, more: Readonly<Bins>): Bins {
  for (const [label, n] of Object.entries(more)) into[label] = (into[label] ?? 0) + n;
  return into;
}

/**
 * Scores are binned on a log scale, 24 bins per decade from 10^-4 to 1 (each about 10% wide), and
 * one bin below 10^-4: a model whose scores are all small (click probabilities of a few per mille)
 * still spreads over many bins, so quantiles are exact to within 10% and the console's histogram
 * can choose its bins from the data (worker/models/score-histogram.ts). The mean is exact.
 */
export const SCORE_BINS_PER_DECADE = 24;
const SCORE_DECADES = 4;
export const SCORE_BINS = SCORE_BINS_PER_DECADE * SCORE_DECADES + 1;

export const scoreBin = (score: number) =>
  score < 10 ** -SCORE_DECADES
    ? 0
    : Math.min(SCORE_BINS - 1, 1 + Math.floor((Math.log10(score) + SCORE_DECADES) * SCORE_BINS_PER_DECADE + 1e-9));

/** The scores a bin holds: [low, high); the last bin also holds 1 and anything above it. */
export function scoreBinRange(bin: number): { low: number; high: number } {
  if (bin <= 0) return { low: 0, high: 10 ** -SCORE_DECADES };
  const edge = (k: number) => 10 ** (k / SCORE_BINS_PER_DECADE - SCORE_DECADES);
  return { low: edge(bin - 1), high: edge(bin) };
}

export const encodeKey = (values: readonly (string | number)[]) => JSON.stringify(values.map(String));
export const decodeKey = (key: string): string[] => JSON.parse(key) as string[];
