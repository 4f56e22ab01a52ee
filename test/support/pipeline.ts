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
