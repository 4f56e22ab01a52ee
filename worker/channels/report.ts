import type { PerformanceQuery } from "../events/report";
import { wilsonInterval } from "../events/report";
import { sumAggregates } from "../log/aggregates";
import type { Database } from "../store/db";

/**
 * Performance per channel (web, edge, server, app, email) over a range of days, from the daily
 * aggregates' `channel` metric: one customer's decisions and events count in the channel that
 * showed them, whichever device or mail they came from.
 */
export async function channelReport(db: Database, query: PerformanceQuery) {
  const rows = await sumAggregates(db, query, "channel", false);
  return rows
    .map(({ key: [channel = ""], counters }) => {
      const interval = wilsonInterval(counters.clicks, counters.impressions);
      return {
        channel,
        decisions: counters.count,
        impressions: counters.impressions,
        clicks: counters.clicks,
        conversions: counters.conversions,
        value: counters.value,
        ctr: counters.impressions > 0 ? counters.clicks / counters.impressions : null,
        ctrLow: interval?.low ?? null,
        ctrHigh: interval?.high ?? null,
      };
    })
    .sort((a, b) => a.channel.localeCompare(b.channel));
}
