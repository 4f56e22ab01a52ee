import { type Context, Hono } from "hono";
import { customerSubject } from "../../channels/customers";
import { issueLinkToken, LINK_TOKEN_TTL_MS, linkedCustomer } from "../../channels/link-token";
import { linkDevice } from "../../channels/links";
import { ApiError } from "../../lib/errors";
import { loadCatalogue } from "../../site/catalogue";
import { visitorStore } from "../../visitors/client";
import { browserLinkRequestSchema, linkRequestSchema, linkTokenRequestSchema } from "../../wire/channels";
import type { AppEnv } from "../app-env";
import { keepAliveOf } from "../keep-alive";
import { apiKeyAuth, keyForSite } from "../middleware/api-key";
import { rateLimit } from "../middleware/rate-limit";
import { siteCors } from "../middleware/site-cors";
import { verifiedVisitorId } from "../server-visitor";
import { resolveVisitor } from "../visitor";
import { jsonBody, limitBody, parseWith } from "./validate";

/**
 * Identity linking (worker/channels/links.ts has the merge rule). Two ways, both only with
 * personalization consent, the customer id hashed at once and never stored:
 * - the site's server (an API key scoped for decide) sends the device's signed visitor id (its
 *   `ep_vid` cookie) and the customer id, with the consent the site holds;
 * - a signed-in page posts a link token that its server minted for the customer (`/tokens`), with
 *   the browser's own cookies and consent; only from one of the site's origins, so that no other
 *   page can link a visitor's browser to someone else's account.
 */
type Ctx = Context<AppEnv>;
const noConsent = () =>
  new ApiError(403, "consent_required", "a device is linked only with personalization consent", "consent.personalization");

async function linkByServer(c: Ctx, input: unknown) {
  const request = parseWith(linkRequestSchema, input);
  keyForSite(c.var.apiKey, request.site);
  if (!request.consent.personalization) throw noConsent();
  const visitorId = await verifiedVisitorId(c, request.visitorToken, "visitorToken");
  const customer = await customerSubject(c.var.db, request.site, request.customerId);
  return linkDevice(visitorStore(c.env, c.var.config), { visitorId, customer, now: Date.now() });
}

async function linkByPage(c: Ctx, input: unknown) {
  const request = parseWith(browserLinkRequestSchema, input);
  const { catalogue } = await loadCatalogue(c.var.db, c.env.CONFIG, request.site, c.var.config.configTtlMs, keepAliveOf(c));
  if (!catalogue) throw new ApiError(404, "unknown_site", `no site "${request.site}"`, "site");
  const site = catalogue.site;
  c.set("site", site);
  if (!site.allowedOrigins.includes(c.req.header("origin") ?? ""))
    throw new ApiError(403, "forbidden_origin", "a browser links only from one of the site's own origins", "origin");
  const now = Date.now();
  const customer = await linkedCustomer(request.linkToken, site.id, [c.env.ID_SIGNING_KEY, c.env.ID_SIGNING_KEY_PREVIOUS], now);
  if (!customer) throw new ApiError(403, "invalid_token", "linkToken: not a valid link token for this site (or expired)", "linkToken");
  const { visitor } = await resolveVisitor(c, site);
  if (!visitor.consent.personalization) throw noConsent();
  if (!visitor.id) throw new ApiError(409, "no_visitor_id", "this browser has no visitor id yet", "cookie");
  return linkDevice(visitorStore(c.env, c.var.config), { visitorId: visitor.id, customer, now });
}

export const identityRoutes = new Hono<AppEnv>()
  .use(siteCors)
  .use(apiKeyAuth("decide"))
  .use(rateLimit("DECIDE_RATE_LIMITER"))
  .post("/link", limitBody(4096), async (c) => {
    const input = await jsonBody(c);
    const { merged } = c.var.apiKey ? await linkByServer(c, input) : await linkByPage(c, input);
    return c.json({ linked: true, merged });
  })
  .post("/tokens", limitBody(4096), async (c) => {
    const request = parseWith(linkTokenRequestSchema, await jsonBody(c));
    keyForSite(c.var.apiKey, request.site);
    const now = Date.now();
    const customer = await customerSubject(c.var.db, request.site, request.customerId);
    c.header("Cache-Control", "no-store");
    return c.json({
      linkToken: await issueLinkToken(request.site, customer, c.env.ID_SIGNING_KEY, now),
      expiresAt: new Date(now + LINK_TOKEN_TTL_MS).toISOString(),
    });
  });
