import { configOf } from "../lib/config";
import { runErasure } from "../privacy/erasure";
import { writeCatalogueSnapshot } from "../site/catalogue";
import { sweepSites } from "../site/maintenance";
import { createDb } from "../store/db";
import { type VisitorStore, visitorStore, visitorStub } from "../visitors/client";
import { changesProfile } from "../visitors/features";
import { type DecisionEvent, type InteractionEvent, type QueueMessage, queueMessageSchema } from "../wire/events";
import { notLearnedReason } from "./admit";
import { writeEvents } from "./ingest";

type Loggable = DecisionEvent | InteractionEvent;
type Pending = { message: Message<unknown>; event: Loggable };
type Task = Exclude<QueueMessage, Loggable>;

const backoff = (attempts: number) => ({ delaySeconds: Math.min(300, 5 * 2 ** Math.max(0, attempts - 1)) });

/**
 * The central consumer (the worker's `queue()` handler). It validates every message again, drops
 * what consent does not allow and what must not count (no measurement consent, bot traffic, QA
 * preview traffic), then makes one call per visitor in the batch to their Durable Object before
 * anything is written: the call applies their clicks and conversions to the profile (once each)
 * and answers whether they are revoked, in which case their events are dropped. The rest is
 * written idempotently to D1. Messages are acknowledged or retried one by one. Erasures and
 * scheduled maintenance travel on the same queue.
 */
export async function consumeEvents(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const db = createDb(env.DB);
  const visitors = visitorStore(env, configOf(env));
  const tasks: Promise<void>[] = [];
  const loggable: Pending[] = [];
  for (const message of batch.messages) {
    const parsed = queueMessageSchema.safeParse(message.body);
    if (!parsed.success) {
      // A poison message: logged by field path only (no payload), acknowledged, never retried.
      console.warn("dropping malformed queue message", parsed.error.issues[0]?.path.join("."));
      message.ack();
      continue;
    }
    const event = parsed.data;
    if (event.type !== "decision" && event.type !== "interaction") tasks.push(runTask(event, message, db, env, visitors));
    else if (notLearnedReason(event)) message.ack();
    else loggable.push({ message, event });
  }
  const [, kept] = await Promise.all([Promise.all(tasks), throughVisitors(visitors, loggable, Date.now())]);
  const written = await writeIsolatingFailures(db, kept);
  // Redelivery is safe: the D1 writes are idempotent and so is the visitor's update.
  for (const { message } of written) message.ack();
}

async function runTask(task: Task, message: Message<unknown>, db: ReturnType<typeof createDb>, env: Env, visitors: VisitorStore) {
  try {
    if (task.type === "erasure") await runErasure(db, visitors, task.requestId);
    else if (task.type === "site-sweep") await sweepSites(db, env.EVENTS, task.after);
    else await writeCatalogueSnapshot(db, env.CONFIG, task.siteId);
    message.ack();
  } catch {
    message.retry(backoff(message.attempts));
  }
}

/**
 * One call per visitor of the batch to their object: their profile-changing interactions are
 * applied, and a revoked visitor's events are dropped (an event sent with a token from before the
 * revocation included). A visitor whose object cannot be reached has their messages retried.
 * Returns what may be written.
 */
async function throughVisitors(visitors: VisitorStore, pending: readonly Pending[], now: number): Promise<Pending[]> {
  const kept: Pending[] = [];
  const byVisitor = new Map<string, Pending[]>();
  for (const p of pending) {
    if (p.event.visitorId) byVisitor.set(p.event.visitorId, [...(byVisitor.get(p.event.visitorId) ?? []), p]);
    else kept.push(p);
  }
  await Promise.all(
    [...byVisitor].map(async ([visitorId, list]) => {
      const interactions = list.flatMap(({ event }) =>
        event.type === "interaction" && event.personalization && changesProfile(event.kind) ? [event] : [],
      );
      try {
        const { revoked } = await (await visitorStub(visitors, visitorId)).apply(interactions, now);
        if (revoked) for (const { message } of list) message.ack();
        else kept.push(...list);
      } catch {
        for (const { message } of list) message.retry(backoff(message.attempts));
      }
    }),
  );
  return kept;
}

/**
 * One transaction for the whole batch; if it fails, message by message, so that one failing
 * write is retried alone and the others are not held back.
 */
async function writeIsolatingFailures(db: ReturnType<typeof createDb>, pending: Pending[]): Promise<Pending[]> {
  try {
    await writeEvents(
      db,
      pending.map((p) => p.event),
    );
    return pending;
  } catch {
    const written: Pending[] = [];
    for (const p of pending) {
      try {
        await writeEvents(db, [p.event]);
        written.push(p);
      } catch {
        p.message.retry(backoff(p.message.attempts));
      }
    }
    return written;
  }
}
