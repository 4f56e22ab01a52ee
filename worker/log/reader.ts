import type { LogRow } from "../wire/log";
import { decodeRows, objectsUnder, partitions } from "./files";
import { dayOf, distinctRows } from "./rows";

/**
 * Reading the R2 batch files back from inside the worker, for the few requests that need raw rows
 * now: `/v1/why` (one decision of the last days) and a subject's export. A scan reads at most
 * `maxFiles` files, newest first, and says whether it saw them all; heavy and offline reading goes through
 * DuckDB or Spark (scripts/export-events.ts). With the Pipelines sink the worker cannot read the
 * log (an Iceberg table): these answer from nothing and say so.
 */
export type Scan = { rows: LogRow[]; files: number; complete: boolean };

export const SCAN_MAX_FILES = 500;

export async function scanLog(
  bucket: R2Bucket,
  filter: { days?: readonly string[]; sites?: readonly string[] },
  keep: (row: LogRow) => boolean,
  options: { maxFiles?: number; firstOnly?: boolean } = {},
): Promise<Scan> {
  const maxFiles = options.maxFiles ?? SCAN_MAX_FILES;
  const wanted = (await partitions(bucket)).filter(
    (p) => (!filter.days || filter.days.includes(p.day)) && (!filter.sites || filter.sites.includes(p.siteId)),
  );
  // Newest files first: what a request asks about is usually recent, and the limit then cuts the oldest.
  const files: { key: string; uploaded: number }[] = [];
  for (const partition of wanted) for await (const object of objectsUnder(bucket, partition.prefix)) files.push(object);
  files.sort((a, b) => b.uploaded - a.uploaded || a.key.localeCompare(b.key));
  const rows: LogRow[] = [];
  let read = 0;
  for (const { key } of files) {
    if (read >= maxFiles) return { rows: distinctRows(rows), files: read, complete: false };
    read++;
    const object = await bucket.get(key);
    if (object) rows.push(...(await decodeRows(object.body)).filter(keep));
    if (options.firstOnly && rows.length > 0) break;
  }
  return { rows: distinctRows(rows), files: read, complete: true };
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** A decision logged today or yesterday (UTC), by id, if it was made for `visitorId`. */
export async function findDecision(bucket: R2Bucket, decisionId: string, visitorId: string, now: number): Promise<LogRow | null> {
  const days = [dayOf(now), dayOf(now - DAY_MS)];
  const scan = await scanLog(bucket, { days }, (row) => row.kind === "decision" && row.id === decisionId && row.visitor_id === visitorId, {
    firstOnly: true,
  });
  return scan.rows[0] ?? null;
}
