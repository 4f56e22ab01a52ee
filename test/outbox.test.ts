import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { waitFor } from "../scripts/harness/wait";
import { createRandom } from "../scripts/train/random";
import { DECISION_OUTBOX, Outbox, OVERDUE_MS } from "../worker/events/outbox";
import worker from "../worker/index";
import { sumAggregates } from "../worker/log/aggregates";
import { eventHash } from "../worker/log/keys";
import { type DecisionEvent, type DecisionsMessage, decisionsMessageSchema } from "../worker/wire/events";
import { createSite, db } from "./support/fixtures";
import { loggedRows } from "./support/log";
import { recordedQueue } from "./support/pipeline";
import { simulatedTraffic } from "./support/traffic";

const handler: ExportedHandler<Env> = worker;

/** The queue recorded (./support/pipeline.ts), its messages read as outbox messages. */
const recordedOutboxQueue = (queue: Queue, refusals = 0) =>
  recordedQueue(queue, { refusals, read: (body): DecisionsMessage => decisionsMessageSchema.parse(body) });

async function decisionsFor(name: string, visitors: number, seed: number): Promise<{ site: string; decisions: DecisionEvent[] }> {
  const site = await createSite(name);
  const traffic = simulatedTraffic(site, [{ visitors, ctr: 0 }], createRandom(seed).next, { impressionsPerVisitor: 1 });
  return { site, decisions: traffic.filter((e): e is DecisionEvent => e.type === "decision") };
}

/** Adds each decision as a request would, keeping what it hands to `waitUntil`; resolves when all of it is done. */
async function addAll(outbox: Outbox<DecisionEvent>, queue: Queue, decisions: readonly DecisionEvent[], windowMs: number): Promise<void> {
  const kept: Promise<unknown>[] = [];
  for (const decision of decisions) outbox.add(queue, decision, windowMs, (p) => kept.push(p));
  await Promise.all(kept);
}

/** The site's decisions in the log, once the consumer has written `expected` of them. */
const loggedDecisionIds = (site: string, expected: number) =>
  waitFor(async () => {
    const ids = (await loggedRows(site)).filter((row) => row.kind === "decision").map((row) => row.id);
    return ids.length >= expected ? ids : null;
  });

describe("the decision outbox", () => {
  it("sends a batch its opening request never sent with the next decision past its due time, and takes decisions again", async () => {
    const { decisions } = await decisionsFor("outbox-stranded", 3, 4);
    const [first, second, third] = decisions as [DecisionEvent, DecisionEvent, DecisionEvent];
    const { queue, sent } = recordedOutboxQueue(env.EVENTS);
    let now = 1_000_000;
    const outbox = new Outbox({ ...DECISION_OUTBOX, clock: () => now });
    // The opening request's send is a minute away (as good as cut short): nothing it keeps alive is awaited.
    outbox.add(queue, first, 60_000, () => {});
    now += 60_000 + OVERDUE_MS + 1;
    const rescue: Promise<unknown>[] = [];
    outbox.add(queue, second, 60_000, (p) => {
      if (rescue.length === 0) rescue.push(p); // the rescue send; the next is the new batch's own timer
    });
    await Promise.all(rescue);
    expect(sent.map((m) => m.events.map((d) => d.decisionId))).toEqual([[first.decisionId]]);

    // Not yet overdue: the second decision's batch takes the third.
    outbox.add(queue, third, 60_000, () => {});
    now += 60_000 + OVERDUE_MS + 1;
    const next: Promise<unknown>[] = [];
    outbox.add(queue, first, 60_000, (p) => {
      if (next.length === 0) next.push(p);
    });
    await Promise.all(next);
    expect(sent.map((m) => m.events.map((d) => d.decisionId))).toEqual([[first.decisionId], [second.decisionId, third.decisionId]]);
  });

  it("queues the decisions answered within one window as one message, and each reaches the log once", async () => {
    const { site, decisions } = await decisionsFor("outbox-window", 25, 1);
    const { queue, sent } = recordedOutboxQueue(env.EVENTS);
    const outbox = new Outbox(DECISION_OUTBOX);
    await addAll(outbox, queue, decisions, 5);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.events.map((d) => d.decisionId)).toEqual(decisions.map((d) => d.decisionId));

    // A decision after the send opens a batch of its own.
    const [later] = (await decisionsFor("outbox-window-later", 1, 2)).decisions;
    await addAll(outbox, queue, [later as DecisionEvent], 5);
    expect(sent).toHaveLength(2);
    expect(sent[1]?.events.map((d) => d.decisionId)).toEqual([later?.decisionId]);

    const logged = await loggedDecisionIds(site, decisions.length);
    expect(logged.sort()).toEqual(decisions.map((d) => d.decisionId).sort());
  });

  it("sends a batch at once when the next decision would pass its byte bound: every message within it, none lost or doubled", async () => {
    const { site, decisions } = await decisionsFor("outbox-full", 20, 3);
    const { queue, sent } = recordedOutboxQueue(env.EVENTS);
    const oneDecision = new TextEncoder().encode(JSON.stringify(decisions[0])).byteLength;
    const bound = oneDecision * 6;
    // A window no test waits out: every message here is sent because its batch was full, but the last.
    const outbox = new Outbox({ ...DECISION_OUTBOX, maxBytes: bound });
    await addAll(outbox, queue, decisions, 5);
    expect(sent.length).toBeGreaterThanOrEqual(Math.ceil(decisions.length / 6));
    for (const message of sent) {
      const bytes = message.events.reduce((n, d) => n + new TextEncoder().encode(JSON.stringify(d)).byteLength + 1, 0);
      expect(bytes).toBeLessThanOrEqual(bound);
    }
    expect(sent.flatMap((m) => m.events.map((d) => d.decisionId))).toEqual(decisions.map((d) => d.decisionId));

    const logged = await loggedDecisionIds(site, decisions.length);
    expect(logged).toHaveLength(decisions.length);
    expect(new Set(logged)).toEqual(new Set(decisions.map((d) => d.decisionId)));
  });

  it("tries a refused send again, so that a moment's refusal loses no decision", async () => {
    const { site, decisions } = await decisionsFor("outbox-refused", 8, 6);
    const { queue, sent } = recordedOutboxQueue(env.EVENTS, 2);
    await addAll(new Outbox(DECISION_OUTBOX), queue, decisions, 5);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.events.map((d) => d.decisionId)).toEqual(decisions.map((d) => d.decisionId));
    expect((await loggedDecisionIds(site, decisions.length)).sort()).toEqual(decisions.map((d) => d.decisionId).sort());
  });

  it("counts a message's decisions once under one ledger entry, however often the queue delivers it", async () => {
    const { site, decisions } = await decisionsFor("outbox-ledger", 12, 5);
    const body: DecisionsMessage = { type: "decisions", events: decisions };
    const deliver = async () => {
      const batch = createMessageBatch<unknown>("edge-personalizer-events", [
        { id: "outbox-ledger-1", timestamp: new Date(), attempts: 1, body },
      ]);
      const ctx = createExecutionContext();
      await handler.queue?.(batch, env, ctx);
      return getQueueResult(batch, ctx);
    };
    expect((await deliver()).explicitAcks).toEqual(["outbox-ledger-1"]);
    expect((await deliver()).explicitAcks).toEqual(["outbox-ledger-1"]);

    const counted = (await sumAggregates(db, { site }, "decisions")).reduce((n, row) => n + row.counters.count, 0);
    expect(counted).toBe(decisions.length);
    // One entry lists every decision of the message (12 hex digits each); none has an entry of its own.
    const hashes = await Promise.all(decisions.map((d) => eventHash({ site_id: site, kind: "decision", id: d.decisionId })));
    const listing = await env.DB.prepare("SELECT events FROM log_ledger WHERE instr(events, ?) > 0")
      .bind(hashes[0])
      .all<{ events: string }>();
    expect(listing.results).toHaveLength(1);
    expect(new Set(listing.results[0]?.events.match(/.{12}/g))).toEqual(new Set(hashes));
    expect(await loggedDecisionIds(site, decisions.length)).toHaveLength(decisions.length);
  });
});
