import { type DecisionsDay, type PerformanceRow, performanceByDay, wilsonInterval } from "../../events/report";
import type { Database } from "../../store/db";
import type { ChartSpec, Series } from "./chart-spec";

/**
 * Time series for the performance page, built from the report functions that the admin API
 * serves (so a chart and `/v1/admin/reports/performance` for one day always agree): one
 * performance report per day of the range, grouped per slot and policy, each day's CTR with the
 * same Wilson interval; decisions per day are `decisionsByDay`'s, as the endpoint serves them.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

export const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The last `days` UTC days up to today, oldest first. */
export function dayRange(days: number, now = Date.now()): string[] {
  const today = Date.parse(`${isoDay(now)}T00:00:00Z`);
  return Array.from({ length: days }, (_, i) => isoDay(today - (days - 1 - i) * DAY_MS));
}

const seconds = (day: string) => Date.parse(`${day}T00:00:00Z`) / 1000;

export type Daily = { days: string[]; reports: PerformanceRow[][] };

export async function dailyPerformance(db: Database, site: string, days: string[]): Promise<Daily> {
  const byDay = await performanceByDay(db, { site, from: days[0], to: days[days.length - 1] });
  return { days, reports: days.map((day) => byDay.get(day) ?? []) };
}

type Totals = { impressions: number; clicks: number; conversions: number };

function sumBy(rows: PerformanceRow[], keep: (r: PerformanceRow) => boolean): Totals {
  return rows
    .filter(keep)
    .reduce(
      (t, r) => ({ impressions: t.impressions + r.impressions, clicks: t.clicks + r.clicks, conversions: t.conversions + r.conversions }),
      {
        impressions: 0,
        clicks: 0,
        conversions: 0,
      },
    );
}

const distinct = (values: string[]) => [...new Set(values)].sort();

export const slotsIn = (daily: Daily) => distinct(daily.reports.flat().map((r) => r.slot));
const policiesIn = (daily: Daily, slot?: string) =>
  distinct(daily.reports.flat().flatMap((r) => (!slot || r.slot === slot ? [r.policy] : [])));

/** CTR per day of one slot, one series per policy, with its 95% Wilson band. */
export function ctrSeries(daily: Daily, slot: string): ChartSpec {
  const series: Series[] = policiesIn(daily, slot).map((policy) => {
    const totals = daily.reports.map((rows) => sumBy(rows, (r) => r.slot === slot && r.policy === policy));
    const bands = totals.map((t) => wilsonInterval(t.clicks, t.impressions));
    return {
      label: policy,
      values: totals.map((t) => (t.impressions ? t.clicks / t.impressions : null)),
      low: bands.map((b) => b?.low ?? null),
      high: bands.map((b) => b?.high ?? null),
    };
  });
  return { kind: "time", unit: "ratio", x: daily.days.map(seconds), series };
}

/** Impressions and conversions per day, per slot and policy. */
export function countSeries(daily: Daily, what: "impressions" | "conversions"): ChartSpec {
  const series = slotsIn(daily).flatMap((slot) =>
    policiesIn(daily, slot).map((policy) => ({
      label: `${slot} · ${policy}`,
      values: daily.reports.map((rows) => sumBy(rows, (r) => r.slot === slot && r.policy === policy)[what]),
    })),
  );
  return { kind: "time", unit: "count", x: daily.days.map(seconds), series };
}

/** Logged decisions per day, per slot and the policy that filled it, from {@link decisionsByDay}. */
export function decisionSeries(byDay: DecisionsDay[], days: string[]): ChartSpec {
  const keyOf = (s: DecisionsDay["slots"][number]) => `${s.slot} · ${s.policy}`;
  const keys = distinct(byDay.flatMap((d) => d.slots.map(keyOf)));
  return {
    kind: "time",
    unit: "count",
    x: days.map(seconds),
    series: keys.map((key) => ({
      label: key,
      values: days.map((day) => byDay.find((d) => d.day === day)?.slots.find((s) => keyOf(s) === key)?.decisions ?? 0),
    })),
  };
}
