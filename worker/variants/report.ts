import { and, eq, gte, isNotNull, lte, sql } from "drizzle-orm";
import type { PerformanceQuery } from "../events/report";
import { wilsonInterval } from "../events/report";
import { proportionDifference } from "../experiments/stats";
import { type ComponentKind, componentIdsOf, componentKinds } from "../site/components";
import type { SitePolicy } from "../site/policy";
import type { Database } from "../store/db";
import { contentVariants, decisions, events, variantRollups } from "../store/schema";

/**
 * Which variants and which components win, overall and per segment, so that editors can retire
 * losers: impressions, clicks, conversions and CTR with a 95% Wilson interval per variant and per
 * component (a headline's figures pool every variant it appears in). Per segment, by the site's
 * fairness segments logged with each decision (raw events joined with their decisions; the totals
 * come from the daily variant roll-ups). Cold start: how many impressions each variant got from
 * cold-start exploration, and whether it is still new.
 */

type Counts = { impressions: number; clicks: number; conversions: number };
type Rated = Counts & { ctr: number | null; ctrLow: number | null; ctrHigh: number | null };

const rated = (c: Counts): Rated => {
  const interval = wilsonInterval(c.clicks, c.impressions);
  return { ...c, ctr: c.impressions ? c.clicks / c.impressions : null, ctrLow: interval?.low ?? null, ctrHigh: interval?.high ?? null };
};
const add = (a: Counts, b: Counts): Counts => ({
  impressions: a.impressions + b.impressions,
  clicks: a.clicks + b.clicks,
  conversions: a.conversions + b.conversions,
});
const ZERO: Counts = { impressions: 0, clicks: 0, conversions: 0 };

function inRange(query: PerformanceQuery) {
  return and(
    eq(events.siteId, query.site),
    isNotNull(events.variantId),
    query.from ? gte(events.day, query.from) : undefined,
    query.to ? lte(events.day, query.to) : undefined,
  );
}

/**
 * The component that wins a kind for an item: the best CTR whose difference from every other
 * component's CTR has a 95% interval above zero; null while the data cannot tell them apart.
 */
function leaderOf(components: readonly { id: string; stats: Rated }[]): string | null {
  const ranked = components.filter((c) => c.stats.ctr !== null).sort((a, b) => (b.stats.ctr ?? 0) - (a.stats.ctr ?? 0));
  const [best, ...rest] = ranked;
  if (!best || !rest.length) return null;
  const beats = (other: Rated) =>
    (proportionDifference(best.stats.clicks, best.stats.impressions, other.clicks, other.impressions)?.low ?? 0) > 0;
  return rest.every((c) => beats(c.stats)) ? best.id : null;
}

export async function variantReport(db: Database, query: PerformanceQuery, policy: SitePolicy) {
  const [variantRows, perVariant, perSegment] = await Promise.all([
    db.select().from(contentVariants).where(eq(contentVariants.siteId, query.site)).orderBy(contentVariants.contentId, contentVariants.id),
    db
      .select({
        contentId: variantRollups.contentId,
        variantId: variantRollups.variantId,
        impressions: sql<number>`sum(${variantRollups.impressions})`,
        clicks: sql<number>`sum(${variantRollups.clicks})`,
        conversions: sql<number>`sum(${variantRollups.conversions})`,
        coldStartImpressions: sql<number>`sum(${variantRollups.coldStartImpressions})`,
      })
      .from(variantRollups)
      .where(
        and(
          eq(variantRollups.siteId, query.site),
          query.from ? gte(variantRollups.day, query.from) : undefined,
          query.to ? lte(variantRollups.day, query.to) : undefined,
        ),
      )
      .groupBy(variantRollups.contentId, variantRollups.variantId),
    db.all<Counts & { contentId: string; variantId: string; segment: string; value: string }>(sql`
      SELECT ${events.contentId} AS contentId, ${events.variantId} AS variantId, s.key AS segment, s.value AS value,
             sum(${events.type} = 'impression') AS impressions, sum(${events.type} = 'click') AS clicks,
             sum(${events.type} = 'conversion') AS conversions
      FROM ${events} JOIN ${decisions} ON ${decisions.id} = ${events.decisionId}, json_each(coalesce(${decisions.segments}, '{}')) s
      WHERE ${inRange(query)}
      GROUP BY ${events.contentId}, ${events.variantId}, s.key, s.value`),
  ]);
  const key = (contentId: string, variantId: string) => `${contentId}\u0000${variantId}`;
  const totals = new Map(perVariant.map((r) => [key(r.contentId, r.variantId), r]));

  const variants = variantRows.map((v) => {
    const t = totals.get(key(v.contentId, v.id));
    const counts: Counts = t ? { impressions: t.impressions, clicks: t.clicks, conversions: t.conversions } : ZERO;
    return {
      contentId: v.contentId,
      variantId: v.id,
      language: v.language,
      status: v.status,
      synthetic: v.synthetic,
      provenance: v.provenance,
      components: componentIdsOf(v.components),
      ...rated(counts),
      coldStart: {
        impressions: t?.coldStartImpressions ?? 0,
        /** Still new: cold-start exploration keeps giving it traffic. */
        isNew: v.status === "approved" && counts.impressions < policy.variants.coldStart.minImpressions,
      },
      segments: perSegment
        .filter((s) => s.contentId === v.contentId && s.variantId === v.id)
        .map((s) => ({ segment: s.segment, value: s.value, ...rated(s) })),
    };
  });

  // Components: the same text in several variants is one component; its figures pool theirs.
  type Entry = { contentId: string; kind: ComponentKind; id: string; text: string; counts: Counts; segments: Map<string, Counts> };
  const byComponent = new Map<string, Entry>();
  for (const v of variantRows) {
    const stats = variants.find((r) => r.contentId === v.contentId && r.variantId === v.id);
    for (const kind of componentKinds) {
      const text = v.components[kind];
      const id = stats?.components[kind];
      if (text === undefined || !id || !stats) continue;
      const entry = byComponent.get(key(v.contentId, id)) ?? { contentId: v.contentId, kind, id, text, counts: ZERO, segments: new Map() };
      entry.counts = add(entry.counts, stats);
      for (const s of stats.segments) {
        const segmentKey = `${s.segment}=${s.value}`;
        entry.segments.set(segmentKey, add(entry.segments.get(segmentKey) ?? ZERO, s));
      }
      byComponent.set(key(v.contentId, id), entry);
    }
  }
  const components = [...byComponent.values()].map((c) => ({
    contentId: c.contentId,
    kind: c.kind,
    componentId: c.id,
    text: c.text,
    stats: rated(c.counts),
    segments: [...c.segments].map(([segmentKey, counts]) => {
      const [segment = "", value = ""] = segmentKey.split("=");
      return { segment, value, ...rated(counts) };
    }),
  }));

  const groups = new Map<string, typeof components>();
  for (const c of components) {
    const groupKey = `${c.contentId}\u0000${c.kind}`;
    groups.set(groupKey, [...(groups.get(groupKey) ?? []), c]);
  }
  const leaders = [...groups.values()].map((group) => {
    const first = group[0] as (typeof components)[number];
    const segmentNames = [...new Set(group.flatMap((c) => c.segments.map((s) => `${s.segment}=${s.value}`)))];
    return {
      contentId: first.contentId,
      kind: first.kind,
      leader: leaderOf(group.map((c) => ({ id: c.componentId, stats: c.stats }))),
      /** The winner within each segment, where one is clear: which headline works for whom. */
      bySegment: segmentNames.map((name) => {
        const [segment = "", value = ""] = name.split("=");
        const inSegment = group.map((c) => {
          const s = c.segments.find((x) => x.segment === segment && x.value === value);
          return { id: c.componentId, stats: s ?? rated(ZERO) };
        });
        return { segment, value, leader: leaderOf(inSegment) };
      }),
    };
  });

  const coldStartImpressions = variants.reduce((sum, v) => sum + v.coldStart.impressions, 0);
  const impressions = variants.reduce((sum, v) => sum + v.impressions, 0);
  return {
    site: query.site,
    from: query.from ?? null,
    to: query.to ?? null,
    coldStart: {
      ...policy.variants.coldStart,
      impressions: coldStartImpressions,
      share: impressions ? coldStartImpressions / impressions : null,
    },
    variants,
    components,
    leaders,
  };
}
