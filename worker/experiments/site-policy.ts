import { eq } from "drizzle-orm";
import { ApiError } from "../errors";
import type { Database } from "../store/db";
import { sites } from "../store/schema";
import { readPolicy, type SitePolicy } from "./policy";

/** A site's policy for the admin endpoints; an unknown site is a 404 naming it. */
export async function sitePolicyOf(db: Database, site: string): Promise<SitePolicy> {
  const [row] = await db.select({ policy: sites.policy }).from(sites).where(eq(sites.id, site)).limit(1);
  if (!row) throw new ApiError(404, "unknown_site", `no site "${site}"`, "site");
  return readPolicy(row.policy);
}
