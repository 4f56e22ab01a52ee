import type { Pipeline } from "cloudflare:pipelines";
import type { LogRow } from "../wire/log";
import { batchFileKey, encodeRows } from "./files";

/**
 * Where the queue consumer writes the log. The sink is a setting (`LOG_SINK`):
 * - `r2`: batch files on the LOG bucket (worker/log/files.ts), for local runs and small deployments;
 * - `pipelines`: the LOG_STREAM Pipelines stream, whose sink is an Iceberg table in R2 Data Catalog
 *   (docs/operator.md, "Deploying for real"). Locally the stream binding keeps nothing.
 * Either way a write that throws leaves the batch's messages to be retried, and a batch written
 * twice is read once: readers keep the first row of each (kind, id).
 */
export type LogSink = { name: "r2" | "pipelines"; write(rows: readonly LogRow[], batchId: string): Promise<void> };

export const logSinks = ["r2", "pipelines"] as const;

/** One file per (site, day) of the batch, written in parallel. */
export function r2Sink(bucket: R2Bucket): LogSink {
  return {
    name: "r2",
    async write(rows, batchId) {
      const byPartition = new Map<string, LogRow[]>();
      for (const row of rows) {
        const key = batchFileKey(row.site_id, row.day, batchId);
        byPartition.set(key, [...(byPartition.get(key) ?? []), row]);
      }
      await Promise.all(
        [...byPartition].map(async ([key, part]) =>
          bucket.put(key, await encodeRows(part), { httpMetadata: { contentType: "application/x-ndjson", contentEncoding: "gzip" } }),
        ),
      );
    },
  };
}

/** The binding's contract: `send(records[])` resolves once the stream has taken them. */
export function pipelinesSink(stream: Pipeline<LogRow>): LogSink {
  return {
    name: "pipelines",
    async write(rows) {
      if (rows.length) await stream.send([...rows]);
    },
  };
}

export function logSinkOf(env: Pick<Env, "LOG" | "LOG_STREAM">, sink: (typeof logSinks)[number]): LogSink {
  return sink === "pipelines" ? pipelinesSink(env.LOG_STREAM as unknown as Pipeline<LogRow>) : r2Sink(env.LOG);
}
