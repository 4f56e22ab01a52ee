import { createMiddleware } from "hono/factory";
import { verifyApiKey } from "../../channels/api-keys";
import { ApiError } from "../../lib/errors";
import type { ApiKeyScope } from "../../store/schema";
import type { AppEnv } from "../app-env";

/**
 * Server and app calls: a request with `Authorization: Bearer <key>` must carry an active key of
 * the scope the route needs (401 for an unknown or revoked key, 403 for a key without the scope),
 * and is then answered for the key's site only. A request without the header is a browser's, and
 * passes on unchanged to the cookie path.
 */
export const apiKeyAuth = (scope: ApiKeyScope) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header("authorization");
    if (header === undefined) return next();
    const secret = header.startsWith("Bearer ") ? header.slice("Bearer ".length).trim() : "";
    const grant = secret ? await verifyApiKey(c.var.db, secret) : null;
    if (!grant) throw new ApiError(401, "unauthorized", "the API key is not valid (unknown or revoked)");
    if (!grant.scopes.includes(scope)) throw new ApiError(403, "forbidden", `this key is not scoped for ${scope}`);
    c.set("apiKey", grant);
    await next();
  });

/** The API key of this request, required: for routes that only servers call. */
export function requiredKey(key: AppEnv["Variables"]["apiKey"]) {
  if (!key) throw new ApiError(401, "unauthorized", "an API key is required (Authorization: Bearer <key>)");
  return key;
}

/** A key answers for its own site only. */
export function keyForSite(key: AppEnv["Variables"]["apiKey"], site: string) {
  const grant = requiredKey(key);
  if (grant.site !== site) throw new ApiError(403, "forbidden", `this key belongs to another site than "${site}"`, "site");
  return grant;
}
