import { env, SELF } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { type LoggedDecision, toTrainingExamples, trainingExampleSchema } from "../worker/events/export";
import { type PerformanceRow, wilsonInterval } from "../worker/events/report";
import { decisions, events } from "../worker/store/schema";
import { decisionEventSchema } from "../worker/wire/events";
import { createSite, db, newVisitorId, visitorCookie } from "./support/fixtures";
import { countFor, decideAs, event, postEvents, type Shown, shownIn, waitUntil } from "./support/pipeline";

const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}` };

describe("performance report and training export", () => {
  let site: string;
  let decisionId: string;
  let clicked: Shown;
  let shown: Shown[];
  beforeAll(async () => {
    site = await createSite("report-site", { consentModel: "opt-out" });
    const d = await decideAs(site, await visitorCookie(newVisitorId()));
    decisionId = d.decisionId;
    shown = shownIn(d);
    clicked = shown[1] as Shown;
    const sent = [
      ...shown.flatMap((s) => Array.from({ length: 10 }, () => event(d, s, "impression"))),
      ...Array.from({ length: 4 }, () => event(d, clicked, "click")),
      { ...event(d, clicked, "conversion"), value: 59.9, currency: "EUR" },
    ];
    expect((await postEvents(sent)).status).toBe(202);
    await waitUntil(async () => (await countFor(d.decisionId)) === sent.length);
    await waitUntil(async () => (await db.select().from(decisions).where(eq(decisions.id, d.decisionId))).length === 1);
  });

  it("reports counts and CTR with Wilson intervals to the admin role only", async () => {
    const url = `https://edge.example/v1/admin/reports/performance?site=${site}`;
    expect((await SELF.fetch(url)).status).toBe(401);
    expect((await SELF.fetch(url, { headers: { authorization: `Bearer ${env.PRIVACY_TOKEN}` } })).status).toBe(403);
    const res = await SELF.fetch(url, { headers: ADMIN });
    expect(res.status).toBe(200);
    const { rows } = (await res.json()) as { rows: PerformanceRow[] };
    expect(rows).toHaveLength(shown.length);
    const row = rows.find((r) => r.contentId === clicked.contentId && r.slot === clicked.slot);
    expect(row).toMatchObject({ impressions: 10, clicks: 4, conversions: 1, value: 59.9, ctr: 0.4, policy: "model" });
    const interval = wilsonInterval(4, 10);
    expect(row?.ctrLow).toBeCloseTo(interval?.low ?? -1, 10);
    expect(row?.ctrHigh).toBeCloseTo(interval?.high ?? -1, 10);
    for (const r of rows) expect(r.ctrLow ?? 0).toBeLessThanOrEqual(r.ctr ?? 0);
  });

  it("counts logged decisions per UTC day, per slot and policy, in the same response", async () => {
    const [row] = await db.select().from(decisions).where(eq(decisions.id, decisionId));
    const day = row?.ts.toISOString().slice(0, 10) ?? "";
    const url = `https://edge.example/v1/admin/reports/performance?site=${site}`;
    const { decisionsByDay } = (await (await SELF.fetch(`${url}&from=${day}&to=${day}`, { headers: ADMIN })).json()) as {
      decisionsByDay: { day: string; decisions: number; slots: { slot: string; policy: string; decisions: number }[] }[];
    };
    const slots = (row ? decisionEventSchema.shape.slots.parse(row.slots) : []).map((s) => ({
      slot: s.slot,
      policy: s.policy,
      decisions: 1,
    }));
    expect(decisionsByDay).toEqual([{ day, decisions: 1, slots: expect.arrayContaining(slots) }]);
    expect(decisionsByDay[0]?.slots).toHaveLength(slots.length);
    const before = (await (await SELF.fetch(`${url}&from=2000-01-01&to=2000-01-31`, { headers: ADMIN })).json()) as {
      decisionsByDay: unknown[];
    };
    expect(before.decisionsByDay).toEqual([]);
  });

  it("names a bad date range", async () => {
    const res = await SELF.fetch(`https://edge.example/v1/admin/reports/performance?site=${site}&from=2026-12-01&to=2026-11-01`, {
      headers: ADMIN,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { field: "from" } });
  });

  it("exports every shown item of a logged decision with its outcome and propensity", async () => {
    const [row] = await db.select().from(decisions).where(eq(decisions.id, decisionId));
    if (!row) throw new Error("decision expected");
    const logged: LoggedDecision = {
      decisionId: row.id,
      siteId: row.siteId,
      visitorId: row.visitorId,
      ts: row.ts.getTime(),
      mode: decisionEventSchema.shape.mode.parse(row.mode),
      modelVersion: row.modelVersion,
      context: row.context,
      slots: decisionEventSchema.shape.slots.parse(row.slots),
    };
    const eventRows = await db.select().from(events).where(eq(events.decisionId, decisionId));
    const examples = toTrainingExamples(
      [logged],
      eventRows.map((e) => ({ decisionId: e.decisionId, slot: e.slot, contentId: e.contentId, type: e.type, value: e.value })),
    );
    expect(examples).toHaveLength(shown.length);
    for (const example of examples) {
      trainingExampleSchema.parse(example);
      expect(example.propensity).toBe(1);
      expect(example.impression).toBe(1);
      const isClicked = example.contentId === clicked.contentId && example.slot === clicked.slot;
      expect(example.click).toBe(isClicked ? 1 : 0);
      expect(example.conversion).toBe(isClicked ? 1 : 0);
      expect(example.value).toBe(isClicked ? 59.9 : 0);
    }
  });
});

describe("Wilson interval", () => {
  it("matches known values and stays inside [0, 1]", () => {
    expect(wilsonInterval(5, 10)?.low).toBeCloseTo(0.2366, 4);
    expect(wilsonInterval(5, 10)?.high).toBeCloseTo(0.7634, 4);
    expect(wilsonInterval(0, 10)?.low).toBe(0);
    expect(wilsonInterval(0, 10)?.high).toBeCloseTo(0.2775, 4);
    expect(wilsonInterval(0, 0)).toBeNull();
  });
});
