/**
 * Writes the logged decisions and their outcomes as NDJSON (worker/events/export.ts documents the
 * format), reading D1 through wrangler: `npm run export-events -- [--site demo] [--out file]
 * [--remote --env production]` (local state by default).
 */
import { execFileSync } from "node:child_process";
import { createWriteStream } from "node:fs";
import { type LoggedDecision, type LoggedEvent, toTrainingExamples } from "../worker/events/export";

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const where = [args.includes("--remote") ? "--remote" : "--local", ...(flag("--env") ? ["--env", flag("--env") as string] : [])];
const site = flag("--site");
const PAGE = 2000;

function query<T>(sql: string): T[] {
  const out = execFileSync("npx", ["wrangler", "d1", "execute", "DB", "--json", "--command", sql, ...where], {
    encoding: "utf8",
    maxBuffer: 512 * 1024 * 1024,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  return (JSON.parse(out) as { results: T[] }[])[0]?.results ?? [];
}

const quote = (value: string) => `'${value.replace(/'/g, "''")}'`;

type DecisionRow = {
  id: string;
  site_id: string;
  visitor_id: string | null;
  ts: number;
  mode: string;
  model_version: string | null;
  context: string;
  slots: string;
};
type EventRow = { decision_id: string; slot: string; content_id: string; type: string; value: number | null };

async function main() {
  const out = flag("--out") ? createWriteStream(flag("--out") as string) : process.stdout;
  let written = 0;
  for (let offset = 0; ; offset += PAGE) {
    const rows = query<DecisionRow>(
      `SELECT * FROM decisions ${site ? `WHERE site_id = ${quote(site)}` : ""} ORDER BY ts, id LIMIT ${PAGE} OFFSET ${offset}`,
    );
    if (rows.length === 0) break;
    const ids = rows.map((r) => quote(r.id)).join(",");
    const events = query<EventRow>(`SELECT decision_id, slot, content_id, type, value FROM events WHERE decision_id IN (${ids})`);
    const decisions: LoggedDecision[] = rows.map((r) => ({
      decisionId: r.id,
      siteId: r.site_id,
      visitorId: r.visitor_id,
      ts: r.ts,
      mode: r.mode as LoggedDecision["mode"],
      modelVersion: r.model_version,
      context: JSON.parse(r.context),
      slots: JSON.parse(r.slots),
    }));
    const logged: LoggedEvent[] = events.map((e) => ({
      decisionId: e.decision_id,
      slot: e.slot,
      contentId: e.content_id,
      type: e.type,
      value: e.value,
    }));
    for (const example of toTrainingExamples(decisions, logged)) {
      out.write(`${JSON.stringify(example)}\n`);
      written++;
    }
  }
  if (out !== process.stdout) (out as ReturnType<typeof createWriteStream>).end();
  console.error(`exported ${written} examples`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
