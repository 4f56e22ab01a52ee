import { and, eq } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { performanceQuerySchema } from "../../events/report";
import { sitePolicyOf } from "../../site/policy-store";
import { audit } from "../../store/audit";
import { contentItems, contentVariants, variantStatuses } from "../../store/schema";
import { variantReport } from "../../variants/report";
import { reviewVariant } from "../../variants/review";
import { reviewRequestSchema, screenVariants, variantImportRequestSchema } from "../../variants/schema";
import type { AppEnv } from "../app-env";
import { jsonBody, limitBody, MAX_ADMIN_JSON_BYTES, MAX_VARIANT_IMPORT_BYTES, parseWith } from "./validate";

/**
 * Content variants and their review gate (bearer `ADMIN_TOKEN`, under /v1/admin). Imports land
 * as `draft`; a blocklisted term rejects a variant at import; review sets `approved` or
 * `rejected` with who and when, in the row and in the audit log.
 * `/reports/variants`: which variants and components win (worker/variants/report.ts).
 */

const siteParam = z.string().min(1).max(64);

export const adminVariantRoutes = new Hono<AppEnv>()
  .get("/reports/variants", async (c) => {
    const query = parseWith(performanceQuerySchema, c.req.query());
    const policy = await sitePolicyOf(c.var.db, query.site);
    return c.json(await variantReport(c.var.db, query, policy));
  })
  .get("/sites/:site/variants", async (c) => {
    const site = parseWith(siteParam, c.req.param("site"));
    const status = parseWith(z.enum(variantStatuses).optional(), c.req.query("status"));
    await sitePolicyOf(c.var.db, site);
    const rows = await c.var.db
      .select()
      .from(contentVariants)
      .where(and(eq(contentVariants.siteId, site), status ? eq(contentVariants.status, status) : undefined));
    return c.json({ site, variants: rows });
  })
  .post("/sites/:site/variants", limitBody(MAX_VARIANT_IMPORT_BYTES), async (c) => {
    const site = parseWith(siteParam, c.req.param("site"));
    const policy = await sitePolicyOf(c.var.db, site);
    const body = await jsonBody(c);
    const { variants } = parseWith(variantImportRequestSchema, body);
    const known = new Set(
      (await c.var.db.select({ id: contentItems.id }).from(contentItems).where(eq(contentItems.siteId, site))).map((r) => r.id),
    );
    const { accepted, rejected } = screenVariants(variants, known, policy.blocklist);
    // One statement per variant: D1 binds at most 100 parameters per statement.
    const statements = accepted.map((v) =>
      c.var.db
        .insert(contentVariants)
        .values({ siteId: site, ...v, status: "draft" })
        .onConflictDoUpdate({
          target: [contentVariants.siteId, contentVariants.contentId, contentVariants.id],
          // A re-import is a new draft: it must be reviewed again.
          set: {
            language: v.language,
            components: v.components,
            provenance: v.provenance,
            synthetic: v.synthetic,
            status: "draft",
            reviewedBy: null,
            reviewedAt: null,
          },
        }),
    );
    const [first, ...rest] = statements;
    if (first) await c.var.db.batch([first, ...rest]);
    await audit(c.var.db, { role: "admin", action: "admin.variants.import", target: `${site}:${accepted.length}` });
    return c.json({ imported: accepted.length, rejected }, rejected.length && !accepted.length ? 422 : 200);
  })
  .post("/sites/:site/variants/:contentId/:id/review", limitBody(MAX_ADMIN_JSON_BYTES), async (c) => {
    const site = parseWith(siteParam, c.req.param("site"));
    const { contentId, id } = c.req.param();
    const body = await jsonBody(c);
    const { status } = parseWith(reviewRequestSchema, body);
    await reviewVariant(c.var.db, { site, contentId, id }, status, "admin");
    return c.json({ site, contentId, id, status });
  });
