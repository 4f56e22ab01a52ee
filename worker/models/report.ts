import type { PerformanceQuery } from "../events/report";
import { wilsonInterval } from "../events/report";
import { DRIFT_FLAG_PSI, driftOf } from "../inference/drift";
import { manifestSchema } from "../inference/manifest";
import { sumAggregates } from "../log/aggregates";
import { binLabel, decodeKey, scoreBinRange } from "../log/metrics";
import type { Database } from "../store/db";
import { modelVersions } from "../store/schema";

/**
 * Per model version: traffic by arm, CTR with its interval, the distribution of the scores it
 * gave the items it showed, how often a shadow agreed with what was shown, and feature drift
 * (PSI per feature against the training distribution in the manifest, flagged above 0.2). All
 * from the daily aggregates over the range (worker/log/metrics.ts).
 */

/** A non-empty score bin of a version (worker/log/metrics.ts `scoreBin`), with its range. */
export type ScoreBin = { bin: number; low: number; high: number; count: number };

/**
 * The distribution of scores from their counts per log-spaced bin and their total (the `score`
 * histogram): count and mean exact, p10/p50/p90 interpolated within their bin (so exact to within a
 * bin, about 10%), and the non-empty bins themselves, from which the console chooses the
 * histogram's bins.
 */
export function scoreDistribution(counts: readonly { bin: number; count: number }[], sum: number) {
  const bins: ScoreBin[] = counts
    .filter((b) => b.count > 0)
    .sort((a, b) => a.bin - b.bin)
    .map((b) => ({ ...b, ...scoreBinRange(b.bin) }));
  const count = bins.reduce((n, b) => n + b.count, 0);
  const quantile = (q: number): number | null => {
    if (count === 0) return null;
    let rank = (count - 1) * q;
    for (const b of bins) {
      if (rank < b.count) return b.low + ((b.high - b.low) * (rank + 0.5)) / b.count;
      rank -= b.count;
    }
    return bins.at(-1)?.high ?? null;
  };
  return {
    count,
    mean: count ? sum / count : null,
    p10: quantile(0.1),
    p50: quantile(0.5),
    p90: quantile(0.9),
    bins,
  };
}

export async function modelReport(db: Database, query: PerformanceQuery) {
  const [versions, traffic, content, scores, shadows, drift] = await Promise.all([
    db
      .select({
        version: modelVersions.version,
        status: modelVersions.status,
        trafficShare: modelVersions.trafficShare,
        manifest: modelVersions.manifest,
      })
      .from(modelVersions),
    sumAggregates(db, query, "model"),
    sumAggregates(db, query, "content"),
    sumAggregates(db, query, "score"),
    sumAggregates(db, query, "shadow"),
    sumAggregates(db, query, "drift"),
  ]);

  return {
    site: query.site,
    from: query.from ?? null,
    to: query.to ?? null,
    driftFlagPsi: DRIFT_FLAG_PSI,
    versions: versions.map((v) => {
      const outcomes = content.filter((c) => c.key[2] === "model" && c.key[3] === v.version);
      const impressions = outcomes.reduce((n, c) => n + c.counters.impressions, 0);
      const clicks = outcomes.reduce((n, c) => n + c.counters.clicks, 0);
      const ci = wilsonInterval(clicks, impressions);
      const shadow = shadows.find((s) => s.key[0] === v.version)?.counters;
      const manifest = manifestSchema.safeParse(v.manifest);
      const reference = manifest.success ? (manifest.data.drift ?? []) : [];
      const observed = drift.find((d) => d.key[0] === v.version)?.bins ?? {};
      const features = reference.map((ref) =>
        driftOf(
          ref,
          ref.bins.map((bin) => observed[binLabel([ref.feature, bin])] ?? 0),
        ),
      );
      const scored = scores.find((s) => s.key[0] === v.version);
      return {
        version: v.version,
        status: v.status,
        trafficShare: v.trafficShare,
        decisions: Object.fromEntries(traffic.filter((t) => t.key[0] === v.version).map((t) => [t.key[1] || "live", t.counters.count])),
        impressions,
        clicks,
        ctr: impressions ? clicks / impressions : null,
        ctrLow: ci?.low ?? null,
        ctrHigh: ci?.high ?? null,
        scores: scoreDistribution(
          Object.entries(scored?.bins ?? {}).map(([label, count]) => ({ bin: Number(decodeKey(label)[0]), count })),
          scored?.counters.sum ?? 0,
        ),
        shadow: shadow?.count
          ? { slots: shadow.count, top1Agreement: shadow.hits / shadow.count, overlapAtK: shadow.sum / shadow.count }
          : null,
        drift: { features, flagged: features.filter((f) => f.flagged).map((f) => f.feature) },
      };
    }),
  };
}
