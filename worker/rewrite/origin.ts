import { demoOrigin } from "../routes/demo";

/**
 * Fetches the page from the site's origin. `bundled:demo` is the demo origin served in-process
 * (so the demo and the tests need no network); anything else is an http(s) origin, fetched with
 * the visitor's request headers. Pages requested without cookies may be cached at the edge: the
 * origin's HTML is not personalized, the rewriting happens after the cache.
 */
export async function fetchFromOrigin(originUrl: string, path: string, request: Request): Promise<Response> {
  const headers = new Headers(request.headers);
  if (originUrl === "bundled:demo") {
    return demoOrigin.fetch(new Request(new URL(path, "https://demo-origin.invalid"), { method: request.method, headers }));
  }
  const target = new URL(path.replace(/^\//, ""), originUrl.endsWith("/") ? originUrl : `${originUrl}/`);
  const cacheable = !headers.has("cookie") && !headers.has("authorization");
  return fetch(target, {
    method: request.method,
    headers,
    redirect: "manual",
    ...(cacheable ? { cf: { cacheEverything: true, cacheTtl: 60 } } : {}),
  });
}
