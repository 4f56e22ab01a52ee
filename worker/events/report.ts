import { z } from "zod";
import { sumAggregates } from "../log/aggregates";
import type { Database } from "../store/db";

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

/** The content aggregates over a range of days, summed per slot × content × policy × model version (and per day). */
async function summedContent(db: Database, query: PerformanceQuery, perDay: boolean) {
  return (await sumAggregates(db, query, "content", perDay)).map(
    ({ day, key: [slot = "", contentId = "", policy = "", modelVersion = ""], counters }) => ({
      day: day ?? "",
      slot,
      contentId,
      policy,
      modelVersion,
      impressions: counters.impressions,
      clicks: counters.clicks,
      conversions: counters.conversions,
      value: counters.value,
    }),
  );
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

/** Performance per slot × content × policy × model version over a range of days (daily aggregates only). */
export async function performanceReport(db: Database, query: PerformanceQuery): Promise<PerformanceRow[]> {
  return (await summedContent(db, query, false)).map(({ day: _day, ...row }) => rated(row));
}

/**
 * The same report for each day of the range, in one query: `byDay.get(day)` equals
 * `performanceReport` with `from` and `to` set to that day.
 */
export async function performanceByDay(db: Database, query: PerformanceQuery): Promise<Map<string, PerformanceRow[]>> {
  const byDay = new Map<string, PerformanceRow[]>();
  for (const { day, ...row } of await summedContent(db, query, true)) byDay.set(day, [...(byDay.get(day) ?? []), rated(row)]);
  return byDay;
}

export type DecisionsDay = {
  day: string;
  decisions: number;
  /** Per slot and the policy that filled it: how many of the day's decisions filled the slot that way. */
  slots: { slot: string; policy: string; decisions: number }[];
};

/**
 * Logged decisions per UTC day over a range of days, oldest first; days without a decision are
 * left out. Only decisions that may count are logged at all (measured visitors, no bots, no QA
 * previews: the queue consumer drops the rest), so this counts the same traffic as the roll-ups.
 */
export async function decisionsByDay(db: Database, query: PerformanceQuery): Promise<DecisionsDay[]> {
  const [days, slots] = await Promise.all([sumAggregates(db, query, "decisions", true), sumAggregates(db, query, "slot", true)]);
  return days.map(({ day, counters }) => ({
    day: day ?? "",
    decisions: counters.count,
    slots: slots
      .filter((s) => s.day === day)
      .map(({ key: [slot = "", policy = ""], counters: c }) => ({ slot, policy, decisions: c.count })),
  }));
}
