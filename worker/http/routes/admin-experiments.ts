import { Hono } from "hono";
import { z } from "zod";
import { performanceQuerySchema } from "../../events/report";
import { issuePreviewToken, previewRequestSchema } from "../../experiments/preview";
import { experimentsReport, explorationShare, fairnessReport, upliftReport } from "../../experiments/report";
import { sampleSizePerArm } from "../../experiments/stats";
import { ApiError } from "../../lib/errors";
import { saveSitePolicy, sitePolicyOf } from "../../site/policy-store";
import { audit } from "../../store/audit";
import type { AppEnv } from "../app-env";
import { jsonBody, parseWith } from "./validate";

/**
 * Experiments and measurement (bearer `ADMIN_TOKEN`, under /v1/admin): the site's policy
 * (holdout, exploration, rules, experiments, fairness segments) and the reports on it.
 */

const siteParam = z.string().min(1).max(64);
const sampleSizeQuerySchema = z.object({
  baseline: z.coerce.number().gt(0).lt(1),
  mde: z.coerce.number().refine((x) => x !== 0, "mde: an absolute lift, not 0"),
  alpha: z.coerce.number().gt(0).lt(1).default(0.05),
  power: z.coerce.number().gt(0).lt(1).default(0.8),
});

export const adminExperimentRoutes = new Hono<AppEnv>()
  .get("/sites/:site/policy", async (c) => c.json(await sitePolicyOf(c.var.db, parseWith(siteParam, c.req.param("site")))))
  .put("/sites/:site/policy", async (c) => {
    const site = parseWith(siteParam, c.req.param("site"));
    await sitePolicyOf(c.var.db, site);
    const body = await jsonBody(c);
    return c.json(await saveSitePolicy(c.var.db, site, body, "admin"));
  })
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
  .post("/preview-tokens", async (c) => {
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
