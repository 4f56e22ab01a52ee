import { eq } from "drizzle-orm";
import { Hono } from "hono";
import { explainScores } from "../../experiments/why";
import { scorerFor } from "../../inference/model";
import { bundledSource } from "../../inference/registry";
import { ApiError } from "../../lib/errors";
import { findDecision } from "../../log/reader";
import { sourceOf } from "../../models/serving";
import { loadCatalogue } from "../../site/catalogue";
import { modelVersions } from "../../store/schema";
import { servedVariantFeatures } from "../../variants/choose";
import { type VariantReason, whyQuerySchema } from "../../wire/decide";
import type { AppEnv } from "../app-env";
import { readVisitorId } from "../cookies";
import { keepAliveOf } from "../keep-alive";
import { resolveVisitor } from "../visitor";
import { parseWith } from "./validate";

/**
 * `GET /v1/why?decisionId=`: a plain-language account of one decision, for the visitor who got
 * it and nobody else (the signed visitor cookie must be the decision's visitor; anyone else gets
 * the same 404 as for a decision that does not exist). Decisions are logged for visitors with
 * measurement consent, a few seconds after they are made, and read back from the log (R2 batch
 * files) for a day after; with the Pipelines sink the worker cannot read its log, and answers 404.
 */

const BASIS: Record<string, string> = {
  banner_granted: "you agreed to personalization in this site's consent banner",
  tcf_granted: "you agreed through this site's consent management platform (IAB TCF)",
  "opt-out_site": "this site personalizes unless you object, and you have not objected",
  banner_denied: "you declined personalization in this site's consent banner",
  tcf_denied: "you declined through this site's consent management platform (IAB TCF)",
  gpc: "your browser sends Global Privacy Control",
  revoked: "you withdrew your consent",
  "opt-in_without_consent": "this site asks before personalizing and you have not agreed",
  no_profile: "we hold no history for you yet",
  no_visitor_id: "your browser has no visitor id from us",
  holdout: "you are in the group that always sees the editors' choice, so that personalization can be measured",
};

const REASON: Record<string, string> = {
  model: "ranked first by the model among what was left",
  explore: "picked at random now and then, so that new and lesser-known content gets a fair chance",
  rule: "promoted by the site's editors",
  default: "the editors' order",
  holdout: "the editors' order (measurement group)",
};

/** Why this version (variant) of the content, in the visitor's terms. */
const VARIANT_REASON: Record<VariantReason, string> = {
  model: "the version in your language that the model expected you to like best",
  "cold-start": "a new version in your language, shown now and then so that it can be judged fairly",
  default: "the editors' first version in your language",
};

function summary(mode: string, modeReason: string | null): string {
  const why = modeReason
    ? (BASIS[modeReason] ?? (modeReason.startsWith("experiment:") ? "you are in a test of the editors' choice" : modeReason))
    : "";
  if (mode === "personalized") return `This page was personalized for you from your history and profile, because ${why}.`;
  if (mode === "contextual")
    return `This page was chosen from the page, the time and your region only, not from a profile, because ${why}.`;
  return `This page shows the editors' choice, because ${why}.`;
}

export const whyRoutes = new Hono<AppEnv>().get("/", async (c) => {
  const { decisionId } = parseWith(whyQuerySchema, c.req.query());
  c.header("Cache-Control", "private, no-store");
  const visitorId = await readVisitorId(c);
  const notFound = new ApiError(
    404,
    "not_found",
    `no decision ${decisionId} for this visitor (decisions are logged within seconds, only with measurement consent, and explained for a day)`,
  );
  if (!visitorId || c.var.config.logSink !== "r2") throw notFound;
  const row = await findDecision(c.env.LOG, decisionId, visitorId, Date.now());
  if (!row?.slots || !row.mode) throw notFound;

  const { catalogue } = await loadCatalogue(c.var.db, c.env.CONFIG, row.site_id, c.var.config.configTtlMs, keepAliveOf(c));
  // Consent now, and the profile (read in the same call) only if it still allows reading it.
  const resolved = catalogue ? await resolveVisitor(c, catalogue.site, { profile: true }) : null;
  const visitor = resolved?.visitor ?? null;
  const slots = row.slots;
  const itemById = new Map((catalogue?.items ?? []).map((item) => [item.id, item]));
  const titleOf = (i: (typeof slots)[number]["items"][number]) => {
    const item = itemById.get(i.contentId);
    return item?.variants.find((v) => v.id === i.variant?.id)?.render.title ?? item?.render.title;
  };

  // The feature groups are recomputed now: with the model that served, the logged context, and
  // the profile only if consent still allows reading it.
  let explanation: Awaited<ReturnType<typeof explainScores>> = [];
  const [registered] = row.model_version
    ? await c.var.db.select().from(modelVersions).where(eq(modelVersions.version, row.model_version)).limit(1)
    : [];
  // Before anything is registered, the bundled model is what served.
  const version =
    registered ??
    (row.model_version === bundledSource.version
      ? { version: bundledSource.version, sha256: bundledSource.sha256, storage: "bundled" as const }
      : undefined);
  const shown = slots.filter((s) => s.policy === "model").flatMap((s) => s.items);
  if (version && shown.length) {
    try {
      const scorer = await scorerFor(await sourceOf(c.env.MODELS, version), c.var.config.modelSessionsMax);
      const profile = resolved?.reading.profile ?? null;
      // Each item as the variant it was shown as, scored with the same features as then.
      const items = shown.map((i) => ({
        contentId: i.contentId,
        attributes: { ...itemById.get(i.contentId)?.attributes, ...(i.variant ? servedVariantFeatures(i.variant) : {}) },
      }));
      explanation = await explainScores(scorer, profile, row.context ?? {}, items);
    } catch {
      // The account still stands without the feature groups.
    }
  }

  return c.json({
    decisionId,
    summary: summary(row.mode, row.mode_reason),
    mode: row.mode,
    modeReason: row.mode_reason,
    consentNow: visitor ? visitor.consent : null,
    holdout: row.holdout,
    experiments: row.assignments ?? [],
    modelVersion: row.model_version,
    slots: slots.map((s) => ({
      slot: s.slot,
      policy: s.policy,
      items: s.items.map((i) => ({
        contentId: i.contentId,
        title: titleOf(i) ?? null,
        ...(i.variant ? { variant: { id: i.variant.id, language: i.variant.language, why: VARIANT_REASON[i.variant.reason] } } : {}),
        reason: i.reason ?? (s.policy === "model" ? "model" : "default"),
        why: REASON[i.reason ?? "default"],
        propensity: i.propensity,
        topFactors: explanation.find((e) => e.contentId === i.contentId)?.groups.slice(0, 3) ?? [],
      })),
    })),
  });
});
