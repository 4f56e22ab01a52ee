import { runErasure } from "../privacy/erasure";
import { createDb } from "../store/db";
import { queueMessageSchema } from "./schema";

/**
 * The central consumer. Each message is validated and acknowledged on its own, so one bad
 * message never retries its batch; a failing erasure is retried with backoff (and, past the
 * queue's retries, by the scheduled handler from the outbox row).
 * TODO(#4): persist decision events and roll-ups to D1 and update profiles (the event pipeline).
 */
export async function consumeEvents(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const db = createDb(env.DB);
  for (const message of batch.messages) {
    const parsed = queueMessageSchema.safeParse(message.body);
    if (!parsed.success) {
      console.warn("dropping malformed queue message", parsed.error.issues[0]?.path.join("."));
      message.ack();
      continue;
    }
    if (parsed.data.type !== "erasure") {
      message.ack();
      continue;
    }
    try {
      await runErasure(db, env.PROFILES, parsed.data.requestId);
      message.ack();
    } catch {
      message.retry({ delaySeconds: Math.min(300, 10 * 2 ** message.attempts) });
    }
  }
}
