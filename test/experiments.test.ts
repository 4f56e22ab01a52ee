import { env, SELF } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { waitFor } from "../scripts/harness/wait";
import { demoItems } from "../scripts/seed/demo-data";
import { createRandom } from "../scripts/train/random";
import { writeEvents } from "../worker/events/ingest";
import { bucketOf, holdoutSalt } from "../worker/experiments/assign";
import { chiSquareSurvival, normalQuantile, sampleRatioMismatch, sampleSizePerArm } from "../worker/experiments/stats";
import { configOf } from "../worker/lib/config";
import { r2Sink } from "../worker/log/sinks";
import type { DecisionEvent } from "../worker/wire/events";
import {
  createSite,
  db,
  decideAs,
  expectError,
  measured,
  newVisitorId,
  profiledVisitor,
  visitorCookie,
  visitorState,
} from "./support/fixtures";
import { loggedDecision, loggedRows } from "./support/log";
import { simulatedTraffic, type TrafficGroup } from "./support/traffic";

const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}` };
const admin = (path: string) => SELF.fetch(`https://edge.example/v1/admin${path}`, { headers: ADMIN });

describe("exploration", () => {
  it("serves and logs the same propensities, and reports the exploration share", async () => {
    const site = await createSite("explore-site", {
      policy: { holdout: { share: 0 }, exploration: { kind: "epsilon-greedy", epsilon: 0.5 } },
    });
    const decided = [];
    for (let i = 0; i < 12; i++) decided.push(await decideAs(site));
    const reasons = new Set(decided.flatMap((d) => d.slots.flatMap((s) => s.items.map((item) => item.reason))));
    expect(reasons.has("explore")).toBe(true);
    for (const d of decided) for (const s of d.slots) for (const item of s.items) expect(item.propensity).toBeGreaterThan(0);
    const loggedDecisions = async () => (await loggedRows(site)).filter((row) => row.kind === "decision");
    await waitFor(async () => (await loggedDecisions()).length >= decided.length);
    const bySite = await loggedDecisions();
    for (const d of decided) {
      const logged: DecisionEvent["slots"] = bySite.find((row) => row.id === d.decisionId)?.slots ?? [];
      expect(logged.map((s) => s.items.map((i) => [i.contentId, i.propensity, i.reason]))).toEqual(
        d.slots.map((s) => s.items.map((i) => [i.contentId, i.propensity, i.reason])),
      );
    }
    const report = await (await admin(`/reports/uplift?site=${site}`)).json<{ exploration: { share: number; modelItems: number } }>();
    expect(report.exploration.modelItems).toBeGreaterThan(0);
    expect(report.exploration.share).toBeGreaterThan(0);
    expect(report.exploration.share).toBeLessThan(1);
  });
});

describe("holdout and business rules", () => {
  it("never gives a visitor in the holdout model output, even with a profile", async () => {
    const site = await createSite("holdout-site", { policy: { holdout: { share: 0.5 } } });
    let held = 0;
    for (let i = 0; i < 24; i++) {
      const id = await profiledVisitor(site);
      const body = await measured(async () => decideAs(site, { cookie: await visitorCookie(id) }));
      const inHoldout = (await bucketOf(holdoutSalt(site), id)) < 0.5;
      if (!inHoldout) {
        expect(body.mode).toBe("personalized");
        continue;
      }
      held++;
      expect(body).toMatchObject({ mode: "default", modeReason: "holdout", modelVersion: null });
      for (const slot of body.slots) {
        expect(slot.policy).toBe("holdout");
        for (const item of slot.items) expect(item).toMatchObject({ reason: "holdout", score: null, propensity: 1 });
      }
    }
    expect(held).toBeGreaterThan(0);
    const heldDecisions = async () => (await loggedRows(site)).filter((row) => row.kind === "decision" && row.holdout);
    await waitFor(async () => (await heldDecisions()).length >= held);
    const leaked = (await heldDecisions()).filter((row) => row.model_version !== null);
    expect(leaked).toHaveLength(0);
  });

  it("holds frequency caps across requests (counted in the visitor's object after each answer), and honours exclusions", async () => {
    const ids = demoItems().map((item) => item.id);
    const [excluded] = ids;
    const site = await createSite("caps-site", {
      policy: { holdout: { share: 0 }, caps: [{ contentIds: ids, perDay: 1 }], exclusions: [{ contentIds: [excluded], scope: "all" }] },
    });
    const visitor = newVisitorId();
    const cookie = await visitorCookie(visitor);
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const body = await measured(() => decideAs(site, { cookie }));
      const shown = body.slots.flatMap((s) => s.items.map((item) => item.contentId));
      for (const id of shown) {
        expect(seen.has(id)).toBe(false);
        expect(id).not.toBe(excluded);
        seen.add(id);
      }
      // The count lands after the answer; the next page view comes once it has.
      await waitFor(async () => {
        const counted = (await visitorState(visitor)).caps[site]?.shown ?? {};
        return shown.every((id) => (counted[id] ?? 0) >= 1);
      });
    }
    expect(seen.size).toBeGreaterThan(5);
  });
});

/** Writes a simulated population straight through the consumer's write step (the log and the aggregates). */
async function simulate(site: string, groups: TrafficGroup[], random: () => number, impressionsPerVisitor = 4) {
  const batch = simulatedTraffic(site, groups, random, { impressionsPerVisitor });
  const target = { db, sink: r2Sink(env.LOG), ledgerDays: configOf(env).ledgerDays };
  for (let i = 0; i < batch.length; i += 400) await writeEvents(target, batch.slice(i, i + 400), `sim-${site}-${i}`);
}

describe("reports", () => {
  it("the uplift report's interval covers a known simulated effect", async () => {
    const site = await createSite("uplift-site");
    // Treated visitors click 8% of impressions, the holdout 5%: the true CTR uplift is 0.03.
    await simulate(
      site,
      [
        { visitors: 1200, ctr: 0.08 },
        { visitors: 600, ctr: 0.05, holdout: true },
      ],
      createRandom(11).next,
    );
    const report = await (await admin(`/reports/uplift?site=${site}`)).json<{
      treated: { visitors: number };
      holdout: { visitors: number };
      uplift: { ctr: { estimate: number; low: number; high: number } };
    }>();
    expect(report.treated.visitors).toBe(1200);
    expect(report.holdout.visitors).toBe(600);
    expect(report.uplift.ctr.low).toBeLessThan(0.03);
    expect(report.uplift.ctr.high).toBeGreaterThan(0.03);
    expect(report.uplift.ctr.low).toBeGreaterThan(0);
  });

  it("detects a sample-ratio mismatch on a skewed sample, not on a balanced one", async () => {
    expect(chiSquareSurvival(3.841458820694124, 1)).toBeCloseTo(0.05, 6);
    expect(chiSquareSurvival(5.991464547107979, 2)).toBeCloseTo(0.05, 6);
    expect(sampleRatioMismatch([5000, 5050], [1, 1]).mismatch).toBe(false);

    const policy = {
      holdout: { share: 0 },
      experiments: [
        {
          id: "srm",
          arms: [
            { name: "a", weight: 1 },
            { name: "b", weight: 1 },
          ],
        },
      ],
    };
    const site = await createSite("srm-site", { policy });
    const arm = (name: string) => [{ experiment: "srm", arm: name }];
    await simulate(
      site,
      [
        { visitors: 560, ctr: 0.05, assignments: arm("a") },
        { visitors: 440, ctr: 0.05, assignments: arm("b") },
      ],
      createRandom(3).next,
      1,
    );
    const report = await (await admin(`/reports/experiments?site=${site}`)).json<{
      experiments: { experiment: string; arms: { arm: string; visitors: number }[]; sampleRatio: { mismatch: boolean; pValue: number } }[];
    }>();
    const [srm] = report.experiments;
    expect(srm?.arms.map((a) => a.visitors)).toEqual([560, 440]);
    expect(srm?.sampleRatio.mismatch).toBe(true);
    expect(srm?.sampleRatio.pValue).toBeLessThan(0.001);
  });

  it("sizes a two-arm test as the textbook formula does", async () => {
    // p1 = 10%, p2 = 12%, alpha 5% two-sided, power 80%: about 3,841 per arm.
    const n = sampleSizePerArm(0.1, 0.02);
    expect(n).toBeGreaterThan(3800);
    expect(n).toBeLessThan(3900);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    const res = await admin("/sample-size?baseline=0.1&mde=0.02");
    expect(await res.json()).toMatchObject({ perArm: n });
    expect((await expectError(await admin("/sample-size?baseline=2&mde=0.1"))).field).toBe("baseline");
  });

  it("flags a CTR disparity between segments beyond the configured ratio", async () => {
    const site = await createSite("fair-site", {
      policy: { holdout: { share: 0 }, fairness: { segments: ["country"], disparityRatio: 1.25 } },
    });
    await simulate(
      site,
      [
        { visitors: 400, ctr: 0.1, segments: { country: "FR" } },
        { visitors: 400, ctr: 0.03, segments: { country: "DE" } },
      ],
      createRandom(5).next,
    );
    const report = await (await admin(`/reports/fairness?site=${site}`)).json<{
      segments: { segment: string; flagged: boolean; ctrDisparity: number; values: { value: string; exposureShare: number }[] }[];
    }>();
    const [country] = report.segments;
    expect(country?.segment).toBe("country");
    expect(country?.flagged).toBe(true);
    expect(country?.ctrDisparity).toBeGreaterThan(1.25);
    expect(country?.values.map((v) => v.value).sort()).toEqual(["DE", "FR"]);
  });
});

describe("why this", () => {
  // The model reads the local hour and weekday: at some hours the time outweighs the visitor's
  // history, so the decision is made at a fixed time (Vitest's clock is the worker's too).
  beforeAll(() => {
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2026-11-25T03:00:00Z") });
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  it("explains a decision to its own visitor only", async () => {
    const site = await createSite("why-site");
    const cookie = await visitorCookie(await profiledVisitor(site));
    const body = await decideAs(site, { cookie, cf: { country: "JP", timezone: "Asia/Tokyo" } });
    expect(body.mode).toBe("personalized");
    const why = (c?: string) =>
      SELF.fetch(`https://edge.example/v1/why?decisionId=${body.decisionId}`, { headers: c ? { cookie: c } : {} });
    await waitFor(async () => (await why(cookie)).status === 200);
    const answer = await (await why(cookie)).json<{
      summary: string;
      mode: string;
      slots: { items: { reason: string; topFactors: { group: string; effect: number }[] }[] }[];
    }>();
    expect(answer.mode).toBe("personalized");
    expect(answer.summary).toContain("personalized");
    const factors = answer.slots.flatMap((s) => s.items.flatMap((i) => i.topFactors.map((f) => f.group)));
    expect(factors).toContain("history");

    expect((await why(await visitorCookie(newVisitorId()))).status).toBe(404);
    expect((await why()).status).toBe(404);
    expect((await expectError(await SELF.fetch("https://edge.example/v1/why?decisionId=nope"))).field).toBe("decisionId");
  });
});

describe("QA preview", () => {
  async function previewToken(body: unknown) {
    const res = await SELF.fetch("https://edge.example/v1/admin/preview-tokens", {
      method: "POST",
      headers: { ...ADMIN, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    return (await res.json<{ token: string }>()).token;
  }

  it("forces content and skips the holdout for its bearer only, with a trace, and stays out of the reports", async () => {
    const site = await createSite("preview-site", { policy: { holdout: { share: 0.5 } } });
    const [last] = [...demoItems()].filter((item) => item.slotIds.includes("hero")).sort((a, b) => b.defaultRank - a.defaultRank);
    if (!last) throw new Error("a hero item expected");
    const token = await previewToken({ site, content: { slot: "hero", contentId: last.id } });
    const asPreview = (t: string) => decideAs(site, { headers: { "x-ep-preview": t } });
    const previews = [];
    for (let i = 0; i < 6; i++) previews.push(await asPreview(token));
    for (const p of previews) {
      expect(p.preview).toBe(true);
      expect(p.slots[0]?.items[0]).toMatchObject({ contentId: last.id, reason: "rule" });
      expect(p.modeReason).not.toBe("holdout");
      expect(p.debug?.candidates.length).toBeGreaterThan(0);
    }
    // A token for another site, or a forged one, is ignored: a normal decision, no trace.
    const other = await previewToken({ site: await createSite("preview-other"), content: { slot: "hero", contentId: last.id } });
    for (const t of [other, `${token}x`]) {
      const normal = await asPreview(t);
      expect(normal.preview).toBeUndefined();
      expect(normal.debug).toBeUndefined();
    }
    const counted = await decideAs(site);
    await waitFor(async () => (await loggedDecision(counted.decisionId)) !== undefined);
    const ids = new Set(previews.map((p) => p.decisionId));
    const leaked = (await loggedRows()).filter((row) => ids.has(row.decision_id));
    expect(leaked).toHaveLength(0);
  });
});
