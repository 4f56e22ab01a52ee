/** Messages per `sendBatch`: Cloudflare Queues takes at most 100 (and 256 KB) per call. */
export const SEND_BATCH_MAX = 100;

/** Sends JSON bodies in batches of SEND_BATCH_MAX: one subrequest per hundred messages. */
export async function sendAll(queue: Queue, bodies: readonly unknown[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += SEND_BATCH_MAX) {
    await queue.sendBatch(bodies.slice(i, i + SEND_BATCH_MAX).map((body) => ({ body, contentType: "json" as const })));
  }
}
