import { env } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { demoItems } from "../scripts/seed/demo-data";
import { decide } from "../worker/decisions/decide";
import { isLoaded, modelWithinBudget, type Scorer, scorerFor, withinBudget } from "../worker/inference/model";
import { bundledSource } from "../worker/inference/registry";
import { manifestObjectKey, modelObjectKey, SERVING_CONFIG_KEY, type ServingConfig } from "../worker/models/config";
import { loadCatalogue } from "../worker/site/catalogue";
import { type DecideResponse, decideRequestSchema } from "../worker/wire/decide";
import { createSite, db, decideAs, decideBody, profiledVisitor, visitorCookie } from "./support/fixtures";

/** The editor's order for the demo catalogue, as the page would show it without a model. */
function expectEditorDefaults(res: Omit<DecideResponse, "eventToken">, reason: string) {
  expect(res.mode).toBe("default");
  expect(res.modeReason).toBe(reason);
  for (const slot of res.slots) {
    expect(slot.fallback).toBe(reason);
    expect(slot.policy).toBe("editor-default");
    expect(slot.items.length).toBeGreaterThan(0);
    for (const item of slot.items) {
      expect(item.reason).toBe("default");
      expect(item.score).toBeNull();
    }
  }
}

const bundled = { version: bundledSource.version, sha256: bundledSource.sha256, storage: "bundled" as const };

/** Makes `version` the live model in the serving config, with the bundled model as the one before it or not. */
async function serveLive(version: string, sha256: string, options: { previous?: boolean; killSwitch?: boolean } = {}) {
  await env.MODELS.put(manifestObjectKey(version), JSON.stringify({ ...(bundledSource.manifest as object), version, sha256 }));
  const config: ServingConfig = {
    live: { version, sha256, storage: "r2" },
    previous: options.previous ? bundled : null,
    canary: null,
    shadows: [],
    killSwitch: options.killSwitch ?? false,
    updatedAt: Date.now(),
  };
  await env.CONFIG.put(SERVING_CONFIG_KEY, JSON.stringify(config));
}

const sha256Of = async (bytes: Uint8Array) =>
  [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");

const servedBy = (scorer: Scorer) => ({ scorer, arm: "live" as const, shadows: [] });

describe("fallbacks: a failing dependency gives 200 with editor defaults and the reason", () => {
  let site: string;
  beforeAll(async () => {
    site = await createSite("fallback-site", { snapshot: true });
  });
  afterEach(async () => {
    await env.CONFIG.delete(SERVING_CONFIG_KEY);
  });

  it("serves editor defaults when the live model's bytes are missing from R2", async () => {
    await serveLive("missing-model", "0".repeat(64));
    const res = await decideAs(site);
    expectEditorDefaults(res, "model_unavailable");
    expect(res.modelVersion).toBeNull();
  });

  it("serves editor defaults when the model bytes do not match their sha256", async () => {
    await serveLive("tampered-model", "1".repeat(64));
    await env.MODELS.put(modelObjectKey("tampered-model"), new Uint8Array([1, 2, 3]));
    expectEditorDefaults(await decideAs(site), "model_unavailable");
  });

  it("serves editor defaults when the model is corrupt (right hash, not an ONNX graph)", async () => {
    const garbage = new TextEncoder().encode("this is not an onnx model");
    await serveLive("corrupt-model", await sha256Of(garbage));
    await env.MODELS.put(modelObjectKey("corrupt-model"), garbage);
    expectEditorDefaults(await decideAs(site), "model_unavailable");
  });

  it("keeps serving the version that was live before when the live one is corrupt", async () => {
    const garbage = new TextEncoder().encode("still not an onnx model");
    await serveLive("corrupt-again", await sha256Of(garbage), { previous: true });
    await env.MODELS.put(modelObjectKey("corrupt-again"), garbage);
    const res = await decideAs(site);
    expect(res.mode).toBe("contextual");
    expect(res.modelVersion).toBe(bundledSource.version);
  });

  it("serves editor defaults at once when the kill switch is on", async () => {
    await serveLive(bundled.version, bundled.sha256, { previous: true, killSwitch: true });
    expectEditorDefaults(await decideAs(site), "model_disabled");
  });

  it("serves editor defaults in the editor's order when D1 fails, from the KV snapshot", async () => {
    const ordered = await decideAs(site);
    expect(ordered.mode).toBe("contextual");
    await env.DB.exec("ALTER TABLE content_items RENAME TO content_items_away");
    try {
      const res = await decideAs(site);
      expectEditorDefaults(res, "d1_unavailable");
      // Each slot takes the editor's best-ranked items that no earlier slot showed.
      const byRank = demoItems().sort((a, b) => a.defaultRank - b.defaultRank);
      const shown = new Set<string>();
      const expected = (
        [
          ["hero", 1],
          ["recommendations", 3],
          ["promo", 1],
        ] as const
      ).map(([slot, count]) => {
        const picked = byRank.filter((item) => item.slotIds.includes(slot) && !shown.has(item.id)).slice(0, count);
        for (const item of picked) shown.add(item.id);
        return picked.map((item) => item.id);
      });
      expect(res.slots.map((slot) => slot.items.map((item) => item.contentId))).toEqual(expected);
    } finally {
      await env.DB.exec("ALTER TABLE content_items_away RENAME TO content_items");
    }
  });

  it("answers a cold isolate at once with editor defaults, loads the model after the response, then serves it", async () => {
    const { catalogue } = await loadCatalogue(db, env.CONFIG, site, 0);
    if (!catalogue) throw new Error("catalogue expected");
    // A version this isolate has never loaded: the same bytes under another name.
    const cold = { ...bundledSource, version: `cold-${crypto.randomUUID()}` };
    const kept: Promise<unknown>[] = [];
    const request = decideRequestSchema.parse(decideBody(site));
    const anonymous = { id: null, consent: { personalization: false, measurement: false, basis: "opt-out_site" } };
    const deps = {
      now: new Date(),
      readProfile: () => Promise.resolve(null),
      loadModels: async () => servedBy(await modelWithinBudget(cold, 0, (p) => kept.push(p))),
      newDecisionId: () => crypto.randomUUID(),
      random: Math.random,
    };
    const first = await decide(request, catalogue, anonymous, {}, deps);
    expectEditorDefaults(first.response, "model_loading");
    expect(kept).toHaveLength(1);
    expect(isLoaded(cold)).toBe(false);

    await Promise.all(kept);
    expect(isLoaded(cold)).toBe(true);
    const warm = await decide(request, catalogue, anonymous, {}, deps);
    expect(warm.response.mode).toBe("contextual");
    expect(warm.response.modelVersion).toBe(cold.version);
  });

  it("waits for a load within a positive budget and falls back past it", async () => {
    const { catalogue } = await loadCatalogue(db, env.CONFIG, site, 0);
    if (!catalogue) throw new Error("catalogue expected");
    const kept: Promise<unknown>[] = [];
    const slowLoad = new Promise<Awaited<ReturnType<typeof scorerFor>>>((resolve) =>
      setTimeout(() => resolve(scorerFor(bundledSource)), 200),
    );
    const request = decideRequestSchema.parse(decideBody(site));
    const { response } = await decide(
      request,
      catalogue,
      { id: null, consent: { personalization: false, measurement: false, basis: "opt-out_site" } },
      {},
      {
        now: new Date(),
        readProfile: () => Promise.resolve(null),
        loadModels: async () => servedBy(await withinBudget(slowLoad, 20, (p) => kept.push(p))),
        newDecisionId: () => crypto.randomUUID(),
        random: Math.random,
      },
    );
    expectEditorDefaults(response, "model_loading");
    expect(kept).toHaveLength(1);
    await expect(slowLoad).resolves.toMatchObject({ version: bundledSource.version });
  });

  it("answers 200 with empty slots when neither D1 nor a snapshot has the catalogue", async () => {
    const bare = await createSite("fallback-no-snapshot");
    await env.DB.exec("ALTER TABLE sites RENAME TO sites_away");
    try {
      const res = await decideAs(bare);
      expect(res.mode).toBe("default");
      for (const slot of res.slots) {
        expect(slot.fallback).toBe("catalogue_unavailable");
        expect(slot.items).toEqual([]);
      }
    } finally {
      await env.DB.exec("ALTER TABLE sites_away RENAME TO sites");
    }
  });

  it("uses the profile again once the failing model is replaced", async () => {
    const id = await profiledVisitor(site);
    const res = await decideAs(site, { cookie: await visitorCookie(id) });
    expect(res.mode).toBe("personalized");
  });
});
