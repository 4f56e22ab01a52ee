import { sleep } from "./stats";

/** Often enough to time a run of seconds to a few percent; each poll is one small query on the same D1. */
const POLL_INTERVAL_MS = 50;

/** What the daily aggregates have counted: logged decisions, or interactions of every kind. */
export type Counted = "decisions" | "events";

const COUNTED_SQL: Record<Counted, string> = {
  decisions: "SELECT coalesce(sum(count), 0) AS n FROM daily_aggregates WHERE metric = 'decisions'",
  events: "SELECT coalesce(sum(impressions + clicks + conversions + dismissals), 0) AS n FROM daily_aggregates WHERE metric = 'content'",
};

async function countedSoFar(d1: D1Database, what: Counted): Promise<number> {
  const row = await d1.prepare(COUNTED_SQL[what]).first<{ n: number }>();
  return row?.n ?? 0;
}

/**
 * Polls until the aggregates have counted at least `target` decisions or events and resolves with
 * `performance.now()` then (the consumer writes a batch's log rows right after counting them);
 * throws at `deadline` with how far it got (events the consumer dropped or could not write never arrive).
 */
export async function waitForCounted(d1: D1Database, what: Counted, target: number, deadline: number): Promise<number> {
  for (;;) {
    const n = await countedSoFar(d1, what);
    const at = performance.now();
    if (n >= target) return at;
    if (at > deadline) throw new Error(`gave up waiting for ${target} ${what} in the aggregates: ${n} arrived in time`);
    await sleep(POLL_INTERVAL_MS);
  }
}

export type RollupTotals = { decisions: number; impressions: number; clicks: number; conversions: number; dismissals: number };

/** What the consumer's daily aggregates add up to for one site. */
export async function rollupTotals(d1: D1Database, siteId: string): Promise<RollupTotals> {
  const row = await d1
    .prepare(
      `SELECT coalesce(sum(CASE WHEN metric = 'decisions' THEN count END), 0) AS decisions,
              coalesce(sum(CASE WHEN metric = 'content' THEN impressions END), 0) AS impressions,
              coalesce(sum(CASE WHEN metric = 'content' THEN clicks END), 0) AS clicks,
              coalesce(sum(CASE WHEN metric = 'content' THEN conversions END), 0) AS conversions,
              coalesce(sum(CASE WHEN metric = 'content' THEN dismissals END), 0) AS dismissals
       FROM daily_aggregates WHERE site_id = ?`,
    )
    .bind(siteId)
    .first<RollupTotals>();
  return row ?? { decisions: 0, impressions: 0, clicks: 0, conversions: 0, dismissals: 0 };
}
