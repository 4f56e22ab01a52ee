import { eq } from "drizzle-orm";
import { ApiError, fromZodError } from "../lib/errors";
import { audit } from "../store/audit";
import type { Database } from "../store/db";
import { sites, type TokenRole } from "../store/schema";
import { forgetCatalogue } from "./catalogue";
import { readPolicy, type SitePolicy, sitePolicySchema } from "./policy";

/** A site's policy for the admin endpoints; an unknown site is a 404 naming it. */
export async function sitePolicyOf(db: Database, site: string): Promise<SitePolicy> {
  const [row] = await db.select({ policy: sites.policy }).from(sites).where(eq(sites.id, site)).limit(1);
  if (!row) throw new ApiError(404, "unknown_site", `no site "${site}"`, "site");
  return readPolicy(row.policy);
}

/**
 * Replaces a site's policy, audited as `admin.site.policy`: the whole policy is validated (a 400
 * naming the first bad field), whoever asks for the change. Used by
 * `PUT /v1/admin/sites/:site/policy` and the console's blocklist form.
 */
export async function saveSitePolicy(db: Database, site: string, policy: unknown, role: TokenRole): Promise<SitePolicy> {
  const parsed = sitePolicySchema.safeParse(policy);
  if (!parsed.success) throw fromZodError(parsed.error);
  const updated = await db.update(sites).set({ policy: parsed.data }).where(eq(sites.id, site)).returning({ id: sites.id });
  if (!updated.length) throw new ApiError(404, "unknown_site", `no site "${site}"`, "site");
  await audit(db, { role, action: "admin.site.policy", target: site });
  // The catalogue carries the policy: this isolate serves the new one at once, others within CONFIG_TTL_MS.
  forgetCatalogue(site);
  return parsed.data;
}
