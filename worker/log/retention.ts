import { sql } from "drizzle-orm";
import type { Database } from "../store/db";
import { aggregateMetrics, dailyAggregates } from "../store/schema";
import { keysUnder, partitions } from "./files";
import { pruneLedger } from "./ledger";
import { dayOf } from "./rows";

/**
 * Retention, run by the scheduled handler: raw log partitions whose day is more than
 * `retentionDays` before today are deleted (in production an R2 lifecycle rule on `log/`, or an
 * Iceberg delete, does it: docs/operator.md, "Retention"), daily aggregates more than `aggregateRetentionDays`
 * old likewise, and the ledger forgets what is older than its window.
 */
const DAY_MS = 24 * 60 * 60 * 1000;
/** R2 deletes at most 1,000 keys per call. */
const DELETE_CHUNK = 1000;

export const cutoffDay = (now: number, days: number) => dayOf(now - days * DAY_MS);

/** Deletes every file of every partition older than the cutoff; returns the partitions deleted. */
export async function deleteOldPartitions(bucket: R2Bucket, now: number, retentionDays: number): Promise<string[]> {
  const cutoff = cutoffDay(now, retentionDays);
  const old = (await partitions(bucket)).filter((p) => p.day < cutoff);
  for (const partition of old) {
    let chunk: string[] = [];
    for await (const key of keysUnder(bucket, partition.prefix)) {
      chunk.push(key);
      if (chunk.length === DELETE_CHUNK) {
        await bucket.delete(chunk);
        chunk = [];
      }
    }
    if (chunk.length) await bucket.delete(chunk);
  }
  return old.map((p) => p.prefix);
}

/**
 * Deletes the daily aggregates of days before the cutoff. The table has no index but its key (site,
 * metric, day, key; worker/store/schema.ts says why), so the delete seeks each site's and metric's
 * old days instead of scanning every row: the sites are found by skipping from one to the next
 * through the key (a recursive query, one seek per site), the metrics are the schema's list.
 */
async function deleteOldAggregates(db: Database, cutoff: string): Promise<void> {
  const { siteId, metric, day } = dailyAggregates;
  await db.run(sql`
    WITH RECURSIVE site(id) AS (
      SELECT min(${siteId}) FROM ${dailyAggregates}
      UNION ALL
      SELECT (SELECT min(${siteId}) FROM ${dailyAggregates} WHERE ${siteId} > site.id) FROM site WHERE site.id IS NOT NULL
    )
    DELETE FROM ${dailyAggregates}
    WHERE ${siteId} IN (SELECT id FROM site WHERE id IS NOT NULL)
      AND ${metric} IN (SELECT value FROM json_each(${JSON.stringify(aggregateMetrics)}))
      AND ${day} < ${cutoff}`);
}

export async function applyRetention(
  db: Database,
  bucket: R2Bucket,
  now: number,
  settings: { retentionDays: number; aggregateRetentionDays: number; ledgerDays: number },
): Promise<{ partitions: string[] }> {
  const deleted = await deleteOldPartitions(bucket, now, settings.retentionDays);
  await deleteOldAggregates(db, cutoffDay(now, settings.aggregateRetentionDays));
  await pruneLedger(db, { now, days: settings.ledgerDays });
  return { partitions: deleted };
}
