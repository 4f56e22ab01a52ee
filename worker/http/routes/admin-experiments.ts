import { Hono } from "hono";
import { z } from "zod";
import { performanceQuerySchema } from "../../events/report";
import { issuePreviewToken, previewRequestSchema } from "../../experiments/preview";
import { experimentsReport, explorationShare, fairnessReport, upliftReport } from "../../experiments/report";
import { sampleSizePerArm } from "../../experiments/stats";
import { ApiError } from "../../lib/errors";
import { patchSitePolicy, replaceSitePolicy, sitePolicyOf } from "../../site/policy-store";
import { audit } from "../../store/audit";
import type { AppEnv } from "../app-env";
import { jsonBody, limitBody, MAX_ADMIN_JSON_BYTES, parseWith } from "./validate";

/**
 * Experiments and measurement (bearer `ADMIN_TOKEN`, under /v1/admin): the site's policy
 * (holdout, exploration, rules, experiments, fairness segments) and the reports on it.
 */

export const siteParam = z.string().min(1).max(64);
/**
 * Bounded so that the normal quantiles stay finite and the answer is a number: an experiment
 * outside these bounds cannot be run anyway (an effect below 1e-6, a test at α below 1e-6).
 */
export const sampleSizeQuerySchema = z.object({
  baseline: z.coerce
    .number()
    .min(1e-6)
    .max(1 - 1e-6),
  mde: z.coerce
    .number()
    .min(-1)
    .max(1)
    .refine((x) => Math.abs(x) >= 1e-6, "an absolute lift of at least 1e-6"),
  alpha: z.coerce.number().min(1e-6).max(0.5).default(0.05),
  power: z.coerce
    .number()
    .min(0.5)
    .max(1 - 1e-6)
    .default(0.8),
});

export const adminExperimentRoutes = new Hono<AppEnv>()
  .get("/sites/:site/policy", async (c) => c.json(await sitePolicyOf(c.var.db, parseWith(siteParam, c.req.param("site")))))
  // PUT replaces the whole policy (every section named); PATCH merges what it names (worker/experiments/site-policy.ts).
  .put("/sites/:site/policy", limitBody(MAX_ADMIN_JSON_BYTES), async (c) =>
    c.json(await replaceSitePolicy(c.var.db, parseWith(siteParam, c.req.param("site")), await jsonBody(c), "admin")),
  )
  .patch("/sites/:site/policy", limitBody(MAX_ADMIN_JSON_BYTES), async (c) =>
    c.json(await patchSitePolicy(c.var.db, parseWith(siteParam, c.req.param("site")), await jsonBody(c), "admin")),
  )
  .get("/reports/uplift", async (c) => {
    const query = parseWith(performanceQuerySchema, c.req.query());
    const [uplift, exploration] = await Promise.all([upliftReport(c.var.db, query), explorationShare(c.var.db, query)]);
    return c.json({ ...uplift, exploration });
  })
  .get("/reports/experiments", async (c) => {
    const query = parseWith(performanceQuerySchema, c.req.query());
    const policy = await sitePolicyOf(c.var.db, query.site);
    return c.json({ site: query.site, experiments: await experimentsReport(c.var.db, query, policy) });
  })
  .get("/reports/fairness", async (c) => {
    const query = parseWith(performanceQuerySchema, c.req.query());
    const policy = await sitePolicyOf(c.var.db, query.site);
    return c.json({ site: query.site, segments: await fairnessReport(c.var.db, query, policy) });
  })
  .post("/preview-tokens", limitBody(MAX_ADMIN_JSON_BYTES), async (c) => {
    const body = await jsonBody(c);
    const request = parseWith(previewRequestSchema, body);
    await sitePolicyOf(c.var.db, request.site);
    const token = await issuePreviewToken(request, c.env.ID_SIGNING_KEY, Date.now());
    await audit(c.var.db, { role: "admin", action: "admin.preview_token", target: request.site });
    return c.json({ token, header: "x-ep-preview", query: "preview", expiresInMinutes: request.ttlMinutes }, 201);
  })
  .get("/sample-size", (c) => {
    const q = parseWith(sampleSizeQuerySchema, c.req.query());
    if (!(q.baseline + q.mde > 0 && q.baseline + q.mde < 1))
      throw new ApiError(400, "invalid_request", "baseline + mde must be inside (0, 1)", "mde");
    return c.json({ ...q, perArm: sampleSizePerArm(q.baseline, q.mde, q.alpha, q.power) });
  });
