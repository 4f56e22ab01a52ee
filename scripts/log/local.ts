import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { partitions, readPartition } from "../../worker/log/files";
import { distinctRows } from "../../worker/log/rows";
import type { LogRow } from "../../worker/wire/log";

/** The LOG bucket of a running local stack, through Miniflare (Node side). */
export async function localLogBucket(mf: Miniflare): Promise<R2Bucket> {
  // Miniflare types its R2 proxy with the experimental workers types; the calls used are the stable ones.
  return (await mf.getR2Bucket("LOG")) as unknown as R2Bucket;
}

/** Every row of the log's batch files, or with `distinct` one per kind and id, as every reader counts them. */
export async function localLogRows(mf: Miniflare, options: { site?: string; distinct?: boolean } = {}): Promise<LogRow[]> {
  const bucket = await localLogBucket(mf);
  const rows: LogRow[] = [];
  for (const p of await partitions(bucket))
    if (!options.site || p.siteId === options.site) rows.push(...(await readPartition(bucket, p.prefix)));
  return options.distinct === false ? rows : distinctRows(rows);
}

/** Runs the worker's scheduled handler as Cloudflare's cron would at `time` (ms since the epoch). */
export async function runScheduled(mf: Miniflare, url: URL, time: number): Promise<void> {
  const res = await mf.dispatchFetch(new URL(`/cdn-cgi/local/scheduled?time=${time}`, url));
  await res.text();
  if (!res.ok) throw new Error(`scheduled handler answered ${res.status}`);
}

/**
 * A log bucket kept in local state (a Miniflare state directory, or `.wrangler/state/v3` as
 * `wrangler dev` keeps it, where the bucket's id is its bucket_name), opened through a workerd that
 * binds only it; `dispose` stops that workerd.
 */
export async function openLocalBucket(stateDir: string, bucketId: string): Promise<{ bucket: R2Bucket; dispose: () => Promise<void> }> {
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modules: true,
      script: "export default { fetch: () => new Response(null, { status: 404 }) };",
      r2Buckets: { LOG: bucketId },
      resourcePersistencePath: stateDir,
    }),
  );
  return { bucket: await localLogBucket(mf), dispose: () => mf.dispose() };
}
