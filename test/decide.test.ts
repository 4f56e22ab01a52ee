import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { demoItems, demoVisitors } from "../scripts/seed/demo-data";
import { buildContext } from "../worker/decisions/context";
import { scorerFor } from "../worker/inference/model";
import { bundledSource } from "../worker/inference/registry";
import { readProfile } from "../worker/store/profiles";
import { decideResponseSchema } from "../worker/wire/decide";
import { contentIds, createSite, decideBody, decideOk, newVisitorId, PAGE, putProfile, visitorCookie } from "./support/fixtures";

const CF = { country: "JP", timezone: "Asia/Tokyo" };
const SAFARI = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Safari/605.1.15";

async function decideAs(site: string, headers: Record<string, string>) {
  const res = await SELF.fetch("https://edge.example/v1/decide", {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": SAFARI, ...headers },
    body: JSON.stringify(decideBody(site)),
    cf: CF,
  } as RequestInit);
  expect(res.status).toBe(200);
  return decideResponseSchema.parse(await res.json());
}

describe("POST /v1/decide", () => {
  let site: string;
  beforeAll(async () => {
    site = await createSite("decide-site", { consentModel: "opt-out" });
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
    const first = await decideAs(site, {});
    const second = await decideAs(site, {});
    expect(contentIds(second)).toEqual(contentIds(first));
    expect(second.decisionId).not.toBe(first.decisionId);
  });

  it("ranks two visitors differently, as the model scores their KV features", async () => {
    const [a, b] = demoVisitors();
    if (!a || !b) throw new Error("two demo visitors expected");
    const idA = newVisitorId();
    const idB = newVisitorId();
    await putProfile(site, idA, a.profile);
    await putProfile(site, idB, b.profile);

    const resA = await decideAs(site, { cookie: await visitorCookie(idA) });
    const resB = await decideAs(site, { cookie: await visitorCookie(idB) });
    expect(resA.mode).toBe("personalized");
    expect(resB.mode).toBe("personalized");
    expect(contentIds(resA)).not.toEqual(contentIds(resB));

    // The scores each visitor got are the model's scores for that visitor's own stored features.
    const scorer = await scorerFor(bundledSource);
    const context = buildContext({ now: new Date(), cf: CF, siteTimezone: "Asia/Tokyo", userAgent: SAFARI, page: PAGE, languages: ["en"] });
    for (const [id, res] of [
      [idA, resA],
      [idB, resB],
    ] as const) {
      const profile = await readProfile(env.PROFILES, site, id);
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
    const [a] = demoVisitors();
    if (!a) throw new Error("a demo visitor expected");
    const id = newVisitorId();
    await putProfile(site, id, a.profile);
    const anonymous = await decideAs(site, {});
    const personal = await decideAs(site, { cookie: await visitorCookie(id) });
    expect(anonymous.mode).toBe("contextual");
    expect(anonymous.modeReason).toBe("no_visitor_id");
    expect(personal.mode).toBe("personalized");
    expect(contentIds(personal)).not.toEqual(contentIds(anonymous));
  });

  it("does not read the profile of a visitor who sends Global Privacy Control", async () => {
    const [a] = demoVisitors();
    if (!a) throw new Error("a demo visitor expected");
    const id = newVisitorId();
    await putProfile(site, id, a.profile);
    const res = await decideAs(site, { cookie: await visitorCookie(id), "sec-gpc": "1" });
    expect(res.mode).toBe("contextual");
    expect(res.modeReason).toBe("gpc");
  });

  it("does not personalize on an opt-in site before consent", async () => {
    const optIn = await createSite("decide-opt-in", { consentModel: "opt-in" });
    const [a] = demoVisitors();
    if (!a) throw new Error("a demo visitor expected");
    const id = newVisitorId();
    await putProfile(optIn, id, a.profile);
    const res = await decideAs(optIn, { cookie: await visitorCookie(id) });
    expect(res.mode).toBe("contextual");
    expect(res.modeReason).toBe("opt-in_without_consent");
  });

  it("treats a visitor with consent but no stored profile as contextual", async () => {
    const res = await decideAs(site, { cookie: await visitorCookie(newVisitorId()) });
    expect(res.mode).toBe("contextual");
    expect(res.modeReason).toBe("no_profile");
  });

  it("accepts an id signed with the previous key during a rotation", async () => {
    const [a] = demoVisitors();
    if (!a) throw new Error("a demo visitor expected");
    const id = newVisitorId();
    await putProfile(site, id, a.profile);
    const res = await decideAs(site, { cookie: await visitorCookie(id, env.ID_SIGNING_KEY_PREVIOUS) });
    expect(res.mode).toBe("personalized");
  });

  it("ignores a tampered or unsigned id: an unidentified visitor", async () => {
    const [a] = demoVisitors();
    if (!a) throw new Error("a demo visitor expected");
    const id = newVisitorId();
    await putProfile(site, id, a.profile);
    const signed = await visitorCookie(id, "some-other-key");
    for (const cookie of [signed, `ep_vid=${id}`, `ep_vid=${id}.AAAA`]) {
      const res = await decideAs(site, { cookie });
      expect(res.mode).toBe("contextual");
      expect(res.modeReason).toBe("no_visitor_id");
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
