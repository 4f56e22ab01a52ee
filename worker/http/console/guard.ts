import { createMiddleware } from "hono/factory";
import { z } from "zod";
import { ApiError } from "../../lib/errors";
import type { AppEnv } from "../app-env";
import { readSession, sameOrigin, validCsrf } from "./session";

/**
 * The console's two cross-cutting checks, as middleware: the session is read once per request,
 * and every form post passes one CSRF check (Origin first, then the session's token).
 */

const csrfField = z.string().min(1, "csrf: the form's token is missing").max(100);

/** Reads the session cookie once; pages and actions find it on `c.var.session`. */
export const withConsoleSession = createMiddleware<AppEnv>(async (c, next) => {
  c.set("session", await readSession(c));
  await next();
});

/**
 * Every console post: 401 without a session (except the sign-in form, which makes one), 403 when
 * a browser says it was posted from another origin, then 403 without the session's CSRF token in
 * the form (compared in constant time). The parsed form is left on `c.var.form`.
 */
export const consoleCsrf = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.method !== "POST") return next();
  const signingIn = new URL(c.req.url).pathname.endsWith("/sign-in");
  const session = c.var.session;
  if (!session && !signingIn) throw new ApiError(401, "unauthorized", "sign in to the console first");
  if (!sameOrigin(c)) throw new ApiError(403, "bad_origin", "the form was posted from another origin");
  const form: Record<string, unknown> = await c.req.parseBody().catch(() => {
    // The sign-in form answers a body it cannot read as a failed sign-in (./pages/sign-in.tsx).
    if (signingIn) return {};
    throw new ApiError(400, "invalid_form", "send the console's form");
  });
  if (session && !signingIn) {
    const csrf = csrfField.safeParse(form.csrf);
    if (!csrf.success || !(await validCsrf(session, csrf.data))) {
      throw new ApiError(403, "csrf", "the form's CSRF token is missing or wrong: reload the page");
    }
  }
  c.set("form", form);
  await next();
});
