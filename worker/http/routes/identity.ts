import { Hono } from "hono";
import { customerSubject } from "../../channels/customers";
import { linkDevice } from "../../channels/links";
import { ApiError } from "../../lib/errors";
import { visitorStore } from "../../visitors/client";
import { linkRequestSchema } from "../../wire/channels";
import type { AppEnv } from "../app-env";
import { apiKeyAuth, keyForSite } from "../middleware/api-key";
import { rateLimit } from "../middleware/rate-limit";
import { verifiedVisitorId } from "../server-visitor";
import { jsonBody, limitBody, parseWith } from "./validate";

/**
 * Identity linking by the site's server (an API key scoped for decide): when a person signs in,
 * the server sends the device's signed visitor id (its `ep_vid` cookie) and the customer id, with
 * the consent the site holds. Only personalization consent links (worker/channels/links.ts has
 * the merge rule); the customer id is hashed at once and never stored.
 */
export const identityRoutes = new Hono<AppEnv>()
  .use(apiKeyAuth("decide"))
  .use(rateLimit("DECIDE_RATE_LIMITER"))
  .post("/link", limitBody(4096), async (c) => {
    const request = parseWith(linkRequestSchema, await jsonBody(c));
    keyForSite(c.var.apiKey, request.site);
    if (!request.consent.personalization)
      throw new ApiError(403, "consent_required", "a device is linked only with personalization consent", "consent.personalization");
    const visitorId = await verifiedVisitorId(c, request.visitorToken, "visitorToken");
    const customer = await customerSubject(c.var.db, request.site, request.customerId);
    const { merged } = await linkDevice(visitorStore(c.env, c.var.config), { visitorId, customer, now: Date.now() });
    return c.json({ linked: true, merged });
  });
