/**
 * Cloudflare's list prices (USD, Workers Paid plan, beyond the amounts included each month), as
 * read on the date below from:
 *   https://developers.cloudflare.com/workers/platform/pricing/          requests, CPU time
 *   https://developers.cloudflare.com/d1/platform/pricing/               rows read, rows written
 *   https://developers.cloudflare.com/kv/platform/pricing/               reads; writes, deletes, lists
 *   https://developers.cloudflare.com/durable-objects/platform/pricing/  requests, duration (128 MB
 *                                                                         billed per object), SQLite rows read and written
 *   https://developers.cloudflare.com/queues/platform/pricing/           operations (per 64 KB written, read or deleted)
 *   https://developers.cloudflare.com/r2/platform/pricing/               class A, class B operations
 * The one table the benchmark prices with; storage (GB-months) is left out: it does not grow
 * with a page view in a way one run can count.
 */
export const PRICES_READ_ON = "2026-11-27";

export const PRICE_PER_MILLION = {
  workersRequests: 0.3,
  workersCpuMs: 0.02,
  d1RowsRead: 0.001,
  d1RowsWritten: 1.0,
  kvReads: 0.5,
  kvWrites: 5.0,
  kvDeletes: 5.0,
  kvLists: 5.0,
  doRequests: 0.15,
  doGbSeconds: 12.5,
  doRowsRead: 0.001,
  doRowsWritten: 1.0,
  queueOperations: 0.4,
  r2ClassA: 4.5,
  r2ClassB: 0.36,
} as const;

export type PricedItem = keyof typeof PRICE_PER_MILLION;

/** Memory a Durable Object is billed for, whatever it uses. */
export const DO_BILLED_GB = 0.128;
/** Each queue message is written, read and deleted: three operations per 64 KB unit. */
export const QUEUE_OPERATIONS_PER_UNIT = 3;

/** USD per million of something happening `perOne` items each: the breakdown and its total. */
export function pricePerMillion(perOne: Record<PricedItem, number>): { totalUsd: number; breakdownUsd: Record<PricedItem, number> } {
  const breakdownUsd = Object.fromEntries(
    (Object.keys(PRICE_PER_MILLION) as PricedItem[]).map((item) => [item, perOne[item] * PRICE_PER_MILLION[item]]),
  ) as Record<PricedItem, number>;
  return { totalUsd: Object.values(breakdownUsd).reduce((a, b) => a + b, 0), breakdownUsd };
}
