import { memoize } from "../lib/memoize";
import { runErasure } from "../privacy/erasure";
import { createDb } from "../store/db";
import { revocationStatus } from "../store/revocations";
import { type DecisionEvent, type InteractionEvent, queueMessageSchema } from "../wire/events";
import { notLearnedReason } from "./admit";
import { updateProfiles } from "./features";
import { writeEvents } from "./ingest";

type Loggable = DecisionEvent | InteractionEvent;
type Pending = { message: Message<unknown>; event: Loggable };

const backoff = (attempts: number) => ({ delaySeconds: Math.min(300, 5 * 2 ** Math.max(0, attempts - 1)) });

/**
 * The central consumer (the worker's `queue()` handler). It validates every message again, drops
 * what consent does not allow and what must not count (no measurement consent, bot traffic, QA
 * preview traffic, revoked visitors: the
 * tombstone is checked before anything is written), writes the rest idempotently to D1, feeds
 * clicks back into the visitors' KV features, and acknowledges or retries message by message.
 */
export async function consumeEvents(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const db = createDb(env.DB);
  const statusOf = memoize((visitorId: string) => revocationStatus(db, visitorId));

  const pending: Pending[] = [];
  for (const message of batch.messages) {
    const parsed = queueMessageSchema.safeParse(message.body);
    if (!parsed.success) {
      // A poison message: logged by field path only (no payload), acknowledged, never retried.
      console.warn("dropping malformed queue message", parsed.error.issues[0]?.path.join("."));
      message.ack();
      continue;
    }
    const event = parsed.data;
    if (event.type === "erasure") {
      try {
        await runErasure(db, env.PROFILES, event.requestId);
        message.ack();
      } catch {
        message.retry(backoff(message.attempts));
      }
      continue;
    }
    if (notLearnedReason(event)) {
      message.ack();
      continue;
    }
    if (event.visitorId) {
      const status = await statusOf(event.visitorId);
      if (status === "unknown") {
        message.retry(backoff(message.attempts));
        continue;
      }
      if (status === "revoked") {
        message.ack();
        continue;
      }
    }
    pending.push({ message, event });
  }

  const written = await writeIsolatingFailures(db, pending);
  const interactions = written.flatMap((p) => (p.event.type === "interaction" ? [p.event] : []));
  let featuresFailed = false;
  try {
    await updateProfiles(env.PROFILES, interactions, Date.now());
  } catch {
    featuresFailed = true;
  }
  for (const { message, event } of written) {
    // Redelivery is safe: the D1 writes are idempotent and so is the feature update.
    const needsFeatures = event.type === "interaction" && event.personalization && event.visitorId;
    if (featuresFailed && needsFeatures) message.retry(backoff(message.attempts));
    else message.ack();
  }
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
