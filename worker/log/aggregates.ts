import { and, eq, gte, lte, sql } from "drizzle-orm";
import type { Database } from "../store/db";
import { dailyAggregates } from "../store/schema";
import { type Counters, counterNames, decodeKey, type Metric } from "./metrics";

/** A site and an optional range of UTC days (inclusive), as every report takes it. */
export type DayRange = { site: string; from?: string | undefined; to?: string | undefined };

export type Summed = { day: string | null; key: string[]; counters: Counters };

const compareKeys = (a: readonly string[], b: readonly string[]) => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? "";
    const y = b[i] ?? "";
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
};

/**
 * One metric's daily aggregates over a range, summed per key (and per day with `perDay`), ordered
 * by day and then by the key's values.
 */
export async function sumAggregates(db: Database, range: DayRange, metric: Metric, perDay = false): Promise<Summed[]> {
  const sums = Object.fromEntries(counterNames.map((name) => [name, sql<number>`sum(${dailyAggregates[name]})`])) as Record<
    (typeof counterNames)[number],
    ReturnType<typeof sql<number>>
  >;
  const rows = await db
    .select({ day: dailyAggregates.day, key: dailyAggregates.key, ...sums })
    .from(dailyAggregates)
    .where(
      and(
        eq(dailyAggregates.siteId, range.site),
        eq(dailyAggregates.metric, metric),
        range.from ? gte(dailyAggregates.day, range.from) : undefined,
        range.to ? lte(dailyAggregates.day, range.to) : undefined,
      ),
    )
    .groupBy(...(perDay ? [dailyAggregates.day, dailyAggregates.key] : [dailyAggregates.key]));
  return rows
    .map((row) => ({
      day: perDay ? row.day : null,
      key: decodeKey(row.key),
      counters: Object.fromEntries(counterNames.map((name) => [name, Number(row[name] ?? 0)])) as Counters,
    }))
    .sort((a, b) => (a.day ?? "").localeCompare(b.day ?? "") || compareKeys(a.key, b.key));
}
