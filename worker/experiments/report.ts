import type { PerformanceQuery } from "../events/report";
import { type Summed, sumAggregates } from "../log/aggregates";
import type { SitePolicy } from "../site/policy";
import type { Database } from "../store/db";
import { meanDifference, proportionDifference, sampleRatioMismatch } from "./stats";

/**
 * Reports on the policy around the model: personalization against the global holdout, each
 * experiment's arms with a sample-ratio-mismatch check, and fairness per configured segment.
 * All read the daily aggregates (worker/log/metrics.ts). Visitors are identified visitors counted
 * per day: over a range of several days a returning visitor counts once per day (visitor-days), and
 * the per-visitor moments are of daily totals; the exact per-visitor figures over any range come
 * from the log (offline, DuckDB or Spark).
 */

/** A group's totals over a range: distinct visitors per day summed, outcomes and their per-visitor moments. */
export type GroupTotals = {
  visitors: number;
  impressions: number;
  clicks: number;
  converters: number;
  conversions: number;
  conversionsSq: number;
  value: number;
  valueSq: number;
};

const totalsOf = (row: Summed | undefined): GroupTotals | undefined => row?.counters;

function summary(g: GroupTotals | undefined) {
  const visitors = Number(g?.visitors ?? 0);
  const impressions = Number(g?.impressions ?? 0);
  const clicks = Number(g?.clicks ?? 0);
  const converters = Number(g?.converters ?? 0);
  const value = Number(g?.value ?? 0);
  return {
    visitors,
    impressions,
    clicks,
    ctr: impressions ? clicks / impressions : null,
    converters,
    conversionRate: visitors ? converters / visitors : null,
    valuePerVisitor: visitors ? value / visitors : null,
  };
}

/**
 * Personalization against the holdout: CTR (per impression), conversion rate and value per
 * visitor, each with a 95% interval of the difference (treated − holdout). Visitors are the unit
 * for conversion and value; the CTR interval treats impressions as independent, so it is narrower
 * than a per-visitor analysis would give when visitors see many items.
 */
export async function upliftReport(db: Database, query: PerformanceQuery) {
  const rows = await sumAggregates(db, query, "holdout");
  const raw = (holdout: boolean) => totalsOf(rows.find((r) => r.key[0] === (holdout ? "1" : "0")));
  const treated = raw(false);
  const control = raw(true);
  const moments = (g: GroupTotals | undefined, what: "conversions" | "value") => ({
    n: Number(g?.visitors ?? 0),
    sum: Number(g?.[what] ?? 0),
    sumSquares: Number(g?.[what === "conversions" ? "conversionsSq" : "valueSq"] ?? 0),
  });
  return {
    site: query.site,
    treated: summary(treated),
    holdout: summary(control),
    uplift: {
      ctr: proportionDifference(
        Number(treated?.clicks ?? 0),
        Number(treated?.impressions ?? 0),
        Number(control?.clicks ?? 0),
        Number(control?.impressions ?? 0),
      ),
      conversionRate: proportionDifference(
        Number(treated?.converters ?? 0),
        Number(treated?.visitors ?? 0),
        Number(control?.converters ?? 0),
        Number(control?.visitors ?? 0),
      ),
      conversionsPerVisitor: meanDifference(moments(treated, "conversions"), moments(control, "conversions")),
      valuePerVisitor: meanDifference(moments(treated, "value"), moments(control, "value")),
    },
  };
}

/** Each configured experiment: visitors and outcomes per arm, and the sample-ratio check. */
export async function experimentsReport(db: Database, query: PerformanceQuery, policy: SitePolicy) {
  const all = await sumAggregates(db, query, "experiment");
  return policy.experiments.map((experiment) => {
    const totalsFor = (arm: string | undefined) => totalsOf(all.find((r) => r.key[0] === experiment.id && r.key[1] === arm));
    const arms = experiment.arms.map((arm) => ({ arm: arm.name, weight: arm.weight, ...summary(totalsFor(arm.name)) }));
    const control = totalsFor(experiment.arms[0]?.name);
    return {
      experiment: experiment.id,
      status: experiment.status,
      arms: arms.map((arm, i) => {
        const row = totalsFor(arm.arm);
        return {
          ...arm,
          ctrVsFirstArm:
            i === 0
              ? null
              : proportionDifference(
                  Number(row?.clicks ?? 0),
                  Number(row?.impressions ?? 0),
                  Number(control?.clicks ?? 0),
                  Number(control?.impressions ?? 0),
                ),
        };
      }),
      sampleRatio: sampleRatioMismatch(
        arms.map((a) => a.visitors),
        arms.map((a) => a.weight),
      ),
    };
  });
}

/**
 * Fairness per configured segment (country, device, a user attribute): each value's share of
 * decisions and of impressions, and its CTR. A value whose CTR or impressions-per-decision is
 * more than `disparityRatio` times another's (both with at least `minImpressions`) is flagged.
 */
export async function fairnessReport(db: Database, query: PerformanceQuery, policy: SitePolicy, minImpressions = 30) {
  const ratio = policy.fairness.disparityRatio;
  const all = await sumAggregates(db, query, "segment");
  return policy.fairness.segments.map((segment) => {
    const rows = all
      .filter((r) => r.key[0] === segment)
      .map(({ key, counters }) => ({
        segment: key[1] ?? null,
        decisions: counters.count,
        impressions: counters.impressions,
        clicks: counters.clicks,
      }));
    const totalDecisions = rows.reduce((n, r) => n + Number(r.decisions), 0);
    const totalImpressions = rows.reduce((n, r) => n + Number(r.impressions), 0);
    const values = rows.map((r) => ({
      value: r.segment ?? "(unknown)",
      decisions: Number(r.decisions),
      decisionShare: totalDecisions ? Number(r.decisions) / totalDecisions : 0,
      impressions: Number(r.impressions),
      exposureShare: totalImpressions ? Number(r.impressions) / totalImpressions : 0,
      exposurePerDecision: Number(r.decisions) ? Number(r.impressions) / Number(r.decisions) : 0,
      clicks: Number(r.clicks),
      ctr: Number(r.impressions) ? Number(r.clicks) / Number(r.impressions) : null,
    }));
    const measured = values.filter((v) => v.impressions >= minImpressions);
    const disparity = (metric: (v: (typeof values)[number]) => number) => {
      const xs = measured.map(metric).filter((x) => x > 0);
      return xs.length >= 2 ? Math.max(...xs) / Math.min(...xs) : null;
    };
    const ctrDisparity = disparity((v) => v.ctr ?? 0);
    const exposureDisparity = disparity((v) => v.exposurePerDecision);
    return {
      segment,
      values,
      ctrDisparity,
      exposureDisparity,
      flagged: (ctrDisparity !== null && ctrDisparity > ratio) || (exposureDisparity !== null && exposureDisparity > ratio),
      disparityRatio: ratio,
    };
  });
}

/** The share of shown items that exploration drew instead of the model's choice. */
export async function explorationShare(db: Database, query: PerformanceQuery) {
  const [row] = await sumAggregates(db, query, "explore");
  const items = row?.counters.count ?? 0;
  const explored = row?.counters.hits ?? 0;
  return { modelItems: items, explored, share: items ? explored / items : null };
}
