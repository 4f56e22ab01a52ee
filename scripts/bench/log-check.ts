import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { copyPartitions, LogReader } from "../log/duckdb";
import { localLogBucket } from "../log/local";
import type { Miniflare } from "./workerd";

/** The log as DuckDB counts it: distinct rows per kind or interaction type, and every row in the files (copies included). */
export type LogCounts = { distinct: Record<string, number>; fileRows: number; files: number };

/** Counts a site's rows in the running stack's LOG bucket with DuckDB, over a copy of its batch files. */
export async function countLog(mf: Miniflare, site: string): Promise<LogCounts> {
  const dir = mkdtempSync(join(tmpdir(), "bench-log-"));
  try {
    const files = await copyPartitions(await localLogBucket(mf), dir, { site });
    const reader = await LogReader.local(dir);
    return { distinct: await reader.counts({ site }), fileRows: await reader.fileRowCount({ site }), files };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
