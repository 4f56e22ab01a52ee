import { and, eq, gte, lte, sql } from "drizzle-orm";
import type { Database } from "../store/db";
import { dailyAggregates } from "../store/schema";
import {
  addBins,
  addCounters,
  type Bins,
  binLabel,
  type Counters,
  counterNames,
  decodeKey,
  histograms,
  type Metric,
  zeroCounters,
} from "./metrics";

/** A site and an optional range of UTC days (inclusive), as every report takes it. */
export type DayRange = { site: string; from?: string | undefined; to?: string | undefined };

/** A key's counters summed over the range (or a day of it), and a histogram metric's bins summed likewise. */
export type Summed = { day: string | null; key: string[]; counters: Counters; bins: Bins };

const compareKeys = (a: readonly string[], b: readonly string[]) => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? "";
    const y = b[i] ?? "";
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
};

/**
 * A histogram metric's rows with their bins, where rows written before the metric kept histograms
 * (a row per bin: the histogram's key, then the bin's values; kept for AGGREGATE_RETENTION_DAYS)
 * are read as the bins of their histogram: their count in the bin, their sum in the histogram's.
 */
function foldBinRows(rows: readonly Summed[], keyLength: number): Summed[] {
  const folded = new Map<string, Summed>();
  for (const row of rows) {
    const key = row.key.slice(0, keyLength);
    const id = JSON.stringify([row.day, key]);
    const into = folded.get(id) ?? { day: row.day, key, counters: zeroCounters(), bins: {} };
    folded.set(id, into);
    addBins(into.bins, row.bins);
    if (row.key.length === keyLength) addCounters(into.counters, row.counters);
    else {
      addBins(into.bins, { [binLabel(row.key.slice(keyLength))]: row.counters.count });
      into.counters.sum += row.counters.sum;
    }
  }
  return [...folded.values()];
}

/** The bins of a group's rows (each row's JSON object, or null), added. */
function summedBins(each: string | null): Bins {
  const all = JSON.parse(each ?? "[]") as (Bins | null)[];
  return all.reduce<Bins>((into, bins) => (bins ? addBins(into, bins) : into), {});
}

/**
 * One metric's daily aggregates over a range, summed per key (and per day with `perDay`), ordered
 * by day and then by the key's values.
 */
export async function sumAggregates(db: Database, range: DayRange, metric: Metric, perDay = false): Promise<Summed[]> {
  const sums = Object.fromEntries(counterNames.map((name) => [name, sql<number>`sum(${dailyAggregates[name]})`])) as Record<
    (typeof counterNames)[number],
    ReturnType<typeof sql<number>>
  >;
  const keyLength = histograms[metric];
  const rows = await db
    .select({
      day: dailyAggregates.day,
      key: dailyAggregates.key,
      ...sums,
      bins: keyLength ? sql<string | null>`json_group_array(json(${dailyAggregates.bins}))` : sql<null>`NULL`,
    })
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
  const summed = rows.map((row) => ({
    day: perDay ? row.day : null,
    key: decodeKey(row.key),
    counters: Object.fromEntries(counterNames.map((name) => [name, Number(row[name] ?? 0)])) as Counters,
    bins: summedBins(row.bins),
  }));
  return (keyLength ? foldBinRows(summed, keyLength) : summed).sort(
    (a, b) => (a.day ?? "").localeCompare(b.day ?? "") || compareKeys(a.key, b.key),
  );
}
