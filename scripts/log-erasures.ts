/**
 * The log's deletion list, for a deployment whose log is the Pipelines stream's Iceberg table
 * (LOG_SINK = "pipelines"): the worker cannot rewrite that table, so the privacy team's offline
 * job does (docs/operator.md, "Erasure in the log") and then marks the requests done here; the scheduled
 * handler completes them on its next run.
 *
 *   npm run log:erasures -- list [--remote --env production]        pending requests and their subject ids, as JSON lines
 *   npm run log:erasures -- done <requestId>... [--remote --env production]
 *
 * Subject ids are personal data: `list` prints them for the deletion job only; keep its output out of logs.
 */
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  options: { remote: { type: "boolean", default: false }, env: { type: "string" } },
  allowPositionals: true,
  strict: true,
});
const [command, ...requestIds] = positionals;
const REQUEST_ID = /^[0-9a-f-]{36}$/;

function d1<T>(sql: string): T[] {
  const where = [values.remote ? "--remote" : "--local", ...(values.env ? ["--env", values.env] : [])];
  const out = execFileSync("npx", ["wrangler", "d1", "execute", "DB", "--json", "--command", sql, ...where], {
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  return (JSON.parse(out) as { results: T[] }[])[0]?.results ?? [];
}

if (command === "list") {
  const rows = d1<{ request_id: string; subject_id: string; queued_at: number }>(
    `SELECT e.request_id, r.subject_id, e.queued_at FROM log_erasures e JOIN privacy_requests r ON r.id = e.request_id
     WHERE e.done_at IS NULL AND r.subject_id IS NOT NULL ORDER BY e.queued_at`,
  );
  for (const row of rows)
    console.log(JSON.stringify({ requestId: row.request_id, subjectId: row.subject_id, queuedAt: new Date(row.queued_at).toISOString() }));
} else if (command === "done" && requestIds.length > 0) {
  const bad = requestIds.filter((id) => !REQUEST_ID.test(id));
  if (bad.length) throw new Error(`not request ids: ${bad.join(", ")}`);
  const list = requestIds.map((id) => `'${id}'`).join(", ");
  d1(`UPDATE log_erasures SET done_at = ${Date.now()} WHERE done_at IS NULL AND request_id IN (${list})`);
  console.error(`marked the pending ones of ${requestIds.length} requests done in the log; the next scheduled run completes them`);
} else {
  console.error("usage: npm run log:erasures -- list | done <requestId>... [--remote --env production]");
  process.exit(2);
}
