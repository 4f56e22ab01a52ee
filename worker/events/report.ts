import { and, eq, gte, lte, sql } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "../store/db";
import { rollups } from "../store/schema";

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a date as YYYY-MM-DD");

export const performanceQuerySchema = z
  .object({ site: z.string().min(1).max(64), from: day.optional(), to: day.optional() })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: "from must not be after to", path: ["from"] });
export type PerformanceQuery = z.infer<typeof performanceQuerySchema>;

export const performanceRowSchema = z.object({
  slot: z.string(),
  contentId: z.string(),
  policy: z.string(),
  modelVersion: z.string(),
  impressions: z.number(),
  clicks: z.number(),
  conversions: z.number(),
  value: z.number(),
  ctr: z.number().nullable(),
  ctrLow: z.number().nullable(),
  ctrHigh: z.number().nullable(),
});
export type PerformanceRow = z.infer<typeof performanceRowSchema>;

/**
 * Wilson score interval (95%): unlike the normal approximation it stays inside [0, 1] and is
 * honest for the small counts and low click rates that content slots have.
 */
export function wilsonInterval(successes: number, trials: number, z95 = 1.959964): { low: number; high: number } | null {
  if (trials <= 0) return null;
  const p = successes / trials;
  const z2 = z95 * z95;
  const centre = (p + z2 / (2 * trials)) / (1 + z2 / trials);
  const half = (z95 * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / (1 + z2 / trials);
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** Performance per slot × content × policy × model version over a range of days (roll-ups only). */
export async function performanceReport(db: Database, query: PerformanceQuery): Promise<PerformanceRow[]> {
  const rows = await db
    .select({
      slot: rollups.slot,
      contentId: rollups.contentId,
      policy: rollups.policy,
      modelVersion: rollups.modelVersion,
      impressions: sql<number>`sum(${rollups.impressions})`,
      clicks: sql<number>`sum(${rollups.clicks})`,
      conversions: sql<number>`sum(${rollups.conversions})`,
      value: sql<number>`sum(${rollups.value})`,
    })
    .from(rollups)
    .where(
      and(
        eq(rollups.siteId, query.site),
        query.from ? gte(rollups.day, query.from) : undefined,
        query.to ? lte(rollups.day, query.to) : undefined,
      ),
    )
    .groupBy(rollups.slot, rollups.contentId, rollups.policy, rollups.modelVersion)
    .orderBy(rollups.slot, rollups.contentId, rollups.policy, rollups.modelVersion);
  return rows.map((row) => {
    const interval = wilsonInterval(row.clicks, row.impressions);
    return {
      ...row,
      ctr: row.impressions > 0 ? row.clicks / row.impressions : null,
      ctrLow: interval?.low ?? null,
      ctrHigh: interval?.high ?? null,
    };
  });
}
