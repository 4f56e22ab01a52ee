import { SELF } from "cloudflare:test";
import type { DecideResponse } from "../../worker/wire/decide";
import type { InteractionEvent } from "../../worker/wire/events";
import { BROWSER } from "./fixtures";
import { loggedRows } from "./log";

/** Helpers for driving the event pipeline through the worker and the real local queue. */
export type Shown = { slot: string; contentId: string };
export const shownIn = (d: DecideResponse): Shown[] =>
  d.slots.flatMap((s) => s.items.map((i) => ({ slot: s.slot, contentId: i.contentId })));

export function event(d: DecideResponse, shown: Shown, type: InteractionEvent["kind"], eventId = crypto.randomUUID()) {
  return {
    eventId,
    type,
    decisionId: d.decisionId,
    slot: shown.slot,
    contentId: shown.contentId,
    ts: Date.now(),
    eventToken: d.eventToken,
  };
}

export function postEvents(events: unknown[], headers: Record<string, string> = {}, contentType = "application/json") {
  return SELF.fetch("https://edge.example/v1/events", {
    method: "POST",
    headers: { "content-type": contentType, "user-agent": BROWSER, ...headers },
    body: JSON.stringify({ events }),
  });
}

/** Interactions about a decision in the log (one per event id, as every reader counts them). */
export async function countFor(decisionId: string, site?: string): Promise<number> {
  return (await loggedRows(site)).filter((row) => row.kind === "interaction" && row.decision_id === decisionId).length;
}

/**
 * An anonymous, measured interaction as the edge queues it (for tests that hand the consumer a
 * batch themselves); `overrides` set what the test is about.
 */
export function queuedInteraction(site: string, decisionId: string, overrides: Partial<InteractionEvent> = {}): InteractionEvent {
  return {
    type: "interaction",
    siteId: site,
    visitorId: null,
    measurement: true,
    personalization: false,
    bot: false,
    eventId: crypto.randomUUID(),
    kind: "impression",
    decisionId,
    slot: "hero",
    contentId: "men-1",
    policy: "model",
    modelVersion: "obd-mlp-1",
    ts: Date.now(),
    ...overrides,
  };
}

/**
 * The real local queue, with the body of every message sent through it (`send` or `sendBatch`)
 * kept for the test to read (as `read` reads it); the first `refusals` calls are refused as the
 * queue refuses one past its limit (a real failure of the binding's contract, injected: nothing
 * reaches the queue).
 */
export function recordedQueue<T = unknown>(
  queue: Queue,
  { refusals = 0, read = (body: unknown) => body as T }: { refusals?: number; read?: (body: unknown) => T } = {},
): { queue: Queue; sent: T[] } {
  const sent: T[] = [];
  let refuse = refusals;
  const refused = () => refuse-- > 0;
  const wrapped = new Proxy(queue, {
    get(target, property) {
      if (property === "send")
        return async (body: unknown, options?: QueueSendOptions) => {
          if (refused()) throw new Error("Too Many Requests: queue send rate exceeded (injected)");
          sent.push(read(body));
          return target.send(body, options);
        };
      if (property === "sendBatch")
        return async (messages: MessageSendRequest[], options?: QueueSendBatchOptions) => {
          if (refused()) throw new Error("Too Many Requests: queue send rate exceeded (injected)");
          sent.push(...messages.map((m) => read(m.body)));
          return target.sendBatch(messages, options);
        };
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { queue: wrapped, sent };
}
