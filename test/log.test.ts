import type { Pipeline } from "cloudflare:pipelines";
import { createExecutionContext, createMessageBatch, env, getQueueResult, SELF } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { waitFor } from "../scripts/harness/wait";
import { createRandom } from "../scripts/train/random";
import { decisionsByDay, performanceReport } from "../worker/events/report";
import { experimentsReport, explorationShare, fairnessReport, upliftReport } from "../worker/experiments/report";
import worker from "../worker/index";
import { sumAggregates } from "../worker/log/aggregates";
import { sweepErasures } from "../worker/log/erasure";
import { partitionOfKey } from "../worker/log/files";
import { bucketText, ledgerKey } from "../worker/log/keys";
import { addBins, binLabel } from "../worker/log/metrics";
import { pipelinesSink } from "../worker/log/sinks";
import { modelReport } from "../worker/models/report";
import { continueErasures } from "../worker/privacy/erasure";
import { readPolicy } from "../worker/site/policy";
import { logErasures, privacyRequests } from "../worker/store/schema";
import type { DecisionEvent, InteractionEvent, QueueMessage } from "../worker/wire/events";
import { type LogRow, logRowSchema } from "../worker/wire/log";
import {
  armGroups,
  decisionsByDayOf,
  explorationOf,
  holdoutGroups,
  modelsOf,
  performanceOf,
  segmentsOf,
  upliftOf,
  visitorTotals,
} from "./support/brute-force";
import { BROWSER, createSite, db, decideOk, newVisitorId, PAGE, visitorCookie } from "./support/fixtures";
import { logFileKeys, logFileRows, loggedRows } from "./support/log";
import { postEvents } from "./support/pipeline";
import { resetRegistry } from "./support/registry";
import { simulatedTraffic } from "./support/traffic";

const handler: ExportedHandler<Env> = worker;
type Loggable = DecisionEvent | InteractionEvent;

/** Delivers `bodies` to the real queue handler as one batch with these message ids; returns the acknowledged ids. */
async function deliver(bodies: readonly (Loggable | QueueMessage)[], ids: readonly string[], on: Env = env): Promise<string[]> {
  const batch = createMessageBatch<unknown>(
    "edge-personalizer-events",
    bodies.map((body, i) => ({ id: ids[i] as string, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await handler.queue?.(batch, on, ctx);
  return (await getQueueResult(batch, ctx)).explicitAcks;
}

/** What the aggregates hold for a site: every metric's rows. */
async function aggregatesOf(site: string) {
  const metrics = ["content", "decisions", "slot", "holdout", "experiment", "segment", "explore"] as const;
  return Object.fromEntries(await Promise.all(metrics.map(async (m) => [m, await sumAggregates(db, { site }, m)] as const)));
}

function expectTotals(
  report: { visitors: number; impressions: number; clicks: number; converters: number },
  brute: Partial<Record<string, number>> | undefined,
) {
  expect(report).toMatchObject({
    visitors: brute?.visitors ?? 0,
    impressions: brute?.impressions ?? 0,
    clicks: brute?.clicks ?? 0,
    converters: brute?.converters ?? 0,
  });
}

function expectInterval(actual: unknown, expected: unknown) {
  if (expected === null) return expect(actual).toBeNull();
  const e = expected as { estimate: number; low: number; high: number };
  const a = actual as typeof e;
  for (const k of ["estimate", "low", "high"] as const) expect(a[k]).toBeCloseTo(e[k], 9);
}

/** Uplift and experiment reports against the brute force over the log. */
async function expectGroupReportsMatch(site: string, rows: readonly LogRow[], experiment: string) {
  const uplift = await upliftReport(db, { site });
  const byGroup = visitorTotals(rows, holdoutGroups);
  expectTotals(uplift.treated, byGroup.get("treated"));
  expectTotals(uplift.holdout, byGroup.get("holdout"));
  const brute = upliftOf(byGroup.get("treated"), byGroup.get("holdout"));
  for (const k of ["ctr", "conversionRate", "conversionsPerVisitor", "valuePerVisitor"] as const)
    expectInterval(uplift.uplift[k], brute[k]);

  const policy = readPolicy({
    experiments: [
      {
        id: experiment,
        arms: [
          { name: "a", weight: 1 },
          { name: "b", weight: 1 },
        ],
      },
    ],
  });
  const [report] = await experimentsReport(db, { site }, policy);
  const byArm = visitorTotals(rows, armGroups(experiment));
  for (const arm of report?.arms ?? []) expectTotals(arm, byArm.get(arm.arm));
  expect(report?.arms.reduce((n, a) => n + a.visitors, 0)).toBeGreaterThan(0);
}

describe("one log, two sinks", () => {
  it("writes decisions and events as rows of one schema, a gzip NDJSON file per site, day and batch", async () => {
    const site = await createSite("log-files");
    const events = simulatedTraffic(site, [{ visitors: 5, ctr: 0.5 }], createRandom(1).next, { impressionsPerVisitor: 2 });
    const ids = events.map((_, i) => `files-${i}`);
    expect(await deliver(events, ids)).toHaveLength(events.length);
    const keys = (await logFileKeys()).filter((key) => partitionOfKey(key)?.siteId === site);
    const today = new Date().toISOString().slice(0, 10);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(new RegExp(`^log/site=${site}/day=${today}/[0-9a-f]{32}\\.ndjson\\.gz$`));
    const rows = await logFileRows(site);
    for (const row of rows) logRowSchema.parse(row);
    expect(rows.map((r) => r.id).sort()).toEqual(events.map((e) => (e.type === "decision" ? e.decisionId : e.eventId)).sort());
    expect(rows.filter((r) => r.kind === "decision")).toHaveLength(5);
  });

  it("with LOG_SINK=pipelines sends the same rows through the stream binding's send(records[]), and counts them the same", async () => {
    const site = await createSite("log-pipelines");
    const sent: LogRow[][] = [];
    // The binding's contract, recorded: Pipelines is not simulated locally (its local binding keeps nothing).
    const recorder: Pipeline<LogRow> = {
      async send(records) {
        sent.push(JSON.parse(JSON.stringify(records)));
      },
    };
    const events = simulatedTraffic(site, [{ visitors: 4, ctr: 1, cvr: 1 }], createRandom(2).next, { impressionsPerVisitor: 2 });
    const piped = { ...env, LOG_SINK: "pipelines", LOG_STREAM: recorder } as unknown as Env;
    expect(
      await deliver(
        events,
        events.map((_, i) => `pipe-${i}`),
        piped,
      ),
    ).toHaveLength(events.length);
    expect(sent).toHaveLength(1);
    const rows = (sent[0] ?? []).map((r) => logRowSchema.parse(r));
    expect(rows).toHaveLength(events.length);
    expect((await logFileKeys()).some((key) => partitionOfKey(key)?.siteId === site)).toBe(false);
    const content = await sumAggregates(db, { site }, "content");
    const total = (k: "impressions" | "clicks" | "conversions") => content.reduce((n, r) => n + r.counters[k], 0);
    expect([total("impressions"), total("clicks"), total("conversions")]).toEqual([8, 8, 8]);
    // The local binding takes the same records.
    await expect(pipelinesSink(env.LOG_STREAM as unknown as Pipeline<LogRow>).write(rows, "local")).resolves.toBeUndefined();
  });
});

describe("redelivery", () => {
  it("redelivered batches leave exact counts in the log and in the aggregates", async () => {
    const site = await createSite("log-redelivery");
    const experiment = { experiment: "copy", arm: "a" };
    const events = simulatedTraffic(
      site,
      [
        { visitors: 30, ctr: 0.4, cvr: 0.5, value: 12.5, pages: 2, assignments: [experiment], segments: { device: "desktop" } },
        {
          visitors: 20,
          ctr: 0.3,
          cvr: 0.5,
          value: 20,
          pages: 2,
          holdout: true,
          assignments: [{ ...experiment, arm: "b" }],
          segments: { device: "mobile" },
        },
      ],
      createRandom(3).next,
      { impressionsPerVisitor: 3 },
    );
    const ids = events.map((_, i) => `r-${i}`);
    const batches = Array.from(
      { length: Math.ceil(events.length / 100) },
      (_, b) => [b * 100, Math.min(events.length, b * 100 + 100)] as const,
    );
    for (const [from, to] of batches) await deliver(events.slice(from, to), ids.slice(from, to));
    const before = { files: (await logFileKeys()).length, rows: (await logFileRows(site)).length, aggregates: await aggregatesOf(site) };
    expect(before.rows).toBe(events.length);

    // The same batch again (an invocation that died after writing): its files are overwritten.
    const [from, to] = batches[0] as readonly [number, number];
    await deliver(events.slice(from, to), ids.slice(from, to));
    expect((await logFileKeys()).length).toBe(before.files);
    expect((await logFileRows(site)).length).toBe(events.length);
    // Messages of two batches delivered again together, and a client sending events a second time
    // (new messages, same event ids): new files, the same rows once for every reader and the aggregates.
    await deliver([...events.slice(50, 150)], ids.slice(50, 150));
    await deliver(
      events.slice(200, 260),
      ids.slice(200, 260).map((id) => `${id}-resent`),
    );
    expect((await logFileRows(site)).length).toBe(events.length + 160);
    const rows = await loggedRows(site);
    expect(rows).toHaveLength(events.length);
    expect(await aggregatesOf(site)).toEqual(before.aggregates);

    // And they are the numbers the log gives, counted the slow way.
    const decisions = rows.filter((r) => r.kind === "decision").length;
    expect((await decisionsByDay(db, { site }))[0]?.decisions).toBe(decisions);
    const performance = await performanceReport(db, { site });
    for (const r of performanceOf(rows))
      expect(performance).toContainEqual(expect.objectContaining({ ...r, value: expect.closeTo(r.value, 9) }));
    await expectGroupReportsMatch(site, rows, "copy");
  });
});

describe("reports from the aggregates", () => {
  it("equal a brute force over the log on simulated traffic through the edge", async () => {
    await resetRegistry();
    const site = await createSite("log-brute", {
      policy: {
        holdout: { share: 0.3 },
        exploration: { kind: "epsilon-greedy", epsilon: 0.3 },
        experiments: [
          {
            id: "hero-copy",
            arms: [
              { name: "a", weight: 1 },
              { name: "b", weight: 1 },
            ],
          },
        ],
        fairness: { segments: ["device"], disparityRatio: 1.25 },
      },
    });
    const random = createRandom(9).next;
    const mobile = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1";
    const sent = new Set<string>();
    let decided = 0;
    for (let v = 0; v < 24; v++) {
      const cookie = await visitorCookie(newVisitorId());
      const ua = v % 3 === 0 ? mobile : BROWSER;
      for (let page = 0; page < 2; page++) {
        const d = await decideOk(
          { site, page: PAGE, slots: [{ id: "hero" }, { id: "recommendations", count: 3 }] },
          { cookie, headers: { "user-agent": ua } },
        );
        decided++;
        const events = d.slots.flatMap((s) =>
          s.items.flatMap((item, k) => {
            const base = { decisionId: d.decisionId, slot: s.slot, contentId: item.contentId, ts: Date.now(), eventToken: d.eventToken };
            const out = [{ ...base, eventId: `${d.decisionId.slice(0, 8)}-${s.slot}-${k}-i`, type: "impression" }];
            if (random() < 0.3) out.push({ ...base, eventId: `${d.decisionId.slice(0, 8)}-${s.slot}-${k}-c`, type: "click" });
            if (random() < 0.15)
              out.push({ ...base, eventId: `${d.decisionId.slice(0, 8)}-${s.slot}-${k}-v`, type: "conversion", value: 30 } as never);
            return out;
          }),
        );
        expect((await postEvents(events, { "user-agent": ua })).status).toBe(202);
        // A client that sends some again: counted once.
        if (page === 1) expect((await postEvents(events.slice(0, 2), { "user-agent": ua })).status).toBe(202);
        for (const e of events) sent.add(e.eventId);
      }
    }
    const logged = async () => loggedRows(site);
    await waitFor(async () => {
      const rows = await logged();
      return (
        rows.filter((r) => r.kind === "interaction").length === sent.size && rows.filter((r) => r.kind === "decision").length === decided
      );
    });
    const rows = await logged();

    expect(await decisionsByDay(db, { site })).toEqual(
      decisionsByDayOf(rows).map((d) => ({ ...d, slots: expect.arrayContaining(d.slots) })),
    );
    const performance = await performanceReport(db, { site });
    const brute = performanceOf(rows);
    expect(performance).toHaveLength(brute.length);
    for (const r of brute) expect(performance).toContainEqual(expect.objectContaining({ ...r, value: expect.closeTo(r.value, 9) }));
    await expectGroupReportsMatch(site, rows, "hero-copy");
    const [fairness] = await fairnessReport(db, { site }, readPolicy({ fairness: { segments: ["device"] } }));
    for (const [value, counts] of segmentsOf(rows, "device"))
      expect(fairness?.values).toContainEqual(expect.objectContaining({ value, ...counts }));
    expect(await explorationShare(db, { site })).toMatchObject(explorationOf(rows));

    const version = rows.find((r) => r.kind === "decision" && r.model_version)?.model_version ?? "";
    const models = (await modelReport(db, { site })).versions.find((v) => v.version === version);
    const exact = modelsOf(rows, version);
    expect(models?.decisions).toEqual(exact.perArm);
    expect(models?.scores.count).toBe(exact.scores.count);
    expect(models?.scores.mean).toBeCloseTo(exact.scores.mean, 9);
    expect(models?.scores.bins.map(({ bin, count }) => ({ bin, count }))).toEqual(exact.scores.bins);
    // Within one stored bin: the bins are about 10% wide.
    for (const q of ["p10", "p50", "p90"] as const)
      expect(Math.abs((models?.scores[q] ?? 0) - exact.scores[q])).toBeLessThanOrEqual(exact.scores[q] * 0.11);

    // Drift: the version's histogram holds every decision's bin of every feature, as the log does,
    // merged in D1 across the batches; it and the scores' are one row per version and day.
    const driftOfLog: Record<string, number> = {};
    for (const r of rows)
      if (r.kind === "decision" && r.model_version === version)
        for (const [feature, bin] of Object.entries(r.drift ?? {})) addBins(driftOfLog, { [binLabel([feature, bin])]: 1 });
    expect(Object.keys(driftOfLog).length).toBeGreaterThan(1);
    const [drift] = (await sumAggregates(db, { site }, "drift")).filter((d) => d.key[0] === version);
    expect(drift?.bins).toEqual(driftOfLog);
    const histogramRows = await env.DB.prepare(
      "SELECT metric, day, count(*) AS n FROM daily_aggregates WHERE site_id = ? AND metric IN ('drift', 'score') GROUP BY metric, day, key",
    )
      .bind(site)
      .all<{ n: number }>();
    expect(histogramRows.results.map((r) => r.n)).toEqual(histogramRows.results.map(() => 1));
  });

  it("reads score and drift rows written before the histograms (a row per bin) into their histograms", async () => {
    const site = await createSite("log-old-bins");
    const day = new Date().toISOString().slice(0, 10);
    const put = (metric: string, key: unknown[], count: number, sum: number, bins: Record<string, number> | null) =>
      env.DB.prepare("INSERT INTO daily_aggregates (site_id, metric, day, key, count, sum, bins) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(site, metric, day, JSON.stringify(key), count, sum, bins && JSON.stringify(bins))
        .run();
    // Before: a row per score bin (its count and sum) and per feature's bin; after: one histogram each.
    await put("score", ["v1", "40"], 2, 0.03, null);
    await put("score", ["v1", "41"], 1, 0.02, null);
    await put("score", ["v1"], 3, 0.05, { [binLabel([40])]: 1, [binLabel([42])]: 2 });
    await put("drift", ["v1", "device", "mobile"], 4, 0, null);
    await put("drift", ["v1"], 2, 0, { [binLabel(["device", "mobile"])]: 1, [binLabel(["device", "desktop"])]: 1 });

    const [score] = await sumAggregates(db, { site }, "score");
    expect(score).toMatchObject({ key: ["v1"], counters: { count: 3, sum: expect.closeTo(0.1, 9) } });
    expect(score?.bins).toEqual({ [binLabel([40])]: 3, [binLabel([41])]: 1, [binLabel([42])]: 2 });
    const [drift] = await sumAggregates(db, { site }, "drift");
    expect(drift).toMatchObject({ key: ["v1"], counters: { count: 2 } });
    expect(drift?.bins).toEqual({ [binLabel(["device", "mobile"])]: 5, [binLabel(["device", "desktop"])]: 1 });
  });
});

const tsOn = (daysAgo: number, now: number) => now - daysAgo * 24 * 60 * 60 * 1000;

describe("retention", () => {
  it("deletes exactly the partitions older than RETENTION_DAYS, and aggregates older than theirs", async () => {
    // Two sites: old aggregates are deleted site by site along the table's key (worker/log/retention.ts).
    const sites = [await createSite("log-retention-a"), await createSite("log-retention-b")];
    const now = Date.now();
    const ages = [120, 91, 90, 89, 3, 0];
    for (const [s, site] of sites.entries()) {
      for (const age of ages) {
        const events = simulatedTraffic(site, [{ visitors: 1, ctr: 0 }], createRandom(age).next, {
          impressionsPerVisitor: 1,
          ts: tsOn(age, now),
        });
        await deliver(
          events,
          events.map((_, i) => `ret-${s}-${age}-${i}`),
        );
      }
    }
    const days = async (site: string) =>
      [...new Set((await logFileKeys()).flatMap((k) => (partitionOfKey(k)?.siteId === site ? [partitionOfKey(k)?.day] : [])))].sort();
    const dayOf = (age: number) => new Date(tsOn(age, now)).toISOString().slice(0, 10);
    const countedDays = async (site: string, metric: "decisions" | "content") =>
      [...new Set((await sumAggregates(db, { site }, metric, true)).map((r) => r.day))].sort();
    for (const site of sites) {
      expect(await days(site)).toEqual(ages.map(dayOf).sort());
      // Aggregates count only the last days (the ledger's window): the older partitions are log only.
      expect(await countedDays(site, "decisions")).toEqual([dayOf(3), dayOf(0)].sort());
      expect(await countedDays(site, "content")).toEqual([dayOf(3), dayOf(0)].sort());
    }

    // The log's maintenance as the cron queues it (at its scheduled time), with 90 days of log and 2 of aggregates.
    const settings = { ...env, RETENTION_DAYS: "90", AGGREGATE_RETENTION_DAYS: "2" } as unknown as Env;
    expect(await deliver([{ type: "log-maintenance", at: now }], [`maintenance-${now}`], settings)).toEqual([`maintenance-${now}`]);
    for (const site of sites) {
      // 90 days: the partitions of 120 and 91 days ago go, the one of exactly 90 days ago stays.
      expect(await days(site)).toEqual([dayOf(90), dayOf(89), dayOf(3), dayOf(0)].sort());
      // Aggregates kept 2 days: the day 3 days ago goes, of every metric.
      expect(await countedDays(site, "decisions")).toEqual([dayOf(0)]);
      expect(await countedDays(site, "content")).toEqual([dayOf(0)]);
    }
  });

  it("writes a new aggregate key as one D1 row: the table is its key's b-tree, with no other index", async () => {
    // D1 bills each b-tree a write touches as a row written (worker/store/schema.ts): a second index
    // or a rowid table would make this 2 or 3.
    const upsert = (key: string) =>
      env.DB.prepare(
        `INSERT INTO daily_aggregates (site_id, metric, day, key, count) VALUES ('rows-written', 'decisions', '2026-01-01', ?, 1)
         ON CONFLICT DO UPDATE SET count = count + excluded.count`,
      )
        .bind(key)
        .run();
    expect((await upsert("[]")).meta.rows_written).toBe(1);
    expect((await upsert("[]")).meta.rows_written).toBe(1);
    expect((await upsert('["other"]')).meta.rows_written).toBe(1);
  });
});

describe("the ledger's window", () => {
  it("counts the last LEDGER_DAYS days, only logs what is older, and forgets the ledger's days before the window", async () => {
    const site = await createSite("log-ledger-window");
    const now = Date.now();
    const threeDays = { ...env, LEDGER_DAYS: "3" } as unknown as Env;
    const traffic = (age: number, seed: number) =>
      simulatedTraffic(site, [{ visitors: 1, ctr: 1 }], createRandom(seed).next, { impressionsPerVisitor: 1, ts: tsOn(age, now) });
    const dayOf = (age: number) => new Date(tsOn(age, now)).toISOString().slice(0, 10);
    const countedDays = async () => (await sumAggregates(db, { site }, "decisions", true)).map((r) => r.day).sort();
    const idsOf = (events: readonly unknown[], prefix: string) => events.map((_, i) => `${prefix}-${i}`);

    // With a window of 3 days, a page view of 4 days ago is logged and not counted; yesterday's is both.
    const [old, recent] = [traffic(4, 1), traffic(1, 2)];
    await deliver([...old, ...recent], idsOf([...old, ...recent], "window-3"), threeDays);
    expect(await countedDays()).toEqual([dayOf(1)]);
    expect(await loggedRows(site)).toHaveLength(old.length + recent.length);
    // With the default 7 days, another page view of 4 days ago is counted.
    const older = traffic(4, 3);
    await deliver(older, idsOf(older, "window-7"));
    expect(await countedDays()).toEqual([dayOf(4), dayOf(1)].sort());

    // The scheduled job with 3 days forgets the ledger's day of 4 days ago (its minute bucket), not yesterday's.
    const bucketOf = async (events: readonly (DecisionEvent | InteractionEvent)[]) => {
      const at = events.find((e) => e.type === "interaction")?.decidedAt ?? 0;
      return ledgerKey(new Date(at).toISOString().slice(0, 10), bucketText({ site_id: site }, at));
    };
    const listed = async (key: string) => (await env.DB.prepare("SELECT 1 FROM log_ledger WHERE key = ?").bind(key).all()).results.length;
    const [oldBucket, recentBucket] = [await bucketOf(older), await bucketOf(recent)];
    expect([await listed(oldBucket), await listed(recentBucket)]).toEqual([1, 1]);
    expect(await deliver([{ type: "log-maintenance", at: now }], [`ledger-window-${now}`], threeDays)).toEqual([`ledger-window-${now}`]);
    expect([await listed(oldBucket), await listed(recentBucket)]).toEqual([0, 1]);
  });
});

describe("erasure in the log", () => {
  it("rewrites every partition that holds an erased subject, run after run, and only then completes the request", async () => {
    const [siteA, siteB] = [await createSite("log-erase-a"), await createSite("log-erase-b")];
    const [subject, other] = [newVisitorId(), newVisitorId()];
    const now = Date.now();
    const traffic = (site: string, daysAgo: number, seed: number) =>
      simulatedTraffic(site, [{ visitors: 2, ctr: 1 }], createRandom(seed).next, { ts: tsOn(daysAgo, now), visitorIds: [subject, other] });
    const all = [...traffic(siteA, 0, 1), ...traffic(siteA, 2, 2), ...traffic(siteB, 0, 3)];
    await deliver(
      all,
      all.map((_, i) => `erase-${i}`),
    );
    const rowsOf = async (visitor: string) => (await logFileRows()).filter((r) => r.visitor_id === visitor);
    const partitionsOf = async (visitor: string) => new Set((await rowsOf(visitor)).map((r) => `${r.site_id}/${r.day}`));
    expect((await partitionsOf(subject)).size).toBe(3);
    const otherRows = (await rowsOf(other)).length;

    const res = await SELF.fetch("https://edge.example/v1/privacy/revocations", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${env.PRIVACY_TOKEN}` },
      body: JSON.stringify({ subjectId: subject }),
    });
    const { requestId } = (await res.json()) as { requestId: string };
    // The consumer cleans the other stores and puts the subject on the log's deletion list.
    await waitFor(async () => (await db.select().from(logErasures).where(eq(logErasures.requestId, requestId))).length === 1);
    const status = async () => (await db.select().from(privacyRequests).where(eq(privacyRequests.id, requestId)))[0]?.status;
    expect(await status()).toBe("pending");

    // One file per run: the pass goes on from its cursor until it has read every file (the bucket
    // holds the other test files' logs, and they may write more while it runs: the bound follows the
    // files there are, not a fixed number).
    const later = now + 120_000;
    const files = (await logFileKeys()).length;
    let runs = 0;
    for (let done: string[] = []; !done.includes(requestId); runs++) {
      ({ done } = await sweepErasures(db, env.LOG, later, 1));
      expect(runs).toBeLessThanOrEqual(2 * files + 10);
    }
    expect(runs).toBeGreaterThanOrEqual(3);
    expect(await rowsOf(subject)).toEqual([]);
    expect((await rowsOf(other)).length).toBe(otherRows);
    expect(await status()).toBe("pending");
    // The scheduled run then sends the request back through the queue, where the consumer completes it.
    await continueErasures(db, env.EVENTS, { bucket: env.LOG, sink: "r2" }, later);
    await waitFor(async () => (await status()) === "completed");
    expect(await db.select().from(logErasures).where(eq(logErasures.requestId, requestId))).toEqual([]);
  });
});
