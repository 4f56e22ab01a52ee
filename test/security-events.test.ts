import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../scripts/harness/wait";
import { issueEventToken } from "../worker/events/token";
import worker from "../worker/index";
import { sumAggregates } from "../worker/log/aggregates";
import type { DecideResponse } from "../worker/wire/decide";
import type { InteractionEvent } from "../worker/wire/events";
import { createSite, db, decideAs, newVisitorId, visitorCookie } from "./support/fixtures";
import { countFor, event, postEvents, queuedInteraction, type Shown, shownIn } from "./support/pipeline";

/**
 * What one event token can count: per decision and shown item one impression and one click,
 * whatever event ids the client picks; conversions bounded per decision and in value by the site's
 * policy; event times within the token's lifetime; roll-ups dated by the decision.
 */
const handler: ExportedHandler<Env> = worker;
const HOUR = 60 * 60 * 1000;

/** The daily content aggregates of one shown item, summed over its policies, model versions and days. */
async function rollupOf(site: string, shown: Shown) {
  const rows = (await sumAggregates(db, { site }, "content")).filter(
    ({ key: [slot, contentId] }) => slot === shown.slot && contentId === shown.contentId,
  );
  const sum = (name: "impressions" | "clicks" | "conversions" | "value") => rows.reduce((n, r) => n + r.counters[name], 0);
  return { impressions: sum("impressions"), clicks: sum("clicks"), conversions: sum("conversions"), value: sum("value") };
}

/**
 * Another site's event, sent after the ones under test: once it is written, the batches before it
 * were consumed. Callers first wait for what must arrive (a batch retried after a slow visitor
 * object may come after the marker); the marker then lets late duplicates show.
 */
let markerSite: Promise<string> | undefined;
async function afterMarker() {
  markerSite ??= createSite("events-marker");
  const marker = await decideAs(await markerSite, { cookie: await visitorCookie(newVisitorId()) });
  expect((await postEvents([event(marker, shownIn(marker)[0] as Shown, "impression")])).status).toBe(202);
  await waitFor(async () => (await countFor(marker.decisionId, await markerSite)) === 1, 120_000);
}

/** The decision time the token carries (its payload is base64url JSON before the signature). */
const decidedAt = (d: DecideResponse) =>
  (JSON.parse(atob((d.eventToken.split(".")[0] ?? "").replace(/-/g, "+").replace(/_/g, "/"))) as { t: number }).t;

describe("one event token counts once", () => {
  let site: string;
  beforeAll(async () => {
    site = await createSite("events-bounded", {
      consentModel: "opt-out",
      policy: { holdout: { share: 0 }, events: { maxConversionsPerDecision: 2, maxConversionValue: 500 } },
    });
  });

  // Generous: a batch retried after a slow visitor object on a loaded machine waits out its backoff.
  it("counts one impression and one click per decision and shown item, whatever the event ids", { timeout: 300_000 }, async () => {
    const d = await decideAs(site, { cookie: await visitorCookie(newVisitorId()) });
    const [target, other] = shownIn(d) as [Shown, Shown];
    const replayed = [
      ...Array.from({ length: 90 }, (_, i) => event(d, target, "click", `click-${i}`)),
      ...Array.from({ length: 9 }, (_, i) => event(d, target, "impression", `imp-${i}`)),
      event(d, other, "impression", "imp-other"),
    ];
    expect((await postEvents(replayed)).status).toBe(202);
    expect((await postEvents(replayed.slice(0, 50))).status).toBe(202);
    await waitFor(async () => (await countFor(d.decisionId, site)) >= 3, 120_000);
    await afterMarker();
    expect(await countFor(d.decisionId, site)).toBe(3);
    expect(await rollupOf(site, target)).toMatchObject({ impressions: 1, clicks: 1 });
    expect(await rollupOf(site, other)).toMatchObject({ impressions: 1, clicks: 0 });
  });

  // Generous: a batch retried after a slow visitor object on a loaded machine waits out its backoff.
  it("bounds conversions per decision and refuses a value above the site's maximum", { timeout: 300_000 }, async () => {
    const d = await decideAs(site, { cookie: await visitorCookie(newVisitorId()) });
    const target = shownIn(d)[0] as Shown;
    const tooBig = await postEvents([{ ...event(d, target, "conversion"), value: 501, currency: "EUR" }]);
    expect(tooBig.status).toBe(400);
    expect(await tooBig.json()).toMatchObject({ error: { field: "events.0.value" } });
    const conversions = Array.from({ length: 10 }, (_, i) => ({
      ...event(d, target, "conversion", `buy-${i}`),
      value: 100,
      currency: "EUR",
    }));
    expect((await postEvents(conversions)).status).toBe(202);
    await waitFor(async () => ((await rollupOf(site, target))?.conversions ?? 0) >= 2, 120_000);
    await afterMarker();
    expect(await rollupOf(site, target)).toMatchObject({ conversions: 2, value: 200 });
  });

  // Generous: a batch retried after a slow visitor object on a loaded machine waits out its backoff.
  it("refuses event times outside the decision's token lifetime, and absurd ones, before anything is queued", {
    timeout: 300_000,
  }, async () => {
    const d = await decideAs(site, { cookie: await visitorCookie(newVisitorId()) });
    const target = shownIn(d)[0] as Shown;
    const at = decidedAt(d);
    expect(at).toBeGreaterThan(0);
    for (const ts of [1, 8640000000000001, at - HOUR, at + 25 * HOUR, -5, 1.5]) {
      const res = await postEvents([event(d, target, "impression"), { ...event(d, target, "click"), ts }]);
      expect(res.status, String(ts)).toBe(400);
      expect(await res.json(), String(ts)).toMatchObject({ error: { field: "events.1.ts" } });
    }
    await afterMarker();
    expect(await countFor(d.decisionId, site)).toBe(0);
    // Within the lifetime: accepted.
    expect((await postEvents([{ ...event(d, target, "click"), ts: at + 23 * HOUR }])).status).toBe(202);
  });

  it("answers a correctly signed token with a malformed grant with a 4xx", async () => {
    const d = await decideAs(site, { cookie: await visitorCookie(newVisitorId()) });
    const target = shownIn(d)[0] as Shown;
    const grant = { d: d.decisionId, s: site, v: null, m: true, p: false, mv: "", b: false, t: Date.now(), e: Date.now() + HOUR };
    for (const bad of [grant, { ...grant, i: "everything" }, { ...grant, i: [[1, 2]] }, null, [], "grant"]) {
      const token = await issueEventToken(bad as never, env.ID_SIGNING_KEY);
      const res = await postEvents([{ ...event(d, target, "click"), eventToken: token }]);
      expect(res.status, JSON.stringify(bad)).toBe(403);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_token", field: "events.0.eventToken" } });
    }
  });
});

describe("the consumer dates by the decision and never throws on a message's time", () => {
  // A decision an hour before today's UTC midnight and its click an hour after (the aggregates count the last days only).
  const MIDNIGHT = Math.floor(Date.now() / (24 * HOUR)) * 24 * HOUR;
  const yesterday = new Date(MIDNIGHT - HOUR).toISOString().slice(0, 10);
  const interaction = (site: string, decisionId: string, overrides: Partial<InteractionEvent>): InteractionEvent =>
    queuedInteraction(site, decisionId, {
      kind: "click",
      modelVersion: "v",
      ts: MIDNIGHT + HOUR,
      decidedAt: MIDNIGHT - HOUR,
      maxConversions: 5,
      ...overrides,
    });

  it("writes the roll-up on the decision's day and drops a message with an impossible time without a retry", async () => {
    const site = await createSite("events-dated");
    const decisionId = crypto.randomUUID();
    const batch = createMessageBatch<unknown>("edge-personalizer-events", [
      { id: "late", timestamp: new Date(), attempts: 1, body: interaction(site, decisionId, {}) },
      { id: "absurd", timestamp: new Date(), attempts: 1, body: interaction(site, decisionId, { ts: 8640000000000001 }) },
      { id: "absurd-decision", timestamp: new Date(), attempts: 1, body: interaction(site, decisionId, { decidedAt: -1 }) },
    ]);
    const ctx = createExecutionContext();
    await handler.queue?.(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages).toEqual([]);
    expect(new Set(result.explicitAcks)).toEqual(new Set(["late", "absurd", "absurd-decision"]));
    const rows = await sumAggregates(db, { site }, "content", true);
    expect(rows.map((r) => ({ day: r.day, clicks: r.counters.clicks }))).toEqual([{ day: yesterday, clicks: 1 }]);
  });
});
