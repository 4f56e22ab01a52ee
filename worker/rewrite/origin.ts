import { ApiError } from "../lib/errors";

/**
 * Fetches the page from the site's origin. `bundled:demo` is the demo origin served in-process by
 * `bundled` (so the demo and the tests need no network); anything else is an http(s) origin, fetched with
 * the visitor's method, body and headers less the worker's own credentials (a form post on a
 * site's own host must reach it). GETs without cookies may be cached at the edge: the origin's
 * HTML is not personalized, the rewriting happens after the cache.
 *
 * The path comes from the request, so it is never trusted to name the host: it is refused when it
 * could name one (below), then resolved as a path under the origin's base URL, and the result is
 * checked against the origin's scheme, host and port and its base path. What travels:
 * - forwarded: the method, the body, the visitor's headers and the site's own cookies (the shop's
 *   session, the CMP's `euconsent-v2`): on a site's own host they are the site's;
 * - never forwarded: `Authorization` and `Proxy-Authorization` (the worker's bearer tokens for
 *   /v1/admin and /v1/privacy; a site whose pages need HTTP authentication cannot be served through
 *   the edge route), the worker's `x-ep-*` headers (the QA preview token) and every cookie of the
 *   worker's own (`ep_*`, also with the `__Host-`/`__Secure-` prefix: the visitor id, the consent
 *   choice, the frequency caps, the console session), which the origin has no use for;
 * - never accepted back: a `Set-Cookie` from the origin for one of the worker's cookies.
 */

/** The worker's cookies: every name in its `ep_` namespace, with or without a cookie prefix. */
const WORKER_COOKIE = /^(__Host-|__Secure-)?ep_/i;
const WORKER_HEADERS = ["authorization", "proxy-authorization", "host"];
/** Hop-by-hop headers (RFC 9110 §7.6.1): about this connection, not for the next one. */
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"];
const WORKER_HEADER_PREFIX = "x-ep-";
/** The URL schemes whose `scheme:host` names a host without slashes (WHATWG "special" schemes). */
const HOST_SCHEME = /^\/(https?|wss?|ftp|file):/i;
const DEMO_BASE = new URL("https://demo-origin.invalid/");

const refuse = (path: string, why: string) =>
  new ApiError(400, "invalid_path", `path "${path.slice(0, 200)}" ${why}; the edge route only fetches pages of the site's origin`, "path");

/** The origin's base URL (its path ends with "/"); a non-http(s) `origin_url` is the site's misconfiguration. */
function originBase(originUrl: string): URL {
  if (originUrl === "bundled:demo") return DEMO_BASE;
  const base = URL.canParse(originUrl) ? new URL(originUrl) : null;
  if (!base || !["http:", "https:"].includes(base.protocol) || base.username || base.password)
    throw new ApiError(502, "origin_misconfigured", "the site's origin_url is not an http(s) URL without credentials");
  if (!base.pathname.endsWith("/")) base.pathname = `${base.pathname}/`;
  base.search = "";
  base.hash = "";
  return base;
}

/**
 * The origin URL for a page path (as the request gave it, starting with "/") and query. Refused
 * with a 400: a path that, decoded, holds an empty segment (`//`) or a backslash (URL parsers read
 * it as a slash) or starts with a scheme such as `https:` — the ways a path is made to name a host,
 * here or in a proxy behind the origin that resolves it as we once did — and anything whose
 * resolution leaves the origin's scheme, host and port or its base path.
 */
export function originTarget(originUrl: string, pagePath: string, search: string): URL {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pagePath);
  } catch {
    throw refuse(pagePath, "is not valid percent-encoding");
  }
  if (decoded.includes("\\")) throw refuse(pagePath, "holds a backslash, which names a host when read as a URL");
  if (decoded.includes("//")) throw refuse(pagePath, "holds an empty segment (//), which names a host when read as a URL");
  if (HOST_SCHEME.test(decoded)) throw refuse(pagePath, "starts with a URL scheme, which names a host");
  const base = originBase(originUrl);
  // "./…": resolved as a path below the base, never as a scheme or an authority.
  const target = new URL(`.${pagePath}`, base);
  target.search = search;
  if (target.origin !== base.origin || target.username || target.password) throw refuse(pagePath, "leaves the site's origin");
  if (!target.pathname.startsWith(base.pathname)) throw refuse(pagePath, "leaves the origin's base path");
  return target;
}

/** The visitor's headers less the worker's credentials and cookies (see above). */
export function originHeaders(incoming: Headers): Headers {
  const headers = new Headers(incoming);
  for (const name of [...headers.keys()]) {
    if (WORKER_HEADERS.includes(name) || HOP_BY_HOP.includes(name) || name.startsWith(WORKER_HEADER_PREFIX)) headers.delete(name);
  }
  const siteCookies = (incoming.get("cookie") ?? "")
    .split(";")
    .map((pair) => pair.trim())
    .filter((pair) => pair && !WORKER_COOKIE.test(pair.split("=", 1)[0] ?? ""));
  if (siteCookies.length) headers.set("cookie", siteCookies.join("; "));
  else headers.delete("cookie");
  return headers;
}

/** The origin's answer without any `Set-Cookie` for one of the worker's cookies. */
function withoutWorkerCookies(response: Response): Response {
  const cookies = response.headers.getSetCookie();
  if (!cookies.some((cookie) => WORKER_COOKIE.test(cookie.trimStart()))) return response;
  const headers = new Headers(response.headers);
  headers.delete("set-cookie");
  for (const cookie of cookies) if (!WORKER_COOKIE.test(cookie.trimStart())) headers.append("set-cookie", cookie);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

export async function fetchFromOrigin(
  originUrl: string,
  pagePath: string,
  search: string,
  request: Request,
  bundled: (request: Request) => Response | Promise<Response>,
): Promise<Response> {
  const target = originTarget(originUrl, pagePath, search);
  const headers = originHeaders(request.headers);
  // A GET or HEAD has no body to forward, whatever its headers claim.
  const hasBody = request.method !== "GET" && request.method !== "HEAD";
  const init = { method: request.method, headers, body: hasBody ? request.body : null };
  if (originUrl === "bundled:demo") return withoutWorkerCookies(await bundled(new Request(target, init)));
  const cacheable = request.method === "GET" && !headers.has("cookie");
  let response: Response;
  try {
    response = await fetch(target, { ...init, redirect: "manual", ...(cacheable ? { cf: { cacheEverything: true, cacheTtl: 60 } } : {}) });
  } catch {
    throw new ApiError(502, "origin_unavailable", "the site's origin could not be reached");
  }
  return withoutWorkerCookies(response);
}
