import type { MiniflareOptions } from "miniflare";

/** A queue consumer as wrangler.toml declares it, in Miniflare's names (times in seconds). */
export type QueueConsumer = {
  queue: string;
  maxBatchSize?: number;
  maxBatchTimeout?: number;
  maxRetries?: number;
  deadLetterQueue?: string;
  retryDelay?: number;
};

/** The fields of wrangler's parsed config read here (wrangler's own type reaches TypeScript as `any`). */
type ParsedQueues = {
  queues: {
    consumers?: {
      queue: string;
      max_batch_size?: number;
      max_batch_timeout?: number;
      max_retries?: number;
      dead_letter_queue?: string;
      retry_delay?: number;
    }[];
  };
};

/**
 * The queue consumers of wrangler.toml's top-level environment, read with wrangler's own parser.
 * Kept apart from `readWranglerConfig` (workerd.ts), which only the consumer benchmark would need
 * to extend: Miniflare's defaults (5 messages, 1 s) differ from production's, so they must come
 * from the deploy config rather than be left out.
 */
export async function readQueueConsumers(path = "wrangler.toml"): Promise<QueueConsumer[]> {
  process.env.WRANGLER_SEND_METRICS = "false";
  const { unstable_readConfig } = await import("wrangler");
  const config: ParsedQueues = unstable_readConfig({ config: path });
  return (config.queues.consumers ?? []).map((c) => ({
    queue: c.queue,
    maxBatchSize: c.max_batch_size,
    maxBatchTimeout: c.max_batch_timeout,
    maxRetries: c.max_retries,
    deadLetterQueue: c.dead_letter_queue,
    retryDelay: c.retry_delay,
  }));
}

/** The consumer of the queue that `binding` produces to: the one the worker feeds itself. */
export function consumerOf(
  producers: Record<string, { queueName: string }>,
  consumers: readonly QueueConsumer[],
  binding: string,
): QueueConsumer {
  const queue = producers[binding]?.queueName;
  if (!queue) throw new Error(`wrangler.toml has no queue producer bound as ${binding}`);
  const consumer = consumers.find((c) => c.queue === queue);
  if (!consumer) throw new Error(`wrangler.toml has no consumer for queue "${queue}" (bound as ${binding})`);
  return consumer;
}

/**
 * Adds queue consumers to options that `miniflareOptions` (workerd.ts) built: in the v5 beta's
 * option shape a consumer is a `queue` trigger on the worker's config, which the v4 adapter would
 * have made from `queueConsumers`. Done here so that the shared option builder stays unchanged.
 */
export function withQueueConsumers(options: MiniflareOptions, consumers: readonly QueueConsumer[]): MiniflareOptions {
  const [worker, ...others] = options.workers;
  if (!worker) throw new Error("Miniflare options without a worker");
  const triggers = [
    ...(worker.config.triggers ?? []),
    ...consumers.map(({ queue, ...settings }) => ({ type: "queue" as const, name: queue, ...settings })),
  ];
  return { ...options, workers: [{ ...worker, config: { ...worker.config, triggers } }, ...others] };
}
