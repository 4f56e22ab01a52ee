import { and, eq, inArray } from "drizzle-orm";
import type { Segment } from "../inference/segments";
import { sumAggregates } from "../log/aggregates";
import { dayOf } from "../log/rows";
import type { Database } from "../store/db";
import { contentItems } from "../store/schema";
import type { RegistryRow } from "./lifecycle";
import { readSegmentsFile } from "./segments";

/**
 * The micro-segments of the live model version for one site, as the console lists them: what
 * `npm run segments` found offline (size, share, top items and attributes with lift, CTR in the
 * training data) next to what the site's traffic did since the version went live (decisions,
 * impressions, clicks of the visitors the worker placed in each segment, from the daily aggregates).
 * The aggregates are daily and keyed by segment id only, so the count starts with the UTC day of
 * the promotion: on that day it may include the previous version's segments of the same id.
 */

export type SegmentTraffic = { decisions: number; impressions: number; clicks: number; ctr: number | null };
export type SegmentRow = Segment & { traffic: SegmentTraffic; titles: Record<string, string> };

export type SegmentsReport = {
  /** The live version, or null when none is (or it is the bundled one, which has no segments). */
  version: string | null;
  since: string | null;
  data: { name: string; citation: string; visitors: number; method: string; k: number } | null;
  segments: SegmentRow[];
};

async function titlesOf(db: Database, site: string, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: contentItems.id, render: contentItems.render })
    .from(contentItems)
    .where(and(eq(contentItems.siteId, site), inArray(contentItems.id, [...ids])));
  return new Map(rows.map((r) => [r.id, r.render.title]));
}

async function trafficSince(db: Database, site: string, since: string | undefined): Promise<Map<string, SegmentTraffic>> {
  const rows = await sumAggregates(db, { site, from: since }, "segment");
  return new Map(
    rows
      .filter((r) => r.key[0] === "segment")
      .map(({ key, counters }) => [
        String(key[1]),
        {
          decisions: counters.count,
          impressions: counters.impressions,
          clicks: counters.clicks,
          ctr: counters.impressions ? counters.clicks / counters.impressions : null,
        },
      ]),
  );
}

export async function segmentsReport(db: Database, models: R2Bucket, site: string, rows: readonly RegistryRow[]): Promise<SegmentsReport> {
  const live = rows.find((r) => r.status === "live");
  const file = live && live.storage === "r2" ? await readSegmentsFile(models, live).catch(() => null) : null;
  const since = live?.promotedAt ? dayOf(live.promotedAt) : null;
  if (!live || !file) return { version: live?.version ?? null, since, data: null, segments: [] };
  const ids = [...new Set(file.segments.flatMap((s) => s.topItems.map((i) => i.contentId)))];
  const [titles, traffic] = await Promise.all([titlesOf(db, site, ids), trafficSince(db, site, since ?? undefined)]);
  const none: SegmentTraffic = { decisions: 0, impressions: 0, clicks: 0, ctr: null };
  return {
    version: live.version,
    since,
    data: { ...file.data, method: file.method, k: file.k },
    segments: file.segments.map((s) => ({
      ...s,
      traffic: traffic.get(s.id) ?? none,
      titles: Object.fromEntries(
        s.topItems.flatMap((i) => (titles.has(i.contentId) ? [[i.contentId, titles.get(i.contentId) ?? ""]] : [])),
      ),
    })),
  };
}
