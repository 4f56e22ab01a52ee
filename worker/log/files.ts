import { type LogRow, logRowSchema } from "../wire/log";

/**
 * The log as batch files on R2, for local runs and small deployments: gzip NDJSON, one file per
 * consumer batch and partition, under `log/site=<site>/day=<YYYY-MM-DD>/<batch-id>.ndjson.gz`
 * (Hive-style, so DuckDB, Spark and R2 SQL prune by site and day). The batch id is derived from
 * the batch's message ids, so a batch the queue delivers again overwrites its own files.
 */
export const LOG_ROOT = "log/";
const FILE_SUFFIX = ".ndjson.gz";

export const partitionPrefix = (siteId: string, day: string) => `${LOG_ROOT}site=${siteId}/day=${day}/`;
export const batchFileKey = (siteId: string, day: string, batchId: string) => `${partitionPrefix(siteId, day)}${batchId}${FILE_SUFFIX}`;

const PARTITION = /^log\/site=([^/]+)\/day=(\d{4}-\d{2}-\d{2})\//;
export function partitionOfKey(key: string): { siteId: string; day: string } | null {
  const match = key.match(PARTITION);
  return match ? { siteId: match[1] as string, day: match[2] as string } : null;
}

const hex = (bytes: ArrayBuffer) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");

/** A name for a batch that only its own messages give: SHA-256 of their sorted ids, 128 bits. */
export async function batchIdOf(messageIds: readonly string[]): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode([...messageIds].sort().join("\n")));
  return hex(digest).slice(0, 32);
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export async function encodeRows(rows: readonly LogRow[]): Promise<Uint8Array> {
  const text = rows.map((row) => `${JSON.stringify(row)}\n`).join("");
  return collect(new Blob([text]).stream().pipeThrough(new CompressionStream("gzip")));
}

/** The rows of one file; a line that is not a row of the schema is an error (the file is not ours, or is damaged). */
export async function decodeRows(gzipped: ReadableStream<Uint8Array> | ArrayBuffer | Uint8Array): Promise<LogRow[]> {
  const stream = gzipped instanceof ReadableStream ? gzipped : new Blob([gzipped]).stream();
  const text = await new Response(stream.pipeThrough(new DecompressionStream("gzip"))).text();
  return text
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => logRowSchema.parse(JSON.parse(line)));
}

/** Every object under `prefix` (its key and upload time), page by page. */
export async function* objectsUnder(bucket: R2Bucket, prefix: string): AsyncGenerator<{ key: string; uploaded: number }> {
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, ...(cursor ? { cursor } : {}) });
    for (const object of page.objects) yield { key: object.key, uploaded: object.uploaded.getTime() };
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
}

/** Every key under `prefix`, page by page. */
export async function* keysUnder(bucket: R2Bucket, prefix: string): AsyncGenerator<string> {
  for await (const object of objectsUnder(bucket, prefix)) yield object.key;
}

/** The common prefixes one level below `prefix` (e.g. the sites under log/, the days under a site). */
async function childPrefixes(bucket: R2Bucket, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, delimiter: "/", ...(cursor ? { cursor } : {}) });
    found.push(...page.delimitedPrefixes);
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return found;
}

/** Every partition of the log, oldest day first within each site. */
export async function partitions(bucket: R2Bucket): Promise<{ siteId: string; day: string; prefix: string }[]> {
  const found: { siteId: string; day: string; prefix: string }[] = [];
  for (const site of await childPrefixes(bucket, LOG_ROOT)) {
    for (const prefix of await childPrefixes(bucket, site)) {
      const partition = partitionOfKey(prefix);
      if (partition) found.push({ ...partition, prefix });
    }
  }
  return found.sort((a, b) => a.siteId.localeCompare(b.siteId) || a.day.localeCompare(b.day));
}

/** The rows of every file in a partition, in key order. */
export async function readPartition(bucket: R2Bucket, prefix: string): Promise<LogRow[]> {
  const rows: LogRow[] = [];
  for await (const key of keysUnder(bucket, prefix)) {
    const object = await bucket.get(key);
    if (object) rows.push(...(await decodeRows(object.body)));
  }
  return rows;
}
