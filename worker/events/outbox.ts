import { DECISIONS_MESSAGE_MAX_BYTES, DECISIONS_MESSAGE_MAX_EVENTS, type DecisionEvent } from "../wire/events";

const encoder = new TextEncoder();

/** `due`: when the request that opened the batch is to send it. */
type Batch = { queue: Queue; events: DecisionEvent[]; bytes: number; sent: boolean; due: number };

/**
 * How long past its due time an unsent batch is left to the request that opened it. Past that, that
 * request's `waitUntil` was cut short, and the batch would stay open, taking in every later decision
 * of the isolate, until it filled: the next decision sends it instead.
 */
export const OVERDUE_MS = 5_000;

/**
 * The decision events an isolate answered, queued together: the first decision after a send opens
 * a batch and sends it `windowMs` later in its own `waitUntil`; the decisions answered meanwhile
 * join it (a full batch is sent at once by the request that found it full). At peak traffic one
 * message per decision would pass the queue's 5,000 messages/s and cost three queue operations
 * per decision; batched, it is a message per window and isolate.
 *
 * No request awaits another's send: a later decision only adds plain data to the open batch, and
 * the request that opened it keeps the send alive. A send that fails is tried twice more, then
 * logged with its count and no payload, as a decision event that could not be queued always was
 * (the visitor's answer never waits on the log). The cost is that a batch rides on one request's lifetime: if that request's
 * `waitUntil` were cut short, the batch's decisions would go unlogged together.
 */
export class DecisionOutbox {
  /**
   * One open batch per isolate, sent through the binding of the request that opened it: every
   * request of a deployment has the same queue binding, but not the same binding object (a
   * wrapper per request, as the benchmark's counting entry makes), so the batch is not keyed by it.
   */
  private open: Batch | null = null;

  constructor(
    private readonly maxBytes = DECISIONS_MESSAGE_MAX_BYTES,
    private readonly maxEvents = DECISIONS_MESSAGE_MAX_EVENTS,
    private readonly clock: () => number = Date.now,
  ) {}

  add(queue: Queue, event: DecisionEvent, windowMs: number, keepAlive: (p: Promise<unknown>) => void): void {
    const size = encoder.encode(JSON.stringify(event)).byteLength + 1;
    const current = this.open;
    if (current && this.clock() > current.due + OVERDUE_MS) keepAlive(this.send(current, queue));
    else if (current && (current.bytes + size > this.maxBytes || current.events.length >= this.maxEvents)) keepAlive(this.send(current));
    const batch = this.open ?? this.openBatch(queue, windowMs, keepAlive);
    batch.events.push(event);
    batch.bytes += size;
  }

  private openBatch(queue: Queue, windowMs: number, keepAlive: (p: Promise<unknown>) => void): Batch {
    const batch: Batch = { queue, events: [], bytes: 0, sent: false, due: this.clock() + windowMs };
    this.open = batch;
    keepAlive(new Promise((resolve) => setTimeout(resolve, windowMs)).then(() => this.send(batch)));
    return batch;
  }

  /** Closes the batch (later decisions open another) and queues it, once (an overdue one through the binding of the request that found it). */
  private async send(batch: Batch, queue = batch.queue): Promise<void> {
    if (batch.sent) return;
    batch.sent = true;
    if (this.open === batch) this.open = null;
    for (const [attempt, pauseMs] of SEND_PAUSES_MS.entries()) {
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      try {
        await queue.send({ type: "decisions", events: batch.events }, { contentType: "json" });
        return;
      } catch (err) {
        if (attempt === SEND_PAUSES_MS.length - 1)
          console.error("decision events not queued", batch.events.length, err instanceof Error ? err.message : "unknown");
      }
    }
  }
}

/**
 * The pause before each attempt to queue a batch: at once, then twice more, so that a moment's
 * refusal (the queue's per-second limit, a transient error) does not lose a window's decisions,
 * and the whole stays well inside `waitUntil`'s 30 s.
 */
const SEND_PAUSES_MS = [0, 250, 1_000];

/** The isolate's outbox for the decision API and the edge route. */
export const decisionOutbox = new DecisionOutbox();
