import { and, eq } from "drizzle-orm";
import { ApiError } from "../lib/errors";
import { forgetCatalogue } from "../site/catalogue";
import { audit } from "../store/audit";
import type { Database } from "../store/db";
import { contentVariants, type TokenRole } from "../store/schema";

/**
 * Sets a variant's review status, with who (the role) and when, in the row and in the audit log;
 * used by the admin endpoint and the console. This isolate's cached catalogue is dropped so that
 * an approval serves (and a rejection stops) at once here; other isolates follow within twice
 * `CONFIG_TTL_MS` (worker/lib/ttl-cache.ts).
 */
export async function reviewVariant(
  db: Database,
  target: { site: string; contentId: string; id: string },
  status: "approved" | "rejected",
  role: TokenRole,
): Promise<void> {
  const { site, contentId, id } = target;
  const updated = await db
    .update(contentVariants)
    .set({ status, reviewedBy: role, reviewedAt: new Date() })
    .where(and(eq(contentVariants.siteId, site), eq(contentVariants.contentId, contentId), eq(contentVariants.id, id)))
    .returning({ id: contentVariants.id });
  if (!updated.length) throw new ApiError(404, "unknown_variant", `no variant "${id}" of "${contentId}" on site "${site}"`);
  await audit(db, {
    role,
    action: `admin.variant.${status === "approved" ? "approve" : "reject"}`,
    target: `${site}:${contentId}:${id}`,
  });
  forgetCatalogue(site);
}
