import { env, SELF } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import { waitFor } from "../scripts/harness/wait";
import { demoItems } from "../scripts/seed/demo-data";
import { createRandom } from "../scripts/train/random";
import { sha256Hex } from "../worker/inference/scorer";
import { auditLog } from "../worker/store/schema";
import type { DecideResponse } from "../worker/wire/decide";
import linearModel from "./fixtures/linear-5.onnx";
import { BROWSER, createSite, db, decideOk, expectError, measured, newVisitorId, PAGE, visitorCookie } from "./support/fixtures";
import { loggedRows } from "./support/log";
import { event, postEvents } from "./support/pipeline";
import { bundledManifest, post, push, resetRegistry } from "./support/registry";

/** Content variants: import with a blocklist, the human review gate, and serving. */
const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" };
const call = (path: string, method = "GET", body?: unknown) =>
  SELF.fetch(`https://edge.example/v1/admin${path}`, {
    method,
    headers: ADMIN,
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe("content variants: import and review", () => {
  it("imports drafts, rejects blocklisted and invalid variants with reasons, and audits each review", async () => {
    const site = await createSite("variants-site", { policy: { holdout: { share: 0 }, blocklist: ["miracle", "guaranteed"] } });
    const [item] = demoItems();
    if (!item) throw new Error("a demo item expected");
    const base = { contentId: item.id, language: "fr", synthetic: false, provenance: { origin: "human" } };
    const res = await call(`/sites/${site}/variants`, "POST", {
      variants: [
        { ...base, id: "fr-1", components: { title: "Pull en mérinos", cta: "Découvrir" } },
        { ...base, id: "fr-2", components: { title: "A MIRACLE knit, guaranteed warm" } },
        { ...base, id: "gen-1", synthetic: true, provenance: { origin: "generated" }, components: { title: "Généré" } },
        { ...base, id: "js", components: { imageUrl: "javascript:alert(1)" } },
        { ...base, id: "ghost", contentId: "no-such-item", components: { title: "x" } },
      ],
    });
    expect(res.status).toBe(200);
    const body = await res.json<{ imported: number; rejected: { id?: string; index: number; reason: string }[] }>();
    expect(body.imported).toBe(1);
    expect(body.rejected.map((r) => r.index)).toEqual([1, 2, 3, 4]);
    expect(body.rejected[0]?.reason).toBe("blocklisted: miracle, guaranteed");
    expect(body.rejected[1]?.reason).toContain("provenance.tool");
    expect(body.rejected[2]?.reason).toContain("imageUrl");
    expect(body.rejected[3]?.reason).toBe(`no content item "no-such-item"`);

    const drafts = await (await call(`/sites/${site}/variants?status=draft`)).json<{ variants: { id: string; status: string }[] }>();
    expect(drafts.variants.map((v) => [v.id, v.status])).toEqual([["fr-1", "draft"]]);

    expect((await call(`/sites/${site}/variants/${item.id}/fr-1/review`, "POST", { status: "approved" })).status).toBe(200);
    const approved = await (await call(`/sites/${site}/variants?status=approved`)).json<{
      variants: { id: string; reviewedBy: string; reviewedAt: string }[];
    }>();
    expect(approved.variants[0]).toMatchObject({ id: "fr-1", reviewedBy: "admin" });
    expect(Date.parse(approved.variants[0]?.reviewedAt ?? "")).toBeGreaterThan(0);
    const actions = (await db.select().from(auditLog)).map((a) => [a.action, a.target]);
    expect(actions).toContainEqual(["admin.variant.approve", `${site}:${item.id}:fr-1`]);

    // A re-import is a new draft that must be reviewed again.
    await call(`/sites/${site}/variants`, "POST", {
      variants: [{ ...base, id: "fr-1", components: { title: "Pull en mérinos (nouveau)" } }],
    });
    const again = await (await call(`/sites/${site}/variants?status=approved`)).json<{ variants: unknown[] }>();
    expect(again.variants).toEqual([]);

    expect((await expectError(await call(`/sites/${site}/variants/${item.id}/nope/review`, "POST", { status: "approved" }))).status).toBe(
      404,
    );
    expect((await expectError(await call(`/sites/${site}/variants/${item.id}/fr-1/review`, "POST", { status: "maybe" }))).field).toBe(
      "status",
    );
    const asPrivacy = await SELF.fetch(`https://edge.example/v1/admin/sites/${site}/variants`, {
      headers: { authorization: `Bearer ${env.PRIVACY_TOKEN}` },
    });
    expect(asPrivacy.status).toBe(403);
  });
});

/**
 * Serving: only approved variants in the visitor's language, ranked by the model, with cold start;
 * synthetic ones labelled; variant and component ids through events into the report.
 */
const items = demoItems();
const hero = items.find((item) => item.slotIds.includes("hero")) as (typeof items)[number];
const human = { origin: "human" };

async function importVariants(site: string, variants: unknown[], approve: string[]) {
  const res = await call(`/sites/${site}/variants`, "POST", { variants });
  expect(res.status).toBe(200);
  for (const id of approve) {
    const [contentId, variantId] = id.includes("/") ? id.split("/") : [hero.id, id];
    expect((await call(`/sites/${site}/variants/${contentId}/${variantId}/review`, "POST", { status: "approved" })).status).toBe(200);
  }
  return res.json<{ rejected: { id?: string; reason: string }[] }>();
}

const variant = (id: string, language: string, title: string, extra: Record<string, unknown> = {}) => ({
  contentId: hero.id,
  id,
  language,
  components: { title, cta: "Shop now" },
  provenance: human,
  synthetic: false,
  ...extra,
});

const heroItem = (d: DecideResponse) => d.slots.find((s) => s.slot === "hero")?.items[0];
const pinHero = { pinned: [{ slot: "hero", contentId: hero.id, share: 1 }] };

async function decideHero(site: string, headers: Record<string, string> = {}, page: Record<string, string> = {}) {
  return decideOk({ site, page: { ...PAGE, ...page }, slots: [{ id: "hero" }] }, { headers });
}

describe("content variants: serving", () => {
  afterAll(resetRegistry);

  it("never serves an unapproved or blocklisted variant, even when the model scores it highest", async () => {
    const site = await createSite("variants-gate", {
      policy: { holdout: { share: 0 }, blocklist: ["free"], variants: { coldStart: { share: 0 } } },
    });
    const { rejected } = await importVariants(
      site,
      [
        variant("v-draft", "en", "Draft headline"),
        variant("v-blocked", "en", "Totally free coat"),
        variant("v-a", "en", "Headline A"),
        variant("v-b", "en", "Headline B"),
      ],
      ["v-a", "v-b"],
    );
    expect(rejected).toEqual([{ index: 1, id: "v-blocked", reason: "blocklisted: free" }]);

    // A linear model whose weights favour v-draft and v-blocked (4) over v-a (1) and v-b (0.5):
    // score = sigmoid(w · one-hot(variant)); items without variants score sigmoid(0).
    const bytes = linearModel as ArrayBuffer;
    const manifest = {
      ...bundledManifest,
      version: "variant-linear",
      sha256: await sha256Hex(bytes),
      quantization: "none",
      input: { name: "features", dims: 5 },
      output: { name: "score" },
      features: [
        { name: "variant", kind: "categorical", source: "item", key: "variant", vocabulary: ["v-draft", "v-blocked", "v-a", "v-b"] },
      ],
      drift: undefined,
      training: undefined,
    };
    expect((await push("variant-linear", { manifest, bytes })).status).toBe(201);
    expect((await post("/models/variant-linear/promote")).status).toBe(200);

    for (let i = 0; i < 12; i++) {
      const shown = heroItem(await decideHero(site));
      expect(shown?.contentId).toBe(hero.id);
      expect(shown?.variant).toMatchObject({ id: "v-a", reason: "model", propensity: 1 });
      expect(shown?.title).toBe("Headline A");
      expect(shown?.score).toBeCloseTo(1 / (1 + Math.exp(-1)), 5);
    }
    // Approving the draft makes it a candidate, and the model's favourite at once.
    expect((await call(`/sites/${site}/variants/${hero.id}/v-draft/review`, "POST", { status: "approved" })).status).toBe(200);
    expect(heroItem(await decideHero(site))?.variant?.id).toBe("v-draft");
    // Rejecting it takes it out again.
    expect((await call(`/sites/${site}/variants/${hero.id}/v-draft/review`, "POST", { status: "rejected" })).status).toBe(200);
    expect(heroItem(await decideHero(site))?.variant?.id).toBe("v-a");

    // Cold start: with both still new, v-b is drawn in half the share, with its exact propensity.
    await env.DB.prepare("UPDATE sites SET policy = ? WHERE id = ?")
      .bind(JSON.stringify({ holdout: { share: 0 }, variants: { coldStart: { share: 0.5, minImpressions: 100 } } }), site)
      .run();
    const seen = new Map<string, { n: number; reasons: Set<string>; propensity: number }>();
    for (let i = 0; i < 60; i++) {
      const v = heroItem(await decideHero(site))?.variant;
      if (!v) throw new Error("a variant expected");
      const entry = seen.get(v.id) ?? { n: 0, reasons: new Set(), propensity: v.propensity };
      entry.n++;
      entry.reasons.add(v.reason);
      expect(v.propensity).toBe(entry.propensity);
      seen.set(v.id, entry);
    }
    // P(v-a) = 0.5 (model) + 0.5 × 1/2 (cold start); P(v-b) = 0.5 × 1/2.
    expect(seen.get("v-a")?.propensity).toBe(0.75);
    expect(seen.get("v-b")?.propensity).toBe(0.25);
    expect(seen.get("v-b")?.reasons).toEqual(new Set(["cold-start"]));
    expect(seen.get("v-b")?.n).toBeGreaterThan(3);
    expect([...seen.keys()].sort()).toEqual(["v-a", "v-b"]);
    await resetRegistry();
  });

  it("picks the language from the page, then Accept-Language, then the site default, then the item itself", async () => {
    const site = await createSite("variants-lang", { policy: { holdout: { share: 0 }, ...pinHero } });
    await importVariants(
      site,
      [variant("en-1", "en", "Warm coat"), variant("fr-1", "fr", "Manteau chaud"), variant("pt-1", "pt-BR", "Casaco quente")],
      ["en-1", "fr-1", "pt-1"],
    );
    const shown = async (acceptLanguage: string, pageLanguage?: string) =>
      heroItem(await decideHero(site, { "accept-language": acceptLanguage }, pageLanguage ? { language: pageLanguage } : {}));

    expect((await shown("fr-CA,fr;q=0.9,en;q=0.5"))?.variant?.id).toBe("fr-1");
    expect((await shown("de-DE,de;q=0.9"))?.variant?.id).toBe("en-1"); // the site default, en
    expect((await shown("pt"))?.variant?.id).toBe("pt-1"); // a bare language matches its regional versions
    expect((await shown("en;q=0.2,fr;q=0.8"))?.variant?.id).toBe("fr-1"); // by quality, not order
    expect((await shown("en", "fr"))?.variant?.id).toBe("fr-1"); // the page's own language first
    const fr = await shown("fr");
    expect(fr).toMatchObject({ title: "Manteau chaud", cta: "Shop now", variant: { language: "fr" } });

    // Query form (the tag): ?lang=; a malformed tag is a 400 naming the field.
    const query = `site=${site}&slots=hero&url=${encodeURIComponent(PAGE.url)}`;
    const viaTag = await SELF.fetch(`https://edge.example/v1/decide?${query}&lang=fr`, { headers: { "user-agent": BROWSER } });
    expect(heroItem(await viaTag.json())?.variant?.id).toBe("fr-1");
    const bad = await SELF.fetch(`https://edge.example/v1/decide?${query}&lang=${encodeURIComponent("<x>")}`, {
      headers: { "user-agent": BROWSER },
    });
    expect((await expectError(bad)).field).toBe("page.language");

    // No variant in any language of the chain: the item's own content.
    await env.DB.prepare("UPDATE sites SET policy = ? WHERE id = ?")
      .bind(JSON.stringify({ holdout: { share: 0 }, ...pinHero, variants: { defaultLanguage: "de" } }), site)
      .run();
    const own = await shown("ja");
    expect(own?.variant).toBeUndefined();
    expect(own?.title).toBe(hero.render.title);
  });

  it("marks synthetic variants in the edge-rewritten HTML, with the site's visible label or without it", async () => {
    const site = await createSite("variants-edge", { originUrl: "bundled:demo", policy: { holdout: { share: 0 } } });
    const all = items.map((item) => ({
      contentId: item.id,
      id: "gen",
      language: "en",
      components: { title: `${item.render.title}, reimagined` },
      provenance: { origin: "generated", tool: "test-writer 1.0" },
      synthetic: true,
    }));
    await importVariants(
      site,
      all,
      items.map((item) => `${item.id}/gen`),
    );
    const page = async () => {
      const res = await SELF.fetch(`https://edge.example/edge/${site}/`, { headers: { "user-agent": BROWSER, "accept-language": "en" } });
      expect(res.status).toBe(200);
      return res.text();
    };
    const labelled = await page();
    const filled = labelled.match(/<div class="ep-item"[^>]*>/g) ?? [];
    expect(filled.length).toBe(5);
    for (const tag of filled) expect(tag).toMatch(/data-variant-id="gen" data-synthetic="true"/);
    expect(labelled.match(/<span class="ep-synthetic-label">AI-generated<\/span>/g)?.length).toBe(5);

    await env.DB.prepare("UPDATE sites SET policy = ? WHERE id = ?")
      .bind(JSON.stringify({ holdout: { share: 0 }, variants: { syntheticLabel: { visible: false } } }), site)
      .run();
    const unlabelled = await page();
    expect(unlabelled).toContain('data-synthetic="true"');
    expect(unlabelled).not.toContain("ep-synthetic-label");

    // The French page (Content-Language: fr) has no French variant here: English, then the item itself.
    const french = await (
      await SELF.fetch(`https://edge.example/edge/${site}/fr`, { headers: { "user-agent": BROWSER, "accept-language": "fr" } })
    ).text();
    expect(french).toContain('lang="fr"');
    expect(french).toContain('data-variant-id="gen"');
  });

  it("carries variant and component ids into events and the report, where the truly better headline wins", async () => {
    const site = await createSite("variants-sim", {
      policy: {
        holdout: { share: 0 },
        ...pinHero,
        fairness: { segments: ["device"] },
        variants: { coldStart: { share: 0.2, minImpressions: 40 } },
      },
    });
    await importVariants(site, [variant("good", "en", "Warm wool for cold days"), variant("plain", "en", "Wool coat")], ["good", "plain"]);
    // Known truth: the good headline is clicked 35% of the time, the plain one 5%.
    const random = createRandom(7);
    let decisions = 0;
    let first: { cookie: string; decision: DecideResponse } | undefined;
    const batch: unknown[] = [];
    for (let i = 0; i < 160; i++) {
      const cookie = await visitorCookie(newVisitorId());
      const d = await measured(() => decideOk({ site, page: PAGE, slots: [{ id: "hero" }] }, { cookie }));
      const shown = heroItem(d);
      if (!shown?.variant) throw new Error("a variant expected");
      first ??= { cookie, decision: d };
      decisions++;
      const where = { slot: "hero", contentId: shown.contentId };
      batch.push(event(d, where, "impression"));
      if (random.next() < (shown.variant.id === "good" ? 0.35 : 0.05)) batch.push(event(d, where, "click"));
      if (batch.length >= 90) expect((await postEvents(batch.splice(0))).status).toBe(202);
    }
    if (batch.length) expect((await postEvents(batch.splice(0))).status).toBe(202);
    const impressions = async () => (await loggedRows(site)).filter((row) => row.event === "impression");
    await waitFor(async () => (await impressions()).length === decisions);
    // Both variants have passed minImpressions (40) in the roll-ups: cold start is over, and the
    // variant-blind model's tie splits the traffic evenly.
    for (let i = 0; i < 8; i++) {
      expect(heroItem(await decideOk({ site, page: PAGE, slots: [{ id: "hero" }] }))?.variant).toMatchObject({
        reason: "model",
        propensity: 0.5,
      });
    }
    const stored = (await loggedRows(site)).filter((row) => row.kind === "interaction");
    expect(new Set(stored.map((r) => r.variant_id))).toEqual(new Set(["good", "plain"]));
    expect(new Set(stored.map((r) => r.variant_reason))).toEqual(new Set(["model", "cold-start"]));
    const logged = (await loggedRows(site)).find((row) => row.kind === "decision");
    expect(logged?.slots?.[0]?.items[0]?.variant).toMatchObject({
      components: { title: expect.stringMatching(/^title-/) },
    });

    // The visitor's own account names the version shown, and why.
    const why = await (
      await SELF.fetch(`https://edge.example/v1/why?decisionId=${first?.decision.decisionId}`, { headers: { cookie: first?.cookie ?? "" } })
    ).json<{ slots: { items: { title: string; variant?: { id: string; why: string } }[] }[] }>();
    const explained = why.slots[0]?.items[0];
    expect(explained?.variant?.id).toBe(heroItem(first?.decision as DecideResponse)?.variant?.id);
    expect(explained?.title).toBe(heroItem(first?.decision as DecideResponse)?.title);
    expect(explained?.variant?.why).toMatch(/version in your language/);

    const report = await (await call(`/reports/variants?site=${site}`)).json<{
      variants: { variantId: string; impressions: number; clicks: number; coldStart: { impressions: number; isNew: boolean } }[];
      components: { kind: string; componentId: string; text: string; stats: { impressions: number; ctr: number } }[];
      leaders: {
        contentId: string;
        kind: string;
        leader: string | null;
        bySegment: { segment: string; value: string; leader: string | null }[];
      }[];
      coldStart: { impressions: number; share: number };
    }>();
    const byId = new Map(report.variants.map((v) => [v.variantId, v]));
    expect((byId.get("good")?.impressions ?? 0) + (byId.get("plain")?.impressions ?? 0)).toBe(decisions);
    expect(report.coldStart.impressions).toBeGreaterThan(0);
    expect(report.coldStart.impressions).toBe((await impressions()).filter((row) => row.variant_reason === "cold-start").length);
    expect(report.variants.map((v) => v.coldStart.isNew)).toEqual([false, false]);
    const good = report.components.find((c) => c.text === "Warm wool for cold days");
    const cta = report.components.filter((c) => c.kind === "cta");
    // Both variants share their call to action: one component, pooling all impressions.
    expect(cta).toHaveLength(1);
    expect(cta[0]?.stats.impressions).toBe(decisions);
    const titles = report.leaders.find((l) => l.kind === "title");
    expect(titles?.leader).toBe(good?.componentId);
    expect(titles?.bySegment).toEqual([{ segment: "device", value: "desktop", leader: good?.componentId }]);
  });
});
