import { env, SELF } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../scripts/harness/wait";
import { bucketOf } from "../worker/experiments/assign";
import { binsOf, driftSampleNeeded } from "../worker/inference/drift";
import type { FeatureSpec } from "../worker/inference/manifest";
import { bundledSource } from "../worker/inference/registry";
import { sumAggregates } from "../worker/log/aggregates";
import { auditLog, modelVersions } from "../worker/store/schema";
import { createSite, db, decideAs, expectError, newVisitorId, visitorCookie } from "./support/fixtures";
import { loggedRows } from "./support/log";
import { event, postEvents, shownIn } from "./support/pipeline";
import { admin, bundledManifest, post, push, resetRegistry } from "./support/registry";

/** The model lifecycle through the admin endpoints, while the worker serves decisions. */
async function health(): Promise<{
  model: { version: string | null; killSwitch: boolean; canary: { version: string; share: number } | null; shadows: string[] };
}> {
  return (await SELF.fetch("https://edge.example/health")).json();
}

describe("model lifecycle: push → shadow → canary → promote → rollback while the worker serves", () => {
  let site: string;
  beforeAll(async () => {
    site = await createSite("lifecycle-site");
    await resetRegistry();
  });
  afterAll(resetRegistry);

  it("refuses pushes without the admin token, and from the privacy role", async () => {
    const form = new FormData();
    expect((await SELF.fetch("https://edge.example/v1/admin/models/x", { method: "PUT", body: form })).status).toBe(401);
    const asPrivacy = await SELF.fetch("https://edge.example/v1/admin/models/rollback", {
      method: "POST",
      headers: { authorization: `Bearer ${env.PRIVACY_TOKEN}` },
    });
    expect(asPrivacy.status).toBe(403);
  });

  it("refuses a model whose bytes do not match the manifest's sha256", async () => {
    const res = await push("tampered", { bytes: new Uint8Array([1, 2, 3]).buffer });
    const error = await expectError(res);
    expect(error.status).toBe(422);
    expect(error.message).toContain("sha256");
    expect(await db.select().from(modelVersions)).toHaveLength(1);
  });

  it("refuses bytes that are not an ONNX graph, and a model whose input does not match the manifest", async () => {
    const garbage = new TextEncoder().encode("not an onnx graph").buffer as ArrayBuffer;
    const digest = [...new Uint8Array(await crypto.subtle.digest("SHA-256", garbage))].map((b) => b.toString(16).padStart(2, "0")).join("");
    const corrupt = await expectError(
      await push("corrupt", { bytes: garbage, manifest: { ...bundledManifest, version: "corrupt", sha256: digest } }),
    );
    expect(corrupt).toMatchObject({ status: 422, code: "model_refused" });
    expect(corrupt.message).toContain("cannot load");

    const renamedInput = { ...bundledManifest, version: "mismatch", input: { ...bundledManifest.input, name: "not_the_input" } };
    const mismatch = await expectError(await push("mismatch", { manifest: renamedInput }));
    expect(mismatch).toMatchObject({ status: 422, code: "model_refused" });
    const invalid = await expectError(
      await push("invalid", { manifest: { ...bundledManifest, version: "invalid", input: { name: "features", dims: 3 } } }),
    );
    expect(invalid.message).toContain("input.dims");
    expect(await db.select().from(modelVersions)).toHaveLength(1);
  });

  it("scores a shadow next to the live model, logs what it would show, never shows it", async () => {
    const res = await push("cand-1");
    expect(res.status).toBe(201);
    expect((await health()).model).toMatchObject({ version: bundledSource.version, shadows: ["cand-1"] });

    // The first decision starts the shadow's load after the answer; later ones score it too.
    const visitor = await visitorCookie(newVisitorId());
    await decideAs(site, { cookie: visitor });
    await waitFor(async () => {
      const d = await decideAs(site, { cookie: visitor });
      expect(d.modelVersion).toBe(bundledSource.version);
      const shadowed = (await loggedRows(site)).filter((row) => row.kind === "decision" && row.shadow !== null);
      return shadowed.length > 0;
    });
    const report = await (await admin(`/reports/models?site=${site}`)).json<{
      versions: { version: string; shadow: { top1Agreement: number } | null }[];
    }>();
    // Same weights as the live model: the shadow agrees with every shown ranking.
    expect(report.versions.find((v) => v.version === "cand-1")?.shadow?.top1Agreement).toBe(1);
  });

  it("serves a canary to a sticky share of visitors", async () => {
    const res = await post("/models/cand-1/canary", { share: 0.5 });
    expect(res.status).toBe(200);
    expect((await health()).model.canary).toEqual({ version: "cand-1", share: 0.5 });

    const ids = Array.from({ length: 40 }, newVisitorId);
    const versions: string[] = [];
    for (const id of ids) {
      const cookie = await visitorCookie(id);
      const first = await decideAs(site, { cookie });
      const again = await decideAs(site, { cookie });
      expect(again.modelVersion).toBe(first.modelVersion);
      const expected = (await bucketOf("canary:cand-1", id)) < 0.5 ? "cand-1" : bundledSource.version;
      expect(first.modelVersion).toBe(expected);
      versions.push(first.modelVersion ?? "");
    }
    expect(new Set(versions)).toEqual(new Set(["cand-1", bundledSource.version]));
  });

  it("promotes the canary to live, and rolls back to the version that was live before", async () => {
    expect((await post("/models/cand-1/promote")).status).toBe(200);
    expect((await health()).model).toMatchObject({ version: "cand-1", canary: null, shadows: [] });
    expect((await decideAs(site)).modelVersion).toBe("cand-1");

    const rollback = await post("/models/rollback");
    expect(rollback.status).toBe(200);
    expect((await health()).model.version).toBe(bundledSource.version);
    expect((await decideAs(site)).modelVersion).toBe(bundledSource.version);

    // The rolled-back version is not a rollback target again, and a retired version is never promoted.
    const again = await expectError(await post("/models/rollback"));
    expect(again).toMatchObject({ status: 409, code: "lifecycle_conflict" });
    const retired = await expectError(await post("/models/cand-1/promote"));
    expect(retired).toMatchObject({ status: 409, code: "lifecycle_conflict" });
    expect(retired.message).toContain("retired");
    expect((await health()).model.version).toBe(bundledSource.version);
    const actions = (await db.select().from(auditLog)).map((a) => a.action);
    expect(actions).toEqual(
      expect.arrayContaining(["admin.model.push.shadow", "admin.model.canary", "admin.model.promote", "admin.model.rollback"]),
    );
  });

  it("the kill switch serves editor defaults at once, and turning it off restores the model", async () => {
    expect((await post("/models/kill-switch", { on: true })).status).toBe(200);
    const killed = await decideAs(site);
    expect(killed.mode).toBe("default");
    expect(killed.slots.every((s) => s.fallback === "model_disabled")).toBe(true);
    expect((await health()).model).toMatchObject({ version: null, killSwitch: true });
    await post("/models/kill-switch", { on: false });
    expect((await decideAs(site)).modelVersion).toBe(bundledSource.version);
  });

  it("retires a candidate but refuses to retire the live version", async () => {
    expect((await push("cand-2", { status: "canary", share: 0.2 })).status).toBe(201);
    expect((await post("/models/cand-2/retire")).status).toBe(200);
    expect((await health()).model.canary).toBeNull();
    const live = await expectError(await post(`/models/${bundledSource.version}/retire`));
    expect(live).toMatchObject({ status: 409 });
    const bad = await expectError(await post("/models/cand-2/canary", { share: 2 }));
    expect(bad.status).toBe(400);
  });

  it("reports drift against the manifest's training distribution, and flags nothing under the minimum sample", async () => {
    const spec = (name: string) => bundledManifest.features.find((f) => f.name === name) as FeatureSpec;
    const userBins = binsOf(spec("user_feature_0")) ?? [];
    const positionBins = binsOf(spec("position")) ?? [];
    // Training saw user_feature_0 on every row; anonymous traffic has none: a shift. Position is
    // always "1" at serving, as in this reference: no shift.
    const drift = [
      { feature: "user_feature_0", bins: userBins, expected: userBins.map((b) => (b === "(missing)" ? 0 : 1)) },
      { feature: "position", bins: positionBins, expected: positionBins.map((b) => (b === "1" ? 1 : 0)) },
    ];
    expect((await push("drifty", { manifest: { ...bundledManifest, version: "drifty", drift } })).status).toBe(201);
    await post("/models/drifty/promote");
    const shown = [];
    for (let i = 0; i < 5; i++) {
      const d = await decideAs(site);
      expect(d.modelVersion).toBe("drifty");
      shown.push(d);
    }
    const [first] = shown;
    const [item] = first ? shownIn(first) : [];
    if (!first || !item) throw new Error("a shown item expected");
    expect((await postEvents([event(first, item, "impression"), event(first, item, "click")])).status).toBe(202);
    await waitFor(async () => {
      const drift = await sumAggregates(db, { site }, "drift");
      const counted = drift.find((r) => r.key[0] === "drifty")?.counters.count ?? 0;
      const content = await sumAggregates(db, { site }, "content");
      const clicks = content.filter((r) => r.key[3] === "drifty").reduce((n, r) => n + r.counters.clicks, 0);
      return counted >= 5 && clicks >= 1;
    });
    const report = await (await admin(`/reports/models?site=${site}`)).json<{
      versions: {
        version: string;
        decisions: Record<string, number>;
        impressions: number;
        clicks: number;
        ctrLow: number;
        scores: { count: number };
        drift: { flagged: string[]; features: { feature: string; observed: number; needed: number; psi: number | null }[] };
      }[];
    }>();
    const drifty = report.versions.find((v) => v.version === "drifty");
    // Five decisions are counted per feature, far below what PSI needs: no PSI, no flag, and how
    // much is needed (the shift itself is flagged once the sample suffices: test/node/drift.node.ts).
    const user = drifty?.drift.features.find((f) => f.feature === "user_feature_0");
    expect(user?.observed).toBeGreaterThanOrEqual(5);
    expect(user?.needed).toBe(driftSampleNeeded(userBins.length));
    expect(user?.psi).toBeNull();
    expect(drifty?.drift.flagged).toEqual([]);
    expect(drifty?.decisions.live).toBeGreaterThanOrEqual(5);
    expect(drifty?.scores.count).toBeGreaterThan(0);
    expect(drifty).toMatchObject({ impressions: 1, clicks: 1 });
    expect(drifty?.ctrLow).toBeGreaterThan(0);
  });
});
