import { type SQL, sql } from "drizzle-orm";
import type { PerformanceQuery } from "../events/report";
import type { SitePolicy } from "../site/policy";
import type { Database } from "../store/db";
import { meanDifference, proportionDifference, sampleRatioMismatch } from "./stats";

/**
 * Reports on the policy around the model: personalization against the global holdout, each
 * experiment's arms with a sample-ratio-mismatch check, and fairness per configured segment.
 * All read the logged decisions (D1 `decisions`, one row per decision of a measured visitor)
 * joined with their events.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

function range(query: PerformanceQuery): SQL {
  const from = query.from ? Date.parse(`${query.from}T00:00:00Z`) : 0;
  const to = query.to ? Date.parse(`${query.to}T00:00:00Z`) + DAY_MS : Number.MAX_SAFE_INTEGER;
  return sql`d.site_id = ${query.site} AND d.ts >= ${from} AND d.ts < ${to}`;
}

/** Per-visitor outcomes: every decision's events summed per visitor, zeros for visitors without any. */
const perVisitor = (where: SQL, group: SQL) => sql`
  SELECT ${group} AS grp, d.visitor_id AS visitor,
         sum(CASE WHEN e.type = 'impression' THEN 1 ELSE 0 END) AS impressions,
         sum(CASE WHEN e.type = 'click' THEN 1 ELSE 0 END) AS clicks,
         sum(CASE WHEN e.type = 'conversion' THEN 1 ELSE 0 END) AS conversions,
         sum(CASE WHEN e.type = 'conversion' THEN coalesce(e.value, 0) ELSE 0 END) AS value
  FROM decisions d LEFT JOIN events e ON e.decision_id = d.id
  WHERE ${where} AND d.visitor_id IS NOT NULL
  GROUP BY grp, d.visitor_id`;

type GroupTotals = {
  grp: string | number;
  visitors: number;
  impressions: number;
  clicks: number;
  converters: number;
  conversions: number;
  conversionsSq: number;
  value: number;
  valueSq: number;
};

async function groupTotals(db: Database, where: SQL, group: SQL): Promise<GroupTotals[]> {
  return db.all<GroupTotals>(sql`
    SELECT grp, count(*) AS visitors, sum(impressions) AS impressions, sum(clicks) AS clicks,
           sum(conversions > 0) AS converters, sum(conversions) AS conversions,
           sum(conversions * conversions) AS conversionsSq, sum(value) AS value, sum(value * value) AS valueSq
    FROM (${perVisitor(where, group)}) GROUP BY grp`);
}

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
  const rows = await groupTotals(db, range(query), sql`d.holdout`);
  const raw = (holdout: boolean) => rows.find((r) => Number(r.grp) === (holdout ? 1 : 0));
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
  return Promise.all(
    policy.experiments.map(async (experiment) => {
      const where = sql`${range(query)} AND EXISTS (SELECT 1 FROM json_each(d.assignments) a WHERE json_extract(a.value, '$.experiment') = ${experiment.id})`;
      const armOf = sql`(SELECT json_extract(a.value, '$.arm') FROM json_each(d.assignments) a WHERE json_extract(a.value, '$.experiment') = ${experiment.id})`;
      const rows = await groupTotals(db, where, armOf);
      const arms = experiment.arms.map((arm) => ({ arm: arm.name, weight: arm.weight, ...summary(rows.find((r) => r.grp === arm.name)) }));
      const control = rows.find((r) => r.grp === experiment.arms[0]?.name);
      return {
        experiment: experiment.id,
        status: experiment.status,
        arms: arms.map((arm, i) => {
          const row = rows.find((r) => r.grp === arm.arm);
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
    }),
  );
}

type SegmentRow = { segment: string | null; impressions: number; clicks: number; decisions: number };

/**
 * Fairness per configured segment (country, device, a user attribute): each value's share of
 * decisions and of impressions, and its CTR. A value whose CTR or impressions-per-decision is
 * more than `disparityRatio` times another's (both with at least `minImpressions`) is flagged.
 */
export async function fairnessReport(db: Database, query: PerformanceQuery, policy: SitePolicy, minImpressions = 30) {
  const ratio = policy.fairness.disparityRatio;
  return Promise.all(
    policy.fairness.segments.map(async (segment) => {
      const value = sql`json_extract(d.segments, ${`$."${segment}"`})`;
      const rows = await db.all<SegmentRow>(sql`
        SELECT ${value} AS segment, count(DISTINCT d.id) AS decisions,
               sum(CASE WHEN e.type = 'impression' THEN 1 ELSE 0 END) AS impressions,
               sum(CASE WHEN e.type = 'click' THEN 1 ELSE 0 END) AS clicks
        FROM decisions d LEFT JOIN events e ON e.decision_id = d.id
        WHERE ${range(query)} AND d.segments IS NOT NULL
        GROUP BY segment`);
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
    }),
  );
}

/** The share of shown items that exploration drew instead of the model's choice. */
export async function explorationShare(db: Database, query: PerformanceQuery) {
  const [row] = await db.all<{ items: number; explored: number }>(sql`
    SELECT count(*) AS items, sum(json_extract(i.value, '$.reason') = 'explore') AS explored
    FROM decisions d, json_each(d.slots) s, json_each(json_extract(s.value, '$.items')) i
    WHERE ${range(query)} AND json_extract(s.value, '$.policy') = 'model'`);
  const items = Number(row?.items ?? 0);
  const explored = Number(row?.explored ?? 0);
  return { modelItems: items, explored, share: items ? explored / items : null };
}
