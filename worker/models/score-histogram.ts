import { SCORE_BINS_PER_DECADE, scoreBinRange } from "../log/metrics";
import type { ScoreBin } from "./report";

/** At most this many bars: more would not be read, and each must stay wide enough to see. */
const MAX_BARS = 20;

export type ScoreHistogram = {
  /** The bars' ranges, in score order, from the lowest score seen to the highest. */
  ranges: { low: number; high: number }[];
  labels: string[];
  /** Per series: the share of its scores in each bar. */
  series: { label: string; values: number[] }[];
};

/** The q-quantile of log10(score) over bins, placed at each bin's geometric middle. */
function logQuantile(bins: readonly ScoreBin[], total: number, q: number): number {
  let rank = (total - 1) * q;
  for (const b of bins) {
    // The lowest bin starts at 0: its middle is taken in its top decade.
    if (rank < b.count) return Math.log10(Math.sqrt(Math.max(b.low, b.high / 10) * b.high));
    rank -= b.count;
  }
  return Math.log10(bins.at(-1)?.high ?? 1);
}

/**
 * How many stored bins each bar joins: the Freedman–Diaconis width (2 IQR n^(-1/3)) of the
 * scores' logarithm, in stored bins (1/24 of a decade each), and no more than MAX_BARS bars over
 * the range seen. Bars join whole stored bins, so no count is split between two bars.
 */
function binsPerBar(pooled: readonly ScoreBin[], total: number, span: number): number {
  const iqr = logQuantile(pooled, total, 0.75) - logQuantile(pooled, total, 0.25);
  const width = (2 * iqr) / Math.cbrt(total);
  return Math.max(1, Math.round(width * SCORE_BINS_PER_DECADE), Math.ceil(span / MAX_BARS));
}

const short = (v: number) => (v === 0 ? "0" : Number(v.toPrecision(2)).toString());

/**
 * The score histogram of several versions on shared bars chosen from their data: the range from
 * the lowest stored bin any version used to the highest, cut into bars as wide as the
 * Freedman–Diaconis rule asks. Scores are stored in log-spaced bins (worker/log/metrics.ts), so
 * the bars are log-spaced too: small scores (a few per mille) spread over several bars instead
 * of filling the first of ten fixed bars.
 */
export function scoreHistogram(versions: readonly { label: string; bins: readonly ScoreBin[] }[]): ScoreHistogram {
  const used = versions.flatMap((v) => v.bins).filter((b) => b.count > 0);
  if (used.length === 0) return { ranges: [], labels: [], series: [] };
  const first = Math.min(...used.map((b) => b.bin));
  const last = Math.max(...used.map((b) => b.bin));
  const pooled = [...used].sort((a, b) => a.bin - b.bin);
  const total = pooled.reduce((n, b) => n + b.count, 0);
  const per = binsPerBar(pooled, total, last - first + 1);
  const bars = Math.ceil((last - first + 1) / per);
  const ranges = Array.from({ length: bars }, (_, i) => ({
    low: scoreBinRange(first + i * per).low,
    high: scoreBinRange(Math.min(last, first + (i + 1) * per - 1)).high,
  }));
  const barOf = (bin: number) => Math.floor((bin - first) / per);
  return {
    ranges,
    labels: ranges.map((r) => `${short(r.low)}–${short(r.high)}`),
    series: versions.map((v) => {
      const count = v.bins.reduce((n, b) => n + b.count, 0);
      const values = new Array<number>(bars).fill(0);
      for (const b of v.bins) values[barOf(b.bin)] = (values[barOf(b.bin)] ?? 0) + (count ? b.count / count : 0);
      return { label: v.label, values };
    }),
  };
}
