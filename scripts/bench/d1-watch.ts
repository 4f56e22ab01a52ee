import { sleep } from "./stats";

/** Often enough to time a run of seconds to a few percent; each poll is one small query on the same D1. */
const POLL_INTERVAL_MS = 50;

async function countRows(d1: D1Database, table: "events" | "decisions"): Promise<number> {
  const row = await d1.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>();
  return row?.n ?? 0;
}

/**
 * Polls until `table` holds at least `target` rows and resolves with `performance.now()` then; throws
 * at `deadline` with how far it got (events the consumer dropped or could not write never arrive).
 */
export async function waitForRows(d1: D1Database, table: "events" | "decisions", target: number, deadline: number): Promise<number> {
  for (;;) {
    const n = await countRows(d1, table);
    const at = performance.now();
    if (n >= target) return at;
    if (at > deadline) throw new Error(`gave up waiting for ${target} rows in ${table}: ${n} arrived in time`);
    await sleep(POLL_INTERVAL_MS);
  }
}

export type RollupTotals = { impressions: number; clicks: number; conversions: number; dismissals: number };

/** What the consumer's roll-up increments add up to for one site. */
export async function rollupTotals(d1: D1Database, siteId: string): Promise<RollupTotals> {
  const row = await d1
    .prepare(
      `SELECT coalesce(sum(impressions), 0) AS impressions, coalesce(sum(clicks), 0) AS clicks,
              coalesce(sum(conversions), 0) AS conversions, coalesce(sum(dismissals), 0) AS dismissals
       FROM rollups WHERE site_id = ?`,
    )
    .bind(siteId)
    .first<RollupTotals>();
  return row ?? { impressions: 0, clicks: 0, conversions: 0, dismissals: 0 };
}
