/**
 * Reads the log (R2 batch files) with DuckDB, by site and UTC day range, and writes NDJSON:
 * training examples by default (worker/events/export.ts documents the format; `npm run train --
 * --events FILE` reads it), or with `--rows` the log's rows themselves (e.g. a subject's, with
 * `--visitor`).
 *
 *   npm run export-events -- [--site demo] [--from 2026-11-01] [--to 2026-11-27] [--visitor ID] [--rows] [--out FILE]
 *     [--state DIR --bucket NAME]   local state: what `wrangler dev` keeps (.wrangler/state/v3, the
 *                                   bucket_name of wrangler.toml's LOG binding) or a Miniflare state
 *                                   directory (bench-out/consumer/state, bucket LOG)
 *     [--r2 BUCKET]                 R2 itself over its S3 API, with R2_ACCOUNT_ID, R2_ACCESS_KEY_ID
 *                                   and R2_SECRET_ACCESS_KEY from the environment
 *
 * Local state is read through Miniflare's R2 binding (its files are not a plain directory tree):
 * the partitions asked for are copied to a temporary directory, which DuckDB reads. A Pipelines
 * deployment's log is an Iceberg table: read it with any Iceberg engine (docs/operator.md, "The raw log").
 */
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type LoggedDecision, type LoggedEvent, toTrainingExamples } from "../worker/events/export";
import { DAY_PATTERN, type LogRow } from "../worker/wire/log";
import { copyPartitions, type LogQuery, LogReader } from "./log/duckdb";
import { openLocalBucket } from "./log/local";

const USAGE =
  "usage: npm run export-events -- [--site S] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--visitor ID] [--rows] [--out FILE] [--state DIR --bucket NAME | --r2 BUCKET]";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    site: { type: "string" },
    from: { type: "string" },
    to: { type: "string" },
    visitor: { type: "string" },
    rows: { type: "boolean", default: false },
    out: { type: "string" },
    state: { type: "string", default: join(".wrangler", "state", "v3") },
    bucket: { type: "string" },
    r2: { type: "string" },
  },
  strict: true,
});

function dayFlag(name: "from" | "to"): string | undefined {
  const value = values[name];
  if (value !== undefined && !DAY_PATTERN.test(value))
    throw new Error(`--${name} must be a UTC day as YYYY-MM-DD, got "${value}"\n${USAGE}`);
  return value;
}

async function localBucketName(): Promise<string> {
  if (values.bucket) return values.bucket;
  process.env.WRANGLER_SEND_METRICS = "false";
  const { unstable_readConfig } = await import("wrangler");
  const log = unstable_readConfig({ config: "wrangler.toml" }).r2_buckets.find((b: { binding: string }) => b.binding === "LOG") as
    | { bucket_name?: string }
    | undefined;
  if (!log?.bucket_name) throw new Error("wrangler.toml has no LOG bucket");
  return log.bucket_name;
}

/** A DuckDB reader over the partitions the query needs, and how to clean up after it. */
async function openReader(query: LogQuery): Promise<{ reader: LogReader; close: () => Promise<void> }> {
  if (values.r2) {
    const env = (name: string) => {
      const value = process.env[name];
      if (!value) throw new Error(`--r2 needs ${name} in the environment`);
      return value;
    };
    const reader = await LogReader.r2({
      bucket: values.r2,
      accountId: env("R2_ACCOUNT_ID"),
      keyId: env("R2_ACCESS_KEY_ID"),
      secret: env("R2_SECRET_ACCESS_KEY"),
    });
    return { reader, close: async () => {} };
  }
  const local = await openLocalBucket(values.state, await localBucketName());
  const dir = mkdtempSync(join(tmpdir(), "log-export-"));
  try {
    const files = await copyPartitions(local.bucket, dir, query);
    console.error(`read ${files} batch files from ${values.state}`);
  } finally {
    await local.dispose();
  }
  return { reader: await LogReader.local(dir), close: async () => rmSync(dir, { recursive: true, force: true }) };
}

function examplesOf(decisions: readonly LogRow[], interactions: readonly LogRow[]) {
  const logged: LoggedDecision[] = decisions.map((d) => ({
    decisionId: d.id,
    siteId: d.site_id,
    visitorId: d.visitor_id,
    ts: d.ts,
    mode: d.mode ?? "default",
    modelVersion: d.model_version,
    context: d.context ?? {},
    slots: d.slots ?? [],
  }));
  const events: LoggedEvent[] = interactions.map((e) => ({
    decisionId: e.decision_id,
    slot: e.slot ?? "",
    contentId: e.content_id ?? "",
    type: e.event ?? "",
    value: e.value,
  }));
  return toTrainingExamples(logged, events);
}

async function main() {
  const query: LogQuery = { site: values.site, from: dayFlag("from"), to: dayFlag("to"), visitor: values.visitor };
  const { reader, close } = await openReader(query);
  const out = values.out ? createWriteStream(values.out) : process.stdout;
  try {
    let lines: unknown[];
    if (values.rows) lines = await reader.rows(query);
    else {
      const { decisions, interactions } = await reader.decisionsWithEvents(query);
      lines = examplesOf(decisions, interactions);
    }
    for (const line of lines) out.write(`${JSON.stringify(line)}\n`);
    console.error(`exported ${lines.length} ${values.rows ? "rows" : "examples"}`);
  } finally {
    if (out !== process.stdout) await new Promise((resolve) => (out as ReturnType<typeof createWriteStream>).end(resolve));
    await close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
