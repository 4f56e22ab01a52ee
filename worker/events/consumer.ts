import { configOf } from "../lib/config";
import { memoize } from "../lib/memoize";
import { batchIdOf } from "../log/files";
import { logSinkOf } from "../log/sinks";
import { runErasure } from "../privacy/erasure";
import { createDb } from "../store/db";
import { revocationStatus } from "../store/revocations";
import { type DecisionEvent, type InteractionEvent, queueMessageSchema } from "../wire/events";
import { updateProfiles } from "./features";
import { countEvents, type LogTarget, logEvents } from "./ingest";

type Loggable = DecisionEvent | InteractionEvent;
type Pending = { message: Message<unknown>; event: Loggable };

const backoff = (attempts: number) => ({ delaySeconds: Math.min(300, 5 * 2 ** Math.max(0, attempts - 1)) });

/**
 * The central consumer (the worker's `queue()` handler). It validates every message again, drops
 * what consent does not allow and what must not count (no measurement consent, bot traffic, QA
 * preview traffic, revoked visitors: the
 * tombstone is checked before anything is written), counts the rest once into the daily aggregates
 * in D1 and writes them to the log (worker/events/ingest.ts), feeds
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
    if (!event.measurement || event.bot || event.preview) {
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

  const written = await writeIsolatingFailures({ db, sink: logSinkOf(env, configOf(env).logSink) }, pending);
  const interactions = written.flatMap((p) => (p.event.type === "interaction" ? [p.event] : []));
  let featuresFailed = false;
  try {
    await updateProfiles(env.PROFILES, interactions, Date.now());
  } catch {
    featuresFailed = true;
  }
  for (const { message, event } of written) {
    // Redelivery is safe: the aggregates count each row once, readers of the log keep one row per id, and the feature update is idempotent.
    const needsFeatures = event.type === "interaction" && event.personalization && event.visitorId;
    if (featuresFailed && needsFeatures) message.retry(backoff(message.attempts));
    else message.ack();
  }
}

/**
 * The batch counted into the aggregates in one transaction; if that fails, message by message, so
 * that one failing write is retried alone and the others are not held back. Then what was counted
 * goes to the log at once (a failure there retries those messages: the aggregates will not count
 * them again). So a row in the log has been counted, and a redelivered one is counted once.
 */
async function writeIsolatingFailures(target: LogTarget, pending: Pending[]): Promise<Pending[]> {
  const counted = await countIsolatingFailures(target, pending);
  try {
    await logEvents(
      target.sink,
      counted.map((p) => p.event),
      await batchIdOf(counted.map((p) => p.message.id)),
    );
    return counted;
  } catch {
    for (const p of counted) p.message.retry(backoff(p.message.attempts));
    return [];
  }
}

async function countIsolatingFailures(target: LogTarget, pending: Pending[]): Promise<Pending[]> {
  try {
    await countEvents(
      target.db,
      pending.map((p) => p.event),
    );
    return pending;
  } catch {
    const counted: Pending[] = [];
    for (const p of pending) {
      try {
        await countEvents(target.db, [p.event]);
        counted.push(p);
      } catch {
        p.message.retry(backoff(p.message.attempts));
      }
    }
    return counted;
  }
}
