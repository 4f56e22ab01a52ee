import { INTERACTIONS_MESSAGE_MAX_BYTES, type InteractionEvent, type InteractionsMessage } from "../wire/events";

const encoder = new TextEncoder();

/**
 * A request's admitted events as queue messages: as few as fit under the queue's size limit (one
 * for any request the tag sends), so that the queue is billed per request rather than per event.
 */
export function interactionsMessages(events: readonly InteractionEvent[]): InteractionsMessage[] {
  const messages: InteractionsMessage[] = [];
  let current: InteractionEvent[] = [];
  let bytes = 0;
  for (const event of events) {
    const size = encoder.encode(JSON.stringify(event)).byteLength + 1;
    if (current.length > 0 && bytes + size > INTERACTIONS_MESSAGE_MAX_BYTES) {
      messages.push({ type: "interactions", events: current });
      current = [];
      bytes = 0;
    }
    current.push(event);
    bytes += size;
  }
  if (current.length > 0) messages.push({ type: "interactions", events: current });
  return messages;
}

/**
 * One queue message seen as one handle per event it carries. The consumer settles each event on its
 * own (acknowledged, or retried when its visitor's object or a write failed); the message is
 * settled once all its events are: retried if any of them must be (the others are then counted and
 * logged once more, which the ledger and the log's readers make harmless), acknowledged otherwise.
 */
export function perEventHandles(message: Message<unknown>, count: number): Message<unknown>[] {
  let open = count;
  let retry: { options?: QueueRetryOptions } | null = null;
  const handle = (): Message<unknown> => {
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      if (--open > 0) return;
      if (retry) message.retry(retry.options);
      else message.ack();
    };
    return {
      id: message.id,
      timestamp: message.timestamp,
      body: message.body,
      attempts: message.attempts,
      ack: settle,
      retry(options?: QueueRetryOptions) {
        retry ??= options ? { options } : {};
        settle();
      },
    };
  };
  return Array.from({ length: count }, handle);
}
