import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { configOf } from "../../lib/config";
import { audit } from "../../store/audit";
import type { TokenRole } from "../../store/schema";
import type { AppEnv } from "../app-env";
import { sameSecret } from "../middleware/auth";
import { mountPrefix } from "../mount";
import { type ConsoleSession, sessionSchema } from "./session-schema";

/**
 * Console sessions: a token is exchanged once for a random session id kept in KV (CONFIG) under
 * the SHA-256 of the id, so that a read of KV gives nobody a usable cookie. The session carries
 * its role and a CSRF token; KV's expirationTtl ends it without a sweeper, and sign-out deletes it.
 */

export const SESSION_TTL_S = 30 * 60;
export const SESSION_COOKIE = "ep_console";
const KEY_PREFIX = "console-session:";

type Ctx = Context<AppEnv>;

const encoder = new TextEncoder();

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

async function kvKey(sessionId: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(sessionId)));
  return KEY_PREFIX + [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Under a PATH_PREFIX mount the console lives at `<prefix>/admin`; the cookie goes nowhere else. */
export const consolePath = (c: Ctx) => `${mountPrefix(c.env.PATH_PREFIX)}/admin`;

/** Secure where the deployment says so, or whenever the request itself came over HTTPS. */
const secureCookie = (c: Ctx) => configOf(c.env).secureCookies || new URL(c.req.url).protocol === "https:";

export async function startSession(c: Ctx, role: TokenRole): Promise<ConsoleSession> {
  const id = randomToken();
  const session: ConsoleSession = { role, csrf: randomToken(), createdAt: Date.now() };
  await c.env.CONFIG.put(await kvKey(id), JSON.stringify(session), { expirationTtl: SESSION_TTL_S });
  setCookie(c, SESSION_COOKIE, id, {
    path: consolePath(c),
    httpOnly: true,
    sameSite: "Strict",
    secure: secureCookie(c),
    maxAge: SESSION_TTL_S,
  });
  await audit(c.var.db, { role, action: "console.sign_in", target: null });
  return session;
}

/** The request's session, or null when there is no cookie or KV no longer holds it. */
export async function readSession(c: Ctx): Promise<ConsoleSession | null> {
  const id = getCookie(c, SESSION_COOKIE);
  if (!id || id.length > 100) return null;
  const raw = await c.env.CONFIG.get(await kvKey(id), "json");
  const parsed = sessionSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

export async function endSession(c: Ctx, session: ConsoleSession): Promise<void> {
  const id = getCookie(c, SESSION_COOKIE);
  if (id) await c.env.CONFIG.delete(await kvKey(id));
  deleteCookie(c, SESSION_COOKIE, { path: consolePath(c), secure: secureCookie(c) });
  await audit(c.var.db, { role: session.role, action: "console.sign_out", target: null });
}

/** The session's CSRF token against the form's, in constant time. */
export const validCsrf = (session: ConsoleSession, given: string | undefined) => sameSecret(given ?? "", session.csrf);

/**
 * A browser always sends Origin on a form post: one from elsewhere is refused even before the
 * CSRF token is looked at. Without the header (a non-browser client), the token alone decides.
 */
export function sameOrigin(c: Ctx): boolean {
  const origin = c.req.header("origin");
  if (origin === undefined) return true;
  // By host, as the browser addressed it: a proxy in front (or Miniflare) may rewrite the URL's
  // scheme or host, never the Host header the browser sent.
  const host = c.req.header("host") ?? new URL(c.req.url).host;
  return URL.canParse(origin) && new URL(origin).host === host;
}
