import {
  createExecutionContext,
  createMessageBatch,
  env,
  getQueueResult,
  runDurableObjectAlarm,
  runInDurableObject,
  SELF,
} from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../scripts/harness/wait";
import { demoVisitors } from "../scripts/seed/demo-data";
import worker from "../worker/index";
import { base64UrlToText } from "../worker/lib/signing";
import { subjectHash } from "../worker/store/subject";
import { subjectStub, visitorStub } from "../worker/visitors/client";
import { RETENTION_MS, type VisitorState } from "../worker/visitors/state";
import { type DecideResponse, decideResponseSchema } from "../worker/wire/decide";
import type { InteractionEvent } from "../worker/wire/events";
import { waitForCompletion } from "./support/erasure";
import { BROWSER, createSite, decideBody, newVisitorId, putProfile, visitorCookie, visitorState, visitors } from "./support/fixtures";
import { countFor, event, postEvents, queuedInteraction, type Shown, shownIn } from "./support/pipeline";

/**
 * The visitor's Durable Object (worker/visitors/state.ts) on real local Durable Objects: exact
 * counts under concurrency, revocation at once for decisions and for events already in flight,
 * erasure that leaves only the tombstone, no profile read for a revoked visitor, and a failing
 * object that leaves the decision contextual rather than failing.
 */

const handler: ExportedHandler<Env> = worker;
const PRIVACY = { authorization: `Bearer ${env.PRIVACY_TOKEN}` };

async function decide(site: string, visitorId: string): Promise<{ res: Response; body: DecideResponse }> {
  const res = await SELF.fetch("https://edge.example/v1/decide", {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": BROWSER, cookie: await visitorCookie(visitorId) },
    body: JSON.stringify(decideBody(site)),
  });
  expect(res.status).toBe(200);
  return { res, body: decideResponseSchema.parse(await res.clone().json()) };
}

async function revoke(subjectId: string): Promise<string> {
  const res = await SELF.fetch("https://edge.example/v1/privacy/revocations", {
    method: "POST",
    headers: { "content-type": "application/json", ...PRIVACY },
    body: JSON.stringify({ subjectId }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { requestId: string }).requestId;
}

const click = (siteId: string, visitorId: string, contentId: string, i: number): InteractionEvent => ({
  type: "interaction",
  siteId,
  visitorId,
  measurement: true,
  personalization: true,
  bot: false,
  eventId: `concurrent-${i}`,
  kind: "click",
  decisionId: crypto.randomUUID(),
  slot: "recommendations",
  contentId,
  policy: "model",
  modelVersion: "m",
  ts: 1_700_000_000_000 + i,
});

const profile = () => {
  const [a] = demoVisitors();
  if (!a) throw new Error("a demo visitor expected");
  return a.profile;
};

const stubOf = (visitorId: string) => visitorStub(visitors, visitorId);

/**
 * Makes the visitor's object really stall: it holds its input gate (blockConcurrencyWhile) for
 * 4.5 s, longer than the worker waits for it (VISITOR_STATE_TIMEOUT_MS, 3 s in the tests), so a
 * call to it is still queued when the time is up. Resolves once the object holds the gate, with the
 * stall's own end.
 */
async function stallObject(visitorId: string): Promise<{ stall: Promise<unknown> }> {
  const stub = await stubOf(visitorId);
  let stalled = () => {};
  const stalling = new Promise<void>((resolve) => {
    stalled = resolve;
  });
  const stall = runInDurableObject(stub, (_instance: VisitorState, state) =>
    state.blockConcurrencyWhile(async () => {
      stalled();
      await new Promise((r) => setTimeout(r, 4500));
    }),
  );
  await stalling;
  return { stall };
}

describe("the visitor's Durable Object", () => {
  let site: string;
  beforeAll(async () => {
    site = await createSite("visitors-site", { consentModel: "opt-out" });
  });

  it("counts 200 concurrent clicks for one visitor exactly, and a redelivered click once", async () => {
    const visitor = newVisitorId();
    const stub = await stubOf(visitor);
    const now = Date.now();
    // 200 separate calls at once (as 200 consumer invocations would make), then 50 of them again.
    const clicks = Array.from({ length: 200 }, (_, i) => click(site, visitor, "women-1", i));
    const first = await Promise.all(clicks.map((c) => stub.apply([c], now)));
    const again = await Promise.all(clicks.slice(0, 50).map((c) => stub.apply([c], now)));
    expect(first.reduce((sum, r) => sum + r.applied, 0)).toBe(200);
    expect(again.reduce((sum, r) => sum + r.applied, 0)).toBe(0);

    const held = (await stub.export()).profiles[site];
    // Decay is measured from the last update to `now`: every call used the same `now`, so none.
    expect(held?.itemAffinity["women-1"]).toBe(200);
    // The most recent clicks, latest first, bounded.
    expect(held?.recent).toHaveLength(50);
    expect(held?.recent[0]).toEqual({ id: "women-1", ts: 1_700_000_000_000 + 199 });
    expect(held?.recent.at(-1)).toEqual({ id: "women-1", ts: 1_700_000_000_000 + 150 });
  });

  it("holds a revocation for the very next decision and for a click sent with a token from before it", async () => {
    const subject = newVisitorId();
    const other = newVisitorId();
    await putProfile(site, subject, profile());
    const before = await decide(site, subject);
    expect(before.body.mode).toBe("personalized");
    const old = shownIn(before.body)[0] as Shown;

    await revoke(subject);
    const next = await decide(site, subject);
    expect(next.body.mode).toBe("contextual");
    expect(next.body.modeReason).toBe("revoked");

    // The old token still verifies; the consumer's call to the object drops the event.
    expect((await postEvents([event(before.body, old, "click")])).status).toBe(202);
    const marker = await decide(site, other);
    expect((await postEvents([event(marker.body, shownIn(marker.body)[0] as Shown, "click")])).status).toBe(202);
    await waitFor(async () => (await countFor(marker.body.decisionId)) === 1);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await countFor(before.body.decisionId)).toBe(0);
    const held = await visitorState(subject);
    expect(held.revokedAt).not.toBeNull();
    expect(held.profiles).toEqual({});
    // The other visitor's click did change their profile.
    expect((await visitorState(other)).profiles[site]?.itemAffinity[shownIn(marker.body)[0]?.contentId ?? ""]).toBe(1);
  });

  it("leaves nothing but the tombstone in the object after erasure", async () => {
    const subject = newVisitorId();
    await putProfile(site, subject, profile());
    const d = await decide(site, subject);
    expect((await postEvents([event(d.body, shownIn(d.body)[0] as Shown, "click")])).status).toBe(202);
    await waitFor(async () => (await visitorState(subject)).appliedEvents === 1);

    const requestId = await revoke(subject);
    // The erasure completes once the scheduled run has cleared the log (driven here as the cron would).
    await waitForCompletion(requestId);
    const stored = await runInDurableObject(await stubOf(subject), async (_instance: VisitorState, state) => ({
      keys: [...state.storage.kv.list()].map(([key]) => key),
      alarm: await state.storage.getAlarm(),
    }));
    expect(stored).toEqual({ keys: ["tombstone"], alarm: null });
  });

  it("keeps the deletion alarm a retention period after the last write, moved at most once a day, and set again after it fired", async () => {
    const visitor = newVisitorId();
    const stub = await stubOf(visitor);
    const alarm = () => runInDurableObject(stub, (_instance: VisitorState, state) => state.storage.getAlarm());
    const t0 = Date.UTC(2026, 10, 2, 9);
    const hour = 60 * 60 * 1000;
    await stub.countShown(site, "2026-11-02", ["c1"], t0);
    await waitFor(async () => (await alarm()) === t0 + RETENTION_MS);
    await stub.countShown(site, "2026-11-02", ["c1"], t0 + hour);
    await stub.countShown(site, "2026-11-04", ["c1"], t0 + 50 * hour);
    await waitFor(async () => (await alarm()) === t0 + 50 * hour + RETENTION_MS);
    // An hour later is within a day of the alarm set: left where it is.
    await stub.countShown(site, "2026-11-04", ["c1"], t0 + 51 * hour);
    expect(await alarm()).toBe(t0 + 50 * hour + RETENTION_MS);
    // The alarm fires (the visitor was not seen for the retention period): everything goes, and
    // the next write sets a new alarm.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await visitorState(visitor)).caps).toEqual({});
    await stub.countShown(site, "2026-11-05", ["c1"], t0 + 70 * hour);
    await waitFor(async () => (await alarm()) === t0 + 70 * hour + RETENTION_MS);
  });

  it("reads no profile for a revoked visitor's decision", async () => {
    const subject = newVisitorId();
    await putProfile(site, subject, profile());
    await revoke(subject);
    const stub = await stubOf(subject);
    const readsBefore = await runInDurableObject(stub, (instance: VisitorState) => instance.profileReads);
    const { body } = await decide(site, subject);
    expect(body.modeReason).toBe("revoked");
    const readsAfter = await runInDurableObject(stub, (instance: VisitorState) => instance.profileReads);
    expect(readsAfter).toBe(readsBefore);
    // The same object does count a read for a visitor who is not revoked.
    const clear = newVisitorId();
    await putProfile(site, clear, profile());
    await decide(site, clear);
    expect(await runInDurableObject(await stubOf(clear), (instance: VisitorState) => instance.profileReads)).toBe(1);
  });

  it("answers a warm visitor's decisions from the object's memory, which no write or deletion leaves stale", async () => {
    const subject = newVisitorId();
    await putProfile(site, subject, profile());
    const stub = await stubOf(subject);
    const storageReads = () => runInDurableObject(stub, (instance: VisitorState) => instance.storageReads);
    const first = await decide(site, subject);
    expect(first.body.mode).toBe("personalized");
    const warm = await storageReads();
    const again = await decide(site, subject);
    await decide(site, subject);
    expect(await storageReads()).toBe(warm);
    // A click written by the object is what its next decision reads.
    const clicked = shownIn(again.body).at(-1) as Shown;
    const affinity = (await visitorState(subject)).profiles[site]?.itemAffinity[clicked.contentId] ?? 0;
    expect((await postEvents([event(again.body, clicked, "click")])).status).toBe(202);
    expect((await visitorState(subject)).profiles[site]?.itemAffinity[clicked.contentId]).toBeGreaterThan(affinity);
    const scoreOf = (d: DecideResponse) => d.slots.flatMap((s) => s.items).find((i) => i.contentId === clicked.contentId)?.score;
    const after = await decide(site, subject);
    expect(scoreOf(after.body)).not.toBe(scoreOf(again.body));
    // The retention alarm deletes everything: the next decision finds no profile, not the one in memory.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await decide(site, subject)).body.modeReason).toBe("no_profile");
  });

  it("refuses a profile for a revoked visitor, and takes a tombstone by subject hash", async () => {
    const subject = newVisitorId();
    const hash = await subjectHash(subject);
    // A subject revoked before the objects existed: D1 keeps the hash, which names the object.
    await subjectStub(visitors, hash).revoke(Date.now());
    await expect(putProfile(site, subject, profile())).rejects.toThrow(/revoked/);
    expect((await visitorState(subject)).profiles).toEqual({});
  });

  it("merges a migrated KV profile with what the object learnt since, and refuses one under a D1 revocation", async () => {
    const visitor = newVisitorId();
    const revokedEarlier = newVisitorId();
    const now = Date.now();
    // A click the object applied after the new worker was deployed, before the migration ran.
    await (await stubOf(visitor)).apply([{ ...click(site, visitor, "women-2", 0), eventId: crypto.randomUUID(), ts: now }], now);
    const kvProfile = { v: 1, attributes: { age: "30" }, itemAffinity: { "women-1": 2, "women-2": 1 }, seen: ["old"], updatedAt: now };
    const res = await SELF.fetch("https://edge.example/v1/admin/visitors/import", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${env.ADMIN_TOKEN}` },
      body: JSON.stringify({
        tombstones: [await subjectHash(revokedEarlier)],
        profiles: [
          { site, visitorId: visitor, profile: kvProfile },
          { site, visitorId: revokedEarlier, profile: kvProfile },
        ],
        mode: "merge",
      }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ tombstones: 1, imported: 1, refused: [revokedEarlier] });
    const merged = (await visitorState(visitor)).profiles[site];
    expect(merged?.attributes).toEqual({ age: "30" });
    expect(merged?.itemAffinity["women-1"]).toBeCloseTo(2, 6);
    expect(merged?.itemAffinity["women-2"]).toBeCloseTo(2, 6);
    expect(merged?.recent).toEqual([{ id: "women-2", ts: now }]);
    const refused = await visitorState(revokedEarlier);
    expect(refused.revokedAt).not.toBeNull();
    expect(refused.profiles).toEqual({});
  });
});

describe("a failing visitor object", () => {
  let site: string;
  beforeAll(async () => {
    site = await createSite("visitors-failing", { consentModel: "opt-out" });
  });

  it("leaves the decision contextual with fallback visitor_state_unavailable, never a 5xx", async () => {
    const visitor = newVisitorId();
    await putProfile(site, visitor, profile());
    const { stall } = await stallObject(visitor);
    const { res, body } = await decide(site, visitor);
    await stall;
    expect(body.mode).toBe("contextual");
    expect(body.modeReason).toBe("visitor_state_unavailable");
    expect(body.modelVersion).not.toBeNull();
    for (const slot of body.slots) {
      expect(slot.fallback).toBe("visitor_state_unavailable");
      expect(slot.policy).toBe("model");
      expect(slot.items.length).toBeGreaterThan(0);
    }
    // Consent is unknown: no new id, and the decision's events may not name the visitor.
    expect(res.headers.getSetCookie().some((c) => c.startsWith("ep_vid="))).toBe(false);
    const grant = JSON.parse(base64UrlToText(body.eventToken.split(".")[0] ?? "") ?? "null") as { v: string | null; p: boolean };
    expect(grant).toMatchObject({ v: null, p: false });
    // Once the object answers again, the visitor is personalized again.
    expect((await decide(site, visitor)).body.mode).toBe("personalized");
  });
  it("answers a click whose object does not answer in time with 202 after the decision's timeout, and the click still lands", async () => {
    const visitor = newVisitorId();
    await putProfile(site, visitor, profile());
    const before = (await decide(site, visitor)).body;
    const target = shownIn(before).at(-1) as Shown;
    const affinityBefore = (await visitorState(visitor)).profiles[site]?.itemAffinity[target.contentId] ?? 0;
    const { stall } = await stallObject(visitor);
    // The request waits for the object no longer than a decision would (3 s here), then queues the click.
    expect((await postEvents([event(before, target, "click")])).status).toBe(202);
    await stall;
    await waitFor(async () => (await countFor(before.decisionId)) === 1);
    // Applied by the consumer's call or by the edge's, queued behind the stall: either way once (by event id).
    await waitFor(async () => ((await visitorState(visitor)).profiles[site]?.itemAffinity[target.contentId] ?? 0) > affinityBefore);
  });
  it("holds back none of a visitor's events in the consumer while their object does not answer: logged at once, the click applied on redelivery, each counted once", async () => {
    const visitor = newVisitorId();
    await putProfile(site, visitor, profile());
    const d = (await decide(site, visitor)).body;
    const target = shownIn(d).at(-1) as Shown;
    const affinity = async () => (await visitorState(visitor)).profiles[site]?.itemAffinity[target.contentId] ?? 0;
    const affinityBefore = await affinity();
    const about = { visitorId: visitor, personalization: true, slot: target.slot, contentId: target.contentId };
    const messages = [
      {
        id: "m-impression",
        timestamp: new Date(),
        attempts: 1,
        body: queuedInteraction(site, d.decisionId, { ...about, eventId: "stall-i" }),
      },
      {
        id: "m-click",
        timestamp: new Date(),
        attempts: 1,
        body: queuedInteraction(site, d.decisionId, { ...about, kind: "click", eventId: "stall-c" }),
      },
    ];
    const consume = async (list: typeof messages, settings: Env) => {
      const batch = createMessageBatch<unknown>("edge-personalizer-events", list);
      const ctx = createExecutionContext();
      await handler.queue?.(batch, settings, ctx);
      return getQueueResult(batch, ctx);
    };

    // The consumer waits ten times a decision's wait: 1 s here, less than the 4.5 s stall.
    const { stall } = await stallObject(visitor);
    const first = await consume(messages, { ...env, VISITOR_STATE_TIMEOUT_MS: "100" } as unknown as Env);
    expect(first.explicitAcks).toEqual(["m-impression"]);
    expect(first.retryMessages.map((m) => m.msgId)).toEqual(["m-click"]);
    expect(await countFor(d.decisionId, site)).toBe(2);

    await stall;
    const again = await consume([{ ...(messages[1] as (typeof messages)[number]), attempts: 2 }], env);
    expect(again.explicitAcks).toEqual(["m-click"]);
    expect(await affinity()).toBeGreaterThan(affinityBefore);
    expect(await countFor(d.decisionId, site)).toBe(2);
  });
});
