import { createExecutionContext, createMessageBatch, env, getQueueResult, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { demoVisitors } from "../scripts/seed/demo-data";
import { issueEventToken } from "../worker/events/token";
import worker from "../worker/index";
import { readStoredProfile } from "../worker/store/profiles";
import type { DecideResponse } from "../worker/wire/decide";
import type { InteractionEvent } from "../worker/wire/events";
import { createSite, newVisitorId, putProfile, visitorCookie } from "./support/fixtures";
import { countFor, decideAs, event, postEvents, type Shown, shownIn, waitUntil } from "./support/pipeline";

const handler: ExportedHandler<Env> = worker;

async function rollupsFor(site: string) {
  const { results } = await env.DB.prepare(
    "SELECT slot, content_id AS contentId, sum(impressions) AS impressions, sum(clicks) AS clicks, sum(conversions) AS conversions FROM rollups WHERE site_id = ? GROUP BY slot, content_id ORDER BY slot, content_id",
  )
    .bind(site)
    .all<{ slot: string; contentId: string; impressions: number; clicks: number; conversions: number }>();
  return results;
}

function expectedCounts(events: { slot: string; contentId: string; type: string }[]) {
  const map = new Map<string, { slot: string; contentId: string; impressions: number; clicks: number; conversions: number }>();
  for (const e of events) {
    const key = `${e.slot}/${e.contentId}`;
    const row = map.get(key) ?? { slot: e.slot, contentId: e.contentId, impressions: 0, clicks: 0, conversions: 0 };
    if (e.type === "impression") row.impressions++;
    if (e.type === "click") row.clicks++;
    if (e.type === "conversion") row.conversions++;
    map.set(key, row);
  }
  return [...map.values()].sort((a, b) => (a.slot + a.contentId < b.slot + b.contentId ? -1 : 1));
}

describe("the event pipeline through the real local queue", () => {
  let site: string;
  beforeAll(async () => {
    site = await createSite("events-site", { consentModel: "opt-out" });
  });

  it("takes 10,000 events in and counts them exactly", async () => {
    const visitor = newVisitorId();
    const d = await decideAs(site, await visitorCookie(visitor));
    const shown = shownIn(d);
    const kinds: InteractionEvent["kind"][] = [
      "impression",
      "impression",
      "impression",
      "click",
      "impression",
      "conversion",
      "impression",
      "dismiss",
    ];
    const all = Array.from({ length: 10_000 }, (_, i) =>
      event(d, shown[i % shown.length] as Shown, kinds[i % kinds.length] ?? "impression", `bulk-${i}`),
    );
    for (let i = 0; i < all.length; i += 100) {
      const res = await postEvents(all.slice(i, i + 100));
      expect(res.status).toBe(202);
    }
    await waitUntil(async () => (await countFor(d.decisionId)) === 10_000);
    expect(await rollupsFor(site)).toEqual(expectedCounts(all));
  });

  it("counts every event sent twice once", async () => {
    const dupSite = await createSite("events-dup", { consentModel: "opt-out" });
    const d = await decideAs(dupSite, await visitorCookie(newVisitorId()));
    const shown = shownIn(d);
    const batch = Array.from({ length: 50 }, (_, i) =>
      event(d, shown[i % shown.length] as Shown, i % 5 === 0 ? "click" : "impression", `dup-${i}`),
    );
    expect((await postEvents(batch)).status).toBe(202);
    expect((await postEvents(batch)).status).toBe(202);
    expect((await postEvents([...batch.slice(0, 10), ...batch.slice(0, 10)])).status).toBe(202);
    // A later marker batch: once it is in, the duplicates before it have been consumed too.
    const marker = event(d, shown[0] as Shown, "impression", "dup-marker");
    expect((await postEvents([marker])).status).toBe(202);
    await waitUntil(async () => (await countFor(d.decisionId)) >= 51);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await countFor(d.decisionId)).toBe(51);
    expect(await rollupsFor(dupSite)).toEqual(expectedCounts([...batch, marker]));
  });

  it("accepts the text/plain bodies that sendBeacon sends", async () => {
    const d = await decideAs(site, await visitorCookie(newVisitorId()));
    const res = await postEvents([event(d, shownIn(d)[0] as Shown, "impression")], {}, "text/plain;charset=UTF-8");
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 1 });
  });

  it("drops a revoked visitor's events", async () => {
    const revoked = newVisitorId();
    const other = newVisitorId();
    const dRevoked = await decideAs(site, await visitorCookie(revoked));
    const dOther = await decideAs(site, await visitorCookie(other));
    const res = await SELF.fetch("https://edge.example/v1/privacy/revocations", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${env.PRIVACY_TOKEN}` },
      body: JSON.stringify({ subjectId: revoked }),
    });
    expect(res.status).toBe(202);
    // Events from before the revocation, still in flight, must not be written.
    expect((await postEvents([event(dRevoked, shownIn(dRevoked)[0] as Shown, "click")])).status).toBe(202);
    expect((await postEvents([event(dOther, shownIn(dOther)[0] as Shown, "click")])).status).toBe(202);
    await waitUntil(async () => (await countFor(dOther.decisionId)) === 1);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await countFor(dRevoked.decisionId)).toBe(0);
  });

  it("changes the visitor's KV features on a click, and the next decision sees it", async () => {
    const [a] = demoVisitors();
    if (!a) throw new Error("a demo visitor expected");
    const visitor = newVisitorId();
    await putProfile(site, visitor, a.profile);
    const cookie = await visitorCookie(visitor);
    const before = await decideAs(site, cookie);
    const target = shownIn(before).at(-1) as Shown;
    const scoreBefore = before.slots.flatMap((s) => s.items).find((i) => i.contentId === target.contentId)?.score ?? 0;
    const affinityBefore = a.profile.itemAffinity?.[target.contentId] ?? 0;

    expect((await postEvents([event(before, target, "click")])).status).toBe(202);
    await waitUntil(async () => (await countFor(before.decisionId)) === 1);
    await waitUntil(
      async () => ((await readStoredProfile(env.PROFILES, site, visitor))?.itemAffinity[target.contentId] ?? 0) > affinityBefore,
    );

    const after = await decideAs(site, cookie);
    const scoreAfter = after.slots.flatMap((s) => s.items).find((i) => i.contentId === target.contentId)?.score;
    expect(scoreAfter).toBeDefined();
    expect(scoreAfter ?? 0).toBeGreaterThan(scoreBefore ?? 0);
  });
});

describe("events the edge refuses", () => {
  let site: string;
  let d: DecideResponse;
  beforeAll(async () => {
    site = await createSite("events-refused", { consentModel: "opt-out" });
    d = await decideAs(site, await visitorCookie(newVisitorId()));
  });

  it("refuses a token that does not verify", async () => {
    const shown = shownIn(d)[0] as Shown;
    const [payload, signature] = d.eventToken.split(".");
    const forged = `${payload?.slice(0, -2)}xx.${signature}`;
    const res = await postEvents([{ ...event(d, shown, "click"), eventToken: forged }]);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_token", field: "events.0.eventToken" } });
  });

  it("refuses an expired token", async () => {
    const shown = shownIn(d)[0] as Shown;
    const expired = await issueEventToken(
      {
        d: d.decisionId,
        s: site,
        v: null,
        m: true,
        p: false,
        mv: "x",
        i: [[shown.slot, shown.contentId, "model"]],
        b: false,
        e: Date.now() - 1,
      },
      env.ID_SIGNING_KEY,
    );
    const res = await postEvents([{ ...event(d, shown, "click"), eventToken: expired }]);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: "expired_token" } });
  });

  it("refuses content that the decision did not show, and another decision's token", async () => {
    const shown = shownIn(d)[0] as Shown;
    const notShown = await postEvents([{ ...event(d, shown, "click"), contentId: "women-999" }]);
    expect(notShown.status).toBe(403);
    expect(await notShown.json()).toMatchObject({ error: { code: "token_mismatch", field: "events.0.contentId" } });
    const otherDecision = await postEvents([{ ...event(d, shown, "click"), decisionId: crypto.randomUUID() }]);
    expect(otherDecision.status).toBe(403);
    expect(await otherDecision.json()).toMatchObject({ error: { code: "token_mismatch", field: "events.0.decisionId" } });
  });

  it("names the bad field of a malformed event", async () => {
    const shown = shownIn(d)[0] as Shown;
    const res = await postEvents([event(d, shown, "click"), { ...event(d, shown, "click"), type: "purchase" }]);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { field: "events.1.type" } });
    const tooMany = await postEvents(Array.from({ length: 101 }, () => event(d, shown, "impression")));
    expect(tooMany.status).toBe(400);
  });
});

describe("the consumer", () => {
  it("retries a failing write alone and loses nothing", async () => {
    const site = await createSite("events-retry", { consentModel: "opt-out" });
    const d = await decideAs(site, await visitorCookie(newVisitorId()));
    const shown = shownIn(d)[0] as Shown;
    const interactions: InteractionEvent[] = Array.from({ length: 20 }, (_, i) => ({
      type: "interaction",
      siteId: site,
      visitorId: null,
      measurement: true,
      personalization: false,
      bot: false,
      eventId: `retry-${i}`,
      kind: "impression",
      decisionId: d.decisionId,
      slot: shown.slot,
      contentId: shown.contentId,
      policy: "model",
      modelVersion: "obd-mlp-1",
      ts: Date.now(),
    }));
    // A real D1 failure for one message: a trigger that aborts its insert.
    await env.DB.exec(
      "CREATE TRIGGER fail_retry_7 BEFORE INSERT ON events WHEN NEW.event_id = 'retry-7' BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
    );
    const messages = interactions.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body }));
    const first = createMessageBatch<unknown>("edge-personalizer-events", [
      ...messages,
      { id: "poison", timestamp: new Date(), attempts: 1, body: { type: "nonsense" } },
    ]);
    const ctx = createExecutionContext();
    await handler.queue?.(first, env, ctx);
    const result = await getQueueResult(first, ctx);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["m7"]);
    expect(result.explicitAcks).toContain("poison");
    expect(await countFor(d.decisionId)).toBe(19);

    await env.DB.exec("DROP TRIGGER fail_retry_7");
    const again = createMessageBatch<unknown>(
      "edge-personalizer-events",
      messages.filter((m) => m.id === "m7").map((m) => ({ ...m, attempts: 2 })),
    );
    const ctx2 = createExecutionContext();
    await handler.queue?.(again, env, ctx2);
    expect((await getQueueResult(again, ctx2)).explicitAcks).toEqual(["m7"]);
    expect(await countFor(d.decisionId)).toBe(20);
    const [row] = await rollupsFor(site);
    expect(row?.impressions).toBe(20);
  });
});

describe("abuse controls", () => {
  it("keeps traffic that identifies itself as a bot out of the logs", async () => {
    const site = await createSite("events-bots", { consentModel: "opt-out" });
    const d = await decideAs(site, await visitorCookie(newVisitorId()));
    const human = await decideAs(site, await visitorCookie(newVisitorId()));
    const bot = { "user-agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)" };
    expect((await postEvents([event(d, shownIn(d)[0] as Shown, "click")], bot)).status).toBe(202);
    expect((await postEvents([event(human, shownIn(human)[0] as Shown, "click")])).status).toBe(202);
    await waitUntil(async () => (await countFor(human.decisionId)) === 1);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await countFor(d.decisionId)).toBe(0);
  });

  it("answers 429 past the per-client limit", async () => {
    const client = { "cf-connecting-ip": "198.51.100.9" };
    // The limiter's 60 s windows are aligned to the wall clock: 601 requests must not straddle two.
    const intoWindow = Date.now() % 60_000;
    if (intoWindow > 30_000) await new Promise((r) => setTimeout(r, 60_000 - intoWindow + 50));
    const statuses: number[] = [];
    for (let i = 0; i < 601; i++) {
      const res = await SELF.fetch("https://edge.example/v1/events", { method: "POST", headers: client, body: "{}" });
      statuses.push(res.status);
      await res.body?.cancel();
    }
    expect(statuses.slice(0, 600).every((s) => s === 400)).toBe(true);
    expect(statuses[600]).toBe(429);
  });
});
