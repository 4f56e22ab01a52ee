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
 * Writes a site's policy, audited as `admin.site.policy`: the whole policy is validated (a 400
 * naming the first bad field; unknown keys, at any depth, by name), whoever asks for the change.
 * Used by `PUT` and `PATCH /v1/admin/sites/:site/policy` and the console's blocklist form.
 */
export async function saveSitePolicy(db: Database, site: string, policy: unknown, role: TokenRole): Promise<SitePolicy> {
  const parsed = sitePolicySchema.safeParse(policy);
  if (!parsed.success) throw fromZodError(parsed.error);
  const updated = await db.update(sites).set({ policy: parsed.data }).where(eq(sites.id, site)).returning({ id: sites.id });
  if (!updated.length) throw new ApiError(404, "unknown_site", `no site "${site}"`, "site");
  await audit(db, { role, action: "admin.site.policy", target: site });
  // The catalogue carries the policy: this isolate serves the new one at once, others within twice CONFIG_TTL_MS (worker/lib/ttl-cache.ts).
  forgetCatalogue(site);
  return parsed.data;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * `PUT`: the body replaces the whole policy, so it must name every section (a section it leaves
 * out is not silently reset to its default: that is a 400 naming it). Within a section, what is
 * left out takes its default, as GET shows.
 */
export async function replaceSitePolicy(db: Database, site: string, body: unknown, role: TokenRole): Promise<SitePolicy> {
  await sitePolicyOf(db, site);
  if (!isObject(body)) throw new ApiError(400, "invalid_request", "body: the whole policy, as a JSON object");
  const missing = Object.keys(sitePolicySchema.shape).filter((section) => !Object.hasOwn(body, section));
  if (missing.length)
    throw new ApiError(
      400,
      "invalid_request",
      `body: PUT replaces the whole policy; missing sections: ${missing.join(", ")} (PATCH changes only the sections it names)`,
    );
  return saveSitePolicy(db, site, body, role);
}

/**
 * RFC 7396 JSON merge patch: objects merge key by key, anything else (arrays included) replaces,
 * `null` removes the key (back to its default). Built with `Object.fromEntries`, so a `__proto__`
 * key is a plain key, which the strict schema then refuses by name.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const base = isObject(target) ? target : {};
  const keys = [...new Set([...Object.keys(base), ...Object.keys(patch)])];
  return Object.fromEntries(
    keys.flatMap((key) => {
      if (!Object.hasOwn(patch, key)) return [[key, base[key]]];
      const value = patch[key];
      return value === null ? [] : [[key, mergePatch(base[key], value)]];
    }),
  );
}

/** `PATCH`: changes only what the body names (a JSON merge patch over the current policy). */
export async function patchSitePolicy(db: Database, site: string, patch: unknown, role: TokenRole): Promise<SitePolicy> {
  if (!isObject(patch)) throw new ApiError(400, "invalid_request", "body: a JSON object of what to change (a JSON merge patch)");
  return saveSitePolicy(db, site, mergePatch(await sitePolicyOf(db, site), patch), role);
}
