import { beforeAll, describe, expect, it } from "vitest";
import demoFile from "../../models/default/demo-visitors.json";
import { loadModelDir } from "../../scripts/evaluate/scorer";
import { DEMO_SITE, DEMO_SLOTS, demoItems, demoVisitors } from "../../scripts/seed/demo-data";
import { fillSlots } from "../../worker/decisions/rank";
import { bucketOf, holdoutSalt } from "../../worker/experiments/assign";
import type { Scorer } from "../../worker/inference/model";
import { readPolicy, sitePolicySchema } from "../../worker/site/policy";

/**
 * The demo's promise: a person who takes a demo visitor's cookie and gives consent sees a page
 * made for that visitor. So each demo visitor must be outside the holdout, whatever share the
 * policy holds out, and the bundled model must rank what they like first, differently from an
 * anonymous visitor and from each other.
 */

/** The page the demo shows: the hero, three recommendations and the promo strip, filled in that order. */
const PAGE_SLOTS = DEMO_SLOTS.map((slot) => ({ id: slot.id, count: slot.defaultCount === 1 ? 1 : 3 }));

describe("the demo visitors", () => {
  let scorer: Scorer;
  beforeAll(async () => {
    scorer = await loadModelDir("models/default");
  });

  /** The demo page as the bundled model fills it for `profile` (the worker's own ranking function). */
  async function page(profile: ReturnType<typeof demoVisitors>[number]["profile"] | null) {
    const items = demoItems();
    const raw = await scorer.score(
      profile ? { ...profile, recent: [] } : null,
      demoFile.rankingContext,
      items.map((item) => ({ contentId: item.id, attributes: item.attributes })),
    );
    const scores = new Map(items.map((item, i) => [item.id, raw[i] ?? 0]));
    const filled = fillSlots(PAGE_SLOTS, items, Date.now(), scores);
    const title = new Map(items.map((item) => [item.id, item.render.title]));
    return Object.fromEntries(filled.map((s) => [s.slot, s.items.map((item) => title.get(item.contentId) ?? "")]));
  }

  it("are outside the demo site's holdout for every share a policy may set", async () => {
    const largestShare = sitePolicySchema.shape.holdout.unwrap().shape.share.maxValue ?? 1;
    expect(largestShare).toBe(0.5);
    const seeded = readPolicy(undefined).holdout.share;
    expect(seeded).toBeGreaterThan(0);
    for (const visitor of demoVisitors()) {
      const bucket = await bucketOf(holdoutSalt(DEMO_SITE.id), visitor.id);
      expect(bucket, visitor.theme).toBeGreaterThanOrEqual(largestShare);
    }
  });

  it("see what they like first, in the hero and the first recommendation, which an anonymous visitor does not", async () => {
    const anonymous = await page(null);
    const pages = [];
    for (const visitor of demoVisitors()) {
      expect(Object.keys(visitor.profile.itemAffinity).length, visitor.theme).toBeGreaterThanOrEqual(2);
      const seen = await page(visitor.profile);
      expect(seen.hero?.[0], visitor.theme).toMatch(visitor.likes);
      expect(seen.recommendations?.[0], visitor.theme).toMatch(visitor.likes);
      // At least two of the four products at the top of the page are of the visitor's taste.
      const top = [...(seen.hero ?? []), ...(seen.recommendations ?? [])];
      expect(top.filter((title) => visitor.likes.test(title)).length, visitor.theme).toBeGreaterThanOrEqual(2);
      // The anonymous page leads with none of them.
      expect(anonymous.hero?.[0], visitor.theme).not.toMatch(visitor.likes);
      expect(anonymous.recommendations?.[0], visitor.theme).not.toMatch(visitor.likes);
      pages.push(top.join(" | "));
    }
    expect(new Set(pages).size).toBe(demoVisitors().length);
  });
});
