import { ApiError } from "../lib/errors";
import type { SitePolicy } from "../site/policy";
import type { ClientEvent, EventsAnswer, InteractionEvent, NotLearnedReason } from "../wire/events";
import type { EventGrant } from "./token";

/**
 * What one reported event may count, decided at the edge from its decision's verified token and
 * the site's policy. Every counter a client can feed is bounded by the decision:
 * - it must name the token's decision and an item the decision showed (403 otherwise);
 * - its time must lie in the decision's lifetime: from the decision (less `CLOCK_SKEW_MS`, for a
 *   client clock running behind) to the token's expiry (400 otherwise), so no client picks the day
 *   it counts on; roll-ups are dated by the decision in any case;
 * - a value above the site's `events.maxConversionValue` is a 400;
 * - the stored event id is derived from the decision, slot, content and kind, not taken from the
 *   client: the consumer's idempotent writes then count one impression, one click and one dismissal
 *   per shown item however often they are replayed. A conversion's id also takes the client's id (a
 *   retried conversion collapses, a second purchase does not), and the consumer counts at most
 *   `events.maxConversionsPerDecision` of them per decision.
 */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

async function storedEventId(event: ClientEvent): Promise<string> {
  const perKind = event.type === "conversion" ? event.eventId : "";
  const key = JSON.stringify([event.decisionId, event.slot, event.contentId, event.type, perKind]);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)));
  return [...digest.slice(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export async function admitEvent(
  event: ClientEvent,
  grant: EventGrant,
  policy: SitePolicy["events"],
  index: number,
  bot: boolean,
): Promise<InteractionEvent> {
  const field = `events.${index}`;
  if (grant.d !== event.decisionId)
    throw new ApiError(403, "token_mismatch", `${field}: the token belongs to another decision`, `${field}.decisionId`);
  const shown = grant.i.find(([slot, contentId]) => slot === event.slot && contentId === event.contentId);
  if (!shown)
    throw new ApiError(
      403,
      "token_mismatch",
      `${field}: the decision did not show ${event.contentId} in ${event.slot}`,
      `${field}.contentId`,
    );
  if (event.ts < grant.t - CLOCK_SKEW_MS || event.ts > grant.e)
    throw new ApiError(
      400,
      "invalid_event_time",
      `${field}.ts: outside the decision's lifetime (${new Date(grant.t).toISOString()} to ${new Date(grant.e).toISOString()})`,
      `${field}.ts`,
    );
  if (event.value !== undefined && event.value > policy.maxConversionValue)
    throw new ApiError(
      400,
      "invalid_request",
      `${field}.value: at most ${policy.maxConversionValue} per conversion on this site`,
      `${field}.value`,
    );
  return {
    type: "interaction",
    siteId: grant.s,
    visitorId: grant.v,
    measurement: grant.m,
    personalization: grant.p,
    bot: bot || grant.b,
    ...(grant.q ? { preview: true } : {}),
    eventId: await storedEventId(event),
    kind: event.type,
    decisionId: event.decisionId,
    slot: event.slot,
    contentId: event.contentId,
    policy: shown[2],
    modelVersion: grant.mv,
    ts: event.ts,
    decidedAt: grant.t,
    maxConversions: policy.maxConversionsPerDecision,
    ...(event.value !== undefined ? { value: event.value } : {}),
    ...(event.currency ? { currency: event.currency } : {}),
    ...(shown[3] ? { variantId: shown[3], variantReason: shown[4] } : {}),
    ...(grant.h ? { holdout: true } : {}),
    ...(grant.x ? { assignments: grant.x.map(([experiment, arm]) => ({ experiment, arm })) } : {}),
    ...(grant.g ? { segments: grant.g } : {}),
    ...(grant.ch ? { channel: grant.ch } : {}),
  };
}

/** Why an admitted event will not count for learning and reports, or null when it will (one rule, for the answer and the consumer). */
export function notLearnedReason(event: Pick<InteractionEvent, "bot" | "preview" | "measurement">): NotLearnedReason | null {
  if (event.bot) return "automated_user_agent";
  if (event.preview) return "qa_preview";
  if (!event.measurement) return "no_measurement_consent";
  return null;
}

/** The events route's answer for what it queued. */
export function eventsAnswer(events: InteractionEvent[]): EventsAnswer {
  const notForLearning: EventsAnswer["notForLearning"] = {};
  for (const event of events) {
    const reason = notLearnedReason(event);
    if (reason) notForLearning[reason] = (notForLearning[reason] ?? 0) + 1;
  }
  const ignored = Object.values(notForLearning).reduce((a, b) => a + b, 0);
  return { accepted: events.length, forLearning: events.length - ignored, notForLearning };
}
