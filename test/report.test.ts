import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../scripts/harness/wait";
import { type LoggedDecision, toTrainingExamples, trainingExampleSchema } from "../worker/events/export";
import { type PerformanceRow, wilsonInterval } from "../worker/events/report";
import type { DecideResponse } from "../worker/wire/decide";
import { decisionEventSchema } from "../worker/wire/events";
import { createSite, decideAs, newVisitorId, visitorCookie } from "./support/fixtures";
import { loggedDecision, loggedRows } from "./support/log";
import { countFor, event, postEvents, type Shown, shownIn } from "./support/pipeline";

const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}` };
const DECISIONS = 10;

describe("performance report and training export", () => {
  let site: string;
  let decisionId: string;
  let clicked: Shown;
  let shown: Shown[];
  beforeAll(async () => {
    site = await createSite("report-site", { consentModel: "opt-out" });
    // Ten decisions for one visitor in one context show the same items. Each counts one impression
    // per item; four of them a click on the same item, the first also a conversion.
    const cookie = await visitorCookie(newVisitorId());
    const made: DecideResponse[] = [];
    for (let i = 0; i < DECISIONS; i++) made.push(await decideAs(site, { cookie }));
    const [first] = made;
    if (!first) throw new Error("decisions expected");
    decisionId = first.decisionId;
    shown = shownIn(first);
    clicked = shown[1] as Shown;
    const sent = made.flatMap((d, i) => {
      expect(shownIn(d)).toEqual(shown);
      return [
        ...shown.map((s) => event(d, s, "impression")),
        ...(i < 4 ? [event(d, clicked, "click")] : []),
        ...(i === 0 ? [{ ...event(d, clicked, "conversion"), value: 59.9, currency: "EUR" }] : []),
      ];
    });
    expect((await postEvents(sent)).status).toBe(202);
    await waitFor(async () => (await Promise.all(made.map((d) => countFor(d.decisionId, site)))).reduce((a, b) => a + b) === sent.length);
    await waitFor(async () => (await loggedRows(site)).filter((row) => row.kind === "decision").length === DECISIONS);
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
    const row = await loggedDecision(decisionId);
    const day = row?.day ?? "";
    const url = `https://edge.example/v1/admin/reports/performance?site=${site}`;
    const { decisionsByDay } = (await (await SELF.fetch(`${url}&from=${day}&to=${day}`, { headers: ADMIN })).json()) as {
      decisionsByDay: { day: string; decisions: number; slots: { slot: string; policy: string; decisions: number }[] }[];
    };
    const slots = (row ? decisionEventSchema.shape.slots.parse(row.slots) : []).map((s) => ({
      slot: s.slot,
      policy: s.policy,
      decisions: DECISIONS,
    }));
    expect(decisionsByDay).toEqual([{ day, decisions: DECISIONS, slots: expect.arrayContaining(slots) }]);
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
    const row = await loggedDecision(decisionId);
    if (!row) throw new Error("decision expected");
    const logged: LoggedDecision = {
      decisionId: row.id,
      siteId: row.site_id,
      visitorId: row.visitor_id,
      ts: row.ts,
      mode: decisionEventSchema.shape.mode.parse(row.mode),
      modelVersion: row.model_version,
      context: row.context ?? {},
      slots: decisionEventSchema.shape.slots.parse(row.slots),
    };
    const eventRows = (await loggedRows(site)).filter((e) => e.kind === "interaction" && e.decision_id === decisionId);
    const examples = toTrainingExamples(
      [logged],
      eventRows.map((e) => ({
        decisionId: e.decision_id,
        slot: e.slot ?? "",
        contentId: e.content_id ?? "",
        type: e.event ?? "",
        value: e.value,
      })),
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
