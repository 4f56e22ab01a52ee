import { PRICE_PER_MILLION, QUEUE_OPERATIONS_PER_UNIT } from "./prices";

/**
 * What the data plane's counted operations cost per million decisions (one decision and its three
 * events make a page view), at the list prices of ./prices.ts: D1 rows written, R2 class A and B
 * operations, and queue messages (three operations each: write, read, delete). Worker requests and
 * CPU, KV and Durable Objects are not in it: this is the log and aggregates' part.
 */
export type PerPageViewOps = { d1RowsWritten: number; r2ClassA: number; r2ClassB: number; queueMessages: number };

export function dataPlaneCostPerMillionDecisions(ops: PerPageViewOps) {
  const p = PRICE_PER_MILLION;
  const parts = {
    d1: ops.d1RowsWritten * p.d1RowsWritten,
    r2: ops.r2ClassA * p.r2ClassA + ops.r2ClassB * p.r2ClassB,
    queue: ops.queueMessages * QUEUE_OPERATIONS_PER_UNIT * p.queueOperations,
  };
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return {
    totalUsd: round(parts.d1 + parts.r2 + parts.queue),
    d1Usd: round(parts.d1),
    r2Usd: round(parts.r2),
    queueUsd: round(parts.queue),
  };
}
