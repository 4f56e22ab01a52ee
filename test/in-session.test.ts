import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ringManifest from "../models/fixtures/sequence-ring/manifest.json";
import ringModel from "../models/fixtures/sequence-ring/model.onnx";
import { waitFor } from "../scripts/harness/wait";
import { RECENT_ITEMS_MAX } from "../worker/inference/manifest";
import { contentItems } from "../worker/store/schema";
import { applyInteractions } from "../worker/visitors/features";
import type { DecideResponse } from "../worker/wire/decide";
import type { InteractionEvent } from "../worker/wire/events";
import { createSite, db, decideAs, newVisitorId, putProfile, visitorCookie, visitorState } from "./support/fixtures";
import { countFor, event, postEvents, shownIn } from "./support/pipeline";
import { post, push, resetRegistry } from "./support/registry";

/**
 * In-session personalization with a live `sequence` model (models/fixtures/sequence-ring, trained
 * on a SYNTHETIC ring where item k is followed by item k+1): a click goes through the events API,
 * the real local queue and the consumer into the visitor's profile (`recent`, most recent first),
 * and the very next decision ranks from it: the top recommendation moves from around the
 * end of the visitor's history to around the clicked item.
 */

const RING_ITEMS = 60;
/** The one item of the hero slot: far along the ring from where the visitor's history ends. */
const HERO_ITEM = "i41";
const ringPosition = (contentId: string | undefined) => Number(contentId?.slice(1));
/** Steps along the ring between two items, either way round. */
function ringDistance(a: string, b: string | undefined): number {
  const forward = (ringPosition(b) - ringPosition(a) + RING_ITEMS) % RING_ITEMS;
  return Number.isNaN(forward) ? Number.POSITIVE_INFINITY : Math.min(forward, RING_ITEMS - forward);
}

/** The recommendation the model scores highest among items the visitor has not taken yet. */
function bestUntaken(d: DecideResponse, taken: readonly string[]): string | undefined {
  const items = d.slots.find((s) => s.slot === "recommendations")?.items ?? [];
  const untaken = items.filter((i) => !taken.includes(i.contentId) && i.score !== null);
  return untaken.reduce<(typeof untaken)[number] | undefined>(
    (best, i) => (best && (best.score ?? 0) >= (i.score ?? 0) ? best : i),
    undefined,
  )?.contentId;
}

describe("a click moves the next decision through the visitor's recent items", () => {
  let site: string;
  beforeAll(async () => {
    await resetRegistry();
    site = await createSite("in-session-site", { consentModel: "opt-out" });
    await db.delete(contentItems).where(eq(contentItems.siteId, site));
    const [first, ...rest] = Array.from({ length: RING_ITEMS }, (_, k) =>
      db.insert(contentItems).values({
        siteId: site,
        id: `i${k}`,
        slotIds: [`i${k}` === HERO_ITEM ? "hero" : "recommendations"],
        render: { title: `Ring item ${k}` },
        attributes: { shelf: `shelf-${k % 4}` },
      }),
    );
    if (first) await db.batch([first, ...rest]);
    const pushed = await push(ringManifest.version, { manifest: ringManifest, bytes: ringModel });
    expect(pushed.status).toBe(201);
    expect((await post(`/models/${ringManifest.version}/promote`)).status).toBe(200);
  });
  afterAll(resetRegistry);

  it("ranks around the clicked item as soon as the consumer has applied the click", async () => {
    const visitor = newVisitorId();
    await putProfile(site, visitor, {
      recent: [
        { id: "i20", ts: 2_000 },
        { id: "i19", ts: 1_000 },
      ],
    });
    const cookie = await visitorCookie(visitor);

    const before = await decideAs(site, { cookie });
    expect(before.mode).toBe("personalized");
    expect(before.modelVersion).toBe(ringManifest.version);
    const first = bestUntaken(before, ["i20", "i19"]);
    // The tiny ring model places the next item in the neighbourhood of the latest one (as in parity-sequence.test.ts).
    expect(ringDistance("i20", first)).toBeLessThanOrEqual(2);

    const hero = shownIn(before).find((s) => s.slot === "hero");
    expect(hero?.contentId).toBe(HERO_ITEM);
    if (!hero) return;
    expect((await postEvents([event(before, hero, "click")])).status).toBe(202);
    await waitFor(async () => (await countFor(before.decisionId)) === 1);
    const profileNow = async () => (await visitorState(visitor)).profiles[site];
    await waitFor(async () => (await profileNow())?.recent[0]?.id === HERO_ITEM);
    const profile = await profileNow();
    expect(profile?.recent?.map((r) => r.id)).toEqual([HERO_ITEM, "i20", "i19"]);

    const after = await decideAs(site, { cookie });
    const next = bestUntaken(after, [HERO_ITEM, "i20", "i19"]);
    expect(ringDistance(HERO_ITEM, next)).toBeLessThanOrEqual(2);
    expect(ringDistance(first ?? "", next)).toBeGreaterThan(10);
  });
});

describe("the profile's recent items", () => {
  const click = (contentId: string, ts: number, eventId = `e-${contentId}-${ts}`): InteractionEvent => ({
    type: "interaction",
    kind: "click",
    eventId,
    decisionId: "d",
    slot: "recommendations",
    contentId,
    policy: "model",
    modelVersion: "m",
    ts,
    siteId: "s",
    visitorId: "v",
    measurement: true,
    personalization: true,
    bot: false,
  });

  // A redelivered click counts once: the visitor's object applies each event id once (test/visitors.test.ts).
  it("keeps clicks most recent first, at most RECENT_ITEMS_MAX", () => {
    // A batch may arrive out of order; the list is ordered by the events' times.
    let profile = applyInteractions(null, [click("b", 20), click("a", 10)], 30);
    expect(profile.recent).toEqual([
      { id: "b", ts: 20 },
      { id: "a", ts: 10 },
    ]);
    profile = applyInteractions(profile, [click("c", 40)], 50);
    expect(profile.recent?.map((r) => r.id)).toEqual(["c", "b", "a"]);
    const many = Array.from({ length: RECENT_ITEMS_MAX + 5 }, (_, k) => click(`x${k}`, 100 + k));
    profile = applyInteractions(profile, many, 500);
    expect(profile.recent).toHaveLength(RECENT_ITEMS_MAX);
    expect(profile.recent?.[0]?.id).toBe(`x${RECENT_ITEMS_MAX + 4}`);
    // Impressions are not taken items.
    expect(applyInteractions(null, [{ ...click("d", 1), kind: "impression" }], 2).recent).toEqual([]);
  });
});
