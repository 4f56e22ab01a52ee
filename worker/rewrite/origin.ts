/**
 * Fetches the page from the site's origin. `bundled:demo` is the demo origin served in-process
 * by `bundled` (so the demo and the tests need no network); anything else is an http(s) origin, fetched with
 * the visitor's method, headers and body (a form post on a site's own host must reach it).
 * GETs without cookies may be cached at the edge: the origin's HTML is not personalized, the
 * rewriting happens after the cache.
 */
export async function fetchFromOrigin(
  originUrl: string,
  path: string,
  request: Request,
  bundled: (request: Request) => Response | Promise<Response>,
): Promise<Response> {
  const headers = new Headers(request.headers);
  const init = { method: request.method, headers, body: request.body };
  if (originUrl === "bundled:demo") return bundled(new Request(new URL(path, "https://demo-origin.invalid"), init));
  const target = new URL(path.replace(/^\//, ""), originUrl.endsWith("/") ? originUrl : `${originUrl}/`);
  const cacheable = request.method === "GET" && !headers.has("cookie") && !headers.has("authorization");
  return fetch(target, { ...init, redirect: "manual", ...(cacheable ? { cf: { cacheEverything: true, cacheTtl: 60 } } : {}) });
}
