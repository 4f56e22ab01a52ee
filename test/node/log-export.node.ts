import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyPartitions, type LogQuery, LogReader } from "../../scripts/log/duckdb";
import { openLocalBucket } from "../../scripts/log/local";
import { batchFileKey, encodeRows } from "../../worker/log/files";
import { toLogRow } from "../../worker/log/rows";
import type { DecisionEvent, InteractionEvent } from "../../worker/wire/events";
import type { LogRow } from "../../worker/wire/log";

/**
 * `npm run export-events` reads local R2 state (as Miniflare and `wrangler dev` keep it) with
 * DuckDB, by site and day range: the rows written are the rows read back, each once.
 */
const SITE = "export-site";
const DAY_MS = 86_400_000;
const start = Date.UTC(2026, 10, 20, 12);

function decision(i: number, ts: number): DecisionEvent {
  return {
    type: "decision",
    decisionId: `d${i}`,
    siteId: SITE,
    ts,
    visitorId: `v${i % 3}`,
    measurement: true,
    personalization: true,
    bot: false,
    mode: "personalized",
    modelVersion: "m1",
    context: { device: "mobile", hour: 12 },
    slots: [{ slot: "hero", policy: "model", items: [{ contentId: `c${i}`, rank: 1, score: 0.5, propensity: 0.8 }] }],
  };
}

function interaction(i: number, kind: InteractionEvent["kind"], ts: number): InteractionEvent {
  return {
    type: "interaction",
    eventId: `e${i}-${kind}`,
    siteId: SITE,
    decisionId: `d${i}`,
    visitorId: `v${i % 3}`,
    measurement: true,
    personalization: true,
    bot: false,
    kind,
    slot: "hero",
    contentId: `c${i}`,
    policy: "model",
    modelVersion: "m1",
    ts,
  };
}

/** Four days of one decision each with an impression, a click on the last one made the day after it. */
const sent: LogRow[] = [];
for (let i = 0; i < 4; i++) {
  const ts = start + i * DAY_MS;
  sent.push(toLogRow(decision(i, ts)), toLogRow(interaction(i, "impression", ts + 1000)));
}
sent.push(toLogRow(interaction(2, "click", start + 2 * DAY_MS + 13 * 3600_000)));
const other = toLogRow({ ...decision(9, start), siteId: "other-site" });

let dir: string;

async function writeBatches() {
  const { bucket, dispose } = await openLocalBucket(dir, "LOG");
  try {
    const put = async (rows: LogRow[], batch: string) => {
      const first = rows[0] as LogRow;
      await bucket.put(batchFileKey(first.site_id, first.day, batch), await encodeRows(rows));
    };
    for (const [n, row] of sent.entries()) await put([row], `batch-${n}`);
    // The same rows again under another batch name (a sink that wrote twice): read once.
    await put([sent[0] as LogRow, sent[1] as LogRow], "batch-again");
    await put([other], "batch-other");
  } finally {
    await dispose();
  }
}

function exportEvents(...args: string[]): string[] {
  const result = spawnSync("npx", ["tsx", "scripts/export-events.ts", "--state", dir, "--bucket", "LOG", ...args], {
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  if (result.status !== 0) throw new Error(`export-events failed: ${result.stderr}`);
  return result.stdout.split("\n").filter(Boolean);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "log-export-test-"));
  await writeBatches();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The rows of a query, read as the export reads them: the partitions copied out of local state, then DuckDB. */
async function readRows(query: LogQuery): Promise<LogRow[]> {
  const out = mkdtempSync(join(tmpdir(), "log-export-read-"));
  const { bucket, dispose } = await openLocalBucket(dir, "LOG");
  try {
    await copyPartitions(bucket, out, query);
    return await (await LogReader.local(out)).rows(query);
  } finally {
    await dispose();
    rmSync(out, { recursive: true, force: true });
  }
}

const byId = (rows: LogRow[]) => [...rows].sort((a, b) => a.id.localeCompare(b.id));

describe("npm run export-events", () => {
  it("reads a site's day range back from local R2 state with the same rows that were sent, each once", async () => {
    const [from, to] = [sent[2]?.day ?? "", sent[4]?.day ?? ""];
    const expected = sent.filter((row) => row.day >= from && row.day <= to);
    expect(expected).toHaveLength(4);
    expect(byId(await readRows({ site: SITE, from, to }))).toEqual(byId(expected));
    expect(byId(await readRows({ site: SITE }))).toEqual(byId(sent));

    const subject = await readRows({ visitor: "v0" });
    expect(subject.map((row) => row.id).sort()).toEqual(["d0", "d3", "d9", "e0-impression", "e3-impression"]);
  });

  it("writes training examples with the outcomes logged about each decision, also those logged the day after it", () => {
    const day = sent[4]?.day ?? "";
    const examples = exportEvents("--site", SITE, "--from", day, "--to", day).map(
      (line) => JSON.parse(line) as { decisionId: string; impression: number; click: number; propensity: number },
    );
    expect(examples).toEqual([expect.objectContaining({ decisionId: "d2", impression: 1, click: 1, propensity: 0.8 })]);
  });
});
