import { and, eq, gte, lt, lte, sql } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "../store/db";
import { decisions, rollups } from "../store/schema";

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

/** The roll-ups over a range of days, summed per slot × content × policy × model version (and per day). */
function summedRollups(db: Database, query: PerformanceQuery, perDay: boolean) {
  const key = [rollups.slot, rollups.contentId, rollups.policy, rollups.modelVersion] as const;
  return db
    .select({
      day: rollups.day,
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
    .groupBy(...(perDay ? [rollups.day, ...key] : key))
    .orderBy(...key);
}

function rated<T extends { impressions: number; clicks: number }>(row: T) {
  const interval = wilsonInterval(row.clicks, row.impressions);
  return {
    ...row,
    ctr: row.impressions > 0 ? row.clicks / row.impressions : null,
    ctrLow: interval?.low ?? null,
    ctrHigh: interval?.high ?? null,
  };
}

/** Performance per slot × content × policy × model version over a range of days (roll-ups only). */
export async function performanceReport(db: Database, query: PerformanceQuery): Promise<PerformanceRow[]> {
  return (await summedRollups(db, query, false)).map(({ day: _day, ...row }) => rated(row));
}

/**
 * The same report for each day of the range, in one query: `byDay.get(day)` equals
 * `performanceReport` with `from` and `to` set to that day.
 */
export async function performanceByDay(db: Database, query: PerformanceQuery): Promise<Map<string, PerformanceRow[]>> {
  const byDay = new Map<string, PerformanceRow[]>();
  for (const { day, ...row } of await summedRollups(db, query, true)) byDay.set(day, [...(byDay.get(day) ?? []), rated(row)]);
  return byDay;
}

export type DecisionsDay = {
  day: string;
  decisions: number;
  /** Per slot and the policy that filled it: how many of the day's decisions filled the slot that way. */
  slots: { slot: string; policy: string; decisions: number }[];
};

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Logged decisions per UTC day over a range of days, oldest first; days without a decision are
 * left out. Only decisions that may count are logged at all (measured visitors, no bots, no QA
 * previews: the queue consumer drops the rest), so this counts the same traffic as the roll-ups.
 */
export async function decisionsByDay(db: Database, query: PerformanceQuery): Promise<DecisionsDay[]> {
  const inRange = and(
    eq(decisions.siteId, query.site),
    query.from ? gte(decisions.ts, new Date(Date.parse(`${query.from}T00:00:00Z`))) : undefined,
    query.to ? lt(decisions.ts, new Date(Date.parse(`${query.to}T00:00:00Z`) + DAY_MS)) : undefined,
  );
  const dayOf = sql<string>`strftime('%Y-%m-%d', ${decisions.ts} / 1000, 'unixepoch')`;
  const [days, slots] = await Promise.all([
    db.select({ day: dayOf, decisions: sql<number>`count(*)` }).from(decisions).where(inRange).groupBy(dayOf).orderBy(dayOf),
    db.all<{ day: string; slot: string; policy: string; decisions: number }>(sql`
      SELECT ${dayOf} AS day, json_extract(s.value, '$.slot') AS slot, json_extract(s.value, '$.policy') AS policy,
             count(*) AS decisions
      FROM ${decisions}, json_each(${decisions.slots}) s
      WHERE ${inRange}
      GROUP BY day, slot, policy
      ORDER BY day, slot, policy`),
  ]);
  return days.map(({ day, decisions: n }) => ({
    day,
    decisions: Number(n),
    slots: slots.filter((s) => s.day === day).map(({ slot, policy, decisions: m }) => ({ slot, policy, decisions: Number(m) })),
  }));
}
