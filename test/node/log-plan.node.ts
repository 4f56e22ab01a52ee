import { describe, expect, it } from "vitest";
import { type KeyedRow, keyRows, type RowFacts } from "../../worker/log/keys";
import { type BucketAppend, type LedgerEntry, type LedgerWrite, planBatch } from "../../worker/log/plan";
import { toLogRow } from "../../worker/log/rows";
import type { DecisionEvent, InteractionEvent } from "../../worker/wire/events";
import type { LogRow } from "../../worker/wire/log";
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

/** The ledger as D1 holds it after these writes (worker/log/ledger.ts). */
function applied(known: Map<string, LedgerEntry>, plan: { ledger: readonly LedgerWrite[]; appends: readonly BucketAppend[] }) {
  for (const [key, version, decisions, conversions, value, events] of plan.ledger)
    known.set(key, { version, decisions, conversions, value, events });
  for (const { key, hashes } of plan.appends) {
    const before = known.get(key);
    known.set(key, {
      version: (before?.version ?? 0) + 1,
      decisions: 0,
      conversions: 0,
      value: 0,
      events: `${before?.events ?? ","}${hashes.join(",")},`,
    });
  }
  return known;
}

/** What the edge's events say beside their rows: when each interaction's decision was made, and a conversion bound (10). */
function factsOf(events: readonly (DecisionEvent | InteractionEvent)[]): RowFacts {
  const decidedAt = new Map(events.flatMap((e) => (e.type === "interaction" && e.decidedAt ? [[e.eventId, e.decidedAt] as const] : [])));
  return { decidedAtOf: (row) => decidedAt.get(row.id), boundOf: () => 10 };
}

const visitorsCounted = (plan: ReturnType<typeof planBatch>, arm: string) =>
  plan.aggregates.filter((a) => a.metric === "experiment" && a.key.includes(arm)).reduce((n, a) => n + a.counters.visitors, 0);
const isTally = ([, , , , , events]: LedgerWrite) => events === "";

describe("a consumer batch's ledger writes", () => {
  const VISITORS = 3;
  const PAGES = 4;
  const MINUTE = 60_000;
  const at = Date.UTC(2026, 10, 2, 12);
  const traffic = simulatedTraffic(
    "plan-site",
    [{ visitors: VISITORS, pages: PAGES, ctr: 1, cvr: 0.5, value: 5, assignments: [{ experiment: "e", arm: "a" }] }],
    seeded(7),
    { impressionsPerVisitor: 2, ts: at },
  );
  const facts = factsOf(traffic);
  const interactions = traffic.filter((e) => e.type === "interaction").length;
  const decisions = traffic.filter((e) => e.type === "decision").length;
  const conversionDecisions = new Set(traffic.flatMap((e) => (e.type === "interaction" && e.kind === "conversion" ? [e.decisionId] : [])))
    .size;

  it("lists the interactions of a minute's decisions in one bucket, whatever their number, and one tally per visitor and group", async () => {
    const plan = planBatch(await keyRows(traffic.map(toLogRow), facts), new Map());
    expect(plan.counted).toHaveLength(traffic.length);
    expect(plan.appends).toHaveLength(1);
    expect(plan.appends[0]?.hashes).toHaveLength(interactions);
    expect(plan.appends[0]?.hashes.every((hash) => /^[A-Za-z0-9_-]{8}$/.test(hash))).toBe(true);
    // Decisions not from an outbox message have their own entries, which also count the conversions of those that had any.
    const entries = plan.ledger.filter((w) => !isTally(w));
    expect(entries).toHaveLength(decisions);
    expect(entries.filter(([, , , conversions]) => conversions > 0)).toHaveLength(conversionDecisions);
    expect(plan.ledger.filter(isTally)).toHaveLength(2 * VISITORS);
    expect(visitorsCounted(plan, "a")).toBe(VISITORS);
  });

  it("writes a bucket per minute of decision, not per batch or per decision", async () => {
    const spread = traffic.map((e) => {
      const minute = Number.parseInt(e.decisionId.slice(0, 1), 16) % 3;
      return e.type === "interaction" ? { ...e, decidedAt: at + minute * MINUTE } : { ...e, ts: at + minute * MINUTE };
    });
    const minutes = new Set(spread.flatMap((e) => (e.type === "interaction" ? [e.decidedAt] : [])));
    const plan = planBatch(await keyRows(spread.map(toLogRow), factsOf(spread)), new Map());
    expect(plan.appends).toHaveLength(minutes.size);
    expect(plan.appends.reduce((n, { hashes }) => n + hashes.length, 0)).toBe(interactions);
  });

  it("counts nothing twice when the batch comes again, and writes nothing for it", async () => {
    const keyed = await keyRows(traffic.map(toLogRow), facts);
    const known = applied(new Map(), planBatch(keyed, new Map()));
    const again = planBatch(keyed, known);
    expect(again.counted).toEqual([]);
    expect(again.ledger).toEqual([]);
    expect(again.appends).toEqual([]);
    expect(again.aggregates).toEqual([]);
  });

  it("counts a replayed event once among new ones, appending only the new ones to its bucket", async () => {
    const rows = traffic.map(toLogRow);
    const half = rows.filter((row) => row.kind === "interaction").slice(0, 4);
    const known = applied(new Map(), planBatch(await keyRows(half, facts), new Map()));
    const plan = planBatch(await keyRows(rows, facts), known);
    expect(plan.counted).toHaveLength(rows.length - half.length);
    expect(plan.appends[0]?.hashes).toHaveLength(interactions - half.length);
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
    const later = planBatch(byVisitorPage(decisionsOnly, false), applied(new Map(), first));
    expect(later.counted).toHaveLength(VISITORS * (PAGES - 1));
    expect(later.ledger.filter(isTally)).toEqual([]);
    expect(visitorsCounted(first, "a") + visitorsCounted(later, "a")).toBe(VISITORS);
  });

  it("refuses conversions past their decision's bound across batches, wherever they are listed", async () => {
    const rows = traffic.map(toLogRow);
    const conversions = rows.filter((row) => row.event === "conversion");
    const oneDecision = conversions[0]?.decision_id;
    const extra: LogRow[] = [1, 2, 3].map((i) => ({ ...(conversions[0] as LogRow), id: `${oneDecision}-extra-${i}` }));
    const bounded: RowFacts = { ...facts, decidedAtOf: (row) => (row.kind === "interaction" ? at : undefined), boundOf: () => 2 };
    const first = planBatch(await keyRows(rows, bounded), new Map());
    const later = planBatch(await keyRows(extra, bounded), applied(new Map(), first));
    const ofDecision = (list: readonly LogRow[]) => list.filter((row) => row.decision_id === oneDecision && row.event === "conversion");
    expect(ofDecision(first.counted).length + ofDecision(later.counted).length).toBe(2);
    expect(later.refused.length).toBe(3 - (2 - ofDecision(first.counted).length));
  });

  it("lists an interaction without its decision's time in its decision's entry, as before the buckets", async () => {
    const plan = planBatch(await keyRows(traffic.map(toLogRow)), new Map());
    expect(plan.appends).toEqual([]);
    const entries = plan.ledger.filter((w) => !isTally(w));
    expect(entries).toHaveLength(decisions);
    const rowsPerDecision = traffic.filter((e) => e.decisionId === traffic[0]?.decisionId).length;
    expect(entries[0]?.[5]).toHaveLength(12 * rowsPerDecision);
    expect(planBatch(await keyRows(traffic.map(toLogRow)), applied(new Map(), plan)).counted).toEqual([]);
  });

  it("counts an outbox message's decisions under one entry, and their events in their bucket, whichever comes first", async () => {
    const rows = traffic.map(toLogRow);
    const decisionRows = rows.filter((row) => row.kind === "decision");
    const events = rows.filter((row) => row.kind === "interaction");
    const fromOutbox: RowFacts = { ...facts, messageOf: (row) => (decisionRows.some((d) => d.id === row.id) ? "message-1" : undefined) };
    const listings = (plan: ReturnType<typeof planBatch>) => plan.ledger.filter(([, , , , , listed]) => listed !== "");

    // Events first (the decisions' message still in the edge's outbox), then the message.
    const eventsFirst = planBatch(await keyRows(events, facts), new Map());
    const known = applied(new Map(), eventsFirst);
    const message = planBatch(await keyRows(decisionRows, fromOutbox), known);
    expect(message.counted).toHaveLength(decisionRows.length);
    expect(listings(message)).toHaveLength(1);
    expect(listings(message)[0]?.[5]).toHaveLength(12 * decisionRows.length);
    expect(eventsFirst.appends).toHaveLength(1);

    // The message again (a redelivery): nothing counted, nothing written.
    applied(known, message);
    const again = planBatch(await keyRows(decisionRows, fromOutbox), known);
    expect(again.counted).toEqual([]);
    expect(again.ledger).toEqual([]);

    // The other order counts the same: the message, then the events.
    const messageFirst = planBatch(await keyRows(decisionRows, fromOutbox), new Map());
    const then = planBatch(await keyRows(events, facts), applied(new Map(), messageFirst));
    expect(messageFirst.counted.length + then.counted.length).toBe(rows.length);
    expect(listings(messageFirst)).toHaveLength(1);
    expect(then.appends).toHaveLength(1);
  });
});
