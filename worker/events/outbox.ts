import {
  DECISIONS_MESSAGE_MAX_EVENTS,
  type DecisionEvent,
  type DecisionsMessage,
  INTERACTIONS_MESSAGE_MAX_EVENTS,
  type InteractionEvent,
  type InteractionsMessage,
  OUTBOX_MESSAGE_MAX_BYTES,
} from "../wire/events";

const encoder = new TextEncoder();

/** `due`: when the request that opened the batch is to send it. */
type Batch<E> = { queue: Queue; events: E[]; bytes: number; sent: boolean; due: number };

/** What an outbox sends its events as, and its bounds per message. */
export type OutboxSettings<E> = {
  /** The queue message for a batch of events. */
  message: (events: E[]) => unknown;
  /** What the events are, for the one line logged when a batch could not be queued. */
  what: string;
  maxBytes: number;
  maxEvents: number;
  clock?: () => number;
};

/**
 * How long past its due time an unsent batch is left to the request that opened it. Past that, that
 * request's `waitUntil` was cut short, and the batch would stay open, taking in every later event
 * of the isolate, until it filled: the next event sends it instead.
 */
export const OVERDUE_MS = 5_000;

/**
 * Events an isolate took, queued together: the first event after a send opens a batch and sends it
 * `windowMs` later in its own request's `waitUntil`; the events taken meanwhile join it (a full
 * batch is sent at once by the request that found it full). At peak traffic one message per
 * decision or per beacon would pass the queue's 5,000 messages/s and cost three queue operations
 * each; batched, it is a message per window and isolate.
 *
 * No request awaits another's send: a later event only adds plain data to the open batch, and the
 * request that opened it keeps the send alive. A send that fails is tried twice more, then logged
 * with its count and no payload. The cost is that a batch rides on one request's lifetime: if that
 * request's `waitUntil` were cut short, the batch's events would wait for the next event past
 * OVERDUE_MS, and be lost with the isolate if none came.
 */
export class Outbox<E> {
  /**
   * One open batch per isolate, sent through the binding of the request that opened it: every
   * request of a deployment has the same queue binding, but not the same binding object (a
   * wrapper per request, as the benchmark's counting entry makes), so the batch is not keyed by it.
   */
  private open: Batch<E> | null = null;
  private readonly clock: () => number;

  constructor(private readonly settings: OutboxSettings<E>) {
    this.clock = settings.clock ?? Date.now;
  }

  add(queue: Queue, event: E, windowMs: number, keepAlive: (p: Promise<unknown>) => void): void {
    const size = encoder.encode(JSON.stringify(event)).byteLength + 1;
    const current = this.open;
    if (current && this.clock() > current.due + OVERDUE_MS) keepAlive(this.send(current, queue));
    else if (current && (current.bytes + size > this.settings.maxBytes || current.events.length >= this.settings.maxEvents))
      keepAlive(this.send(current));
    const batch = this.open ?? this.openBatch(queue, windowMs, keepAlive);
    batch.events.push(event);
    batch.bytes += size;
  }

  private openBatch(queue: Queue, windowMs: number, keepAlive: (p: Promise<unknown>) => void): Batch<E> {
    const batch: Batch<E> = { queue, events: [], bytes: 0, sent: false, due: this.clock() + windowMs };
    this.open = batch;
    keepAlive(new Promise((resolve) => setTimeout(resolve, windowMs)).then(() => this.send(batch)));
    return batch;
  }

  /** Closes the batch (later events open another) and queues it, once (an overdue one through the binding of the request that found it). */
  private async send(batch: Batch<E>, queue = batch.queue): Promise<void> {
    if (batch.sent) return;
    batch.sent = true;
    if (this.open === batch) this.open = null;
    for (const [attempt, pauseMs] of SEND_PAUSES_MS.entries()) {
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      try {
        await queue.send(this.settings.message(batch.events), { contentType: "json" });
        return;
      } catch (err) {
        if (attempt === SEND_PAUSES_MS.length - 1)
          console.error(`${this.settings.what} not queued`, batch.events.length, err instanceof Error ? err.message : "unknown");
      }
    }
  }
}

/**
 * The pause before each attempt to queue a batch: at once, then twice more, so that a moment's
 * refusal (the queue's per-second limit, a transient error) does not lose a window's events,
 * and the whole stays well inside `waitUntil`'s 30 s.
 */
const SEND_PAUSES_MS = [0, 250, 1_000];

export const DECISION_OUTBOX: OutboxSettings<DecisionEvent> = {
  message: (events): DecisionsMessage => ({ type: "decisions", events }),
  what: "decision events",
  maxBytes: OUTBOX_MESSAGE_MAX_BYTES,
  maxEvents: DECISIONS_MESSAGE_MAX_EVENTS,
};

export const INTERACTION_OUTBOX: OutboxSettings<InteractionEvent> = {
  message: (events): InteractionsMessage => ({ type: "interactions", events }),
  what: "interaction events",
  maxBytes: OUTBOX_MESSAGE_MAX_BYTES,
  maxEvents: INTERACTIONS_MESSAGE_MAX_EVENTS,
};

/** The isolate's outbox for decision events (the decision API and the edge route). */
export const decisionOutbox = new Outbox(DECISION_OUTBOX);
/** The isolate's outbox for the events of `/v1/events?delivery=batched` (the script tag's beacons). */
export const interactionOutbox = new Outbox(INTERACTION_OUTBOX);
