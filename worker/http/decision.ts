import type { Context } from "hono";
import { storageAllowed } from "../consent/evaluate";
import { buildContext } from "../decisions/context";
import { catalogueUnavailable, decide } from "../decisions/decide";
import { issueEventToken } from "../events/token";
import { readPreviewToken } from "../experiments/preview";
import { ApiError, DependencyError } from "../lib/errors";
import { servingModels } from "../models/serving";
import { loadCatalogue } from "../site/catalogue";
import { readProfile } from "../store/profiles";
import { languageChain } from "../variants/language";
import type { DecideRequest, DecideResponse } from "../wire/decide";
import type { DecisionEvent } from "../wire/events";
import type { AppEnv } from "./app-env";
import { readShownToday, setShownToday, setVisitorId } from "./cookies";
import { resolveVisitor } from "./visitor";

/**
 * The decision for one HTTP request: wires the request (cookies, consent signals, `cf`), the
 * stores and the model into `decide()`, gives a consenting new visitor an id, and queues the
 * decision event. Used by the decision API and by the edge-rewriting route.
 */
/** Queues the decision event after the answer; a queue failure never reaches the visitor. */
function emit(c: Context<AppEnv>, event: DecisionEvent) {
  c.executionCtx.waitUntil(
    c.env.EVENTS.send(event, { contentType: "json" }).catch((err: unknown) => {
      console.error("decision event not queued", err instanceof Error ? err.message : "unknown");
    }),
  );
}

export async function decisionForRequest(c: Context<AppEnv>, request: DecideRequest): Promise<DecideResponse> {
  const ttl = c.var.config.configTtlMs;
  let loaded: Awaited<ReturnType<typeof loadCatalogue>>;
  try {
    loaded = await loadCatalogue(c.var.db, c.env.CONFIG, request.site, ttl);
  } catch (err) {
    if (err instanceof DependencyError) return { ...catalogueUnavailable(request, crypto.randomUUID()), eventToken: "" };
    throw err;
  }
  const { catalogue, degraded } = loaded;
  if (!catalogue) throw new ApiError(404, "unknown_site", `no site "${request.site}"`, "site");
  c.set("site", catalogue.site);

  const visitor = await resolveVisitor(c, catalogue.site);
  if (!visitor.id && storageAllowed(visitor.consent)) {
    // Storage is allowed (an opt-out site, or consent given): the visitor gets an id from now on.
    await setVisitorId(c, crypto.randomUUID());
  }
  const now = new Date();
  const languages = languageChain({
    pageLanguage: request.page.language,
    acceptLanguage: c.req.header("accept-language"),
    defaultLanguage: catalogue.site.policy.variants.defaultLanguage,
  });
  const context = buildContext({
    now,
    cf: c.req.raw.cf as { country?: unknown; timezone?: unknown } | undefined,
    siteTimezone: catalogue.site.timezone,
    userAgent: c.req.header("user-agent"),
    page: request.page,
    languages,
  });
  const budgetMs = c.var.config.modelLoadBudgetMs;
  const preview = await readPreviewToken(
    c.req.header("x-ep-preview") ?? c.req.query("preview"),
    [c.env.ID_SIGNING_KEY, c.env.ID_SIGNING_KEY_PREVIOUS],
    catalogue.site.id,
    now.getTime(),
  );
  const capsKept = catalogue.site.policy.caps.length > 0 && storageAllowed(visitor.consent);
  const today = now.toISOString().slice(0, 10);
  const shownBefore = capsKept ? await readShownToday(c, today) : {};
  const { response, event, grant, shownToday } = await decide(
    request,
    catalogue,
    visitor,
    context,
    {
      now,
      readProfile: (visitorId) => readProfile(c.env.PROFILES, catalogue.site.id, visitorId),
      loadModels: (forceVersion) =>
        servingModels(
          visitor.id ?? crypto.randomUUID(),
          { kv: c.env.CONFIG, ttlMs: ttl, budgetMs, keepAlive: (p) => c.executionCtx.waitUntil(p) },
          forceVersion,
        ),
      newDecisionId: () => crypto.randomUUID(),
      random: () => (crypto.getRandomValues(new Uint32Array(1))[0] ?? 0) / 2 ** 32,
    },
    { degraded, shownToday: shownBefore, preview, languages },
  );
  if (capsKept) await setShownToday(c, today, shownToday);
  emit(c, event);
  return { ...response, eventToken: await issueEventToken(grant, c.env.ID_SIGNING_KEY) };
}
