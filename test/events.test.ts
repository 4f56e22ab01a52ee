import { createExecutionContext, createMessageBatch, env, getQueueResult, SELF, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../scripts/harness/wait";
import { issueEventToken } from "../worker/events/token";
import worker from "../worker/index";
import { sumAggregates } from "../worker/log/aggregates";
import { bucketHash, bucketText, decisionText, eventHash, ledgerKey } from "../worker/log/keys";
import { dayOf } from "../worker/log/rows";
import { EDGE_APPLY_MAX_VISITORS } from "../worker/visitors/apply";
import type { DecideResponse } from "../worker/wire/decide";
import type { InteractionEvent } from "../worker/wire/events";
import {
  BROWSER,
  createSite,
  db,
  decideAs,
  demoProfile,
  measured,
  newVisitorId,
  putProfile,
  visitorCookie,
  visitorState,
} from "./support/fixtures";
import { loggedRows } from "./support/log";
import { countFor, event, postEvents, queuedInteraction, recordedQueue, type Shown, shownIn } from "./support/pipeline";

const handler: ExportedHandler<Env> = worker;

/**
 * A real D1 failure for the ledger write that would count one event: triggers that abort any write
 * of a ledger row listing the event (its minute's bucket or its decision's entry).
 */
async function failLedgerWritesOf(name: string, site: string, eventId: string) {
  const row = { site_id: site, kind: "interaction" as const, id: eventId };
  const listed = `instr(NEW.events, '${await eventHash(row)}') > 0 OR instr(NEW.events, ',${await bucketHash(row)},') > 0`;
  for (const op of ["INSERT", "UPDATE"])
    await env.DB.exec(
      `CREATE TRIGGER ${name}_${op.toLowerCase()} BEFORE ${op} ON log_ledger WHEN ${listed} BEGIN SELECT RAISE(ABORT, 'injected failure'); END;`,
    );
  return async () => {
    for (const op of ["insert", "update"]) await env.DB.exec(`DROP TRIGGER ${name}_${op}`);
  };
}

/** The daily content aggregates of a site, summed per slot and content. */
async function rollupsFor(site: string) {
  const map = new Map<string, { slot: string; contentId: string; impressions: number; clicks: number; conversions: number }>();
  for (const {
    key: [slot = "", contentId = ""],
    counters,
  } of await sumAggregates(db, { site }, "content")) {
    const row = map.get(`${slot}/${contentId}`) ?? { slot, contentId, impressions: 0, clicks: 0, conversions: 0 };
    row.impressions += counters.impressions;
    row.clicks += counters.clicks;
    row.conversions += counters.conversions;
    map.set(`${slot}/${contentId}`, row);
  }
  return [...map.values()];
}

/** Impressions, clicks and conversions per slot and content. */
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

/**
 * `n` bad event posts from one new client, all counted in one of the limiter's 60 s windows. The
 * windows are aligned to the wall clock, so a burst that crossed a boundary was counted in two and
 * proves nothing: it is sent again as another client, at once, instead of waiting for a window.
 */
async function burstInOneWindow(n: number): Promise<number[]> {
  for (;;) {
    const window = Math.floor(Date.now() / 60_000);
    const client = { "cf-connecting-ip": `2001:db8::${crypto.randomUUID().slice(0, 4)}` };
    const statuses: number[] = [];
    for (let i = 0; i < n; i++) {
      const res = await SELF.fetch("https://edge.example/v1/events", { method: "POST", headers: client, body: "{}" });
      statuses.push(res.status);
      await res.body?.cancel();
    }
    if (Math.floor(Date.now() / 60_000) === window) return statuses;
  }
}

describe("the event pipeline through the real local queue", () => {
  let site: string;
  beforeAll(async () => {
    site = await createSite("events-site", { consentModel: "opt-out" });
  });

  it("takes 10,000 events in and counts each decision's distinct events exactly", { timeout: 240_000 }, async () => {
    // 100 decisions; per decision an impression of every shown item, clicks on two, a dismissal and
    // a conversion: the distinct events. Each is sent about eleven times with other client ids.
    const kinds: [number, InteractionEvent["kind"]][] = [
      [0, "click"],
      [1, "click"],
      [-1, "dismiss"],
      [0, "conversion"],
    ];
    const distinct: ReturnType<typeof event>[] = [];
    const decided: string[] = [];
    const cookie = await visitorCookie(newVisitorId());
    for (let k = 0; k < 100; k++) {
      const d = await measured(() => decideAs(site, { cookie }));
      const shown = shownIn(d);
      decided.push(d.decisionId);
      distinct.push(...shown.map((s) => event(d, s, "impression")));
      for (const [at, kind] of kinds) distinct.push(event(d, shown.at(at) as Shown, kind, `${kind}-${k}`));
    }
    const all = Array.from({ length: 10_000 }, (_, i) => {
      const e = distinct[i % distinct.length] as (typeof distinct)[number];
      // Replays carry new client ids, except conversions (a second purchase would count).
      return e.type === "conversion" ? e : { ...e, eventId: `bulk-${i}` };
    });
    for (let i = 0; i < all.length; i += 100) {
      const res = await postEvents(all.slice(i, i + 100));
      expect(res.status).toBe(202);
      // Every event counts for learning (else it is rightly never logged, and the wait below would only time out).
      expect(await res.json()).toMatchObject({ accepted: 100, forLearning: 100 });
    }
    const sent = new Set(all.map((e) => `${e.decisionId}/${e.slot}/${e.contentId}/${e.type}`));
    expect(sent.size).toBe(distinct.length);
    const decidedIds = new Set(decided);
    const loggedOfSite = async () =>
      (await loggedRows(site)).filter((row) => row.kind === "interaction" && decidedIds.has(row.decision_id));
    // First what must arrive (a batch retried after a slow visitor object may come late: the
    // consumer's backoff is 5, 10, 20, 40, 80 s, so up to its sixth attempt), then a marker on
    // another site: once it is in, the replays sent before it have been consumed too.
    await waitFor(async () => (await loggedOfSite()).length >= distinct.length, 170_000).catch(async (err: Error) => {
      // What is missing (the kinds), for whoever reads a failure.
      const logged = new Set((await loggedOfSite()).map((row) => `${row.decision_id}/${row.slot}/${row.content_id}/${row.event}`));
      const missing = distinct.filter((e) => !logged.has(`${e.decisionId}/${e.slot}/${e.contentId}/${e.type}`)).map((e) => e.type);
      throw new Error(`${err.message}: ${logged.size} of ${distinct.length} logged; missing ${JSON.stringify(missing)}`);
    });
    const markerSite = await createSite("events-bulk-marker", { consentModel: "opt-out" });
    const marker = await decideAs(markerSite, { cookie: await visitorCookie(newVisitorId()) });
    expect((await postEvents([event(marker, shownIn(marker)[0] as Shown, "impression")])).status).toBe(202);
    // The log is written after the aggregates: once the marker is logged, the site's events are counted.
    await waitFor(async () => (await countFor(marker.decisionId, markerSite)) === 1, 120_000);
    expect((await loggedOfSite()).length).toBe(distinct.length);
    expect(await rollupsFor(site)).toEqual(expectedCounts(distinct));
  });

  it("counts every event sent twice once", async () => {
    const dupSite = await createSite("events-dup", { consentModel: "opt-out" });
    const d = await decideAs(dupSite, { cookie: await visitorCookie(newVisitorId()) });
    const shown = shownIn(d);
    const batch = shown.flatMap((s, i) => [event(d, s, "impression", `dup-i${i}`), event(d, s, "click", `dup-c${i}`)]);
    expect((await postEvents(batch)).status).toBe(202);
    expect((await postEvents(batch)).status).toBe(202);
    expect((await postEvents([...batch.slice(0, 4), ...batch.slice(0, 4)])).status).toBe(202);
    // A later marker batch on another decision: once it is in, the duplicates before it have been consumed too.
    const other = await decideAs(dupSite, { cookie: await visitorCookie(newVisitorId()) });
    const marker = event(other, shownIn(other)[0] as Shown, "dismiss", "dup-marker");
    expect((await postEvents([marker])).status).toBe(202);
    await waitFor(async () => (await countFor(other.decisionId, dupSite)) === 1);
    expect(await countFor(d.decisionId, dupSite)).toBe(batch.length);
    expect(await rollupsFor(dupSite)).toEqual(expectedCounts([...batch, marker]));
  });

  it("accepts the text/plain bodies that sendBeacon sends", async () => {
    const d = await decideAs(site, { cookie: await visitorCookie(newVisitorId()) });
    const res = await postEvents([event(d, shownIn(d)[0] as Shown, "impression")], {}, "text/plain;charset=UTF-8");
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 1, forLearning: 1, notForLearning: {} });
  });

  it("drops a revoked visitor's events: clicks (checked by their object) and impressions alone (checked in D1)", async () => {
    const revoked = newVisitorId();
    const revokedImpressionsOnly = newVisitorId();
    const other = newVisitorId();
    const dRevoked = await decideAs(site, { cookie: await visitorCookie(revoked) });
    const dImpressionsOnly = await decideAs(site, { cookie: await visitorCookie(revokedImpressionsOnly) });
    const dOther = await decideAs(site, { cookie: await visitorCookie(other) });
    for (const subjectId of [revoked, revokedImpressionsOnly]) {
      const res = await SELF.fetch("https://edge.example/v1/privacy/revocations", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${env.PRIVACY_TOKEN}` },
        body: JSON.stringify({ subjectId }),
      });
      expect(res.status).toBe(202);
    }
    // Events from before the revocation, still in flight, must not be written.
    expect((await postEvents([event(dRevoked, shownIn(dRevoked)[0] as Shown, "click")])).status).toBe(202);
    expect((await postEvents(shownIn(dImpressionsOnly).map((s) => event(dImpressionsOnly, s, "impression")))).status).toBe(202);
    expect((await postEvents([event(dOther, shownIn(dOther)[0] as Shown, "impression")])).status).toBe(202);
    expect((await postEvents([event(dOther, shownIn(dOther)[0] as Shown, "click")])).status).toBe(202);
    await waitFor(async () => (await countFor(dOther.decisionId)) === 2);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await countFor(dRevoked.decisionId)).toBe(0);
    expect(await countFor(dImpressionsOnly.decisionId)).toBe(0);
  });

  it("applies a click to the visitor's object before /v1/events answers: the very next decision sees it, and it counts once", async () => {
    const profile = demoProfile();
    const visitor = newVisitorId();
    await putProfile(site, visitor, profile);
    const cookie = await visitorCookie(visitor);
    const before = await decideAs(site, { cookie });
    const target = shownIn(before).at(-1) as Shown;
    const scoreBefore = before.slots.flatMap((s) => s.items).find((i) => i.contentId === target.contentId)?.score ?? 0;
    const affinityBefore = profile.itemAffinity?.[target.contentId] ?? 0;
    const affinity = async () => (await visitorState(visitor)).profiles[site]?.itemAffinity[target.contentId] ?? 0;

    expect((await postEvents([event(before, target, "click")])).status).toBe(202);
    // No wait for the queue: the object took the click before the answer.
    const applied = await affinity();
    expect(applied).toBeGreaterThan(affinityBefore);
    const after = await decideAs(site, { cookie });
    const scoreAfter = after.slots.flatMap((s) => s.items).find((i) => i.contentId === target.contentId)?.score;
    expect(scoreAfter).toBeDefined();
    expect(scoreAfter ?? 0).toBeGreaterThan(scoreBefore ?? 0);

    // Counted and logged once; sent again, it changes nothing.
    await waitFor(async () => (await countFor(before.decisionId)) === 1);
    expect((await postEvents([event(before, target, "click")])).status).toBe(202);
    expect(await affinity()).toBe(applied);
  });
});

describe("events the edge refuses", () => {
  let site: string;
  let d: DecideResponse;
  beforeAll(async () => {
    site = await createSite("events-refused", { consentModel: "opt-out" });
    d = await decideAs(site, { cookie: await visitorCookie(newVisitorId()) });
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
        t: Date.now() - 25 * 60 * 60 * 1000,
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
    const d = await decideAs(site, { cookie: await visitorCookie(newVisitorId()) });
    const shown = shownIn(d)[0] as Shown;
    const interactions = Array.from({ length: 20 }, (_, i) =>
      queuedInteraction(site, d.decisionId, { eventId: `retry-${i}`, slot: shown.slot, contentId: shown.contentId }),
    );

    // A real D1 failure for one message: triggers that abort the ledger write counting its row.
    const restore = await failLedgerWritesOf("fail_retry_7", site, "retry-7");
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
    expect(await countFor(d.decisionId, site)).toBe(19);
    expect((await rollupsFor(site))[0]?.impressions).toBe(19);

    await restore();
    const again = createMessageBatch<unknown>(
      "edge-personalizer-events",
      messages.filter((m) => m.id === "m7").map((m) => ({ ...m, attempts: 2 })),
    );
    const ctx2 = createExecutionContext();
    await handler.queue?.(again, env, ctx2);
    expect((await getQueueResult(again, ctx2)).explicitAcks).toEqual(["m7"]);
    expect(await countFor(d.decisionId, site)).toBe(20);
    expect((await loggedRows(site)).filter((r) => r.kind === "interaction")).toHaveLength(20);
    const [row] = await rollupsFor(site);
    expect(row?.impressions).toBe(20);
  });
});

describe("the ledger", () => {
  const consume = async (list: { id: string; timestamp: Date; attempts: number; body: unknown }[]) => {
    const batch = createMessageBatch<unknown>("edge-personalizer-events", list);
    const ctx = createExecutionContext();
    await handler.queue?.(batch, env, ctx);
    return getQueueResult(batch, ctx);
  };
  const listing = async (key: string) =>
    (await env.DB.prepare("SELECT version, events FROM log_ledger WHERE key = ?").bind(key).all<{ version: number; events: string }>())
      .results;
  const impressionsOf = async (site: string) => (await rollupsFor(site)).reduce((n, r) => n + r.impressions, 0);

  it("lists the events of a minute's decisions in one bucket, appends only new ones, and counts nothing twice", async () => {
    const site = await createSite("events-bucket", { consentModel: "opt-out" });
    const decidedAt = Date.UTC(2026, 10, 27, 9, 30, 12);
    // Three decisions of the same minute, an event each: one bucket lists them all.
    const messages = ["bucket-a", "bucket-b", "bucket-c"].map((eventId, i) => ({
      id: `m-${eventId}`,
      timestamp: new Date(),
      attempts: 1,
      body: queuedInteraction(site, `bucket-decision-${i}`, {
        eventId,
        contentId: `item-${i}`,
        decidedAt: decidedAt + i * 1000,
        ts: decidedAt + 5000,
      }),
    }));
    const key = await ledgerKey(dayOf(decidedAt), bucketText({ site_id: site }, decidedAt));
    const hashes = await Promise.all(messages.map((m) => bucketHash({ site_id: site, kind: "interaction", id: m.body.eventId })));

    expect((await consume(messages.slice(0, 2))).explicitAcks).toHaveLength(2);
    expect(await listing(key)).toEqual([{ version: 1, events: `,${hashes[0]},${hashes[1]},` }]);
    // The last one with a redelivered one: the bucket grows by the new one only.
    expect(
      (await consume([{ ...(messages[1] as (typeof messages)[number]), attempts: 2 }, messages[2] as (typeof messages)[number]]))
        .explicitAcks,
    ).toHaveLength(2);
    expect(await listing(key)).toEqual([{ version: 2, events: `,${hashes.join(",")},` }]);
    expect(await impressionsOf(site)).toBe(3);
    // The same event sent again by a client, as a new message: counted once.
    expect((await consume([{ ...(messages[0] as (typeof messages)[number]), id: "m-replay" }])).explicitAcks).toEqual(["m-replay"]);
    expect(await listing(key)).toEqual([{ version: 2, events: `,${hashes.join(",")},` }]);
    expect(await impressionsOf(site)).toBe(3);
  });

  it("counts exactly when other consumers appended to a bucket since this isolate last wrote it", async () => {
    const site = await createSite("events-bucket-shared", { consentModel: "opt-out" });
    const decidedAt = Date.UTC(2026, 10, 27, 10, 15, 0);
    const message = (eventId: string, id = `m-${eventId}`) => ({
      id,
      timestamp: new Date(),
      attempts: 1,
      body: queuedInteraction(site, `shared-${eventId}`, { eventId, decidedAt, ts: decidedAt + 2000 }),
    });
    const key = await ledgerKey(dayOf(decidedAt), bucketText({ site_id: site }, decidedAt));
    const hash = (eventId: string) => bucketHash({ site_id: site, kind: "interaction", id: eventId });
    /** Another consumer (another isolate) counting an event: its append, as D1 holds it. */
    const appendedElsewhere = async (eventId: string) =>
      env.DB.prepare("UPDATE log_ledger SET version = version + 1, events = events || ? WHERE key = ?")
        .bind(`${await hash(eventId)},`, key)
        .run();
    const bucket = async (...ids: string[]) => `,${(await Promise.all(ids.map(hash))).join(",")},`;

    await consume([message("a")]);
    await appendedElsewhere("d");
    // d is listed where this isolate has not looked: the append finds it and the batch is planned again.
    expect((await consume([message("d"), message("e")])).explicitAcks).toEqual(["m-d", "m-e"]);
    expect(await listing(key)).toEqual([{ version: 3, events: await bucket("a", "d", "e") }]);
    await appendedElsewhere("f");
    // g is new: appended after what the others wrote, which the isolate then reads...
    await consume([message("g")]);
    expect(await listing(key)).toEqual([{ version: 5, events: await bucket("a", "d", "e", "f", "g") }]);
    // ...so that a replay of f, which this isolate never counted, is known and left out.
    await consume([message("f", "m-f-replay")]);
    expect(await listing(key)).toEqual([{ version: 5, events: await bucket("a", "d", "e", "f", "g") }]);
    // Counted here: a, e and g (d and f were the others' to count).
    expect(await impressionsOf(site)).toBe(3);
  });

  it("counts exactly against a bucket that another isolate wrote and this one never saw", async () => {
    const site = await createSite("events-bucket-unseen", { consentModel: "opt-out" });
    const decidedAt = Date.UTC(2026, 10, 27, 11, 45, 30);
    const message = (eventId: string) => ({
      id: `m-${eventId}`,
      timestamp: new Date(),
      attempts: 1,
      body: queuedInteraction(site, `unseen-${eventId}`, { eventId, decidedAt, ts: decidedAt + 1000 }),
    });
    const key = await ledgerKey(dayOf(decidedAt), bucketText({ site_id: site }, decidedAt));
    const hash = (eventId: string) => bucketHash({ site_id: site, kind: "interaction", id: eventId });
    // Another isolate's bucket, three appends old, listing x.
    await env.DB.prepare("INSERT INTO log_ledger (key, version, decisions, conversions, value, events) VALUES (?, 3, 0, 0, 0, ?)")
      .bind(key, `,${await hash("x")},`)
      .run();

    expect((await consume([message("x"), message("y")])).explicitAcks).toEqual(["m-x", "m-y"]);
    expect(await listing(key)).toEqual([{ version: 4, events: `,${await hash("x")},${await hash("y")},` }]);
    expect(await impressionsOf(site)).toBe(1);
  });

  it("keeps one entry per decision for events that do not say when their decision was made", async () => {
    const site = await createSite("events-ledger", { consentModel: "opt-out" });
    const decisionId = `ledger-${crypto.randomUUID()}`;
    const ids = ["ledger-a", "ledger-b", "ledger-c"];
    const messages = ids.map((eventId, i) => ({
      id: `m-${eventId}`,
      timestamp: new Date(),
      attempts: 1,
      body: queuedInteraction(site, decisionId, { eventId, contentId: `item-${i}` }),
    }));
    const key = await ledgerKey(dayOf(messages[0]?.body.ts ?? 0), decisionText({ site_id: site, decision_id: decisionId }));
    const hashes = await Promise.all(ids.map((id) => eventHash({ site_id: site, kind: "interaction", id })));

    expect((await consume(messages.slice(0, 2))).explicitAcks).toHaveLength(2);
    expect(await listing(key)).toEqual([{ version: 1, events: `${hashes[0]}${hashes[1]}` }]);
    // The last one with a redelivered one: the entry grows by the new row only, and it is counted once.
    expect(
      (await consume([{ ...(messages[1] as (typeof messages)[number]), attempts: 2 }, messages[2] as (typeof messages)[number]]))
        .explicitAcks,
    ).toHaveLength(2);
    expect(await listing(key)).toEqual([{ version: 2, events: hashes.join("") }]);
    expect(await impressionsOf(site)).toBe(3);
  });
});

describe("a request's events as one queue message", () => {
  it("is retried whole when one of its events fails, and counts each event once after redelivery", async () => {
    const site = await createSite("events-message", { consentModel: "opt-out" });
    const d = await decideAs(site, { cookie: await visitorCookie(newVisitorId()) });
    const shown = shownIn(d)[0] as Shown;
    const interaction = (eventId: string) =>
      queuedInteraction(site, d.decisionId, { eventId, slot: shown.slot, contentId: shown.contentId });
    const several = { type: "interactions", events: Array.from({ length: 10 }, (_, i) => interaction(`several-${i}`)) };
    const restore = await failLedgerWritesOf("fail_several_4", site, "several-4");
    const run = async (messages: { id: string; attempts: number; body: unknown }[]) => {
      const batch = createMessageBatch<unknown>(
        "edge-personalizer-events",
        messages.map((m) => ({ ...m, timestamp: new Date() })),
      );
      const ctx = createExecutionContext();
      await handler.queue?.(batch, env, ctx);
      return getQueueResult(batch, ctx);
    };
    const first = await run([
      { id: "several", attempts: 1, body: several },
      { id: "single", attempts: 1, body: interaction("single") },
    ]);
    expect(first.retryMessages.map((m) => m.msgId)).toEqual(["several"]);
    expect(first.explicitAcks).toEqual(["single"]);
    expect(await countFor(d.decisionId, site)).toBe(10);

    await restore();
    const again = await run([{ id: "several", attempts: 2, body: several }]);
    expect(again.explicitAcks).toEqual(["several"]);
    expect(await countFor(d.decisionId, site)).toBe(11);
    expect((await rollupsFor(site))[0]?.impressions).toBe(11);
    const logged = (await loggedRows(site)).filter((r) => r.kind === "interaction");
    expect(new Set(logged.map((r) => r.id)).size).toBe(11);
  });
});

describe("clicks applied at the edge", () => {
  /** POST /v1/events through the worker with its queue binding recorded (the real local queue underneath). */
  async function postRecorded(events: unknown[]) {
    const { queue, sent } = recordedQueue(env.EVENTS, { read: (body) => (body as { events: InteractionEvent[] }).events });
    const ctx = createExecutionContext();
    const request = new Request("https://edge.example/v1/events", {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": BROWSER },
      body: JSON.stringify({ events }),
    });
    const res = await handler.fetch?.(request as Request<unknown, IncomingRequestCfProperties>, { ...env, EVENTS: queue }, ctx);
    return { status: res?.status, sent: sent.flat() };
  }

  async function clicksOf(site: string, visitors: number) {
    return Promise.all(
      Array.from({ length: visitors }, async () => {
        const visitor = newVisitorId();
        const d = await decideAs(site, { cookie: await visitorCookie(visitor) });
        return { visitor, click: event(d, shownIn(d)[0] as Shown, "click") };
      }),
    );
  }

  it("marks what the objects took for a few visitors, and leaves a relay of many visitors to the consumer, which applies each once", async () => {
    const site = await createSite("events-edge-apply", { consentModel: "opt-out" });
    const few = await clicksOf(site, EDGE_APPLY_MAX_VISITORS);
    const applied = await postRecorded(few.map((c) => c.click));
    expect(applied.status).toBe(202);
    expect(applied.sent.map((e) => e.appliedAtEdge)).toEqual(few.map(() => true));

    const many = await clicksOf(site, EDGE_APPLY_MAX_VISITORS + 1);
    const relayed = await postRecorded(many.map((c) => c.click));
    expect(relayed.status).toBe(202);
    expect(relayed.sent.map((e) => e.appliedAtEdge)).toEqual(many.map(() => undefined));
    for (const { visitor, click } of many) {
      await waitFor(async () => ((await visitorState(visitor)).profiles[site]?.itemAffinity[click.contentId] ?? 0) > 0);
      await waitFor(async () => (await countFor(click.decisionId, site)) === 1);
    }
  });
});

describe("beacons batched (?delivery=batched, as the script tag sends them)", () => {
  /** A beacon through the worker with the queue recorded and an 8 s log window (room for a slow machine); its execution context is left running. */
  async function beacon(queue: Queue, events: unknown[], delivery = "batched") {
    const ctx = createExecutionContext();
    const request = new Request(`https://edge.example/v1/events?delivery=${delivery}`, {
      method: "POST",
      headers: { "content-type": "text/plain;charset=UTF-8", "user-agent": BROWSER },
      body: JSON.stringify({ events }),
    });
    const settings = { ...env, EVENTS: queue, LOG_BATCH_WINDOW_MS: "8000" } as unknown as Env;
    const res = (await handler.fetch?.(request as Request<unknown, IncomingRequestCfProperties>, settings, ctx)) as Response;
    return { res, ctx };
  }

  it("queues the beacons of one window as one message after their 202s, with each click applied before its 202, and counts each event once", async () => {
    const site = await createSite("events-batched", { consentModel: "opt-out" });
    const [seen, clicker] = [newVisitorId(), newVisitorId()];
    const dSeen = await decideAs(site, { cookie: await visitorCookie(seen) });
    const dClick = await decideAs(site, { cookie: await visitorCookie(clicker) });
    const clicked = shownIn(dClick)[0] as Shown;
    const { queue, sent } = recordedQueue(env.EVENTS, { read: (body) => (body as { events: InteractionEvent[] }).events });

    const impressions = await beacon(
      queue,
      shownIn(dSeen).map((s) => event(dSeen, s, "impression")),
    );
    const click = await beacon(queue, [event(dClick, clicked, "click")]);
    expect([impressions.res.status, click.res.status]).toEqual([202, 202]);
    // Answered before anything was queued; the click is in the visitor's object already.
    expect(sent).toHaveLength(0);
    expect((await visitorState(clicker)).profiles[site]?.itemAffinity[clicked.contentId] ?? 0).toBeGreaterThan(0);

    await waitOnExecutionContext(impressions.ctx);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.map((e) => [e.decisionId, e.kind, e.appliedAtEdge ?? false])).toEqual([
      ...shownIn(dSeen).map(() => [dSeen.decisionId, "impression", false]),
      [dClick.decisionId, "click", true],
    ]);
    await waitFor(async () => (await countFor(dClick.decisionId, site)) === 1);
    await waitFor(async () => (await countFor(dSeen.decisionId, site)) === shownIn(dSeen).length);
  });

  it("refuses a delivery it does not know with a 400 naming it", async () => {
    const { res } = await beacon(env.EVENTS, [], "later");
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { field: "delivery" } });
  });
});

describe("abuse controls", () => {
  it("keeps traffic that identifies itself as a bot out of the logs", async () => {
    const site = await createSite("events-bots", { consentModel: "opt-out" });
    const d = await decideAs(site, { cookie: await visitorCookie(newVisitorId()) });
    const human = await decideAs(site, { cookie: await visitorCookie(newVisitorId()) });
    const bot = { "user-agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)" };
    const fromBot = await postEvents([event(d, shownIn(d)[0] as Shown, "click")], bot);
    expect(fromBot.status).toBe(202);
    // The answer says so: accepted, but not for learning, and why.
    expect(await fromBot.json()).toEqual({ accepted: 1, forLearning: 0, notForLearning: { automated_user_agent: 1 } });
    expect((await postEvents([event(human, shownIn(human)[0] as Shown, "click")])).status).toBe(202);
    await waitFor(async () => (await countFor(human.decisionId)) === 1);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await countFor(d.decisionId)).toBe(0);
  });

  it("answers 429 past the per-client limit", async () => {
    const statuses = await burstInOneWindow(601);
    expect(statuses.slice(0, 600).every((s) => s === 400)).toBe(true);
    expect(statuses[600]).toBe(429);
  });
});
