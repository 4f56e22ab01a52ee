/**
 * What the data plane's counted operations cost per million decisions (one decision and its three
 * events make a page view), at Cloudflare's list prices beyond the Workers Paid inclusions:
 * - D1: $1.00 per million rows written (https://developers.cloudflare.com/d1/platform/pricing/);
 * - R2: $4.50 per million class A and $0.36 per million class B operations, Standard storage
 *   (https://developers.cloudflare.com/r2/pricing/);
 * - Queues: $0.40 per million operations, a message costing three (write, read, delete) per 64 KB
 *   (https://developers.cloudflare.com/queues/platform/pricing/).
 * Worker requests and CPU, KV and Durable Objects are not in it: this is the log and aggregates' part.
 */
export const LIST_PRICES_USD_PER_MILLION = { d1RowsWritten: 1.0, r2ClassA: 4.5, r2ClassB: 0.36, queueOperations: 0.4 } as const;
const QUEUE_OPERATIONS_PER_MESSAGE = 3;

export type PerPageViewOps = { d1RowsWritten: number; r2ClassA: number; r2ClassB: number; queueMessages: number };

export function dataPlaneCostPerMillionDecisions(ops: PerPageViewOps) {
  const p = LIST_PRICES_USD_PER_MILLION;
  const parts = {
    d1: ops.d1RowsWritten * p.d1RowsWritten,
    r2: ops.r2ClassA * p.r2ClassA + ops.r2ClassB * p.r2ClassB,
    queue: ops.queueMessages * QUEUE_OPERATIONS_PER_MESSAGE * p.queueOperations,
  };
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return {
    totalUsd: round(parts.d1 + parts.r2 + parts.queue),
    d1Usd: round(parts.d1),
    r2Usd: round(parts.r2),
    queueUsd: round(parts.queue),
  };
}
