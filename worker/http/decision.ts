import type { Context } from "hono";
import { storageAllowed, type Visitor } from "../consent/evaluate";
import { buildContext } from "../decisions/context";
import { catalogueUnavailable, decide } from "../decisions/decide";
import { decisionOutbox } from "../events/outbox";
import { issueEventToken } from "../events/token";
import { readPreviewToken } from "../experiments/preview";
import { afterAnswer } from "../lib/after-answer";
import { ApiError, DependencyError } from "../lib/errors";
import { servingConfig, servingModels } from "../models/serving";
import { type Catalogue, loadCatalogue } from "../site/catalogue";
import { languageChain } from "../variants/language";
import { visitorStore, visitorStub } from "../visitors/client";
import type { Channel } from "../wire/channels";
import type { DecideRequest, DecideResponse } from "../wire/decide";
import type { AppEnv } from "./app-env";
import { setVisitorId } from "./cookies";
import { resolveVisitor, type VisitorReading } from "./visitor";

/**
 * Who a decision is for, as the request identifies them, and whether they may be given an id:
 * a browser by its cookies (the default), a server's call by the visitor or customer it names
 * (worker/http/server-visitor.ts), which never sets a cookie.
 */
export type Identify = (
  c: Context<AppEnv>,
  site: Catalogue["site"],
  ask: { profile: boolean; capsDay: string | null },
) => Promise<{ visitor: Visitor; reading: VisitorReading; mayGiveId: boolean }>;

const byCookies: Identify = async (c, site, ask) => ({ ...(await resolveVisitor(c, site, ask)), mayGiveId: true });

/**
 * The decision for one HTTP request: wires the request (cookies, consent signals, `cf`), the
 * stores and the model into `decide()`, gives a consenting new visitor an id, and queues the
 * decision event. Used by the decision API and by the edge-rewriting route.
 *
 * On a warm isolate its critical path makes one remote call, to the visitor's Durable Object
 * (tombstone, profile and today's caps together), and none for a visitor without an id: the
 * catalogue, the site's policy and the serving config come from isolate caches, and the reads
 * that do not depend on each other run side by side. The caps' count leaves after the answer, and
 * the decision event joins the isolate's outbox, queued with the others of its window.
 */
export async function decisionForRequest(
  c: Context<AppEnv>,
  request: DecideRequest,
  { identify = byCookies, channel = "web" }: { identify?: Identify; channel?: Channel } = {},
): Promise<DecideResponse> {
  const ttl = c.var.config.configTtlMs;
  const waitUntil = (p: Promise<unknown>) => c.executionCtx.waitUntil(p);
  // The serving config is needed after the visitor's state, but reading it does not depend on it.
  const [loaded] = await Promise.all([
    loadCatalogue(c.var.db, c.env.CONFIG, request.site, ttl, waitUntil).catch((err: unknown) => {
      if (err instanceof DependencyError) return null;
      throw err;
    }),
    servingConfig(c.env.CONFIG, ttl, waitUntil).catch(() => undefined),
  ]);
  if (!loaded) return { ...catalogueUnavailable(request, crypto.randomUUID()), eventToken: "" };
  const { catalogue, degraded } = loaded;
  if (!catalogue) throw new ApiError(404, "unknown_site", `no site "${request.site}"`, "site");
  const { site } = catalogue;
  c.set("site", site);

  const now = new Date();
  const day = now.toISOString().slice(0, 10);
  const [{ visitor, reading, mayGiveId }, preview] = await Promise.all([
    identify(c, site, { profile: !degraded, capsDay: site.policy.caps.length > 0 ? day : null }),
    readPreviewToken(
      c.req.header("x-ep-preview") ?? c.req.query("preview"),
      [c.env.ID_SIGNING_KEY, c.env.ID_SIGNING_KEY_PREVIOUS],
      site.id,
      now.getTime(),
    ),
  ]);
  // Storage is allowed (an opt-out site, or consent just given) and the visitor has no id yet: they
  // get one, and this very decision is made under it, so that the clicks on this page (whose event
  // token carries the id) already reach the visitor's profile. A device linked to a customer is
  // decided as the customer, so that its clicks reach the customer's profile.
  const freshId = mayGiveId && !visitor.id && storageAllowed(visitor.consent) ? crypto.randomUUID() : null;
  if (freshId) await setVisitorId(c, freshId);
  const subject = freshId ?? reading.linkedTo ?? visitor.id;
  const decidedFor = { ...visitor, id: subject };
  const languages = languageChain({
    pageLanguage: request.page.language,
    acceptLanguage: c.req.header("accept-language"),
    defaultLanguage: site.policy.variants.defaultLanguage,
  });
  const context = buildContext({
    now,
    cf: c.req.raw.cf as { country?: unknown; timezone?: unknown } | undefined,
    siteTimezone: site.timezone,
    userAgent: c.req.header("user-agent"),
    page: request.page,
    languages,
  });
  const { response, event, grant, shownCapped } = await decide(
    request,
    catalogue,
    decidedFor,
    context,
    {
      now,
      // Read in the same call as the tombstone, only if consent allowed it (./visitor.ts).
      readProfile: async () => reading.profile,
      loadModels: (forceVersion) =>
        servingModels(
          decidedFor.id ?? crypto.randomUUID(),
          {
            kv: c.env.CONFIG,
            models: c.env.MODELS,
            ttlMs: ttl,
            budgetMs: c.var.config.modelLoadBudgetMs,
            maxSessions: c.var.config.modelSessionsMax,
            keepAlive: waitUntil,
          },
          forceVersion,
        ),
      newDecisionId: () => crypto.randomUUID(),
      random: () => (crypto.getRandomValues(new Uint32Array(1))[0] ?? 0) / 2 ** 32,
    },
    {
      degraded,
      shownToday: reading.shownToday,
      profileFallback: reading.unavailable ? "visitor_state_unavailable" : undefined,
      preview,
      languages,
    },
  );
  const visitorId = decidedFor.id;
  if (visitorId && shownCapped.length > 0 && storageAllowed(visitor.consent)) {
    afterAnswer(waitUntil, "frequency caps not counted", async () => {
      const stub = await visitorStub(visitorStore(c.env, c.var.config), visitorId);
      await stub.countShown(site.id, day, shownCapped, now.getTime());
    });
  }
  decisionOutbox.add(c.env.EVENTS, { ...event, channel }, c.var.config.logBatchWindowMs, waitUntil);
  return { ...response, eventToken: await issueEventToken({ ...grant, ch: channel }, c.env.ID_SIGNING_KEY) };
}
