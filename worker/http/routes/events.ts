import { Hono } from "hono";
import { deviceClass } from "../../decisions/context";
import { admitEvent, eventsAnswer } from "../../events/admit";
import { interactionsMessages } from "../../events/messages";
import { interactionOutbox } from "../../events/outbox";
import { checkEventToken } from "../../events/token";
import { ApiError } from "../../lib/errors";
import { memoize } from "../../lib/memoize";
import { loadCatalogue } from "../../site/catalogue";
import { readPolicy } from "../../site/policy";
import { applyAtEdge } from "../../visitors/apply";
import { visitorStore } from "../../visitors/client";
import { eventsQuerySchema, eventsRequestSchema, type InteractionEvent, MAX_EVENTS_BODY_BYTES } from "../../wire/events";
import type { AppEnv } from "../app-env";
import { keepAliveOf } from "../keep-alive";
import { apiKeyAuth, keyForSite } from "../middleware/api-key";
import { rateLimit } from "../middleware/rate-limit";
import { siteCors } from "../middleware/site-cors";
import { jsonBody, limitBody, parseWith } from "./validate";

const DEFAULT_POLICY = readPolicy({});

export const eventRoutes = new Hono<AppEnv>()
  .use(siteCors)
  /**
   * Impressions, clicks, conversions and dismissals, up to 100 per request, as JSON or as the
   * text/plain body that `navigator.sendBeacon` sends. The whole batch is refused if any event
   * is malformed or its token does not verify; otherwise its clicks and conversions are applied to
   * the visitors' objects (worker/visitors/apply.ts), it is queued (before the answer, or with the
   * isolate's other beacons after it: `?delivery=batched`), and it is answered with 202, saying
   * how many will count for learning and why the others will not (an automated user agent, QA
   * preview traffic, no measurement consent). A server or app sends them with an API key scoped for
   * events, for its own site's decisions only.
   */
  .post("/", apiKeyAuth("events"), rateLimit("EVENTS_RATE_LIMITER"), limitBody(MAX_EVENTS_BODY_BYTES), async (c) => {
    const { delivery } = parseWith(eventsQuerySchema, c.req.query());
    const { events } = parseWith(eventsRequestSchema, await jsonBody(c));
    const keys = [c.env.ID_SIGNING_KEY, c.env.ID_SIGNING_KEY_PREVIOUS];
    const now = Date.now();
    // A server relays its users' events: its own user agent says nothing about them (the decision's token does).
    const bot = !c.var.apiKey && deviceClass(c.req.header("user-agent")) === "bot";
    const grantOf = memoize((token: string) => checkEventToken(token, keys, now));
    // The site's event bounds; a catalogue that cannot be read leaves the defaults.
    const siteOf = memoize((siteId: string) =>
      loadCatalogue(c.var.db, c.env.CONFIG, siteId, c.var.config.configTtlMs, keepAliveOf(c)).then(
        ({ catalogue }) => catalogue?.site ?? null,
        () => null,
      ),
    );
    const messages: InteractionEvent[] = [];
    for (const [index, event] of events.entries()) {
      const result = await grantOf(event.eventToken);
      if (!result.ok) {
        const message = result.reason === "expired_token" ? "the event token has expired" : "the event token does not verify";
        throw new ApiError(403, result.reason, `events.${index}: ${message}`, `events.${index}.eventToken`);
      }
      if (c.var.apiKey) keyForSite(c.var.apiKey, result.grant.s);
      const site = await siteOf(result.grant.s);
      if (site && !c.get("site")) c.set("site", site);
      messages.push(await admitEvent(event, result.grant, (site?.policy ?? DEFAULT_POLICY).events, index, bot));
    }
    const queued = await applyAtEdge(visitorStore(c.env, c.var.config), messages, now);
    const keepAlive = delivery === "batched" ? keepAliveOf(c) : undefined;
    if (keepAlive) for (const event of queued) interactionOutbox.add(c.env.EVENTS, event, c.var.config.logBatchWindowMs, keepAlive);
    else await queueNow(c.env.EVENTS, queued);
    return c.json(eventsAnswer(messages), 202);
  });

/** The request's events queued before its answer, so that a 202 means they are on the queue. */
async function queueNow(queue: Queue, events: readonly InteractionEvent[]): Promise<void> {
  try {
    await queue.sendBatch(interactionsMessages(events).map((body) => ({ body, contentType: "json" as const })));
  } catch {
    throw new ApiError(503, "queue_unavailable", "events could not be queued; send them again");
  }
}
