import { and, eq, gte, isNotNull, lt, lte, sql } from "drizzle-orm";
import type { PerformanceQuery } from "../events/report";
import { wilsonInterval } from "../events/report";
import { DRIFT_FLAG_PSI, driftOf } from "../inference/drift";
import { manifestSchema } from "../inference/manifest";
import type { Database } from "../store/db";
import { decisions, featureDrift, modelVersions, rollups } from "../store/schema";

/**
 * Per model version: traffic by arm, CTR with its interval, the distribution of the scores it
 * gave the items it showed, how often a shadow agreed with what was shown, and feature drift
 * (PSI per feature against the training distribution in the manifest, flagged above 0.2).
 */

/** Score statistics and shadow agreement read the latest decisions only, to bound the work. */
const RECENT_DECISIONS = 5_000;
const SCORE_BINS = 10;

const DAY_MS = 24 * 60 * 60 * 1000;

function tsRange(query: PerformanceQuery) {
  return and(
    eq(decisions.siteId, query.site),
    query.from ? gte(decisions.ts, new Date(`${query.from}T00:00:00Z`)) : undefined,
    query.to ? lt(decisions.ts, new Date(Date.parse(`${query.to}T00:00:00Z`) + DAY_MS)) : undefined,
  );
}

function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] ?? 0) + ((sorted[hi] ?? 0) - (sorted[lo] ?? 0)) * (pos - lo);
}

export function scoreDistribution(scores: number[]) {
  const sorted = [...scores].sort((a, b) => a - b);
  const histogram = new Array<number>(SCORE_BINS).fill(0);
  for (const s of sorted) {
    const bin = Math.min(SCORE_BINS - 1, Math.max(0, Math.floor(s * SCORE_BINS)));
    histogram[bin] = (histogram[bin] ?? 0) + 1;
  }
  return {
    count: sorted.length,
    mean: sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : null,
    p10: quantile(sorted, 0.1),
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    /** Shares of scores in [0, 0.1), [0.1, 0.2) … [0.9, 1]. */
    histogram: histogram.map((n) => (sorted.length ? n / sorted.length : 0)),
  };
}

type LoggedSlot = { slot: string; items: { contentId: string; score: number | null }[] };
type ShadowFill = { version: string; slots: { slot: string; items: string[] }[] };

/** Agreement of each shadow with what was shown: same first item, and overlap of the shown sets. */
export function shadowAgreement(rows: readonly { slots: LoggedSlot[]; shadow: ShadowFill[] }[]) {
  const byVersion = new Map<string, { slots: number; top1: number; overlap: number }>();
  for (const row of rows) {
    for (const fill of row.shadow) {
      const acc = byVersion.get(fill.version) ?? { slots: 0, top1: 0, overlap: 0 };
      for (const shadowSlot of fill.slots) {
        const shown = row.slots.find((s) => s.slot === shadowSlot.slot)?.items.map((i) => i.contentId) ?? [];
        if (shown.length === 0) continue;
        acc.slots++;
        if (shown[0] === shadowSlot.items[0]) acc.top1++;
        acc.overlap += shadowSlot.items.filter((id) => shown.includes(id)).length / shown.length;
      }
      byVersion.set(fill.version, acc);
    }
  }
  return new Map(
    [...byVersion].map(([version, a]) => [
      version,
      { slots: a.slots, top1Agreement: a.slots ? a.top1 / a.slots : null, overlapAtK: a.slots ? a.overlap / a.slots : null },
    ]),
  );
}

export async function modelReport(db: Database, query: PerformanceQuery) {
  const dayRange = (column: typeof rollups.day | typeof featureDrift.day) =>
    and(query.from ? gte(column, query.from) : undefined, query.to ? lte(column, query.to) : undefined);
  const [versions, traffic, outcomes, recent, drift] = await Promise.all([
    db
      .select({
        version: modelVersions.version,
        status: modelVersions.status,
        trafficShare: modelVersions.trafficShare,
        manifest: modelVersions.manifest,
      })
      .from(modelVersions),
    db
      .select({ version: decisions.modelVersion, arm: decisions.arm, decisions: sql<number>`count(*)` })
      .from(decisions)
      .where(and(tsRange(query), isNotNull(decisions.modelVersion)))
      .groupBy(decisions.modelVersion, decisions.arm),
    db
      .select({
        version: rollups.modelVersion,
        impressions: sql<number>`sum(${rollups.impressions})`,
        clicks: sql<number>`sum(${rollups.clicks})`,
      })
      .from(rollups)
      .where(and(eq(rollups.siteId, query.site), eq(rollups.policy, "model"), dayRange(rollups.day)))
      .groupBy(rollups.modelVersion),
    db
      .select({ version: decisions.modelVersion, slots: decisions.slots, shadow: decisions.shadow })
      .from(decisions)
      .where(and(tsRange(query), isNotNull(decisions.modelVersion)))
      .orderBy(sql`${decisions.ts} desc`)
      .limit(RECENT_DECISIONS),
    db
      .select({
        version: featureDrift.modelVersion,
        feature: featureDrift.feature,
        bin: featureDrift.bin,
        count: sql<number>`sum(${featureDrift.count})`,
      })
      .from(featureDrift)
      .where(and(eq(featureDrift.siteId, query.site), dayRange(featureDrift.day)))
      .groupBy(featureDrift.modelVersion, featureDrift.feature, featureDrift.bin),
  ]);

  const logged = recent.map((r) => ({ version: r.version, slots: r.slots as LoggedSlot[], shadow: (r.shadow ?? []) as ShadowFill[] }));
  const agreement = shadowAgreement(logged);

  return {
    site: query.site,
    from: query.from ?? null,
    to: query.to ?? null,
    driftFlagPsi: DRIFT_FLAG_PSI,
    versions: versions.map((v) => {
      const out = outcomes.find((o) => o.version === v.version);
      const impressions = Number(out?.impressions ?? 0);
      const clicks = Number(out?.clicks ?? 0);
      const ci = wilsonInterval(clicks, impressions);
      const scores = logged
        .filter((r) => r.version === v.version)
        .flatMap((r) => r.slots.flatMap((s) => s.items.flatMap((i) => (i.score === null ? [] : [i.score]))));
      const manifest = manifestSchema.safeParse(v.manifest);
      const reference = manifest.success ? (manifest.data.drift ?? []) : [];
      const features = reference.map((ref) => {
        const counts = ref.bins.map((bin) =>
          Number(drift.find((d) => d.version === v.version && d.feature === ref.feature && d.bin === bin)?.count ?? 0),
        );
        return driftOf(ref, counts);
      });
      return {
        version: v.version,
        status: v.status,
        trafficShare: v.trafficShare,
        decisions: Object.fromEntries(traffic.filter((t) => t.version === v.version).map((t) => [t.arm ?? "live", Number(t.decisions)])),
        impressions,
        clicks,
        ctr: impressions ? clicks / impressions : null,
        ctrLow: ci?.low ?? null,
        ctrHigh: ci?.high ?? null,
        scores: scoreDistribution(scores),
        shadow: agreement.get(v.version) ?? null,
        drift: { features, flagged: features.filter((f) => f.flagged).map((f) => f.feature) },
      };
    }),
  };
}
