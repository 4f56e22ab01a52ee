import { type Context, Hono } from "hono";
import { customerSubject } from "../../channels/customers";
import {
  checkRecipientToken,
  editorDefault,
  emailEvent,
  issueRecipientToken,
  prefetchReason,
  type RecipientGrant,
  redirectTarget,
} from "../../channels/email";
import { interactionOutbox } from "../../events/outbox";
import { afterAnswer } from "../../lib/after-answer";
import { ApiError, DependencyError } from "../../lib/errors";
import { type Catalogue, loadCatalogue } from "../../site/catalogue";
import { visitorStore, visitorStub } from "../../visitors/client";
import type { EmailMark, EmailOpen } from "../../visitors/shapes";
import { resourceId } from "../../wire/catalogue";
import { recipientTokensRequestSchema } from "../../wire/channels";
import type { AppEnv } from "../app-env";
import { decisionForRequest } from "../decision";
import { keepAliveOf } from "../keep-alive";
import { apiKeyAuth, keyForSite } from "../middleware/api-key";
import { rateLimit } from "../middleware/rate-limit";
import { byRecipient } from "../server-visitor";
import { jsonBody, limitBody, parseWith } from "./validate";

/**
 * E-mail slots (docs/channels.md): `GET /v1/email/<site>/<slot>.png?r=<token>` redirects to the
 * image of the content chosen at the first open, `GET /v1/email/<site>/<slot>/click?r=<token>&d=<url>`
 * to that content's page (or to `d`, the mail's own link, when no open was recorded, e.g. with
 * images off). Impression and click are logged once each; a privacy proxy's prefetch is served but
 * not counted; a recipient without consent, or with an expired token, gets the editor's default.
 */
type Ctx = Context<AppEnv>;
const SLOT_IMAGE = /^([A-Za-z0-9_-]{1,64})\.png$/;
const signingKeys = (c: Ctx) => [c.env.ID_SIGNING_KEY, c.env.ID_SIGNING_KEY_PREVIOUS];

async function recipientOf(c: Ctx, site: string) {
  const check = await checkRecipientToken(c.req.query("r") ?? "", signingKeys(c), Date.now());
  if (!check.ok) throw new ApiError(403, "invalid_token", "r: the recipient token does not verify", "r");
  if (check.grant.s !== site) throw new ApiError(403, "token_mismatch", "r: the recipient token belongs to another site", "r");
  // Per mail, not per address: a mail provider's image proxy fetches for all its users from few addresses.
  const limited = await c.env.DECIDE_RATE_LIMITER?.limit({ key: `recipient:${check.grant.n}` });
  if (limited && !limited.success) throw new ApiError(429, "rate_limited", "too many requests for this mail; slow down");
  return { grant: check.grant, personal: check.grant.p && !check.expired };
}

async function catalogueOf(c: Ctx, site: string, slot: string): Promise<Catalogue> {
  const loaded = await loadCatalogue(c.var.db, c.env.CONFIG, site, c.var.config.configTtlMs, keepAliveOf(c)).catch((err: unknown) => {
    if (err instanceof DependencyError) throw new ApiError(503, "catalogue_unavailable", "the site's content cannot be read; try again");
    throw err;
  });
  if (!loaded.catalogue) throw new ApiError(404, "unknown_site", `no site "${site}"`, "site");
  if (!loaded.catalogue.slots.some((s) => s.id === slot)) throw new ApiError(404, "unknown_slot", `no slot "${slot}"`, "slot");
  return loaded.catalogue;
}

const openKey = (grant: RecipientGrant, slot: string) => `${grant.n}:${slot}`;
const customerOf = (c: Ctx, grant: RecipientGrant) => visitorStub(visitorStore(c.env, c.var.config), grant.c);

type Marked = { open: EmailOpen | null; marked: EmailMark[] };

/**
 * The open this mail's slot showed, deciding it now if this is the first, with `marks` set: one
 * call to the customer's object for a known open, two for a first one. No open when nothing
 * personal may be shown.
 */
async function openFor(
  c: Ctx,
  catalogue: Catalogue,
  slot: string,
  grant: RecipientGrant,
  marks: EmailMark[],
  now: number,
): Promise<Marked> {
  const customer = await customerOf(c, grant);
  const known = await customer.recordEmail(openKey(grant, slot), null, marks, now);
  if (known.open) return known;
  const own = new URL(c.req.url).origin;
  const request = {
    site: catalogue.site.id,
    page: { url: `${own}/v1/email/${catalogue.site.id}`, category: "email" },
    slots: [{ id: slot, count: 1 }],
  };
  const decision = await decisionForRequest(c, request, { identify: byRecipient(grant), channel: "email" });
  const item = decision.slots[0]?.items[0];
  // A revoked customer's object records nothing (the answer is then no open: the editor's default).
  if (!item) return { open: null, marked: [] };
  const image = redirectTarget(item.imageUrl, catalogue.site, own);
  const href = redirectTarget(item.href, catalogue.site, own);
  if (!image || !href) return { open: null, marked: [] };
  const open: EmailOpen = {
    decisionId: decision.decisionId,
    slot,
    contentId: item.contentId,
    image,
    href,
    eventToken: decision.eventToken,
    at: now,
    impression: false,
    click: false,
  };
  return customer.recordEmail(openKey(grant, slot), open, marks, now);
}

/**
 * Logs the events of the marks that were new, after the answer, through the isolate's outbox with
 * the beacons (worker/events/outbox.ts): an image fetch or a redirect reads no acknowledgement.
 */
function logMarked(c: Ctx, catalogue: Catalogue, { open, marked }: Marked, now: number) {
  if (!open || marked.length === 0) return;
  const keepAlive = (p: Promise<unknown>) => c.executionCtx.waitUntil(p);
  afterAnswer(keepAlive, "e-mail events not logged", async () => {
    const events = await Promise.all(marked.map((kind) => emailEvent(open, kind, signingKeys(c), catalogue.site.policy.events, now)));
    for (const event of events) if (event) interactionOutbox.add(c.env.EVENTS, event, c.var.config.logBatchWindowMs, keepAlive);
  });
}

function redirect(c: Ctx, target: string) {
  c.header("Cache-Control", "private, no-store");
  c.header("Referrer-Policy", "no-referrer");
  return c.redirect(target, 302);
}

export const emailRoutes = new Hono<AppEnv>()
  /** Tokens for a send, minted by the site's server (an API key scoped for decide). */
  .post("/tokens", apiKeyAuth("decide"), rateLimit("DECIDE_RATE_LIMITER"), limitBody(256 * 1024), async (c) => {
    const request = parseWith(recipientTokensRequestSchema, await jsonBody(c));
    keyForSite(c.var.apiKey, request.site);
    const sentAt = request.sentAt ?? Date.now();
    const expires = sentAt + request.ttlDays * 24 * 60 * 60 * 1000;
    const tokens = [];
    for (const { customerId, consent } of request.recipients) {
      const subject = await customerSubject(c.var.db, request.site, customerId);
      const grant = { s: request.site, c: subject, p: consent.personalization, m: consent.measurement, t: sentAt, e: expires };
      tokens.push(await issueRecipientToken(grant, c.env.ID_SIGNING_KEY));
    }
    c.header("Cache-Control", "no-store");
    return c.json({ tokens, expiresAt: new Date(expires).toISOString() });
  })
  .get("/:site/:image", async (c) => {
    const site = parseWith(resourceId, c.req.param("site"));
    const slot = SLOT_IMAGE.exec(c.req.param("image"))?.[1];
    if (!slot) throw new ApiError(404, "not_found", "an e-mail image is /v1/email/<site>/<slot>.png");
    const { grant, personal } = await recipientOf(c, site);
    const catalogue = await catalogueOf(c, site, slot);
    const now = Date.now();
    const human = !prefetchReason(c.req.header("user-agent"), now - grant.t);
    const shown = personal ? await openFor(c, catalogue, slot, grant, human ? ["impression"] : [], now) : null;
    if (shown?.open) {
      logMarked(c, catalogue, shown, now);
      return redirect(c, shown.open.image);
    }
    const fallback = editorDefault(catalogue, slot, now);
    const image = redirectTarget(fallback?.render.imageUrl, catalogue.site, new URL(c.req.url).origin);
    if (!image) throw new ApiError(404, "no_content", `slot "${slot}" has no content with an image`, "slot");
    return redirect(c, image);
  })
  .get("/:site/:slot/click", async (c) => {
    const site = parseWith(resourceId, c.req.param("site"));
    const slot = parseWith(resourceId, c.req.param("slot"));
    const { grant, personal } = await recipientOf(c, site);
    const catalogue = await catalogueOf(c, site, slot);
    const own = new URL(c.req.url).origin;
    const given = c.req.query("d");
    const destination = given === undefined ? null : redirectTarget(given, catalogue.site, own);
    if (given !== undefined && !destination)
      throw new ApiError(400, "invalid_redirect", "d: must be a URL on one of the site's allowed origins", "d");
    const now = Date.now();
    // A person clicked: the open was theirs too, even if only a proxy fetched the image.
    const clicked = personal
      ? await (await customerOf(c, grant)).recordEmail(openKey(grant, slot), null, ["impression", "click"], now)
      : null;
    if (clicked?.open) {
      logMarked(c, catalogue, clicked, now);
      return redirect(c, clicked.open.href);
    }
    const target = destination ?? redirectTarget(editorDefault(catalogue, slot, now)?.render.href, catalogue.site, own);
    if (!target) throw new ApiError(404, "no_content", `slot "${slot}" has no content with a page`, "slot");
    return redirect(c, target);
  });
