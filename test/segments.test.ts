import { env, SELF } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ringManifest from "../models/fixtures/sequence-ring/manifest.json";
import ringModel from "../models/fixtures/sequence-ring/model.onnx";
import { waitFor } from "../scripts/harness/wait";
import type { RequestContext, VisitorProfile } from "../worker/inference/encode";
import { scorerFor } from "../worker/inference/model";
import type { SegmentsFile } from "../worker/inference/segments";
import { sumAggregates } from "../worker/log/aggregates";
import { segmentsObjectKey } from "../worker/models/config";
import { contentItems } from "../worker/store/schema";
import type { DecideResponse } from "../worker/wire/decide";
import { createSite, db, decideAs, expectError, newVisitorId, putProfile, visitorCookie } from "./support/fixtures";
import { loggedDecision } from "./support/log";
import { event, postEvents, shownIn } from "./support/pipeline";
import { admin, post, push, resetRegistry } from "./support/registry";

/**
 * Micro-segments at the edge, with the `sequence` fixture model (models/fixtures/sequence-ring,
 * trained on a SYNTHETIC ring where item k is followed by item k+1) and a segments file built here
 * from that model's own `visitor` output: segment `early` is the visitor vector of a history at
 * i10, `late` of one at i50. A visitor whose recent items are those of a centroid is placed in its
 * segment by the same run that scores the candidates; the decision's groups carry it to the log,
 * the aggregates and the fairness report; a policy rule naming the segment changes their slots;
 * without personalization consent nobody is placed.
 */

const RING_ITEMS = 60;
const HISTORY = {
  early: [
    { id: "i10", ts: 2_000 },
    { id: "i9", ts: 1_000 },
  ],
  late: [
    { id: "i50", ts: 2_000 },
    { id: "i49", ts: 1_000 },
  ],
};
const CONTEXT: RequestContext = { hour: 12, dayOfWeek: 3, device: "desktop" };
/** Pinned first in the recommendations, and excluded, for segment `early` only. */
const PINNED = "i30";
const EXCLUDED = ["i11", "i12"];
const RULES = {
  holdout: { share: 0 },
  fairness: { segments: ["segment"] },
  pinned: [{ slot: "recommendations", contentId: PINNED, share: 1, segment: "segment:early" }],
  exclusions: [{ contentIds: EXCLUDED, scope: "profile", segment: "segment:early" }],
};

async function visitorVector(recent: VisitorProfile["recent"]): Promise<number[]> {
  const scorer = await scorerFor({
    version: ringManifest.version,
    manifest: ringManifest,
    sha256: ringManifest.sha256,
    bytes: async () => ringModel,
  });
  let vector: Float32Array | null = null;
  await scorer.score({ attributes: {}, recent }, CONTEXT, [{ contentId: "i0", attributes: {} }], { onVisitor: (v) => (vector = v) });
  if (!vector) throw new Error("the sequence model gave no visitor vector");
  const values = [...(vector as Float32Array)];
  const norm = Math.hypot(...values);
  return values.map((x) => x / norm);
}

async function segmentsFile(): Promise<SegmentsFile> {
  const segment = async (id: string, recent: VisitorProfile["recent"], top: string) => ({
    id,
    visitors: 50,
    share: 0.5,
    centroid: await visitorVector(recent),
    topItems: [{ contentId: top, visitors: 40, share: 0.8, lift: 1.6 }],
    topAttributes: [{ attribute: "item.shelf", value: "shelf-2", share: 0.7, lift: 2.8 }],
    ctr: { clicks: 5, impressions: 100, ctr: 0.05 },
  });
  return {
    schemaVersion: 1,
    model: { version: ringManifest.version, sha256: ringManifest.sha256 },
    data: { name: "SYNTHETIC ring", citation: "generated for the tests", visitors: 100 },
    method: "k-means (cosine) on the model's visitor vectors",
    k: 2,
    seed: 1,
    segments: [await segment("early", HISTORY.early, "i10"), await segment("late", HISTORY.late, "i50")],
  };
}

async function ringSite(name: string, policy: unknown): Promise<string> {
  const site = await createSite(name, { consentModel: "opt-out", policy });
  await db.delete(contentItems).where(eq(contentItems.siteId, site));
  const inserts = Array.from({ length: RING_ITEMS }, (_, k) =>
    db.insert(contentItems).values({
      siteId: site,
      id: `i${k}`,
      slotIds: ["recommendations"],
      render: { title: `Ring item ${k}` },
      attributes: { shelf: `shelf-${k % 4}` },
    }),
  );
  const [first, ...rest] = inserts;
  if (first) await db.batch([first, ...rest]);
  return site;
}

async function decideWith(site: string, history: VisitorProfile["recent"], headers: Record<string, string> = {}) {
  const visitor = newVisitorId();
  await putProfile(site, visitor, { recent: history ? [...history] : [] });
  return decideAs(site, { cookie: await visitorCookie(visitor), headers });
}

const recommendations = (d: DecideResponse) => d.slots.find((s) => s.slot === "recommendations")?.items.map((i) => i.contentId) ?? [];

describe("micro-segments at the edge", () => {
  let ruled: string;
  let plain: string;
  let file: SegmentsFile;
  beforeAll(async () => {
    await resetRegistry();
    [ruled, plain] = await Promise.all([ringSite("segments-ruled", RULES), ringSite("segments-plain", { holdout: { share: 0 } })]);
    file = await segmentsFile();
  });
  afterAll(async () => {
    await resetRegistry();
    await env.MODELS.delete(segmentsObjectKey(ringManifest.version));
  });

  it("refuses a segments file made with another model, or one that is not a segments file", async () => {
    const other = { ...file, model: { version: "other", sha256: "0".repeat(64) } };
    const refused = await expectError(await push(ringManifest.version, { manifest: ringManifest, bytes: ringModel, segments: other }));
    expect(refused).toMatchObject({ status: 422, code: "segments_refused", field: "segments" });
    expect(refused.message).toContain(ringManifest.sha256);
    const broken = await expectError(
      await push(ringManifest.version, { manifest: ringManifest, bytes: ringModel, segments: { ...file, k: 0 } }),
    );
    expect(broken).toMatchObject({ status: 422, code: "segments_refused" });
    expect(broken.message).toContain("k");
    // The mlp family has no visitor vector to place anyone with.
    const mlp = await expectError(await push("segments-mlp", { segments: file }));
    expect(mlp).toMatchObject({ status: 422, code: "segments_refused" });
    expect(mlp.message).toContain("sequence");
    // Nothing was registered or stored by a refused push.
    expect(await env.MODELS.head(segmentsObjectKey(ringManifest.version))).toBeNull();
  });

  it("stores the segments next to the model's files and serves them with it", async () => {
    const pushed = await push(ringManifest.version, { manifest: ringManifest, bytes: ringModel, segments: file });
    expect(pushed.status).toBe(201);
    expect(await (await env.MODELS.get(segmentsObjectKey(ringManifest.version)))?.json()).toEqual(file);
    expect((await post(`/models/${ringManifest.version}/promote`)).status).toBe(200);
  });

  it("places a visitor in the segment of their recent items, and the log, the aggregates and the fairness report count it", async () => {
    const d = await decideWith(ruled, HISTORY.late);
    expect(d.mode).toBe("personalized");
    expect(d.modelVersion).toBe(ringManifest.version);
    await waitFor(async () => (await loggedDecision(d.decisionId)) !== undefined);
    expect((await loggedDecision(d.decisionId))?.segments).toEqual({ segment: "late" });

    const [shown] = shownIn(d);
    if (!shown) throw new Error("the decision showed nothing");
    expect((await postEvents([event(d, shown, "impression"), event(d, shown, "click")])).status).toBe(202);
    const late = async () => (await sumAggregates(db, { site: ruled }, "segment")).find((r) => r.key.join() === "segment,late")?.counters;
    await waitFor(async () => (await late())?.clicks === 1);
    expect(await late()).toMatchObject({ count: 1, impressions: 1, clicks: 1 });

    const report = await (await admin(`/reports/fairness?site=${ruled}`)).json<{
      segments: { segment: string; values: { value: string; decisions: number; clicks: number }[] }[];
    }>();
    const bySegment = report.segments.find((s) => s.segment === "segment");
    expect(bySegment?.values).toContainEqual(expect.objectContaining({ value: "late", decisions: 1, clicks: 1 }));
  });

  it("applies a policy's pin and exclusion for a segment to its visitors only", async () => {
    const early = await decideWith(ruled, HISTORY.early);
    expect(recommendations(early)[0]).toBe(PINNED);
    expect(recommendations(early)).not.toContain(EXCLUDED[0]);
    expect(recommendations(early)).not.toContain(EXCLUDED[1]);
    // The same visitor's history without the rules: the model ranks the next items of the ring, not the pin.
    const control = recommendations(await decideWith(plain, HISTORY.early));
    expect(control[0]).not.toBe(PINNED);
    expect(control.slice(0, 3).some((id) => EXCLUDED.includes(id))).toBe(true);
    // A visitor of the other segment gets neither rule.
    expect(recommendations(await decideWith(ruled, HISTORY.late))[0]).not.toBe(PINNED);
  });

  it("places nobody without personalization consent", async () => {
    const d = await decideWith(ruled, HISTORY.early, { "sec-gpc": "1" });
    expect(d.mode).not.toBe("personalized");
    expect(recommendations(d)[0]).not.toBe(PINNED);
    await waitFor(async () => (await loggedDecision(d.decisionId)) !== undefined);
    expect((await loggedDecision(d.decisionId))?.segments).toEqual({ segment: "(unknown)" });
  });

  it("lists the live version's segments in the console, with titles and traffic since it went live", async () => {
    const signIn = await SELF.fetch("https://localhost/admin/sign-in", {
      method: "POST",
      body: new URLSearchParams({ token: env.ADMIN_TOKEN }),
      headers: { origin: "https://localhost" },
      redirect: "manual",
    });
    const cookie = signIn.headers.get("set-cookie")?.split(";")[0] ?? "";
    const res = await SELF.fetch(`https://localhost/admin/segments?site=${ruled}`, { headers: { cookie } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(`Segments of ${ringManifest.version}`);
    const row = (id: string) => html.match(new RegExp(`<tr data-segment="${id}">([\\s\\S]*?)</tr>`))?.[1] ?? "";
    expect(row("early")).toContain("segment:early");
    expect(row("early")).toContain("Ring item 10");
    expect(row("late")).toContain("Ring item 50");
    expect(row("late")).toContain("item.shelf = shelf-2");
    // The late visitor's decision, impression and click above (and the one of the rule test).
    expect(row("late")).toMatch(/data-label="CTR since live">(50\.00|100\.00)%</);
  });
});
