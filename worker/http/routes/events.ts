import { Hono } from "hono";
import { deviceClass } from "../../decisions/context";
import { checkEventToken, type EventGrant } from "../../events/token";
import { ApiError } from "../../lib/errors";
import { memoize } from "../../lib/memoize";
import { loadCatalogue } from "../../site/catalogue";
import { type ClientEvent, eventsRequestSchema, type InteractionEvent, MAX_EVENTS_BODY_BYTES } from "../../wire/events";
import type { AppEnv } from "../app-env";
import { rateLimit } from "../middleware/rate-limit";
import { siteCors } from "../middleware/site-cors";
import { jsonBody, limitBody, parseWith } from "./validate";

/** Verifies one event against its decision's token: forged, expired or mismatched is a 403. */
function enrich(event: ClientEvent, grant: EventGrant, index: number, bot: boolean): InteractionEvent {
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
  return {
    type: "interaction",
    siteId: grant.s,
    visitorId: grant.v,
    measurement: grant.m,
    personalization: grant.p,
    bot: bot || grant.b,
    ...(grant.q ? { preview: true } : {}),
    eventId: event.eventId,
    kind: event.type,
    decisionId: event.decisionId,
    slot: event.slot,
    contentId: event.contentId,
    policy: shown[2],
    modelVersion: grant.mv,
    ts: event.ts,
    ...(event.value !== undefined ? { value: event.value } : {}),
    ...(event.currency ? { currency: event.currency } : {}),
    ...(shown[3] ? { variantId: shown[3], variantReason: shown[4] } : {}),
  };
}

export const eventRoutes = new Hono<AppEnv>()
  .use(siteCors)
  /**
   * Impressions, clicks, conversions and dismissals, up to 100 per request, as JSON or as the
   * text/plain body that `navigator.sendBeacon` sends. The whole batch is refused if any event
   * is malformed or its token does not verify; otherwise it is queued and answered with 202.
   */
  .post("/", rateLimit("EVENTS_RATE_LIMITER"), limitBody(MAX_EVENTS_BODY_BYTES), async (c) => {
    const { events } = parseWith(eventsRequestSchema, await jsonBody(c));
    const keys = [c.env.ID_SIGNING_KEY, c.env.ID_SIGNING_KEY_PREVIOUS];
    const now = Date.now();
    const bot = deviceClass(c.req.header("user-agent")) === "bot";
    const grantOf = memoize((token: string) => checkEventToken(token, keys, now));
    const messages: InteractionEvent[] = [];
    for (const [index, event] of events.entries()) {
      const result = await grantOf(event.eventToken);
      if (!result.ok) {
        const message = result.reason === "expired_token" ? "the event token has expired" : "the event token does not verify";
        throw new ApiError(403, result.reason, `events.${index}: ${message}`, `events.${index}.eventToken`);
      }
      messages.push(enrich(event, result.grant, index, bot));
    }
    const siteId = messages[0]?.siteId;
    if (siteId) {
      const { catalogue } = await loadCatalogue(c.var.db, c.env.CONFIG, siteId, c.var.config.configTtlMs).catch(() => ({
        catalogue: null,
      }));
      if (catalogue) c.set("site", catalogue.site);
    }
    try {
      await c.env.EVENTS.sendBatch(messages.map((body) => ({ body, contentType: "json" as const })));
    } catch {
      throw new ApiError(503, "queue_unavailable", "events could not be queued; send them again");
    }
    return c.json({ accepted: messages.length }, 202);
  });
