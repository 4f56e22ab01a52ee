import { withDeadline } from "../lib/deadline";
import type { InteractionEvent } from "../wire/events";
import { type VisitorStore, visitorStub } from "./client";
import { changesProfile } from "./features";

/** Whether an event still has to change its visitor's profile: a click or conversion, with personalization consent, not yet taken by the object. */
export const profileChangePending = (e: InteractionEvent): boolean => e.personalization && changesProfile(e.kind) && !e.appliedAtEdge;

/**
 * The most visitors whose clicks one request applies before answering. A browser's beacon or an
 * app's call is about one visitor, whose next page is what in-session personalization is for; a
 * server relaying many visitors' events at once (a backfill, a batch from its own queue) is left to
 * the consumer, which calls each visitor's object once per queue batch however many requests their
 * clicks came in, rather than once per request, and the relay does not wait on dozens of objects.
 */
export const EDGE_APPLY_MAX_VISITORS = 4;

/**
 * A /v1/events request's clicks and conversions, applied to the visitors' objects before the
 * request answers, so that the visitor's next decision (at any location) sees them at once rather
 * than after the queue's batch timeout (up to 5 s in production, longer than a click's navigation).
 * One call per visitor, in parallel, each bounded by the store's timeout, for a request about at
 * most EDGE_APPLY_MAX_VISITORS visitors. The events an object took
 * come back marked `appliedAtEdge`, and the consumer does not call the object for them again; an
 * object that failed, was too slow or holds a tombstone leaves its events unmarked, and the consumer
 * applies them (or drops them for the revocation) as before: applying is idempotent by event id, so
 * an edge call that did land late is not counted twice.
 */
export async function applyAtEdge(store: VisitorStore, events: readonly InteractionEvent[], now: number): Promise<InteractionEvent[]> {
  const byVisitor = new Map<string, InteractionEvent[]>();
  for (const e of events)
    if (e.visitorId && profileChangePending(e)) byVisitor.set(e.visitorId, [...(byVisitor.get(e.visitorId) ?? []), e]);
  if (byVisitor.size > EDGE_APPLY_MAX_VISITORS) return [...events];
  const taken = new Set<InteractionEvent>();
  await Promise.all(
    [...byVisitor].map(async ([visitorId, list]) => {
      try {
        const { revoked } = await withDeadline((await visitorStub(store, visitorId)).apply(list, now), store.timeoutMs);
        if (!revoked) for (const e of list) taken.add(e);
      } catch {
        // Left to the consumer (see above).
      }
    }),
  );
  return events.map((e) => (taken.has(e) ? { ...e, appliedAtEdge: true } : e));
}
