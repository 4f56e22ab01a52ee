import { createMiddleware } from "hono/factory";
import { ApiError } from "../../lib/errors";
import type { TokenRole } from "../../store/schema";
import type { AppEnv } from "../app-env";

const encoder = new TextEncoder();

/** Compares digests, not the strings, so that neither length nor content leaks through timing. */
export async function sameSecret(given: string, expected: string | undefined): Promise<boolean> {
  if (!expected) return false;
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(given)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/** The role a token holds, or null; the console's sign-in exchanges it for a session with this role. */
export async function roleOf(token: string, env: Env): Promise<TokenRole | null> {
  const [admin, privacy] = await Promise.all([sameSecret(token, env.ADMIN_TOKEN), sameSecret(token, env.PRIVACY_TOKEN)]);
  return admin ? "admin" : privacy ? "privacy" : null;
}

/**
 * Least privilege: each admin or privacy endpoint names the one role it needs. No token or an
 * unknown one is a 401, a token of another role a 403; neither writes anything.
 */
export const requireRole = (role: TokenRole) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const token = header.startsWith("Bearer ") ? header.slice("Bearer ".length).trim() : "";
    if (!token) throw new ApiError(401, "unauthorized", "a bearer token is required");
    const held = await roleOf(token, c.env);
    if (!held) throw new ApiError(401, "unauthorized", "the bearer token is not valid");
    if (held !== role) throw new ApiError(403, "forbidden", `this endpoint needs the ${role} role`);
    c.set("role", held);
    await next();
  });
