import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { CookieOptions } from "hono/utils/cookie";
import { configOf } from "../lib/config";
import { ApiError } from "../lib/errors";
import { base64UrlToText, sign, textToBase64Url, verify } from "../lib/signing";
import { VISITOR_ID } from "../wire/consent";
import type { AppEnv } from "./app-env";

/**
 * First-party cookies: the pseudonymous visitor id and the site banner's consent choice, both
 * HMAC-signed. Over HTTPS on the site's own host (`COOKIE_MODE=secure`) they carry the `__Host-`
 * prefix (Secure, Path=/, no Domain); in local development plain names over http.
 * Lifetime is bounded at about 13 months, after which consent is asked again.
 */
export const COOKIE_MAX_AGE_S = 395 * 24 * 60 * 60;
const MAX_COOKIE_HEADER = 8 * 1024;
const MAX_SIGNED_COOKIE = 512;

type Ctx = Context<AppEnv>;

const secure = (c: Ctx) => configOf(c.env).secureCookies;
const cookieName = (c: Ctx, base: string) => (secure(c) ? `__Host-${base}` : base);
export const VISITOR_COOKIE = "ep_vid";
export const CONSENT_COOKIE = "ep_consent";

function options(c: Ctx): CookieOptions {
  return { path: "/", httpOnly: true, sameSite: "Lax", secure: secure(c), maxAge: COOKIE_MAX_AGE_S };
}

const signingKeys = (c: Ctx) => [c.env.ID_SIGNING_KEY, c.env.ID_SIGNING_KEY_PREVIOUS];

/**
 * A signed cookie's value, or null when absent, unsigned or tampered. A hostile cookie header
 * (oversized) or cookie value is a 400 that names it.
 */
async function readSigned(c: Ctx, base: string, maxLength = MAX_SIGNED_COOKIE): Promise<string | null> {
  const header = c.req.header("cookie") ?? "";
  if (header.length > MAX_COOKIE_HEADER)
    throw new ApiError(400, "invalid_cookie", `cookie header exceeds ${MAX_COOKIE_HEADER} bytes`, "cookie");
  const token = getCookie(c, `__Host-${base}`) ?? getCookie(c, base);
  if (!token) return null;
  if (token.length > maxLength) throw new ApiError(400, "invalid_cookie", `${base} cookie is too long`, base);
  return verify(token, signingKeys(c));
}

/** The verified visitor id, read once per request (rate limiting and consent both need it). */
export async function readVisitorId(c: Ctx): Promise<string | null> {
  const known = c.get("visitorId");
  if (known !== undefined) return known;
  const token = await readSigned(c, VISITOR_COOKIE);
  const id = token && VISITOR_ID.test(token) ? token : null;
  c.set("visitorId", id);
  return id;
}

export async function setVisitorId(c: Ctx, id: string): Promise<void> {
  setCookie(c, cookieName(c, VISITOR_COOKIE), await sign(id, c.env.ID_SIGNING_KEY), options(c));
}

export function clearVisitorId(c: Ctx): void {
  deleteCookie(c, cookieName(c, VISITOR_COOKIE), { path: "/", secure: secure(c) });
}

export type BannerChoice = { site: string; personalization: boolean; measurement: boolean; policyVersion: string | null; at: number };

/** The banner's choice for this site, if the visitor made one here. */
export async function readBannerChoice(c: Ctx, siteId: string): Promise<BannerChoice | null> {
  const value = await readSigned(c, CONSENT_COOKIE);
  if (!value) return null;
  try {
    const choice = JSON.parse(base64UrlToText(value) ?? "null") as BannerChoice;
    return choice.site === siteId && typeof choice.personalization === "boolean" && typeof choice.measurement === "boolean" ? choice : null;
  } catch {
    return null;
  }
}

export async function setBannerChoice(c: Ctx, choice: BannerChoice): Promise<void> {
  setCookie(c, cookieName(c, CONSENT_COOKIE), await sign(textToBase64Url(JSON.stringify(choice)), c.env.ID_SIGNING_KEY), options(c));
}
