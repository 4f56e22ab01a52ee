/**
 * First-party mounting: a route such as `shop.example/p13n/*` sends `/p13n/v1/decide` to the
 * worker. With `PATH_PREFIX = "/p13n"` the prefix is removed before routing, so every route
 * (and the script tag, which finds its endpoints next to its own URL) works under it.
 */
export function withoutPathPrefix(request: Request, prefix: string | undefined): Request {
  if (!prefix || prefix === "/") return request;
  const url = new URL(request.url);
  if (url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) return request;
  url.pathname = url.pathname.slice(prefix.length) || "/";
  return new Request(url, request);
}
