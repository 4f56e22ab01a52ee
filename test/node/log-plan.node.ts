import { describe, expect, it } from "vitest";
import { type KeyedRow, keyRows, type LedgerEntry, type LedgerWrite, planBatch } from "../../worker/log/plan";
import { toLogRow } from "../../worker/log/rows";
import { simulatedTraffic } from "../support/traffic";

/** A seeded generator (mulberry32), so that the traffic is the same on every run. */
function seeded(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The ledger as D1 holds it after these writes. */
function applied(known: Map<string, LedgerEntry>, writes: readonly LedgerWrite[]) {
  for (const [key, version, decisions, conversions, value, events] of writes)
    known.set(key, { version, decisions, conversions, value, events });
  return known;
}

const visitorsCounted = (plan: ReturnType<typeof planBatch>, arm: string) =>
  plan.aggregates.filter((a) => a.metric === "experiment" && a.key.includes(arm)).reduce((n, a) => n + a.counters.visitors, 0);

describe("a consumer batch's ledger writes", () => {
  const VISITORS = 3;
  const PAGES = 4;
  const traffic = simulatedTraffic(
    "plan-site",
    [{ visitors: VISITORS, pages: PAGES, ctr: 1, cvr: 1, value: 5, assignments: [{ experiment: "e", arm: "a" }] }],
    seeded(7),
    {
      impressionsPerVisitor: 2,
      ts: Date.UTC(2026, 10, 2, 12),
    },
  );

  it("writes one entry per decision, whatever the rows counted under it, and one tally per visitor and group", async () => {
    const keyed = await keyRows(traffic.map(toLogRow));
    const plan = planBatch(keyed, new Map());
    expect(plan.counted).toHaveLength(traffic.length);
    const decisionIds = new Set(traffic.map((e) => e.decisionId));
    const tallies = plan.ledger.filter(([, , , , , events]) => events === "");
    expect(plan.ledger.length - tallies.length).toBe(decisionIds.size);
    // Every entry lists exactly the rows of its decision (12 hex digits each).
    const rowsPerDecision = traffic.filter((e) => e.decisionId === traffic[0]?.decisionId).length;
    expect(plan.ledger[0]?.[5]).toHaveLength(12 * rowsPerDecision);
    // Two groups (holdout and experiment arm) per visitor.
    expect(tallies).toHaveLength(2 * VISITORS);
    expect(visitorsCounted(plan, "a")).toBe(VISITORS);
  });

  it("counts nothing twice when the batch comes again, and writes nothing for it", async () => {
    const keyed = await keyRows(traffic.map(toLogRow));
    const known = applied(new Map(), planBatch(keyed, new Map()).ledger);
    const again = planBatch(keyed, known);
    expect(again.counted).toEqual([]);
    expect(again.ledger).toEqual([]);
    expect(again.aggregates).toEqual([]);
  });

  it("leaves a visitor's tally unwritten by their later decisions of the day, and still counts them once", async () => {
    const byVisitorPage = (keyed: KeyedRow[], firstPage: boolean) => {
      const firstDecision = new Map<string, string>();
      for (const k of keyed)
        if (k.row.kind === "decision" && !firstDecision.has(k.row.visitor_id ?? ""))
          firstDecision.set(k.row.visitor_id ?? "", k.row.decision_id);
      return keyed.filter((k) => (firstDecision.get(k.row.visitor_id ?? "") === k.row.decision_id) === firstPage);
    };
    const decisionsOnly = (await keyRows(traffic.map(toLogRow))).filter((k) => k.row.kind === "decision");
    const first = planBatch(byVisitorPage(decisionsOnly, true), new Map());
    const later = planBatch(byVisitorPage(decisionsOnly, false), applied(new Map(), first.ledger));
    expect(later.counted).toHaveLength(VISITORS * (PAGES - 1));
    expect(later.ledger.filter(([, , , , , events]) => events === "")).toEqual([]);
    expect(visitorsCounted(first, "a") + visitorsCounted(later, "a")).toBe(VISITORS);
  });

  it("counts an outbox message's decisions under one entry, and their events under each decision's own, whichever comes first", async () => {
    const rows = traffic.map(toLogRow);
    const decisions = rows.filter((row) => row.kind === "decision");
    const events = rows.filter((row) => row.kind === "interaction");
    const fromOutbox = (row: { id: string }) => (decisions.some((d) => d.id === row.id) ? "message-1" : undefined);
    const entries = (plan: ReturnType<typeof planBatch>) => plan.ledger.filter(([, , , , , listed]) => listed !== "");

    // Events first (the decisions' message still in the edge's outbox), then the message.
    const eventsFirst = planBatch(await keyRows(events), new Map());
    const known = applied(new Map(), eventsFirst.ledger);
    const message = planBatch(await keyRows(decisions, undefined, fromOutbox), known);
    expect(message.counted).toHaveLength(decisions.length);
    expect(entries(message)).toHaveLength(1);
    expect(entries(message)[0]?.[5]).toHaveLength(12 * decisions.length);
    // The decisions' own entries, written by their events, are not written again.
    const decisionEntries = new Set(entries(eventsFirst).map(([key]) => key));
    expect(decisionEntries.size).toBe(decisions.length);
    expect(entries(message).some(([key]) => decisionEntries.has(key))).toBe(false);

    // The message again (a redelivery): nothing counted, nothing written.
    applied(known, message.ledger);
    const again = planBatch(await keyRows(decisions, undefined, fromOutbox), known);
    expect(again.counted).toEqual([]);
    expect(again.ledger).toEqual([]);

    // The other order counts the same: the message, then the events.
    const messageFirst = planBatch(await keyRows(decisions, undefined, fromOutbox), new Map());
    const then = planBatch(await keyRows(events), applied(new Map(), messageFirst.ledger));
    expect(messageFirst.counted.length + then.counted.length).toBe(rows.length);
    expect(entries(messageFirst)).toHaveLength(1);
    expect(entries(then)).toHaveLength(decisions.length);
  });
});
