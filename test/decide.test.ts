import { env, SELF } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { demoItems } from "../scripts/seed/demo-data";
import { buildContext } from "../worker/decisions/context";
import { scorerFor } from "../worker/inference/model";
import { bundledSource } from "../worker/inference/registry";
import { featuresOf } from "../worker/visitors/features";
import { decideResponseSchema } from "../worker/wire/decide";
import {
  type Asker,
  BROWSER,
  contentIds,
  createSite,
  decideAs,
  decideBody,
  decideOk,
  newVisitorId,
  PAGE,
  profiledVisitor,
  visitorCookie,
  visitorState,
} from "./support/fixtures";

const CF = { country: "JP", timezone: "Asia/Tokyo" };
/**
 * The clock every decision here is made at (noon on a Wednesday in Tokyo): the model reads the local
 * hour and weekday, so rankings, and whether two of them differ, would otherwise depend on when the
 * suite runs. Vitest's clock is the worker's too: SELF runs the worker in the test's isolate.
 */
const NOW = new Date("2026-11-25T03:00:00Z");

/** The demo slots decided for a visitor in Tokyo. */
const decideInTokyo = (site: string, as: Asker = {}) => decideAs(site, { ...as, cf: CF });

describe("POST /v1/decide", () => {
  let site: string;
  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: NOW });
    site = await createSite("decide-site", { consentModel: "opt-out" });
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  it("answers every requested slot with its count, no content twice, ranked by the model", async () => {
    const res = await decideOk(decideBody(site, [{ id: "hero" }, { id: "recommendations", count: 5 }, { id: "promo", count: 2 }]));
    expect(res.mode).toBe("contextual");
    expect(res.modelVersion).toBe(bundledSource.version);
    expect(res.slots.map((s) => [s.slot, s.items.length])).toEqual([
      ["hero", 1],
      ["recommendations", 5],
      ["promo", 2],
    ]);
    const ids = contentIds(res);
    expect(new Set(ids).size).toBe(ids.length);
    for (const slot of res.slots) {
      expect(slot.policy).toBe("model");
      expect(slot.fallback).toBeUndefined();
      expect(slot.items.map((i) => i.rank)).toEqual(slot.items.map((_, i) => i + 1));
      const scores = slot.items.map((i) => i.score ?? Number.NaN);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      for (const item of slot.items) {
        expect(item.reason).toBe("model");
        expect(item.title.length).toBeGreaterThan(0);
      }
    }
  });

  it("gives the same ranking for the same inputs", async () => {
    const first = await decideInTokyo(site);
    const second = await decideInTokyo(site);
    expect(contentIds(second)).toEqual(contentIds(first));
    expect(second.decisionId).not.toBe(first.decisionId);
  });

  it("ranks two visitors differently, as the model scores the features their objects hold", async () => {
    const idA = await profiledVisitor(site, 0);
    const idB = await profiledVisitor(site, 1);

    const resA = await decideInTokyo(site, { cookie: await visitorCookie(idA) });
    const resB = await decideInTokyo(site, { cookie: await visitorCookie(idB) });
    expect(resA.mode).toBe("personalized");
    expect(resB.mode).toBe("personalized");
    expect(contentIds(resA)).not.toEqual(contentIds(resB));

    // The scores each visitor got are the model's scores for that visitor's own stored features.
    const scorer = await scorerFor(bundledSource);
    const context = buildContext({ now: NOW, cf: CF, siteTimezone: "Asia/Tokyo", userAgent: BROWSER, page: PAGE, languages: ["en"] });
    for (const [id, res] of [
      [idA, resA],
      [idB, resB],
    ] as const) {
      const stored = (await visitorState(id)).profiles[site];
      const profile = stored ? featuresOf(stored) : null;
      const shown = res.slots.flatMap((s) => s.items);
      const byId = new Map(demoItems().map((item) => [item.id, item]));
      const expected = await scorer.score(
        profile,
        context,
        shown.map((item) => ({ contentId: item.contentId, attributes: byId.get(item.contentId)?.attributes ?? {} })),
      );
      shown.forEach((item, i) => {
        expect(item.score).toBeCloseTo(expected[i] ?? Number.NaN, 6);
      });
    }
  });

  it("ranks a personalized visitor differently from an anonymous one", async () => {
    const id = await profiledVisitor(site);
    const anonymous = await decideInTokyo(site);
    const personal = await decideInTokyo(site, { cookie: await visitorCookie(id) });
    expect(anonymous.mode).toBe("contextual");
    // A new visitor on an opt-out site is decided under the id it is given: no profile yet.
    expect(anonymous.modeReason).toBe("no_profile");
    expect(personal.mode).toBe("personalized");
    expect(contentIds(personal)).not.toEqual(contentIds(anonymous));
  });

  it("does not read the profile of a visitor who sends Global Privacy Control", async () => {
    const id = await profiledVisitor(site);
    const res = await decideInTokyo(site, { cookie: await visitorCookie(id), headers: { "sec-gpc": "1" } });
    expect(res.mode).toBe("contextual");
    expect(res.modeReason).toBe("gpc");
  });

  it("does not personalize on an opt-in site before consent", async () => {
    const optIn = await createSite("decide-opt-in", { consentModel: "opt-in" });
    const id = await profiledVisitor(optIn);
    const res = await decideInTokyo(optIn, { cookie: await visitorCookie(id) });
    expect(res.mode).toBe("contextual");
    expect(res.modeReason).toBe("opt-in_without_consent");
  });

  it("treats a visitor with consent but no stored profile as contextual", async () => {
    const res = await decideInTokyo(site, { cookie: await visitorCookie(newVisitorId()) });
    expect(res.mode).toBe("contextual");
    expect(res.modeReason).toBe("no_profile");
  });

  it("accepts an id signed with the previous key during a rotation", async () => {
    const id = await profiledVisitor(site);
    const res = await decideInTokyo(site, { cookie: await visitorCookie(id, env.ID_SIGNING_KEY_PREVIOUS) });
    expect(res.mode).toBe("personalized");
  });

  it("ignores a tampered or unsigned id: an unidentified visitor", async () => {
    const id = await profiledVisitor(site);
    const signed = await visitorCookie(id, "some-other-key");
    for (const cookie of [signed, `ep_vid=${id}`, `ep_vid=${id}.AAAA`]) {
      const res = await decideInTokyo(site, { cookie });
      expect(res.mode).toBe("contextual");
      // A fresh id, not the forged one (whose profile would have made it personalized).
      expect(res.modeReason).toBe("no_profile");
    }
  });
});

describe("GET /v1/decide (for the script tag)", () => {
  let site: string;
  beforeAll(async () => {
    site = await createSite("get-site", { allowedOrigins: ["https://shop.example"] });
  });

  const url = (query: string) => `https://edge.example/v1/decide?${query}`;

  it("parses slots=hero,recommendations:3 and answers with CORS for an allowed origin", async () => {
    const res = await SELF.fetch(url(`site=${site}&slots=hero,recommendations:3&url=${encodeURIComponent("https://shop.example/")}`), {
      headers: { origin: "https://shop.example" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://shop.example");
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
    expect(res.headers.get("vary")).toContain("Origin");
    expect(res.headers.get("cache-control")).toContain("private");
    const body = decideResponseSchema.parse(await res.json());
    expect(body.slots.map((s) => [s.slot, s.items.length])).toEqual([
      ["hero", 1],
      ["recommendations", 3],
    ]);
  });

  it("gives no CORS grant to an origin the site does not allow", async () => {
    const res = await SELF.fetch(url(`site=${site}&slots=hero&url=${encodeURIComponent("https://shop.example/")}`), {
      headers: { origin: "https://evil.example" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("answers preflights only for origins some site allows", async () => {
    const ok = await SELF.fetch(url(""), {
      method: "OPTIONS",
      headers: { origin: "https://shop.example", "access-control-request-method": "POST" },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://shop.example");
    const refused = await SELF.fetch(url(""), {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("GET /health", () => {
  it("names the serving model version", async () => {
    const res = await SELF.fetch("https://edge.example/health");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; model: { version: string; loaded: boolean } };
    expect(body.status).toBe("ok");
    expect(body.model.version).toBe(bundledSource.version);
  });
});
