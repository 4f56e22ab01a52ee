import { env } from "cloudflare:test";
import { keysUnder, LOG_ROOT, partitions, readPartition } from "../../worker/log/files";
import { distinctRows } from "../../worker/log/rows";
import type { LogRow } from "../../worker/wire/log";

/** The raw log as the R2 batch files hold it (every copy of every row), for one site or all. */
export async function logFileRows(site?: string): Promise<LogRow[]> {
  const rows: LogRow[] = [];
  for (const p of await partitions(env.LOG)) if (!site || p.siteId === site) rows.push(...(await readPartition(env.LOG, p.prefix)));
  return rows;
}

/** The log as every reader sees it: one row per kind and id. */
export async function loggedRows(site?: string): Promise<LogRow[]> {
  return distinctRows(await logFileRows(site));
}

export async function loggedDecision(decisionId: string): Promise<LogRow | undefined> {
  return (await loggedRows()).find((row) => row.kind === "decision" && row.id === decisionId);
}

export async function logFileKeys(): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of keysUnder(env.LOG, LOG_ROOT)) keys.push(key);
  return keys;
}
