import { configOf } from "../lib/config";
import { withDeadline } from "../lib/deadline";
import { batchIdOf } from "../log/files";
import type { MessageOf } from "../log/keys";
import { applyRetention } from "../log/retention";
import { logSinkOf } from "../log/sinks";
import { continueErasures, runErasure } from "../privacy/erasure";
import { writeCatalogueSnapshot } from "../site/catalogue";
import { refreshFeed } from "../site/feeds/refresh";
import { dohResolver, testOriginsOf } from "../site/feeds/remote";
import { sweepSites } from "../site/maintenance";
import { createDb, type Database } from "../store/db";
import { revokedAmong } from "../store/revocations";
import { profileChangePending } from "../visitors/apply";
import { type VisitorStore, visitorStore, visitorStub } from "../visitors/client";
import {
  type DecisionEvent,
  type DecisionsMessage,
  type InteractionEvent,
  type InteractionsMessage,
  type QueueMessage,
  queueMessageSchema,
} from "../wire/events";
import { notLearnedReason } from "./admit";
import { countEvents, isRefused, type LogTarget, logEvents } from "./ingest";
import { perEventHandles } from "./messages";

type Loggable = DecisionEvent | InteractionEvent;
/**
 * `outbox`: the event came in a `decisions` message from the edge's outbox (its ledger entry is the message's).
 * `reapply`: a click the visitor's object has not taken yet: once written, its message is retried for the object.
 */
type Pending = { message: Message<unknown>; event: Loggable; outbox?: true; reapply?: true };
type Task = Exclude<QueueMessage, Loggable | InteractionsMessage | DecisionsMessage>;

const backoff = (attempts: number) => ({ delaySeconds: Math.min(300, 5 * 2 ** Math.max(0, attempts - 1)) });

/**
 * The central consumer (the worker's `queue()` handler). It validates every message again, drops
 * what consent does not allow and what must not count (no measurement consent, bot traffic, QA
 * preview traffic), then drops revoked visitors' events before anything is written: a visitor with
 * clicks or conversions in the batch that the edge could not apply (worker/visitors/apply.ts)
 * gets one call to their Durable Object, which applies them to
 * the profile (once each) and answers whether they are revoked (the object holds the tombstone);
 * the batch's other visitors, and those whose object failed, are looked up in D1's revocation
 * records, one query for all. The rest is counted once into the daily aggregates in D1 and written
 * to the log (worker/events/ingest.ts), without waiting on the batch's tasks. Messages are
 * acknowledged or retried one by one. Erasures and scheduled maintenance travel on the same queue.
 */
export async function consumeEvents(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const db = createDb(env.DB);
  const config = configOf(env);
  const visitors = visitorStore(env, config);
  const tasks: Promise<void>[] = [];
  const feeds: Array<() => Promise<void>> = [];
  const loggable: Pending[] = [];
  for (const message of batch.messages) {
    const parsed = queueMessageSchema.safeParse(message.body);
    if (!parsed.success) {
      // A poison message: logged by field path only (no payload), acknowledged, never retried.
      console.warn("dropping malformed queue message", parsed.error.issues[0]?.path.join("."));
      message.ack();
      continue;
    }
    const body = parsed.data;
    if (body.type === "interactions" || body.type === "decisions") {
      const events: readonly Loggable[] = body.events;
      const handles = perEventHandles(message, events.length);
      const outbox = body.type === "decisions";
      for (const [i, event] of events.entries()) admitToLog(loggable, handles[i] as Message<unknown>, event, outbox);
    } else if (body.type === "decision" || body.type === "interaction") admitToLog(loggable, message, body);
    // Feeds are fetched and imported one after another: each can hold megabytes while it is read.
    else if (body.type === "feed") feeds.push(() => runTask(body, message, db, env, visitors));
    else tasks.push(runTask(body, message, db, env, visitors));
  }
  const oneByOne = feeds.reduce((done, next) => done.then(next), Promise.resolve());
  // Events do not wait on the batch's tasks (a feed import can take its fetch's 30 s).
  const events = throughVisitors(db, visitors, loggable, Date.now())
    .then((kept) => writeIsolatingFailures({ db, sink: logSinkOf(env, config.logSink), ledgerDays: config.ledgerDays }, kept))
    .then(settleWritten);
  await Promise.all([Promise.all(tasks), oneByOne, events]);
}

/**
 * Written events are acknowledged, but for the clicks a visitor's object has not taken, whose
 * messages come back for it. Redelivery is safe: the aggregates count each row once, readers of the
 * log keep one row per id, and the visitor's update is idempotent.
 */
function settleWritten(written: readonly Pending[]) {
  for (const { message, reapply } of written) {
    if (reapply) message.retry(backoff(message.attempts));
    else message.ack();
  }
}

/** What the consumer learns from and logs; the rest (no measurement consent, bots, QA previews) is acknowledged. */
function admitToLog(loggable: Pending[], message: Message<unknown>, event: Loggable, outbox = false) {
  if (notLearnedReason(event)) message.ack();
  else loggable.push(outbox ? { message, event, outbox } : { message, event });
}

/** The outbox message each decision of `pending` came in, by decision id (worker/log/plan.ts counts it under that message). */
function outboxMessages(pending: readonly Pending[]): MessageOf {
  const byDecision = new Map(pending.flatMap((p) => (p.outbox ? [[p.event.decisionId, p.message.id] as const] : [])));
  return (row) => byDecision.get(row.id);
}

/**
 * The log's retention, then its erasure pass and the pending erasures back on the queue, one after
 * the other so that a file is never rewritten while retention deletes it; both as of the cron run.
 */
async function maintainLog(db: ReturnType<typeof createDb>, env: Env, at: number) {
  const config = configOf(env);
  await applyRetention(db, env.LOG, at, config).catch((err: unknown) => console.error("log retention failed", String(err)));
  await continueErasures(db, env.EVENTS, { bucket: env.LOG, sink: config.logSink }, at);
}

async function runTask(task: Task, message: Message<unknown>, db: ReturnType<typeof createDb>, env: Env, visitors: VisitorStore) {
  try {
    if (task.type === "erasure") await runErasure(db, visitors, task.requestId);
    else if (task.type === "log-maintenance") await maintainLog(db, env, task.at);
    else if (task.type === "site-sweep") await sweepSites(db, env.EVENTS, task.after);
    else if (task.type === "feed") await refreshFeed(db, task.siteId, Date.now(), dohResolver, testOriginsOf(env.FEED_FETCH_TEST_ORIGINS));
    else await writeCatalogueSnapshot(db, env.CONFIG, task.siteId);
    message.ack();
  } catch {
    message.retry(backoff(message.attempts));
  }
}

/**
 * A revoked visitor's events are dropped (an event sent with a token from before the revocation
 * included), and profile-changing interactions are applied to the visitor's object. A visitor with
 * such interactions gets one call to their object, which applies them and answers whether the
 * visitor is revoked (the object holds the tombstone); the batch's other visitors (decisions and
 * impressions only, most of them) are checked against D1's revocation records in one query instead
 * of a call each. An object that fails or does not answer within CONSUMER_WAIT_FACTOR times a
 * decision's wait holds back nothing but its own work: its visitor is checked in D1 like the others,
 * their events are counted and logged, and the clicks it did not take are marked `reapply` (their
 * messages come back for the object, and redelivery counts and logs nothing twice). A failing D1
 * check retries its visitors' messages. Returns what may be written.
 */
async function throughVisitors(db: Database, visitors: VisitorStore, pending: readonly Pending[], now: number): Promise<Pending[]> {
  const kept: Pending[] = [];
  const withProfileChanges: [string, Pending[], InteractionEvent[]][] = [];
  const checkOnly: [string, Pending[]][] = [];
  for (const [visitorId, list] of byVisitor(pending, kept)) {
    const interactions = list.flatMap(({ event }) => (isProfileChange(event) ? [event] : []));
    if (interactions.length) withProfileChanges.push([visitorId, list, interactions]);
    else checkOnly.push([visitorId, list]);
  }
  const unapplied: [string, Pending[]][] = [];
  await Promise.all([
    checkInD1(db, checkOnly, kept),
    ...withProfileChanges.map(async ([visitorId, list, interactions]) => {
      try {
        const stub = await visitorStub(visitors, visitorId);
        const { revoked } = await withDeadline(stub.apply(interactions, now), CONSUMER_WAIT_FACTOR * visitors.timeoutMs);
        if (revoked) for (const { message } of list) message.ack();
        else kept.push(...list);
      } catch {
        unapplied.push([visitorId, list.map((p) => (isProfileChange(p.event) ? { ...p, reapply: true as const } : p))]);
      }
    }),
  ]);
  await checkInD1(db, unapplied, kept);
  return kept;
}

/**
 * How long a queue batch waits on one visitor's object, as a multiple of what a decision waits
 * (VISITOR_STATE_TIMEOUT_MS): the consumer is off the visitor's path and can wait longer, but not
 * so long that one wedged object holds its batch, and the batches queued behind it, for minutes.
 */
const CONSUMER_WAIT_FACTOR = 10;

const isProfileChange = (event: Loggable): event is InteractionEvent => event.type === "interaction" && profileChangePending(event);

/** The batch's events by visitor; those naming no visitor go straight to `anonymous`. */
function byVisitor(pending: readonly Pending[], anonymous: Pending[]): Map<string, Pending[]> {
  const grouped = new Map<string, Pending[]>();
  for (const p of pending) {
    if (!p.event.visitorId) anonymous.push(p);
    else {
      const list = grouped.get(p.event.visitorId);
      if (list) list.push(p);
      else grouped.set(p.event.visitorId, [p]);
    }
  }
  return grouped;
}

/**
 * Visitors checked against D1's revocation records in one query: a revoked one's events are
 * acknowledged unwritten, the others kept; a failing query retries them all.
 */
async function checkInD1(db: Database, visitorsEvents: readonly [string, Pending[]][], kept: Pending[]): Promise<void> {
  if (!visitorsEvents.length) return;
  try {
    const revoked = await revokedAmong(
      db,
      visitorsEvents.map(([visitorId]) => visitorId),
    );
    for (const [visitorId, list] of visitorsEvents) {
      if (revoked.has(visitorId)) for (const { message } of list) message.ack();
      else kept.push(...list);
    }
  } catch {
    for (const [, list] of visitorsEvents) for (const { message } of list) message.retry(backoff(message.attempts));
  }
}

/**
 * The batch counted into the aggregates in one transaction; if that fails, message by message, so
 * that one failing write is retried alone and the others are not held back. Then what was counted
 * goes to the log at once (a failure there retries those messages: the aggregates will not count
 * them again), all but the conversions past their decision's bound, which are acknowledged unlogged.
 * So a row in the log has been counted, and a redelivered one is counted once.
 */
async function writeIsolatingFailures(target: LogTarget, pending: Pending[]): Promise<Pending[]> {
  const { counted, refused } = await countIsolatingFailures(target, pending);
  const logged = counted.filter((p) => !isRefused(refused)(p.event));
  try {
    await logEvents(
      target.sink,
      logged.map((p) => p.event),
      await batchIdOf(logged.map((p) => p.message.id)),
    );
    return counted;
  } catch {
    for (const p of counted) p.message.retry(backoff(p.message.attempts));
    return [];
  }
}

async function countIsolatingFailures(target: LogTarget, pending: Pending[]): Promise<{ counted: Pending[]; refused: Set<string> }> {
  try {
    const refused = await countEvents(
      target.db,
      pending.map((p) => p.event),
      { now: Date.now(), days: target.ledgerDays },
      outboxMessages(pending),
    );
    return { counted: pending, refused };
  } catch {
    const counted: Pending[] = [];
    const refused = new Set<string>();
    for (const p of pending) {
      try {
        for (const id of await countEvents(target.db, [p.event], { now: Date.now(), days: target.ledgerDays }, outboxMessages([p])))
          refused.add(id);
        counted.push(p);
      } catch {
        p.message.retry(backoff(p.message.attempts));
      }
    }
    return { counted, refused };
  }
}
